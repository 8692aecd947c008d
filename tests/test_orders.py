from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.errors import ActionRefused
from orders import rules, services
from orders.models import Order, OrderEvent, ProtectionExtension

from .factories import OrderFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


def detail_url(order):
    return reverse("orders:detail", args=[order.number])


# --- My orders ------------------------------------------------------------------------------


def test_my_orders_lists_only_the_buyers_orders_newest_first(login, buyer, seller):
    old = OrderFactory(buyer=buyer, store=seller.store, days_since_shipment=30)
    new = OrderFactory(buyer=buyer, store=seller.store, days_since_shipment=3)
    someone_elses = OrderFactory(store=seller.store)
    page = login(buyer).get(reverse("orders:list")).content.decode()
    assert page.index(new.number) < page.index(old.number)
    assert someone_elses.number not in page


def test_my_orders_are_paginated_ten_to_a_page(login, buyer, seller):
    numbers = [OrderFactory(buyer=buyer, store=seller.store, days_since_shipment=i).number for i in range(12)]
    client = login(buyer)
    first = client.get(reverse("orders:list")).content.decode()
    second = client.get(reverse("orders:list") + "?page=2").content.decode()
    assert sum(number in first for number in numbers) == 10
    assert sum(number in second for number in numbers) == 2
    assert "1 из 2" in first


def test_my_orders_filter_by_status(login, buyer, seller):
    in_transit = OrderFactory(buyer=buyer, store=seller.store)
    confirmed = OrderFactory.confirmed(buyer=buyer, store=seller.store)
    page = login(buyer).get(reverse("orders:list"), {"status": "confirmed"}).content.decode()
    assert confirmed.number in page
    assert in_transit.number not in page


def test_my_orders_search_by_spaced_order_number(login, buyer, seller):
    wanted = OrderFactory(buyer=buyer, store=seller.store, number="8123456789012345")
    other = OrderFactory(buyer=buyer, store=seller.store, number="8000000000000001")
    page = login(buyer).get(reverse("orders:list"), {"q": "8123 4567"}).content.decode()
    assert wanted.number in page
    assert other.number not in page


def test_my_orders_search_by_item_title(login, buyer, seller):
    headphones = OrderFactory(buyer=buyer, store=seller.store, item__title="Беспроводные наушники")
    lamp = OrderFactory(buyer=buyer, store=seller.store, item__title="Настольная лампа")
    page = login(buyer).get(reverse("orders:list"), {"q": "наушники"}).content.decode()
    assert headphones.number in page
    assert lamp.number not in page


def test_my_orders_shows_protection_state(login, buyer, seller):
    OrderFactory(buyer=buyer, store=seller.store, protection_days=30, days_since_shipment=18)
    OrderFactory(buyer=buyer, store=seller.store, protection_days=30, days_since_shipment=31)
    page = login(buyer).get(reverse("orders:list")).content.decode()
    assert "Защита закончится через 12" in page
    assert "Защита закончилась" in page


