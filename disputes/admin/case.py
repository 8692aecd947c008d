"""The claim page's case (selectors.claim_case_get(): the dispute, its claim and nine lists) kept
per process in the `fragments` cache, under the case's version read by one small query on every
request; the accounts the page names are read fresh on every request.

The version is what changes whenever anything the case holds changes: the dispute's, the claim's
and the order's `updated_at` (every service saves them with their changes), the store's name and
owner, and for each list the case reads its newest primary key, its row count and the moments its
rows change at (an offer's answer, an evidence request's answers and closing, the appeal). Every
change a service makes to a dispute also writes a DisputeEvent, so the newest event's key moves
with it as well. The policy panel's versions and the exchange rate are read by the same query and
set on the kept dispute, as claim_case_get() reads them with it.

A kept case is model instances pickled by the local-memory cache (supported by Django within one
version; a new release starts new processes with an empty cache)."""

from collections.abc import Hashable
from typing import Any

from django.core.cache import caches
from django.db.models import DateField, DecimalField, Field, Model
from django.db.models.expressions import RawSQL
from django.http import Http404

from accounts.models import Store, User
from core.fragments import FRAGMENT_CACHE, digest
from orders.models import OrderItem, TrackingEvent

from .. import selectors
from ..models import (
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
    PolicyRuleSwitch,
)

# The annotations claim_case_get() reads with the dispute, refreshed on a kept one.
FOLDED = ("latest_decision_pk", "latest_switch_pk", "rate_pk", "rate_rub_per_unit", "rate_as_of")


def _of_dispute(sql: str, *params: Any, output_field: "Field[Any, Any] | None" = None) -> RawSQL:
    # A scalar subquery, correlated by the dispute's table name (the query's base table, which
    # Django names by its table); plain SQL that PostgreSQL and SQLite share, and cheap to build.
    return RawSQL(sql.format(dispute=Dispute._meta.db_table), params, output_field=output_field)


def _rows_version(model: type[Model], where: str, *moments: str, params: tuple[Any, ...] = ()) -> RawSQL:
    """How many rows of `model` match `where`, their newest key and the latest of each of
    `moments` (the times the rows change at), as one text."""
    parts = ["COUNT(*)", "COALESCE(MAX(r.id), 0)", *(f"COALESCE(CAST(MAX(r.{name}) AS TEXT), '')" for name in moments)]
    return _of_dispute(f"SELECT {" || ':' || ".join(parts)} FROM {model._meta.db_table} r WHERE {where}", *params)


def _version_columns(claim_pk: int) -> dict[str, RawSQL]:
    rate, message = ExchangeRate._meta.db_table, Message._meta.db_table
    # The rate of the dispute's currency as selectors.rouble_equivalent() takes it: the first by pk.
    rate_of = f"FROM {rate} x WHERE x.currency = {{dispute}}.currency ORDER BY x.id LIMIT 1"
    of_dispute, of_order, of_claim = "r.dispute_id = {dispute}.id", "r.order_id = {dispute}.order_id", "r.claim_id = %s"
    return {
        # claim_case_get()'s annotations.
        "latest_decision_pk": _of_dispute(f"SELECT MAX(d.id) FROM {Decision._meta.db_table} d"),
        "latest_switch_pk": _of_dispute(f"SELECT MAX(s.id) FROM {PolicyRuleSwitch._meta.db_table} s"),
        "rate_pk": _of_dispute(f"SELECT x.id {rate_of}"),
        "rate_rub_per_unit": _of_dispute(
            f"SELECT x.rub_per_unit {rate_of}", output_field=DecimalField(max_digits=12, decimal_places=4)
        ),
        "rate_as_of": _of_dispute(f"SELECT x.as_of {rate_of}", output_field=DateField()),
        # The case's lists.
        "v_events": _rows_version(DisputeEvent, of_dispute),
        "v_offers": _rows_version(Offer, of_dispute, "decided_at"),
        "v_messages": _rows_version(Message, of_dispute),
        "v_files": _rows_version(
            Attachment, f"r.message_id IN (SELECT m.id FROM {message} m WHERE m.dispute_id = {{dispute}}.id)"
        ),
        "v_decisions": _rows_version(Decision, of_claim, params=(claim_pk,)),
        "v_requests": _rows_version(
            EvidenceRequest,
            of_claim,
            "buyer_answered_at",
            "seller_answered_at",
            "closed_at",
            params=(claim_pk,),
        ),
        "v_appeal": _rows_version(Appeal, of_claim, params=(claim_pk,)),
        "v_items": _rows_version(OrderItem, of_order),
        "v_tracking": _rows_version(TrackingEvent, of_order),
    }


def case_get(*, user: User, claim_pk: int) -> tuple[Dispute, str]:
    """selectors.claim_case_get(): the same dispute and lists, from this process's cache when
    its version is the one read now; 404 as there. With it, a key naming everything the case
    shows: its version, the exchange rate, and the names and addresses of the accounts it names."""
    columns = _version_columns(claim_pk)
    try:
        row = (
            Dispute.objects.visible_to(user)
            .filter(claim__pk=claim_pk)
            .annotate(**columns)
            .values(
                *columns,
                "pk",
                "updated_at",
                "claim__updated_at",
                "order__updated_at",
                "store__name",
                "store__owner_id",
            )
            .get()
        )
    except Dispute.DoesNotExist:
        raise Http404 from None
    version: tuple[Hashable, ...] = tuple(str(value) for name, value in row.items() if name not in FOLDED)
    key = f"claim-case:{claim_pk}:{hash(version)}"
    cache = caches[FRAGMENT_CACHE]
    kept = cache.get(key)
    if isinstance(kept, tuple) and kept[0] == version:
        dispute: Dispute = kept[1]
        for name in FOLDED:
            setattr(dispute, name, row[name])
    else:
        dispute = selectors.claim_case_get(user=user, claim_pk=claim_pk)
        cache.set(key, (version, dispute))
    people = name_people(dispute)
    names = sorted(
        (pk, person.username, person.first_name, person.last_name, person.email) for pk, person in people.items()
    )
    shown = (version, row["rate_pk"], str(row["rate_rub_per_unit"]), str(row["rate_as_of"]), names)
    return dispute, digest(shown)


def name_people(dispute: Dispute) -> dict[int, User]:
    """The accounts the page names (the buyer, the store's owner, the arbitrator, the messages'
    authors, the events' actors, the deciders), read now in one query by primary key."""
    claim: Claim = dispute.claim
    store: Store = dispute.store
    messages: list[Message] = list(dispute.messages.all())
    events: list[DisputeEvent] = list(dispute.events.all())
    decisions: list[Decision] = list(claim.decisions.all())
    wanted = {
        dispute.buyer_id,
        store.owner_id,
        claim.assigned_to_id,
        *(message.author_id for message in messages),
        *(event.actor_id for event in events),
        *(decision.decided_by_id for decision in decisions),
    }
    people = User.objects.in_bulk(wanted - {None})
    # Assigning the same account through each relation puts it in the relation's cache.
    dispute.buyer = people[dispute.buyer_id]
    store.owner = people[store.owner_id]
    claim.assigned_to = people.get(claim.assigned_to_id) if claim.assigned_to_id else None
    for message in messages:
        message.author = people[message.author_id]
    for event in events:
        event.actor = people.get(event.actor_id) if event.actor_id else None
    for decision in decisions:
        decision.decided_by = people[decision.decided_by_id]
    return people
