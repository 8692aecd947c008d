"""The admin claim page reads its dispute with disputes.selectors.claim_case_get(): the
site's dispute page query found by the claim, plus the three people it names in one query; then
nothing the page reads may cost another query."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from disputes import claims, services
from disputes.selectors import claim_case_get

from .disputes_helpers import escalate, open_dispute, png_file, store_upload
from .factories import arbitrator, support_agent

pytestmark = pytest.mark.django_db


def _everything_the_page_reads(dispute) -> tuple:
    claim = dispute.claim
    messages = list(dispute.messages.all())
    return (
        dispute.order.number,
        list(dispute.order.items.all()),
        list(dispute.order.tracking_events.all()),
        list(dispute.offers.all()),
        list(claim.decisions.all()),
        list(claim.evidence_requests.all()),
        [(message.author.get_username(), [file.pk for file in message.attached_files]) for message in messages],
        [(event.actor and event.actor.get_username()) for event in dispute.events.all()],
        dispute.buyer.get_username(),
        dispute.store.owner.get_username(),
        claim.assigned_to and claim.assigned_to.get_username(),
        getattr(claim, "appeal", None),
    )


@pytest.mark.parametrize("taken", [False, True])
def test_the_claim_page_reads_its_case_in_a_fixed_number_of_queries(order, taken):
    olga = arbitrator(username="olga")
    dispute = escalate(open_dispute(order))
    if taken:
        claims.claim_take(dispute=dispute, arbitrator=olga)
    photo = store_upload(dispute.buyer, png_file("1.png"))
    services.message_post(dispute=dispute, user=dispute.buyer, text="Фото", attachment_ids=[photo.pk])
    got = claim_case_get(user=olga, claim_pk=dispute.claim.pk)
    with CaptureQueriesContext(connection) as queries:
        read = _everything_the_page_reads(got)
    assert len(queries) == 0
    assert read[8] == dispute.buyer.get_username()
    assert read[10] == ("olga" if taken else None)
    assert read[6][-1][1] == [photo.pk]


def test_no_claim_or_no_right_to_read_it_is_404(order):
    dispute = escalate(open_dispute(order))
    with pytest.raises(Http404):
        claim_case_get(user=arbitrator(username="olga"), claim_pk=dispute.claim.pk + 1)
    with pytest.raises(Http404):
        claim_case_get(user=dispute.buyer.__class__.objects.create(username="someone"), claim_pk=dispute.claim.pk)
    assert claim_case_get(user=support_agent(), claim_pk=dispute.claim.pk).pk == dispute.pk