def test_my_orders_needs_sign_in(client):
    response = client.get(reverse("orders:list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_store_orders_are_only_for_sellers(login, buyer):
    assert login(buyer).get(reverse("orders:store_list")).status_code == 404


def test_a_stores_unshipped_order_says_by_when_to_ship_it_and_the_buyer_when_protection_starts(login, buyer, seller):
    order = OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store, handling_days=5)
    sellers = login(seller).get(reverse("orders:store_list")).content.decode()
    card = sellers[sellers.index('data-testid="ship-by-card"') :]
    assert card.startswith('data-testid="ship-by-card">Отправьте до <time datetime="')
    assert order.ship_by is not None and order.ship_by.isoformat(timespec="seconds") in card[:120]
    buyers = login(buyer).get(reverse("orders:list")).content.decode()
    assert "Защита начнётся, когда продавец отправит заказ" in buyers and "ship-by-card" not in buyers


def test_seller_sees_their_store_orders_with_the_buyer(login, order, seller):
    page = login(seller).get(reverse("orders:store_list")).content.decode()
    assert order.number in page
    assert order.buyer.username in page


# --- Protection state -------------------------------------------------------------------------


def test_protection_state_counts_whole_days_left():
    now = timezone.now()
    order = Order(status=Order.Status.IN_TRANSIT, protection_due_at=now + timedelta(days=11, hours=2))
    state = rules.protection_state(order, now)
    assert (state.code, state.days_left) == ("running", 12)


def test_protection_state_ended_at_the_end_minute():
    now = timezone.now()
    order = Order(status=Order.Status.IN_TRANSIT, protection_due_at=now)
    assert rules.protection_state(order, now).code == "ended"
    assert rules.protection_state(order, now - timedelta(minutes=1)).code == "running"


def test_protection_has_not_started_before_shipment():
    order = Order(status=Order.Status.AWAITING_SHIPMENT, protection_due_at=None)
    assert rules.protection_state(order, timezone.now()).code == "not_started"


# --- Order detail and access ------------------------------------------------------------------


def test_order_detail_shows_items_amounts_seller_tracking_and_protection_end(login, buyer, order):
    page = login(buyer).get(detail_url(order)).content.decode()
    assert order.items.get().title in page
    assert "25,00\xa0$" in page
    assert order.store.name in page
    assert order.tracking_number in page
    assert order.shipping_method in page
    local_end = timezone.localtime(order.protection_due_at, timezone=ZoneInfo("Europe/Moscow"))
    assert f"{local_end:%H:%M}" in page and str(local_end.year) in page


def test_order_detail_says_when_the_seller_gave_no_tracking_number(login, buyer, seller):
    order = OrderFactory(buyer=buyer, store=seller.store, tracking_number="")
    assert "Продавец не указал трек-номер" in login(buyer).get(detail_url(order)).content.decode()


def test_order_detail_shows_amounts_in_roubles_for_rouble_orders(login, buyer, seller):
    order = OrderFactory(
        buyer=buyer, store=seller.store, currency="RUB", total_amount="3490.00", item__unit_price="3490.00"
    )
    assert "3\xa0490,00\xa0₽" in login(buyer).get(detail_url(order)).content.decode()


def test_order_detail_is_open_to_its_seller_and_staff_who_may_view_orders(login, order, seller, support_user):
    assert login(seller).get(detail_url(order)).status_code == 200
    assert login(support_user).get(detail_url(order)).status_code == 200


def test_staff_status_alone_does_not_open_an_order(login, order, staff_user):
    assert login(staff_user).get(detail_url(order)).status_code == 404


def test_another_buyer_gets_404_on_the_order(login, order):
    assert login(UserFactory()).get(detail_url(order)).status_code == 404


def test_another_seller_gets_404_on_the_order(login, order):
    assert login(SellerFactory()).get(detail_url(order)).status_code == 404


def test_another_buyer_cannot_confirm_or_extend_the_order(login, order):
    client = login(UserFactory())
    assert client.post(reverse("orders:confirm", args=[order.number])).status_code == 404
    response = client.post(reverse("orders:extension_create", args=[order.number]), {"days": 5, "reason": "x"})
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.IN_TRANSIT
    assert not order.extensions.exists()


def test_dates_are_shown_in_the_users_time_zone(login, buyer, seller):
    buyer.time_zone = "Asia/Vladivostok"
    buyer.save()
    shipped_at = timezone.now().replace(hour=0, minute=30, second=0, microsecond=0) - timedelta(days=3)
    order = OrderFactory(buyer=buyer, store=seller.store, shipped_at=shipped_at)
    page = login(buyer).get(detail_url(order)).content.decode()
    assert "10:30" in page  # 00:30 UTC is 10:30 in Vladivostok


# --- Confirming receipt -----------------------------------------------------------------------


def test_buyer_confirms_receipt_and_keeps_15_days_to_open_a_dispute(login, buyer, order):
    with time_machine.travel(timezone.now(), tick=False):
        login(buyer).post(reverse("orders:confirm", args=[order.number]), {"confirmed": "yes"})
        order.refresh_from_db()
        assert order.status == Order.Status.CONFIRMED
        assert order.confirmed_at == timezone.now()
        assert order.protection_due_at == timezone.now() + timedelta(days=15)
    assert order.events.get().kind == OrderEvent.Kind.CONFIRMED
    assert order.events.get().actor == buyer


def test_buyer_cannot_confirm_twice(buyer, order):
    services.order_confirm_receipt(order=order, buyer=buyer)
    with pytest.raises(ActionRefused, match="уже подтвердили получение"):
        services.order_confirm_receipt(order=order, buyer=buyer)
    assert order.events.count() == 1


def test_buyer_cannot_confirm_an_order_not_yet_shipped(buyer, seller):
    order = OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store)
    with pytest.raises(ActionRefused, match="когда заказ отправлен"):
        services.order_confirm_receipt(order=order, buyer=buyer)


def test_seller_cannot_confirm_receipt_for_the_buyer(order, seller):
    with pytest.raises(ActionRefused, match="только покупатель"):
        services.order_confirm_receipt(order=order, buyer=seller)


# --- Extending protection ---------------------------------------------------------------------


