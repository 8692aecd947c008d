"""The same event, or two events of one new order, delivered at the same moment (two web processes):
one order, one account, one record of each event, on PostgreSQL's locks and unique indexes."""

import json

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from orders.feed import feed_body_apply
from orders.models import FeedEvent, Order

from .concurrency import run_together
from .marketplace import ago, event, shipped, snapshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")


def deliver(body: dict):
    raw = json.dumps(body).encode()
    return lambda: feed_body_apply(raw, source=FeedEvent.Source.FEED, now=timezone.now())


def test_the_same_paid_event_twice_at_once_makes_one_order():
    body = event("paid", at=ago(hours=1))
    results = run_together(deliver(body), deliver(body))
    assert sorted(answer.status for answer in results) == ["applied", "duplicate"]
    assert Order.objects.count() == 1 and FeedEvent.objects.count() == 1
    assert User.objects.filter(marketplace_id="mp-buyer-1").count() == 1


def test_two_new_orders_of_one_new_buyer_at_once_make_one_account():
    first = event("paid", "8200000000000001", at=ago(hours=1))
    second = event("paid", "8200000000000002", at=ago(hours=1), order=snapshot("8200000000000002"))
    results = run_together(deliver(first), deliver(second))
    assert [answer.status for answer in results] == ["applied", "applied"]
    assert User.objects.filter(marketplace_id="mp-buyer-1").count() == 1
    assert Order.objects.filter(buyer__marketplace_id="mp-buyer-1").count() == 2


def test_shipped_and_paid_at_once_end_with_the_order_shipped():
    # A "shipped" held for an order not here yet must not miss the "paid" committing beside it.
    for attempt in range(5):
        number = f"82000000000001{attempt:02d}"
        results = run_together(
            deliver(event("paid", number, at=ago(days=2), order=snapshot(number))),
            deliver(shipped(number, at=ago(days=1))),
        )
        assert {answer.status for answer in results} <= {"applied", "held"}
        assert Order.objects.get(number=number).status == Order.Status.IN_TRANSIT
    assert not FeedEvent.objects.filter(outcome=FeedEvent.Outcome.HELD).exists()
