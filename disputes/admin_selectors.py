"""What the admin claim page reads: the dispute of a claim as the site's dispute page reads it
(selectors.dispute_page_queryset()), found by the claim's id, plus the people the page names
(buyer, the store's owner, the arbitrator, the messages' authors) in one query by primary key,
instead of more tables in the joins (on the bench database three accounts in the dispute's join
tripled PostgreSQL's planning time).
"""

from django.http import Http404

from accounts.models import Store, User

from .models import Claim, Dispute, Message
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
    messages = list(dispute.messages.all())
    wanted = {dispute.buyer_id, store.owner_id, claim.assigned_to_id, *(message.author_id for message in messages)}
    people = User.objects.in_bulk(wanted - {None})
    Dispute.buyer.field.set_cached_value(dispute, people[dispute.buyer_id])
    Store.owner.field.set_cached_value(store, people[store.owner_id])
    Claim.assigned_to.field.set_cached_value(claim, people.get(claim.assigned_to_id))
    for message in messages:
        Message.author.field.set_cached_value(message, people[message.author_id])
    return dispute