def test_buyer_asks_for_an_extension_and_the_seller_is_emailed(login, buyer, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(buyer).post(
            reverse("orders:extension_create", args=[order.number]), {"days": 10, "reason": "Трек стоит неделю"}
        )
    assert response.status_code == 302
    extension = order.extensions.get()
    assert (extension.days, extension.status) == (10, ProtectionExtension.Status.PENDING)
    assert [message.to for message in mail.outbox] == [[order.store.owner.email]]
    assert order.number in mail.outbox[0].subject


def test_extension_is_capped_so_protection_never_passes_90_days(login, buyer, seller):
    order = OrderFactory(buyer=buyer, store=seller.store, protection_days=80)
    response = login(buyer).post(
        reverse("orders:extension_create", args=[order.number]), {"days": 11, "reason": "Долго идёт"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    # The limit is explained beside the field, in the rulebook's words, and the reason is kept.
    assert "Можно попросить самое большее 10 дней: вся защита длится не больше чем 90 дней." in page
    assert "Убедитесь, что это значение" not in page and "Долго идёт" in page
    assert not order.extensions.exists()


def test_no_extension_can_be_asked_at_90_days(buyer, seller):
    order = OrderFactory(buyer=buyer, store=seller.store, protection_days=90)
    with pytest.raises(ActionRefused, match="Защита уже длится 90 дней"):
        services.extension_request(order=order, buyer=buyer, days=1, reason="ещё")


def test_a_second_extension_waits_for_the_sellers_answer(buyer, order):
    services.extension_request(order=order, buyer=buyer, days=5, reason="first")
    with pytest.raises(ActionRefused, match="ещё не ответил"):
        services.extension_request(order=order, buyer=buyer, days=5, reason="second")
    assert order.extensions.count() == 1


def test_seller_accepts_an_extension_and_the_end_date_moves(login, buyer, seller, order):
    extension = services.extension_request(order=order, buyer=buyer, days=15, reason="Посылка на таможне")
    old_end = order.protection_due_at
    response = login(seller).post(
        reverse("orders:extension_decide", args=[order.number, extension.pk]), {"decision": "accept"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    extension.refresh_from_db()
    assert extension.status == ProtectionExtension.Status.ACCEPTED
    assert order.protection_days == 75
    assert order.protection_due_at == old_end + timedelta(days=15)
    assert list(order.events.values_list("kind", flat=True)) == [
        OrderEvent.Kind.EXTENSION_REQUESTED,
        OrderEvent.Kind.EXTENSION_ACCEPTED,
    ]


def test_a_request_to_extend_reads_as_the_sellers_own_to_the_seller(login, buyer, seller, order, client):
    extension = services.extension_request(order=order, buyer=buyer, days=15, reason="Посылка на таможне")
    url = reverse("orders:detail", args=[order.number])
    assert "На 15 дней — ждёт вашего ответа" in login(seller).get(url).content.decode()
    client.post(reverse("orders:extension_decide", args=[order.number, extension.pk]), {"decision": "accept"})
    assert "На 15 дней — вы продлили защиту" in client.get(url).content.decode()
    client.force_login(buyer)
    assert "На 15 дней — продавец согласился" in client.get(url).content.decode()


def test_seller_refuses_an_extension_and_nothing_moves(buyer, seller, order):
    extension = services.extension_request(order=order, buyer=buyer, days=15, reason="Посылка на таможне")
    services.extension_answer(extension=extension, seller=seller, accept=False)
    order.refresh_from_db()
    assert order.protection_days == 60
    assert order.extensions.get().status == ProtectionExtension.Status.REFUSED


def test_seller_cannot_answer_twice(buyer, seller, order):
    extension = services.extension_request(order=order, buyer=buyer, days=15, reason="x")
    services.extension_answer(extension=extension, seller=seller, accept=True)
    with pytest.raises(ActionRefused, match="уже ответили"):
        services.extension_answer(extension=extension, seller=seller, accept=True)
    order.refresh_from_db()
    assert order.protection_days == 75


def test_another_seller_cannot_answer_an_extension(login, buyer, order):
    extension = services.extension_request(order=order, buyer=buyer, days=15, reason="x")
    response = login(SellerFactory()).post(
        reverse("orders:extension_decide", args=[order.number, extension.pk]), {"decision": "accept"}
    )
    assert response.status_code == 404
    extension.refresh_from_db()
    assert extension.status == ProtectionExtension.Status.PENDING


def test_buyer_cannot_answer_their_own_extension(login, buyer, order):
    extension = services.extension_request(order=order, buyer=buyer, days=15, reason="x")
    response = login(buyer).post(
        reverse("orders:extension_decide", args=[order.number, extension.pk]), {"decision": "accept"}
    )
    assert response.status_code == 404


def test_seller_cannot_extend_after_protection_ended(buyer, seller, order):
    extension = services.extension_request(order=order, buyer=buyer, days=15, reason="x")
    with (
        time_machine.travel(order.protection_due_at + timedelta(minutes=1)),
        pytest.raises(ActionRefused, match="уже закончилась"),
    ):
        services.extension_answer(extension=extension, seller=seller, accept=True)


def test_extension_cannot_be_asked_after_receipt_is_confirmed(buyer, seller):
    order = OrderFactory.confirmed(buyer=buyer, store=seller.store)
    with pytest.raises(ActionRefused, match="подтвердили получение, поэтому"):
        services.extension_request(order=order, buyer=buyer, days=5, reason="x")


def test_order_page_offers_only_what_the_buyer_may_do(login, buyer, seller):
    confirmed = OrderFactory.confirmed(buyer=buyer, store=seller.store)
    page = login(buyer).get(detail_url(confirmed)).content.decode()
    assert "Я получил(а) заказ" not in page
    assert "Вы уже подтвердили получение" in page
    assert 'name="days"' not in page
