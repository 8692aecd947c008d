"""What the dispute page's one statement reads (disputes.selectors.dispute_page_get): the disputes
it opens are the ones Dispute.objects.visible_to() lists, for every kind of reader, and the dispute
it answers is the one the ORM reads, its relations set without a further query."""

from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from disputes import selectors
from disputes.models import Dispute, ExchangeRate
from disputes.rules import claim_of

from .disputes_helpers import escalate, open_dispute
from .factories import (
    OrderFactory,
    StoreFactory,
    readers_of_every_kind,
)

pytestmark = pytest.mark.django_db


def opens(user, dispute) -> bool:
    try:
        selectors.dispute_page_get(user=user, pk=dispute.pk)
    except Http404:
        return False
    return True


def test_the_page_opens_exactly_the_disputes_visible_to_each_reader(buyer, seller, order):
    mine = open_dispute(order)
    readers = readers_of_every_kind(buyer, seller)
    theirs = open_dispute(OrderFactory(buyer=readers.other_buyer, store=readers.other_seller.store))
    buyers_store = open_dispute(
        OrderFactory(buyer=readers.other_buyer, store=StoreFactory(owner=readers.buyer_with_store))
    )
    for reader in readers.all:
        for dispute in (mine, theirs, buyers_store):
            visible = Dispute.objects.visible_to(reader).filter(pk=dispute.pk).exists()
            assert opens(reader, dispute) == visible, (reader.username, dispute.pk)
    assert opens(buyer, mine) and opens(seller, mine) and not opens(buyer, theirs) and not opens(seller, theirs)


def test_a_missing_dispute_is_not_found(buyer):
    with pytest.raises(Http404):
        selectors.dispute_page_get(user=buyer, pk=987654)


def test_the_dispute_read_for_its_page_is_the_one_the_orm_reads(buyer, order):
    ExchangeRate.objects.update_or_create(
        currency=order.currency, defaults={"rub_per_unit": Decimal("91.2345"), "as_of": "2026-11-01"}
    )
    dispute = open_dispute(order)
    read, versions = selectors.dispute_page_get(user=buyer, pk=dispute.pk)
    expected = Dispute.objects.select_related("item", "store").get(pk=dispute.pk)
    for field in Dispute._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read.problems == expected.problems and isinstance(read.problems, list)
    with CaptureQueriesContext(connection) as queries:
        assert read.item is not None and expected.item is not None
        assert read.item == expected.item and read.item.title == expected.item.title
        assert read.store.name == expected.store.name and read.store.owner_id == expected.store.owner_id
        assert read.order.number == order.number and read.order.currency == order.currency
        assert read.item.dispute is read
        assert claim_of(read) is None
    assert not queries.captured_queries
    assert versions.rate is not None and versions.rate.rub_per_unit == Decimal("91.2345")
    assert versions.order_items == order.items.count()


def test_a_claims_page_reads_its_claim_with_the_dispute(buyer, order):
    dispute = escalate(open_dispute(order))
    claim_pk = dispute.claim.pk
    read, _ = selectors.dispute_page_get(user=buyer, pk=dispute.pk)
    with CaptureQueriesContext(connection) as queries:
        assert read.claim.pk == claim_pk and read.claim.dispute is read
        assert list(read.claim.decisions.all()) == []
    assert not queries.captured_queries
