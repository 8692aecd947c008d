"""The admin claim page reads its dispute with disputes.admin_selectors.claim_case_get(), in
fewer joins than selectors.dispute_get(): it must hand the page the same dispute, relations and
prefetched lists, and nothing the page reads may cost another query."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from disputes import claims, services
from disputes.admin_selectors import claim_case_get
from disputes.selectors import dispute_get

from .disputes_helpers import escalate, open_dispute, png_file, store_upload
from .factories import arbitrator, support_agent

pytestmark = pytest.mark.django_db


def _shape(dispute) -> dict:
    claim = dispute.claim
    message = dispute.messages.all()[0]
    return {
        "dispute": sorted(dispute._state.fields_cache),
        "dispute prefetched": sorted(dispute._prefetched_objects_cache),
        "order prefetched": sorted(dispute.order._prefetched_objects_cache),
        "store": sorted(dispute.store._state.fields_cache),
        "claim": sorted(k for k in claim._state.fields_cache if k != "dispute"),
        "claim prefetched": sorted(claim._prefetched_objects_cache),
        "message": sorted(message._state.fields_cache),
        "files": [file.pk for file in message.attached_files],
        "people": (dispute.buyer.pk, dispute.store.owner.pk, claim.assigned_to and claim.assigned_to.pk),
    }


@pytest.mark.parametrize("taken", [False, True])
def test_the_claim_page_reads_what_dispute_get_reads(order, taken):
    olga = arbitrator(username="olga")
    dispute = escalate(open_dispute(order))
    if taken:
        claims.claim_take(dispute=dispute, arbitrator=olga)
    photo = store_upload(dispute.buyer, png_file("1.png"))
    services.message_post(dispute=dispute, user=dispute.buyer, text="Фото", attachment_ids=[photo.pk])
    expected = dispute_get(user=olga, pk=dispute.pk)
    got = claim_case_get(user=olga, claim_pk=dispute.claim.pk)
    assert got.pk == expected.pk
    with CaptureQueriesContext(connection) as queries:
        shape = _shape(got)
    assert shape == _shape(expected)
    assert len(queries) == 0


def test_no_claim_or_no_right_to_read_it_is_404(order):
    dispute = escalate(open_dispute(order))
    with pytest.raises(Http404):
        claim_case_get(user=arbitrator(username="olga"), claim_pk=dispute.claim.pk + 1)
    with pytest.raises(Http404):
        claim_case_get(user=dispute.buyer.__class__.objects.create(username="someone"), claim_pk=dispute.claim.pk)
    assert claim_case_get(user=support_agent(), claim_pk=dispute.claim.pk).pk == dispute.pk
