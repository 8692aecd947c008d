"""A tracking number is Latin letters, digits and dashes between them, 6 to 40 of them, stored in
one spelling (no spaces, capitals) wherever it is entered: the seller's shipping form, the
buyer's return form, admin, the services behind them and the logistics webhook, which finds the
order by it. Anything else is refused with a message next to the field, and what was typed stays."""

import html
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import ActionRefused
from core.tracking_numbers import tracking_number_clean
from disputes import services as dispute_services
from orders import shipping
from orders.models import Order

from .disputes_helpers import open_dispute
from .factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

SVG = '"><svg onload=alert(1)>'


@pytest.fixture
def unshipped(buyer, seller):
    return OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store, handling_days=5)


@pytest.fixture
def awaiting_return(order, buyer, seller):
    dispute = open_dispute(order)
    counter = dispute_services.offer_make(
        dispute=dispute, user=seller, refund_type="full", amount=None, return_required=True, note="Верните"
    )
    dispute_services.offer_accept(dispute=dispute, offer_id=counter.pk, user=buyer)
    dispute.refresh_from_db()
    assert dispute.status == "awaiting_return"
    return dispute


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("LP00123456789CN", "LP00123456789CN"),
        ("  lp 0012 3456 789 cn ", "LP00123456789CN"),
        ("yt-2212345678901234", "YT-2212345678901234"),
        ("1z999aa1\t0123456784", "1Z999AA10123456784"),
        ("123456", "123456"),
        ("A" * 40, "A" * 40),
    ],
)
def test_a_number_is_kept_in_one_spelling(typed, stored):
    assert tracking_number_clean(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (SVG, "только латинские буквы, цифры и дефис"),
        ("LP0012<b>", "только латинские буквы, цифры и дефис"),
        ("-LP00123456789CN", "только латинские буквы, цифры и дефис"),
        ("LP00123456789CN-", "только латинские буквы, цифры и дефис"),
        ("LP0012345678–CN", "только латинские буквы, цифры и дефис"),  # an en dash from a phone keyboard
        ("ıŞ123456", "только латинские буквы, цифры и дефис"),  # upper() would make "IS" of them
        ("ЛП00123456789СН", "набрана по-русски"),
        ("LP123", "от 6 до 40 знаков, а здесь 5"),
        ("A" * 41, "от 6 до 40 знаков, а здесь 41"),
        ("   ", "Укажите трек-номер"),
    ],
)
def test_anything_else_is_refused_with_the_reason(typed, message):
    with pytest.raises(Exception, match=message):
        tracking_number_clean(typed)


def test_the_sellers_form_refuses_markup_next_to_the_field_and_keeps_what_was_typed(unshipped, seller, login):
    response = login(seller).post(reverse("orders:ship", args=[unshipped.number]), {"tracking_number": SVG})
    assert response.status_code == 400
    page = response.content.decode()
    field_error = page[page.index('id="id_tracking_number"') :][:2000]
    assert "только латинские буквы, цифры и дефис" in html.unescape(field_error)
    assert f'value="{html.escape(SVG)}"' in page  # escaped, and not lost
    unshipped.refresh_from_db()
    assert (unshipped.status, unshipped.tracking_number) == ("awaiting_shipment", "")


def test_the_sellers_form_stores_a_spaced_number_in_capitals(unshipped, seller, login):
    response = login(seller).post(
        reverse("orders:ship", args=[unshipped.number]), {"tracking_number": "lp 0099 9111 222 cn"}
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=unshipped.pk).tracking_number == "LP00999111222CN"


def test_the_shipping_service_refuses_what_the_form_would(unshipped, seller):
    with pytest.raises(ActionRefused, match="латинские буквы"):
        shipping.order_ship(order=unshipped, seller=seller, tracking_number=SVG)
    assert Order.objects.get(pk=unshipped.pk).status == "awaiting_shipment"


def test_the_buyers_return_form_refuses_markup_next_to_the_field(awaiting_return, buyer, login):
    response = login(buyer).post(reverse("disputes:return_ship", args=[awaiting_return.pk]), {"tracking_number": SVG})
    assert response.status_code == 400
    page = response.content.decode()
    error = page[page.index('id="return-tracking-error"') :][:600]
    assert "только латинские буквы, цифры и дефис" in html.unescape(error)
    assert f'value="{html.escape(SVG)}"' in page
    awaiting_return.refresh_from_db()
    assert (awaiting_return.status, awaiting_return.return_tracking_number) == ("awaiting_return", "")


def test_the_buyers_return_number_is_stored_in_one_spelling(awaiting_return, buyer, login):
    response = login(buyer).post(
        reverse("disputes:return_ship", args=[awaiting_return.pk]), {"tracking_number": "rr 1234 5678 9cn"}
    )
    assert response.status_code == 302
    awaiting_return.refresh_from_db()
    assert awaiting_return.return_tracking_number == "RR123456789CN"


def test_the_return_service_refuses_what_the_form_would(awaiting_return, buyer):
    with pytest.raises(ActionRefused, match="латинские буквы"):
        dispute_services.return_ship(dispute=awaiting_return, buyer=buyer, tracking_number=SVG)


def admin_post_data(response) -> dict[str, object]:
    """What the admin change page would send back unchanged: its form's values and empty inlines."""
    form = response.context["adminform"].form
    data: dict[str, object] = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, datetime):  # a split date and time, in the admin's time zone
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.date().isoformat(), local.time().isoformat()
        elif value is True:
            data[name] = "on"
        elif value not in (None, "", False):
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_admin_checks_and_normalises_the_number_like_the_sellers_form(client, order):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:orders_order_change", args=[order.pk])
    data = admin_post_data(client.get(url))

    response = client.post(url, {**data, "tracking_number": SVG})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "только латинские буквы, цифры и дефис" in page and f'value="{SVG}"' in page
    assert Order.objects.get(pk=order.pk).tracking_number == order.tracking_number

    response = client.post(url, {**data, "tracking_number": " rb 0000 1111 2cn "})
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).tracking_number == "RB000011112CN"
