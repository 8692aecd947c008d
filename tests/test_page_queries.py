"""Every page the order and dispute story touches answers in the same number of queries however
many orders, disputes, items and support requests it lists (figures printed with -s)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders import services as order_services

from .disputes_helpers import open_dispute
from .factories import OrderFactory, OrderItemFactory


def count(client, url: str) -> int:
    client.get(url)  # the first request warms the session and the caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def add_rows(buyer, seller) -> None:
    for number in range(4):
        order = OrderFactory(buyer=buyer, store=seller.store)
        second = OrderItemFactory(order=order, title=f"Второй товар {number}")
        if number % 2:
            open_dispute(order, item_id=second.pk)
        order_services.support_request_create(author=buyer, order=order, text="Где мой заказ? Прошу помочь.")


# page: (who looks, its address, the most queries it may take): what each took once the reader's
# permissions came from the cache (accounts/permission_cache.py) and a buyer was no longer asked
# for a store; the order page and the dispute page take one more for the tracking timeline. The
# wizard's first step reads only the order and its items (the carrier's events and the exchange
# rate are read by the steps that show them).
PAGES = {
    "my orders": ("buyer", lambda order: reverse("orders:list"), 5),
    "my orders, disputed only": ("buyer", lambda order: reverse("orders:list") + "?status=disputed", 5),
    "an order": ("buyer", lambda order: reverse("orders:detail", args=[order.number]), 7),
    "my disputes": ("buyer", lambda order: reverse("disputes:list"), 5),
    "a dispute": ("buyer", lambda order: reverse("disputes:detail", args=[order.disputes.get().pk]), 10),
    "support requests": ("buyer", lambda order: reverse("orders:support") + f"?order={order.number}", 5),
    "the wizard": ("buyer", lambda order: reverse("disputes:wizard_start", args=[order.number]), 4),
    "store orders": ("seller", lambda order: reverse("orders:store_list"), 6),
    "store disputes": ("seller", lambda order: reverse("disputes:store_list"), 5),
}


@pytest.mark.parametrize("page", PAGES)
def test_page_queries_do_not_grow_with_more_rows(page, client, buyer, seller):
    role, url_for, ceiling = PAGES[page]
    order = OrderFactory(buyer=buyer, store=seller.store)
    if page == "the wizard":
        order = OrderFactory(buyer=buyer, store=seller.store)
    else:
        open_dispute(order)
    order_services.support_request_create(author=buyer, order=order, text="Где мой заказ? Прошу помочь.")
    client.force_login(buyer if role == "buyer" else seller)
    url = url_for(order)
    small = count(client, url)
    add_rows(buyer, seller)
    large = count(client, url)
    print(f"\n{page}: {small} queries")
    assert large == small
    assert small <= ceiling
