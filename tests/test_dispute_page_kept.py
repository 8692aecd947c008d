"""The dispute page's blocks kept rendered per process (the messages, the timeline, the buyer's
request, the carrier's events, the empty offer and message forms): a page drawn from them is the
page drawn afresh for every reader, and whatever they show that changes shows on the next request."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from disputes import claims
from disputes import services as dispute_services
from disputes.models import Dispute
from orders.models import TrackingEvent

from .disputes_helpers import escalate, png_file, seller_counter_offer, store_upload
from .factories import arbitrator
from .page_helpers import page_html


def page(client, dispute, *, language: str = "") -> str:
    return page_html(client, "disputes:detail", dispute.pk, language=language)


def timeline(html: str) -> str:
    return html[html.index('id="timeline-heading"') :]


def thread(html: str) -> str:
    return html[html.index('id="thread"') : html.index('id="timeline-heading"')]


def test_a_message_posted_after_the_page_was_kept_shows_on_the_next_request(client, login, dispute):
    login(dispute.buyer)
    assert "Пришлите фото" not in page(client, dispute)
    dispute_services.message_post(dispute=dispute, user=dispute.store.owner, text="Пришлите фото, пожалуйста.")
    html = page(client, dispute)
    assert "Пришлите фото, пожалуйста." in thread(html)
    assert "Новое сообщение" in timeline(html)


def test_files_sent_after_the_page_was_kept_show_on_the_next_request(client, login, dispute):
    login(dispute.buyer)
    page(client, dispute)
    photo = store_upload(dispute.buyer, png_file("unboxing.png"))
    dispute_services.message_post(dispute=dispute, user=dispute.buyer, text="", attachment_ids=[photo.pk])
    assert reverse("disputes:attachment", args=[photo.token]) in thread(page(client, dispute))


def test_an_offer_made_after_the_page_was_kept_shows_on_the_next_request(client, login, dispute):
    login(dispute.buyer)
    before = page(client, dispute)
    assert "Предложение продавца" not in before and "Новое предложение" not in timeline(before)
    seller_counter_offer(dispute, amount="7")
    html = page(client, dispute)
    assert 'id="offer-heading">Предложение продавца<' in html
    assert "Предлагаем 7" in thread(html)
    assert "Новое предложение" in timeline(html)


def test_an_event_after_the_page_was_kept_shows_in_the_timeline_and_the_request(client, login, dispute):
    escalate(dispute)
    official = arbitrator()
    claims.claim_take(dispute=dispute, arbitrator=official)
    login(dispute.buyer)
    assert 'data-testid="reclassified"' not in page(client, dispute)
    claims.claim_reclassify(dispute=dispute, arbitrator=official, problems=["damaged"], note="На фото трещина корпуса.")
    html = page(client, dispute)
    assert "Арбитр уточнил причину спора" in timeline(html)
    assert 'data-testid="reclassified"' in html and "На фото трещина корпуса." in html


def test_a_carrier_scan_after_the_page_was_kept_shows_on_the_next_request(client, login, dispute):
    now = timezone.now()

    def scan(kind: str, number: int) -> None:
        TrackingEvent.objects.create(
            order=dispute.order,
            kind=kind,
            happened_at=now - timedelta(hours=10 - number),
            location="Москва",
            source=TrackingEvent.Source.CARRIER,
            external_id=f"scan-after-kept-{number}",
            received_at=now,
        )

    login(dispute.buyer)
    assert 'data-testid="tracking"' not in page(client, dispute)
    scan(TrackingEvent.Kind.ARRIVED, 1)
    html = page(client, dispute)
    assert 'data-testid="tracking"' in html and "Прибыло в страну назначения" in html
    assert "Таможенное оформление" not in html
    scan(TrackingEvent.Kind.CUSTOMS, 2)
    html = page(client, dispute)
    # The latest scan first, as the order page shows them.
    assert html.index("Таможенное оформление") < html.index("Прибыло в страну назначения")


@pytest.mark.parametrize("first", ["buyer", "seller", "staff"])
def test_every_reader_gets_the_page_drawn_afresh_whoever_kept_it_first(client, login, dispute, first):
    official = arbitrator(first_name="Ирина", last_name="Арбитрова")
    seller_counter_offer(dispute)
    dispute_services.message_post(dispute=dispute, user=dispute.buyer, text="Не согласна.")
    readers = {"buyer": dispute.buyer, "seller": dispute.store.owner, "staff": official}
    order = [first, *(name for name in readers if name != first)]

    def pages() -> dict[tuple[str, str], str]:
        drawn = {}
        for name in order:
            client.logout()
            login(readers[name])
            for language in ("", "/en"):
                drawn[name, language] = page(client, dispute, language=language)
        return drawn

    caches["fragments"].clear()
    kept_in_turn = pages()  # each reader after the ones before kept their blocks
    afresh = {}
    for key in kept_in_turn:
        caches["fragments"].clear()
        client.logout()
        login(readers[key[0]])
        afresh[key] = page(client, dispute, language=key[1])
    assert kept_in_turn == afresh


def test_staff_read_the_arbitrator_by_name_where_the_buyer_kept_a_role(client, login, dispute):
    escalate(dispute)
    official = arbitrator(first_name="Ирина", last_name="Арбитрова")
    claims.claim_take(dispute=dispute, arbitrator=official)
    login(dispute.buyer)
    assert "(Арбитр)" in timeline(page(client, dispute))
    assert "Арбитрова" not in timeline(page(client, dispute))
    client.logout()
    login(official)
    assert "(Ирина Арбитрова)" in timeline(page(client, dispute))
    # A staff member's new name shows at once: the staff timeline is never kept.
    official.last_name = "Судейская"
    official.save(update_fields=["last_name"])
    assert "(Ирина Судейская)" in timeline(page(client, dispute))
    client.logout()
    login(dispute.buyer)
    assert "Ирина" not in timeline(page(client, dispute))


def test_the_timeline_kept_in_russian_is_not_shown_in_english(client, login, dispute):
    login(dispute.buyer)
    assert "Покупатель открыл спор" in timeline(page(client, dispute))
    english = timeline(page(client, dispute, language="/en"))
    assert "Покупатель открыл спор" not in english


SELLER_HINT = "Чтобы просить товар назад, сначала укажите"


@pytest.mark.parametrize("first", ["buyer", "seller"])
def test_the_kept_offer_form_of_one_party_is_never_shown_to_the_other(client, login, dispute, first):
    dispute.store.return_address = ""
    dispute.store.save(update_fields=["return_address"])
    seller_counter_offer(dispute)  # both parties may now make an offer
    readers = {"buyer": dispute.buyer, "seller": dispute.store.owner}
    for name in (first, *(other for other in readers if other != first)):
        client.logout()
        login(readers[name])
        html = page(client, dispute)
        assert 'id="make-offer-heading"' in html
        # Only a seller without a return address is told to add one before asking for the item back.
        assert (SELLER_HINT in html) == (name == "seller")


def test_the_kept_offer_form_follows_the_stores_return_address(client, login, dispute):
    dispute.store.return_address = ""
    dispute.store.save(update_fields=["return_address"])
    login(dispute.store.owner)
    assert SELLER_HINT in page(client, dispute)
    dispute.store.return_address = "Гуанчжоу, ул. Складская, 1"
    dispute.store.save(update_fields=["return_address"])
    assert SELLER_HINT not in page(client, dispute)


def test_a_refused_offer_is_drawn_with_what_was_typed_and_the_kept_form_stays_empty(client, login, dispute):
    login(dispute.store.owner)
    page(client, dispute)  # the empty form is kept
    refused = client.post(
        reverse("disputes:offer_create", args=[dispute.pk]),
        {"refund_type": "partial", "amount": "99999", "note": "Моё пояснение"},
    )
    assert refused.status_code == 400
    assert "Нельзя вернуть больше" in refused.content.decode() and "Моё пояснение" in refused.content.decode()
    again = page(client, dispute)
    assert "Моё пояснение" not in again and "Нельзя вернуть больше" not in again


def test_a_carrier_scan_removed_by_staff_leaves_the_tracking_on_the_next_request(client, login, dispute):
    # Lists are versioned by their row count and newest key: a removed row (admin's delete) changes
    # the count even when a newer row is still there.
    now = timezone.now()
    scans = [
        TrackingEvent.objects.create(
            order=dispute.order,
            kind=kind,
            happened_at=now - timedelta(hours=hours),
            location=place,
            source=TrackingEvent.Source.CARRIER,
            external_id=f"scan-removed-{hours}",
            received_at=now,
        )
        for kind, hours, place in (
            (TrackingEvent.Kind.ARRIVED, 5, "Внуково"),
            (TrackingEvent.Kind.CUSTOMS, 2, "Шереметьево"),
        )
    ]
    login(dispute.buyer)
    assert "Внуково" in page(client, dispute)
    scans[0].delete()
    html = page(client, dispute)
    assert "Шереметьево" in html and "Внуково" not in html


def test_the_request_shows_the_rate_of_the_disputes_currency_as_it_is_on_each_request(client, login, dispute):
    from disputes.models import ExchangeRate

    def rate_line() -> str | None:
        found = re.search(r"по курсу ([^<]*)</span>", page(client, dispute))
        return found and found.group(1).replace("\xa0", " ")

    login(dispute.buyer)
    assert dispute.currency == "USD" and rate_line() is None
    rate = ExchangeRate.objects.create(currency="USD", rub_per_unit=Decimal("92.5"), as_of="2026-11-22")
    assert rate_line() == "92,50 на 22 ноября"
    rate.rub_per_unit, rate.as_of = Decimal("100.1251"), date(2026, 11, 23)
    rate.save()
    assert rate_line() == "100,13 на 23 ноября"
    ExchangeRate.objects.create(currency="EUR", rub_per_unit=Decimal("101"), as_of="2026-11-23")
    assert rate_line() == "100,13 на 23 ноября"  # another currency's rate is not this dispute's
    rate.delete()
    assert rate_line() is None


def test_a_dispute_about_the_whole_order_lists_the_orders_items(client, login, dispute):
    from disputes.models import Dispute

    item = dispute.order.items.get()
    login(dispute.buyer)
    assert 'data-testid="dispute-item"' in page(client, dispute)
    Dispute.objects.filter(pk=dispute.pk).update(item=None)  # a dispute from before items
    html = page(client, dispute)
    assert 'aria-label="Товары заказа"' in html and item.title in html
    item.dispute = None
    dispute.order.items.all().delete()
    html = page(client, dispute)
    assert 'aria-label="Товары заказа"' in html and item.title not in html


def test_the_item_line_kept_under_the_heading_follows_the_item(client, login, dispute):
    item = dispute.item
    login(dispute.buyer)
    assert item.title in page(client, dispute)
    type(item).objects.filter(pk=item.pk).update(title="Наушники, исправленное название", unit_price=Decimal("31.50"))
    html = page(client, dispute)
    assert "Наушники, исправленное название" in html and "31,50" in html and item.title not in html


def test_the_kept_offer_heading_follows_the_disputes_state(client, login, dispute):
    from disputes.models import Dispute

    login(dispute.store.owner)
    assert 'id="make-offer-heading">Отказать и предложить свои условия<' in page(client, dispute)
    Dispute.objects.filter(pk=dispute.pk).update(status=Dispute.Status.NEGOTIATING)
    assert 'id="make-offer-heading">Предложить свои условия<' in page(client, dispute)


def test_each_session_posts_from_the_kept_forms_with_its_own_csrf_token(db, dispute):
    from django.test import Client

    seller_counter_offer(dispute)  # both parties may now make an offer and write
    address = reverse("disputes:detail", args=[dispute.pk])
    sessions = []
    for person in (dispute.buyer, dispute.store.owner, dispute.buyer):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(person)
        html = browser.get(address).content.decode()
        for form in ("offers", "messages"):
            opened = html.index(f'action="{address}{form}/"')
            sent = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html[opened:])
            assert sent is not None
            sessions.append((browser, form, sent.group(1)))
    assert len({browser.cookies["csrftoken"].value for browser, _form, _token in sessions}) == 3
    for number, (browser, form, token) in enumerate(sessions):
        if form == "messages":
            answer = browser.post(f"{address}messages/", {"csrfmiddlewaretoken": token, "text": f"Сообщение {number}"})
            assert answer.status_code == 302, answer.content.decode()[:300]


@pytest.mark.parametrize("state", ["negotiating", "claim"])
def test_the_page_reads_no_column_of_the_order_it_does_not_show(client, login, dispute, state):
    # The order comes with the blocks' versions, with only its number and currency: a page that
    # asked for another column would read the order again (an ORM query names it quoted).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seller_counter_offer(dispute)
    dispute_services.message_post(dispute=dispute, user=dispute.buyer, text="Не согласна.")
    official = arbitrator()
    if state == "claim":
        escalate(dispute)
        claims.claim_take(dispute=dispute, arbitrator=official)
    for reader in (dispute.buyer, dispute.store.owner, official):
        client.logout()
        login(reader)
        for kept in (False, True):
            if not kept:
                caches["fragments"].clear()
            with CaptureQueriesContext(connection) as captured:
                page(client, dispute)
            assert not [query["sql"] for query in captured if '"orders_order"' in query["sql"]]


def test_the_kept_request_is_headed_as_the_original_once_another_sum_is_offered(client, login, dispute):
    login(dispute.buyer)
    assert 'id="request-heading">Ваше требование<' in page(client, dispute)
    seller_counter_offer(dispute, amount="7")
    assert 'id="request-heading">Ваше первоначальное требование<' in page(client, dispute)
    client.logout()
    login(dispute.store.owner)
    assert 'id="request-heading">Первоначальное требование покупателя<' in page(client, dispute)


def test_the_request_tells_the_buyer_what_they_said_of_the_item_and_the_seller_what_the_buyer_said(
    client, login, dispute
):
    dispute.kind, dispute.return_item = Dispute.Kind.NOT_AS_DESCRIBED, True
    dispute.save(update_fields=["kind", "return_item"])
    for reader, words in (
        (dispute.buyer, "Вы готовы вернуть товар."),
        (dispute.store.owner, "Покупатель готов вернуть товар."),
    ):
        client.logout()
        login(reader)
        assert words in page(client, dispute)
