"""The order page's one statement (orders.selectors.order_page_get) and its history kept rendered
per process: the page opens exactly the orders Order.objects.visible_to() lists, reads the order as
the ORM does, takes the same queries however many rows its lists hold, and a page drawn from the
kept history is the page drawn afresh, showing a new event, the reader's language and zone."""

import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Store, User
from orders import selectors
from orders import services as order_services
from orders.models import Order, OrderCancellation, ProtectionExtension, TrackingEvent

from .disputes_helpers import open_dispute
from .factories import (
    OrderFactory,
    OrderItemFactory,
    StoreFactory,
    readers_of_every_kind,
)
from .page_helpers import page_html

pytestmark = pytest.mark.django_db


def page(client, order, *, language: str = "") -> str:
    return page_html(client, "orders:detail", order.number, language=language)


def history(html: str) -> str:
    return html[html.index('id="events-heading"') :] if 'id="events-heading"' in html else ""


def opens(user, order) -> bool:
    try:
        selectors.order_page_get(user=user, number=order.number)
    except Http404:
        return False
    return True


def test_the_page_opens_exactly_the_orders_visible_to_each_reader(buyer, seller, order):
    readers = readers_of_every_kind(buyer, seller)
    theirs = OrderFactory(buyer=readers.other_buyer, store=readers.other_seller.store)
    buyers_store = OrderFactory(buyer=readers.other_buyer, store=StoreFactory(owner=readers.buyer_with_store))
    for reader in readers.all:
        for each in (order, theirs, buyers_store):
            visible = Order.objects.visible_to(reader).filter(pk=each.pk).exists()
            assert opens(reader, each) == visible, (reader.username, each.number)
    assert opens(buyer, order) and opens(seller, order) and not opens(buyer, theirs) and not opens(seller, theirs)


def test_a_missing_order_is_not_found(buyer, client, login):
    with pytest.raises(Http404):
        selectors.order_page_get(user=buyer, number="0000000000000000")
    assert login(buyer).get(reverse("orders:detail", args=["0000000000000000"])).status_code == 404


def test_the_order_read_for_its_page_is_the_one_the_orm_reads(buyer, order):
    OrderItemFactory(order=order, title="Ремешок")
    now = timezone.now()
    OrderCancellation.objects.create(
        order=order, reason="changed_mind", requested_at=now, respond_by=now + timedelta(days=3)
    )
    read = selectors.order_page_get(user=buyer, number=order.number)
    expected = Order.objects.select_related("store", "cancellation").get(pk=order.pk)
    for field in Order._meta.concrete_fields:
        assert getattr(read.order, field.attname) == getattr(expected, field.attname), field.name
    assert read.cancellation is not None and expected.cancellation is not None
    for field in OrderCancellation._meta.concrete_fields:
        assert getattr(read.cancellation, field.attname) == getattr(expected.cancellation, field.attname), field.name
    titles = [item.title for item in expected.items.all()]
    with CaptureQueriesContext(connection) as queries:
        assert read.order.store.name == expected.store.name and read.order.store.owner_id == expected.store.owner_id
        assert read.order.buyer is buyer and read.buyer_name == buyer.username
        assert [item.title for item in read.items] == titles and len(titles) == 2
        assert all(not hasattr(item, "dispute") for item in read.items)
    assert not queries.captured_queries


def test_the_order_page_from_a_kept_history_is_the_page_drawn_afresh(client, login, order):
    order_services.extension_request(order=order, buyer=order.buyer, days=5, reason="Посылка задерживается")
    login(order.buyer)
    drawn = page(client, order)
    kept = page(client, order)
    caches["fragments"].clear()
    assert kept == drawn == page(client, order)
    assert "Покупатель попросил продлить защиту" in history(kept)


def test_an_event_added_after_the_history_was_kept_shows_on_the_next_request(client, login, order):
    login(order.buyer)
    assert "Покупатель попросил продлить защиту" not in history(page(client, order))
    order_services.extension_request(order=order, buyer=order.buyer, days=5, reason="Посылка задерживается")
    html = page(client, order)
    assert "Покупатель попросил продлить защиту" in history(html)
    assert "Посылка задерживается" in html  # the request itself, read because the order now has one


