"""The dispute wizard reads only the order's columns it uses (orders.selectors.order_for_new_dispute):
each step, both ways through it, takes a fixed number of queries, none of them a deferred column
read on its own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .factories import OrderFactory, OrderItemFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("caches_in_memory")]


def step_url(order, step):
    return reverse("disputes:wizard", args=[order.number, step])


def _queries(client, url, data=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data) if data is not None else client.get(url)
    assert response.status_code in (200, 302), (url, response.status_code)
    statements = [query["sql"] for query in captured.captured_queries]
    # A deferred column read alone would select one column of the order by its pk.
    assert not [
        sql
        for sql in statements
        if sql.startswith('SELECT "orders_order"."id", "orders_order"."')
        and sql.count('"orders_order".') <= 3
        and "WHERE" in sql
        and '"orders_order"."id" =' in sql
    ], statements
    return len(statements)


@pytest.mark.parametrize("received", ["yes", "no"])
def test_every_wizard_step_takes_a_fixed_number_of_queries(login, order, buyer, received):
    OrderItemFactory(order=order, title="Второй товар")
    client = login(buyer)
    item = order.items.order_by("pk").first()
    counts = {"item": _queries(client, step_url(order, "item"))}
    _queries(client, step_url(order, "item"), {"item": str(item.pk)})
    counts["received"] = _queries(client, step_url(order, "received"))
    _queries(client, step_url(order, "received"), {"received": received})
    counts["problem"] = _queries(client, step_url(order, "problem"))
    if received == "yes":
        _queries(client, step_url(order, "problem"), {"problems": ["poor_quality"]})
        counts["refund"] = _queries(client, step_url(order, "refund"))
        _queries(client, step_url(order, "refund"), {"refund_type": "partial", "amount": "5", "return_item": "no"})
    else:
        _queries(client, step_url(order, "problem"), {"problem": "delivered_not_received"})
    counts["request"] = _queries(client, step_url(order, "request"))
    _queries(client, step_url(order, "request"), {"request_text": "Пришёл не тот товар, прошу вернуть деньги."})
    counts["summary"] = _queries(client, step_url(order, "summary"))
    expected = {"item": 4, "received": 4, "problem": 5, "refund": 5, "request": 4, "summary": 5}
    if received == "no":
        del expected["refund"]
        expected["problem"] = 6  # and whether the seller was already asked to extend protection
    assert counts == expected


def test_the_kept_breadcrumbs_name_each_order_in_the_readers_language(login, buyer, seller):
    first, second = OrderFactory(buyer=buyer, store=seller.store), OrderFactory(buyer=buyer, store=seller.store)
    client = login(buyer)
    for order in (first, second):
        page = client.get(step_url(order, "received")).content.decode()
        assert f'href="{reverse("orders:detail", args=[order.number])}">{order.number}</a>' in page
        other = second if order is first else first
        assert other.number not in page
    russian_link = reverse("orders:detail", args=[first.number])
    english = client.get("/en" + step_url(first, "received")).content.decode()
    assert f'href="/en{russian_link}">{first.number}</a>' in english and "My orders" in english
