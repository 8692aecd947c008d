from decimal import Decimal

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404

from accounts.models import Store, User
from core.money import to_cents

from .models import (
    Appeal,
    Attachment,
    Claim,
    Decision,
    Dispute,
    DisputeEvent,
    EvidenceRequest,
    ExchangeRate,
    Message,
    Offer,
)
from .rules import Facts, claim_of


def dispute_page_queryset(*, user: User) -> QuerySet[Dispute]:
    """The disputes `user` may read, each with everything a dispute page (the site's, or the
    claim page in admin) shows, in a fixed number of queries."""
    return (
        Dispute.objects.visible_to(user)
        # The buyer's, the seller's and the arbitrator's accounts are not joined: the site's page
        # compares their ids, and joining them tripled PostgreSQL's planning time (1.9 ms).
        .select_related("order", "item", "store", "claim__appeal")
        .prefetch_related(
            "order__items",
            "order__tracking_events",
            # The site's page names an offer's or a message's author by role (author_id against
            # the buyer and the store's owner); the claim page in admin reads the accounts itself.
            "offers",
            Prefetch("claim__decisions", queryset=Decision.objects.order_by("decided_at", "pk")),
            Prefetch("claim__evidence_requests", queryset=EvidenceRequest.objects.order_by("created_at", "pk")),
            Prefetch(
                "messages",
                queryset=Message.objects.prefetch_related(
                    # A plain list: the page asks every message for its files, and a prefetched
                    # manager builds a new queryset for each question.
                    Prefetch("attachments", queryset=Attachment.objects.order_by("pk"), to_attr="attached_files")
                ),
            ),
            Prefetch("events", queryset=DisputeEvent.objects.select_related("actor")),
        )
    )


def dispute_get(*, user: User, pk: int) -> Dispute:
    """The dispute with everything its page shows; 404 for anyone who is not its buyer, its
    seller or staff."""
    try:
        return dispute_page_queryset(user=user).get(pk=pk)
    except Dispute.DoesNotExist:
        raise Http404 from None


def claim_case_get(*, user: User, claim_pk: int) -> Dispute:
    """The dispute of claim `claim_pk` with everything the admin claim page shows; 404 when there
    is no such claim or the user may not read its dispute (as dispute_get()).

    The dispute is read as the site's dispute page reads it (dispute_page_queryset()), found by the
    claim's id; the people the page names (buyer, the store's owner, the arbitrator, the messages'
    authors) come in one query by primary key instead of more tables in the joins (on the bench
    database three accounts in the dispute's join tripled PostgreSQL's planning time)."""
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


def page_facts(dispute: Dispute, *, user: User, offers: list[Offer]) -> Facts:
    """What the rulebook needs to draw a dispute page's buttons, from what dispute_get() read."""
    claim = claim_of(dispute)
    decisions = list(claim.decisions.all()) if claim else []
    requests = list(claim.evidence_requests.all()) if claim else []
    first = next((decision for decision in decisions if decision.kind == Decision.Kind.FIRST), None)
    return Facts(
        pending_offer=next((offer for offer in offers if offer.status == Offer.Status.PENDING), None),
        evidence_request=next((request for request in requests if request.closed_at is None), None),
        actor_id=user.pk,
        first_decider_id=first.decided_by_id if first else None,
        has_appeal=claim is not None and _has_appeal(claim),
    )


def _has_appeal(claim: Claim) -> bool:
    try:
        return claim.appeal is not None
    except Appeal.DoesNotExist:
        return False


def dispute_list(*, user: User, as_seller: bool = False) -> QuerySet[Dispute]:
    """The user's disputes, each with the offer now on the table (`open_offer_amount`, `open_offer_role`),
    so a list shows the amount being discussed, not the first request."""
    disputes = Dispute.objects.as_seller(user) if as_seller else Dispute.objects.as_buyer(user)
    pending = Offer.objects.filter(dispute=OuterRef("pk"), status=Offer.Status.PENDING)
    return (
        # A buyer's own list names the store; only the seller's names the buyer.
        disputes.select_related("order", "item", "store", "claim", *(("buyer",) if as_seller else ()))
        .prefetch_related("order__items")
        .annotate(
            open_offer_amount=Subquery(pending.values("amount")[:1]),
            open_offer_role=Subquery(pending.values("role")[:1]),
        )
        .order_by("-opened_at", "-pk")
    )


def attachment_get(*, user: User, token: str) -> Attachment:
    """A file for its dispute's buyer and seller, staff who may read dispute files, or (before it
    is posted) its owner; 404 for anyone else."""
    attachment = Attachment.objects.visible_to(user).filter(token=token).first()
    if attachment is None:
        raise Http404
    return attachment


def pending_uploads(*, user: User, ids: list[int]) -> list[Attachment]:
    return list(Attachment.objects.filter(Attachment.unclaimed(), owner=user, pk__in=ids).order_by("pk"))


def rouble_equivalent(amount: Decimal | None, currency: str) -> tuple[Decimal, ExchangeRate] | None:
    """The amount in roubles at the stored rate, for showing beside it (never for paying)."""
    return RoubleEquivalents()(amount, currency)


class RoubleEquivalents:
    """Rouble equivalents for one page: each currency's rate is read once, however many amounts
    (request, offer, agreement, decision) the page shows beside it."""

    def __init__(self) -> None:
        self._rates: dict[str, ExchangeRate | None] = {}

    def __call__(self, amount: Decimal | None, currency: str) -> tuple[Decimal, ExchangeRate] | None:
        if amount is None or currency == "RUB":
            return None
        if currency not in self._rates:
            self._rates[currency] = ExchangeRate.objects.filter(currency=currency).first()
        rate = self._rates[currency]
        if rate is None:
            return None
        return to_cents(amount * rate.rub_per_unit), rate
