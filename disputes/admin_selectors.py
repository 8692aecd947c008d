"""What the admin claim page reads: the dispute of a claim as the site's dispute page reads it
(selectors.dispute_page_queryset()), found by the claim's id, plus the three people the page
names (buyer, the store's owner, the arbitrator) in one query by primary key, instead of three
more tables in the join (on the bench database they tripled PostgreSQL's planning time).
"""

from django.http import Http404

from accounts.models import Store, User

from .models import Claim, Dispute
from .selectors import dispute_page_queryset


def claim_case_get(*, user: User, claim_pk: int) -> Dispute:
    """The dispute of claim `claim_pk` with everything the claim page shows; 404 when there is no
    such claim or the user may not read its dispute (as dispute_get())."""
    try:
        dispute = dispute_page_queryset(user=user).get(claim__pk=claim_pk)
    except Dispute.DoesNotExist:
        raise Http404 from None
    claim: Claim = dispute.claim
    store: Store = dispute.store
    people = User.objects.in_bulk({dispute.buyer_id, store.owner_id, claim.assigned_to_id} - {None})
    Dispute.buyer.field.set_cached_value(dispute, people[dispute.buyer_id])
    Store.owner.field.set_cached_value(store, people[store.owner_id])
    Claim.assigned_to.field.set_cached_value(claim, people.get(claim.assigned_to_id))
    return dispute
