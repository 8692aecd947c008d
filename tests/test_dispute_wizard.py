from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from disputes.models import Attachment, Dispute, ExchangeRate
from orders.models import ProtectionExtension, TrackingEvent

from .disputes_helpers import html_as_jpeg, png_file
from .factories import OrderFactory

pytestmark = pytest.mark.django_db


def step_url(order, step):
    return reverse("disputes:wizard", args=[order.number, step])


def test_not_received_wizard_end_to_end(login, order, buyer):
    client = login(buyer)
    assert client.post(step_url(order, "received"), {"received": "no"})["Location"] == step_url(order, "problem")
    client.post(step_url(order, "problem"), {"problem": "delivered_not_received", "held_by_customs": "on"})
    response = client.post(step_url(order, "request"), {"request_text": "Продавец не дал трек-номер, прошло 40 дней."})
    assert response["Location"] == step_url(order, "summary")
    summary = client.get(step_url(order, "summary")).content.decode()
    assert "Продавец не дал трек-номер" in summary and "Посылку задержала таможня" in summary
    response = client.post(step_url(order, "summary"), {"submit": "1"})
    dispute = Dispute.objects.get(order=order)
    assert response["Location"] == reverse("disputes:detail", args=[dispute.pk])
    assert (dispute.kind, dispute.problems, dispute.held_by_customs) == (
        "not_received",
        ["delivered_not_received"],
        True,
    )
    assert client.session.get(f"dispute-wizard:{order.pk}") is None


def test_not_as_described_partial_refund_with_a_photo(login, order, buyer):
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "yes"})
    client.post(step_url(order, "problem"), {"problems": ["wrong_attributes", "damaged"]})
    client.post(step_url(order, "refund"), {"refund_type": "partial", "amount": "12,50", "return_item": "no"})
    client.post(
        step_url(order, "request"),
        {"request_text": "Пришёл серый вместо синего, корпус треснул.", "evidence": [png_file()]},
    )
    client.post(step_url(order, "summary"), {"submit": "1"})
    dispute = Dispute.objects.get(order=order)
    assert dispute.requested_amount == Decimal("12.50") and dispute.refund_type == "partial"
    assert dispute.problems == ["wrong_attributes", "damaged"]
    assert dispute.messages.get().attachments.get().kind == "image"


def test_amount_over_the_price_is_refused_next_to_the_field_and_kept(login, order, buyer):
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "yes"})
    client.post(step_url(order, "problem"), {"problems": ["poor_quality"]})
    response = client.post(step_url(order, "refund"), {"refund_type": "partial", "amount": "99", "return_item": "no"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Нельзя вернуть больше, чем заплачено за товар: 25,00" in page
    assert 'value="99"' in page


def test_refund_step_shows_the_rouble_equivalent_at_a_stated_rate(login, order, buyer):
    ExchangeRate.objects.create(currency="USD", rub_per_unit=Decimal("92.5"), as_of="2026-11-22")
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "yes"})
    client.post(step_url(order, "problem"), {"problems": ["poor_quality"]})
    page = client.get(step_url(order, "refund")).content.decode()
    assert "1 USD ≈ 92,50 ₽" in page
    client.post(step_url(order, "refund"), {"refund_type": "partial", "amount": "10", "return_item": "no"})
    client.post(step_url(order, "request"), {"request_text": "Ткань расходится по швам после стирки."})
    summary = client.get(step_url(order, "summary")).content.decode()
    assert "10,00\xa0$" in summary and "925,00\xa0₽" in summary


def test_back_keeps_what_was_typed_even_if_not_valid_yet(login, order, buyer):
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "no"})
    client.post(step_url(order, "problem"), {"problem": "returned_to_seller"})
    response = client.post(step_url(order, "request"), {"request_text": "Коротко", "back": "1"})
    assert response["Location"] == step_url(order, "problem")
    assert 'value="returned_to_seller" checked' in client.get(step_url(order, "problem")).content.decode()
    assert "Коротко" in client.get(step_url(order, "request")).content.decode()


def test_a_step_cannot_be_skipped(login, order, buyer):
    client = login(buyer)
    response = client.get(step_url(order, "summary"))
    assert response["Location"] == step_url(order, "received")


def test_empty_choice_gets_a_message(login, order, buyer):
    response = login(buyer).post(step_url(order, "received"), {})
    assert response.status_code == 400 and "Выберите ответ" in response.content.decode()


def test_each_problem_explains_itself_and_empty_parcel_warns(login, order, buyer):
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "yes"})
    page = client.get(step_url(order, "problem")).content.decode()
    assert "гель для душа вместо телефона" in page
    assert "споры с неверной причиной проигрывают" in page
    assert page.count("Что поможет:") == 8


def test_bad_file_gets_a_message_and_nothing_typed_is_lost(login, order, buyer):
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "no"})
    client.post(step_url(order, "problem"), {"problem": "delivered_not_received"})
    text = "Продавец не отвечает уже три недели, трек не дал."
    response = client.post(step_url(order, "request"), {"request_text": text, "evidence": [html_as_jpeg(), png_file()]})
    page = response.content.decode()
    assert response.status_code == 400
    assert "photo.jpg: Это не картинка JPEG, PNG или WebP" in page
    assert text in page
    assert "photo.png" in page  # the good file is kept and listed
    assert Attachment.objects.filter(owner=buyer, message__isnull=True).count() == 1


