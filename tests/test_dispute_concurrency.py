"""Two requests at the same moment: exactly one wins, on PostgreSQL's row locks."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import ActionRefused
from disputes import services
from disputes.models import Dispute, DisputeEvent

from .concurrency import run_together
from .disputes_helpers import open_dispute
from .factories import OrderFactory, SellerFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")


def make_dispute():
    seller = SellerFactory()
    buyer = UserFactory()
    order = OrderFactory(buyer=buyer, store=seller.store)
    return open_dispute(order, now=timezone.now() - timedelta(days=4)), buyer, seller


def test_two_accepts_of_one_offer_resolve_once():
    dispute, _, seller = make_dispute()
    offer_id = dispute.offers.get().pk
    results = run_together(
        lambda: services.offer_accept(dispute=dispute, offer_id=offer_id, user=seller),
        lambda: services.offer_accept(dispute=dispute, offer_id=offer_id, user=seller),
    )
    assert sum(isinstance(result, Dispute) for result in results) == 1
    assert sum(isinstance(result, ActionRefused) for result in results) == 1
    assert DisputeEvent.objects.filter(dispute=dispute, kind="offer_accepted").count() == 1


def test_seller_accepting_while_buyer_escalates_gives_one_outcome():
    dispute, buyer, seller = make_dispute()
    offer_id = dispute.offers.get().pk
    results = run_together(
        lambda: services.offer_accept(dispute=dispute, offer_id=offer_id, user=seller),
        lambda: services.dispute_escalate(dispute=dispute, user=buyer),
    )
    assert sum(isinstance(result, Dispute) for result in results) == 1
    dispute.refresh_from_db()
    winner_is_accept = isinstance(results[0], Dispute)
    assert dispute.status in (("refunding", "refunded") if winner_is_accept else ("claim",))
    assert DisputeEvent.objects.filter(dispute=dispute, kind__in=["offer_accepted", "escalated"]).count() == 1


def test_two_tabs_opening_a_dispute_give_one_dispute():
    seller = SellerFactory()
    buyer = UserFactory()
    order = OrderFactory(buyer=buyer, store=seller.store)
    results = run_together(lambda: open_dispute(order), lambda: open_dispute(order))
    assert sum(isinstance(result, Dispute) for result in results) == 1
    assert Dispute.objects.filter(order=order).count() == 1