def test_the_kept_history_follows_the_readers_language_and_zone(client, login, order):
    order_services.extension_request(order=order, buyer=order.buyer, days=5, reason="Посылка задерживается")
    login(order.buyer)
    russian = history(page(client, order))
    assert "Покупатель попросил продлить защиту" in russian and "MSK" in russian
    english = history(page(client, order, language="/en"))
    assert "Покупатель попросил продлить защиту" not in english and "The buyer asked to extend protection" in english
    User.objects.filter(pk=order.buyer.pk).update(time_zone="Asia/Vladivostok")
    assert "MSK" not in history(page(client, order))


def test_the_seller_reads_the_buyers_name_and_the_buyer_the_stores(client, login, order):
    login(order.buyer)
    as_buyer = page(client, order)
    assert "Пожаловаться на продавца" in as_buyer and "Пожаловаться на покупателя" not in as_buyer
    client.logout()
    login(order.store.owner)
    as_seller = page(client, order)
    assert f"{order.buyer.username} · " in as_seller and "Пожаловаться на покупателя" in as_seller
    User.objects.filter(pk=order.buyer.pk).update(username="anna-renamed")
    Store.objects.filter(pk=order.store.pk).update(name="Новое имя магазина")
    again = page(client, order)
    assert "anna-renamed · " in again and "Новое имя магазина" in again


def _order_with(buyer, seller, rows: int) -> Order:
    """An order in transit with `rows` items (one disputed), scans, events and answered requests
    to extend protection."""
    order = OrderFactory(buyer=buyer, store=seller.store)
    items = [OrderItemFactory(order=order, title=f"Товар {number}") for number in range(rows)]
    open_dispute(order, item_id=items[0].pk)
    for number in range(rows):
        TrackingEvent.objects.create(
            order=order,
            kind=TrackingEvent.Kind.IN_TRANSIT,
            happened_at=timezone.now() - timedelta(days=rows - number),
            source=TrackingEvent.Source.CARRIER,
            external_id=f"{order.number}-{number}",
            received_at=timezone.now(),
        )
        ProtectionExtension.objects.create(order=order, days=3, reason="Задержка", status="refused")
        order.events.create(kind="reminder_sent", actor=None)
    return order


def _queries(client, order) -> int:
    page(client, order)  # the session and the permission cache
    caches["fragments"].clear()  # the history drawn afresh
    with CaptureQueriesContext(connection) as queries:
        page(client, order)
    return len(queries)


def test_the_order_page_takes_the_same_queries_however_many_rows_its_lists_hold(client, login, buyer, seller):
    few, many = _order_with(buyer, seller, 2), _order_with(buyer, seller, 9)
    login(buyer)
    # The session, the user, the order's statement, its items, scans and requests, its history.
    assert _queries(client, few) == _queries(client, many) == 7


def test_an_order_without_items_scans_or_requests_takes_no_query_for_them(client, login, order):
    order.items.all().delete()
    login(order.buyer)
    # The session, the user and the order's statement (its empty history drawn afresh is read once).
    assert _queries(client, order) == 4


def test_the_kept_extension_form_follows_its_limit_and_a_form_sent_back_shows_its_errors(client, login, order):
    login(order.buyer)
    empty = page(client, order)
    assert 'name="days"' in empty and "is-invalid" not in empty
    limit = re.search(r"Самое большее (\d+)", empty)
    assert limit is not None
    # Protection extended by nine days leaves nine days less to ask for: the form's limit follows.
    Order.objects.filter(pk=order.pk).update(protection_days=order.protection_days + 9)
    later = re.search(r"Самое большее (\d+)", page(client, order))
    assert later is not None and later.group(1) != limit.group(1)
    with translation.override("ru"):
        address = reverse("orders:extension_create", args=[order.number])
    sent = client.post(address, {"days": "0", "reason": "Посылка стоит на сортировке"})
    assert sent.status_code == 400
    html = sent.content.decode()
    assert "is-invalid" in html and "Посылка стоит на сортировке" in html
    # The empty form is kept as it was: the next page shows neither the errors nor what was typed.
    again = page(client, order)
    assert "is-invalid" not in again and "Посылка стоит на сортировке" not in again