def test_a_kept_file_can_be_removed_before_submitting(login, order, buyer):
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "no"})
    client.post(step_url(order, "problem"), {"problem": "delivered_not_received"})
    text = "Продавец не отвечает уже три недели, трек не дал."
    client.post(step_url(order, "request"), {"request_text": text, "evidence": [png_file()]})
    kept = Attachment.objects.get(owner=buyer)
    client.post(step_url(order, "request"), {"request_text": text, "remove": [kept.pk]})
    client.post(step_url(order, "summary"), {"submit": "1"})
    assert not Attachment.objects.exists()
    assert Dispute.objects.get(order=order).messages.get().attachments.count() == 0


def test_double_submit_opens_one_dispute(login, order, buyer):
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "no"})
    client.post(step_url(order, "problem"), {"problem": "delivered_not_received"})
    client.post(step_url(order, "request"), {"request_text": "Продавец не дал трек-номер, прошло 40 дней."})
    session_copy = dict(client.session.items())
    client.post(step_url(order, "summary"), {"submit": "1"})
    session = client.session
    session.update(session_copy)  # the second tab still holds the wizard
    session.save()
    response = client.post(step_url(order, "summary"), {"submit": "1"}, follow=True)
    assert Dispute.objects.filter(order=order).count() == 1
    assert "только один раз" in response.content.decode()


def test_wizard_works_in_english(login, order, buyer):
    page = login(buyer).get("/en" + step_url(order, "received")).content.decode()
    assert "Did you receive the item?" in page


def _not_received_problem_page(client, order):
    """The not-received reasons, with the note beside "still in transit" alone (the page names
    extending protection elsewhere too)."""
    client.post(step_url(order, "received"), {"received": "no"})
    page = client.get(step_url(order, "problem")).content.decode()
    return page.split('data-testid="in-transit-protection">', 1)[1].split("</div>", 1)[0]


def test_in_transit_reason_says_when_protection_ends_and_that_the_seller_can_extend_it(login, order, buyer):
    page = _not_received_problem_page(login(buyer), order)
    order_page = reverse("orders:detail", args=[order.number]) + "#protection-heading"
    assert page.startswith("Защита заказа действует до <time")
    assert f'попросить продавца продлить защиту на <a href="{order_page}">странице заказа</a>' in page


def test_in_transit_reason_near_the_end_of_protection_says_not_to_wait_for_an_extension(login, buyer, seller):
    order = OrderFactory(buyer=buyer, store=seller.store, days_since_shipment=57)  # 60 days of protection: 3 left
    page = _not_received_problem_page(login(buyer), order)
    assert page.startswith("Защита заказа действует до <time")
    assert page.endswith(
        "Продавец может не успеть ответить на просьбу о продлении, поэтому, если посылка не успевает, "
        "откройте спор до этой даты."
    )


def test_in_transit_reason_does_not_offer_an_extension_already_asked_for(login, order, buyer):
    ProtectionExtension.objects.create(order=order, days=10, requested_at=timezone.now())
    page = _not_received_problem_page(login(buyer), order)
    assert page.startswith("Защита заказа действует до <time") and page.endswith("</span>.")


def _scanned(order, kind, days_ago):
    happened_at = timezone.now() - timedelta(days=days_ago)
    TrackingEvent.objects.create(
        order=order,
        kind=kind,
        happened_at=happened_at,
        received_at=happened_at,
        source=TrackingEvent.Source.CARRIER,
        external_id=f"{order.pk}-{kind}-{days_ago}",
    )


@pytest.mark.parametrize(
    ("kind", "days_ago"),
    [(TrackingEvent.Kind.RETURNED, 1), (TrackingEvent.Kind.DELIVERED, 1), (TrackingEvent.Kind.IN_TRANSIT, 12)],
    ids=["going back to the seller", "scanned as delivered", "not moved for 12 days"],
)
def test_in_transit_reason_does_not_advise_waiting_for_a_parcel_that_is_not_moving(login, order, buyer, kind, days_ago):
    _scanned(order, TrackingEvent.Kind.ACCEPTED, 20)
    _scanned(order, kind, days_ago)
    page = _not_received_problem_page(login(buyer), order)
    assert page.startswith("Защита заказа действует до <time") and page.endswith("</span>.")


def test_in_transit_reason_advises_an_extension_for_a_parcel_scanned_lately(login, order, buyer):
    _scanned(order, TrackingEvent.Kind.IN_TRANSIT, 2)
    assert "продлить защиту" in _not_received_problem_page(login(buyer), order)


def test_in_transit_reason_says_when_protection_ends_in_english(login, order, buyer):
    with translation.override("en"):
        page = _not_received_problem_page(login(buyer), order)
    assert page.startswith("The order's protection lasts until <time") and "ask the seller to extend" in page
