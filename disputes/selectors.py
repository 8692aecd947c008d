from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from statistics import median
from typing import Any, NamedTuple, overload

from django.core.cache import caches
from django.db import connection
from django.db.models import (
    DateField,
    DecimalField,
    Exists,
    Field,
    Model,
    OuterRef,
    Prefetch,
    QuerySet,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.http import Http404

from accounts.models import Store, User
from core import statements
from core.fragments import digest, rows_version_sql
from core.money import to_cents
from orders.models import Order, OrderItem, TrackingEvent

from . import policy
from .models import (
    Appeal,
    Attachment,
    Claim,
    Decision,
    Dispute,
    DisputeEvent,
    DisputeQuerySet,
    EvidenceRequest,
    ExchangeRate,
    Message,
    Offer,
    PolicyRuleSwitch,
    Winner,
)
from .rules import Facts, claim_of


def dispute_page_queryset(*, user: User) -> QuerySet[Dispute]:
    """The disputes `user` may read, each with everything a dispute page (the site's, or the
    claim page in admin) shows, in a fixed number of queries."""
    return (
        Dispute.objects.visible_to(user)
        # The buyer's, the seller's and the arbitrator's accounts are not joined: the site's page
        # compares their ids, and joining them tripled PostgreSQL's planning time.
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


def dispute_page_get(*, user: User, pk: int) -> tuple[Dispute, "PageVersions"]:
    """The dispute for its page on the site, with its item, store and claim (and the claim's
    appeal, decisions and evidence requests when there is one), and its PageVersions, which hold
    its order; 404 as dispute_get(). Its messages, events, carrier's events and pending offer
    are read, when a block of the page is drawn afresh, by page_thread(), page_events(),
    page_tracking() and page_offer().

    One statement (_DisputePageRow) reads the dispute, its item, store and claim, and what
    PageVersions names; whom it shows the dispute to is Dispute.objects.visible_to()'s rule, asked
    of the row read (tests/test_dispute_page_reads.py holds the two to the same answers)."""
    row = _dispute_page_row()
    values = statements.fetch_one(row.sql, [pk])
    if values is None:
        raise Http404
    dispute, versions = row.read(values)
    # visible_to(): its buyer, the owner of its store (Account.party_filter(): a seller's own store,
    # which has one owner), or staff with the permission, asked last: it costs the parties nothing.
    party = dispute.buyer_id == user.pk or (user.is_seller and dispute.store.owner_id == user.pk)
    if not party and not user.has_perm(DisputeQuerySet.staff_permission):
        raise Http404
    if claim_of(dispute) is not None:  # most disputes never become claims: no prefetch to set up
        prefetch_related_objects(
            [dispute],
            # Read here rather than joined: the appeal's columns in every dispute's query cost more
            # to build than this query costs the few disputes that became claims.
            "claim__appeal",
            Prefetch("claim__decisions", queryset=Decision.objects.order_by("decided_at", "pk")),
            Prefetch("claim__evidence_requests", queryset=EvidenceRequest.objects.order_by("created_at", "pk")),
        )
    return dispute, versions


@dataclass(frozen=True)
class PageVersions:
    """What the dispute page's kept blocks are drawn from, as read on this request: for its
    messages, their files, the dispute's events and the carrier's events of its order, how many
    rows there are and the newest one's key (a version of the list whose rows are only added: see
    _dispute_page_row()); the pending offer's key; how many item rows its order has; the rate of
    the dispute's currency; its order, with the columns the page shows (number and currency; any
    other is read when first asked, as with QuerySet.only())."""

    order: Order
    messages: str
    files: str
    events: str
    tracking: str
    tracking_count: int
    pending_offer_pk: int | None
    order_items: int
    rate: ExchangeRate | None


# The order's columns the dispute page shows (its number in the heading and links, its currency in
# the offer form); its other columns are not read.
ORDER_ON_PAGE = ["id", "number", "currency"]


@dataclass(frozen=True)
class _DisputePageRow:
    """dispute_page_get()'s statement, written out once per process, and how to read its row.

    Written by hand (plain SQL that PostgreSQL and SQLite share, tables and columns named from the
    models' _meta), it costs a small part of the Python time the ORM spends building the same join
    on every request, and it reads the page's versions in the same round trip. Its row is read as
    the ORM reads one: each column through its field's database converters, each model made with
    Model.from_db() and its relations set by assignment.

    The versions: the rows of the four lists (messages, their files, the dispute's events, the
    order's carrier's events) are only ever added (admin shows them read-only; a row goes only when
    admin deletes it or its dispute), and primary keys only grow, so a list's row count and newest
    key change whenever a row is added or removed: a block kept under them is drawn afresh on the
    next request. One short row whatever the dispute holds."""

    sql: str  # by the dispute's key
    models: tuple[tuple[type[Model], tuple[str, ...]], ...]  # dispute, item, store, claim: attnames
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]  # (column index, converters, its field)

    def read(self, row: tuple[Any, ...]) -> tuple[Dispute, PageVersions]:
        values = statements.converted(row, self.converters)
        # No item or no claim joined: None.
        (dispute, item, store, claim), start = statements.models_from(values, self.models)
        messages, files, events, tracking, offer_pk, order_items, rate_pk, rub_per_unit, as_of, *order = values[start:]
        # Assigned, each is the relation's cached object (plain assignment, public API).
        dispute.item = item
        dispute.store = store
        if claim is not None:
            dispute.claim = claim
        # Without a claim nothing is cached: claim_of() answers "none" from `escalated_at` alone.
        dispute.order = Order.from_db(connection.alias, ORDER_ON_PAGE, order)
        return dispute, PageVersions(
            order=dispute.order,
            messages=messages,
            files=files,
            events=events,
            tracking=tracking,
            tracking_count=int(tracking.split(":", 1)[0]),
            pending_offer_pk=offer_pk,
            order_items=order_items,
            rate=_rate(rate_pk, dispute.currency, rub_per_unit, as_of) if rate_pk is not None else None,
        )


@cache
def _dispute_page_row() -> _DisputePageRow:
    table, column = statements.table, statements.column

    def count_and_newest(model: type[Model], where: str) -> str:
        return f"({rows_version_sql(model, where)})"

    selection = statements.Selection()
    for model, alias in ((Dispute, "d"), (OrderItem, "i"), (Store, "s"), (Claim, "c")):
        selection.model(model, alias)
    selected = selection.columns

    dispute_id, order_id = f"d.{column(Dispute, 'id')}", f"d.{column(Dispute, 'order')}"
    files_of_dispute = (
        f"r.{column(Attachment, 'message')} IN"
        f" (SELECT m.{column(Message, 'id')} FROM {table(Message)} m"
        f" WHERE m.{column(Message, 'dispute')} = {dispute_id})"
    )
    pending = Offer.Status.PENDING.value
    assert pending.isidentifier()  # written into the statement as a literal
    selected += [
        count_and_newest(Message, f"r.{column(Message, 'dispute')} = {dispute_id}"),
        count_and_newest(Attachment, files_of_dispute),
        count_and_newest(DisputeEvent, f"r.{column(DisputeEvent, 'dispute')} = {dispute_id}"),
        count_and_newest(TrackingEvent, f"r.{column(TrackingEvent, 'order')} = {order_id}"),
        f"(SELECT MIN(r.{column(Offer, 'id')}) FROM {table(Offer)} r"
        f" WHERE r.{column(Offer, 'dispute')} = {dispute_id} AND r.{column(Offer, 'status')} = '{pending}')",
        f"(SELECT COUNT(*) FROM {table(OrderItem)} r WHERE r.{column(OrderItem, 'order')} = {order_id})",
        # One rate per currency (a unique column): the dispute's currency's, if there is one.
        *(
            f"(SELECT x.{column(ExchangeRate, name)} FROM {table(ExchangeRate)} x"
            f" WHERE x.{column(ExchangeRate, 'currency')} = d.{column(Dispute, 'currency')})"
            for name in ("id", "rub_per_unit", "as_of")
        ),
        order_id,  # ORDER_ON_PAGE's first column, the order's key
        *(
            f"(SELECT o.{column(Order, name)} FROM {table(Order)} o WHERE o.{column(Order, 'id')} = {order_id})"
            for name in ORDER_ON_PAGE[1:]
        ),
    ]
    # The order and the rate are read by subqueries rather than joined: PostgreSQL plans a join of
    # six tables in more time than these few one-row lookups.
    sql = (
        f"SELECT {', '.join(selected)} FROM {table(Dispute)} d"
        f" INNER JOIN {table(Store)} s ON s.{column(Store, 'id')} = d.{column(Dispute, 'store')}"
        f" LEFT JOIN {table(OrderItem)} i ON i.{column(OrderItem, 'id')} = d.{column(Dispute, 'item')}"
        f" LEFT JOIN {table(Claim)} c ON c.{column(Claim, 'dispute')} = {dispute_id}"
        f" WHERE {dispute_id} = %s"
    )
    return _DisputePageRow(sql=sql, models=selection.frozen_models(), converters=selection.frozen_converters())


def _rate(pk: int, currency: str, rub_per_unit: Any, as_of: Any) -> ExchangeRate:
    """A rate from page_versions()'s row, its values as the ORM reads them (SQLite answers a
    number and a date as a float and a text)."""
    number, day = ExchangeRate._meta.get_field("rub_per_unit"), ExchangeRate._meta.get_field("as_of")
    assert isinstance(number, DecimalField) and isinstance(day, DateField)
    return ExchangeRate(
        pk=pk,
        currency=currency,
        rub_per_unit=number.to_python(rub_per_unit).quantize(Decimal(1).scaleb(-number.decimal_places)),
        as_of=day.to_python(as_of),
    )


def page_offer(versions: PageVersions) -> Offer | None:
    """The pending offer page_versions() found: no query when there is none."""
    if versions.pending_offer_pk is None:
        return None
    # Answered since: the page shows none, as it would have a moment later.
    return Offer.objects.filter(pk=versions.pending_offer_pk, status=Offer.Status.PENDING).first()


def page_thread(dispute: Dispute) -> QuerySet[Message]:
    """The dispute's messages with their files (`attached_files`), read when iterated."""
    return dispute.messages.prefetch_related(
        # A plain list: the page asks every message for its files, and a prefetched manager builds
        # a new queryset for each question.
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"), to_attr="attached_files")
    )


def page_events(dispute: Dispute, *, with_actors: bool) -> QuerySet[DisputeEvent]:
    """The dispute's events, read when iterated; with their actors' accounts for staff, who read
    staff by name (parties read a role stored with the event)."""
    events = dispute.events.all()
    return events.select_related("actor") if with_actors else events


def page_tracking(dispute: Dispute) -> QuerySet[TrackingEvent]:
    """The carrier's events of the dispute's order, read when iterated."""
    return dispute.order.tracking_events.all()


def of_dispute(sql: str, *params: Any, output_field: "Field[Any, Any] | None" = None) -> RawSQL:
    """A scalar subquery in `sql` correlated to a query over disputes by `{dispute}`, the query's base
    table, which Django names by its table name. Plain SQL that PostgreSQL and SQLite share: it costs a
    fraction of the Python time the same ORM Subquery takes to build."""
    return RawSQL(sql.format(dispute=Dispute._meta.db_table), params, output_field=output_field)


def claim_case_annotations() -> dict[str, RawSQL]:
    """What claim_case_get() reads with the dispute for the policy panel (policy_panel(),
    rouble_equivalent_of()): the keys of the newest decision and policy switch, which its kept
    figures are keyed on, and the rate of the dispute's currency as rouble_equivalent() takes it
    (the first by pk). One definition for claim_case_get() and the claim page's version query
    (disputes/admin/case.py), which refreshes these on a kept case."""
    rate_of = f"FROM {ExchangeRate._meta.db_table} x WHERE x.currency = {{dispute}}.currency ORDER BY x.id LIMIT 1"
    return {
        "latest_decision_pk": of_dispute(f"SELECT MAX(d.id) FROM {Decision._meta.db_table} d"),
        "latest_switch_pk": of_dispute(f"SELECT MAX(s.id) FROM {PolicyRuleSwitch._meta.db_table} s"),
        "rate_pk": of_dispute(f"SELECT x.id {rate_of}"),
        "rate_rub_per_unit": of_dispute(
            f"SELECT x.rub_per_unit {rate_of}", output_field=DecimalField(max_digits=12, decimal_places=4)
        ),
        "rate_as_of": of_dispute(f"SELECT x.as_of {rate_of}", output_field=DateField()),
    }


@cache
def claim_case_version_columns() -> dict[str, RawSQL]:
    """The claim page's version of a claim's case (disputes/admin/case.py), as annotations of a
    query over disputes that joins the claim (named by its table): claim_case_annotations(), and
    `v_lists`, one text of the order's `updated_at`, the store's name and owner, and for each list
    claim_case_get() reads its row count, newest key and the moments its rows change at. Made once
    per process: they name no claim, so nothing in them changes from one request to the next. The
    order and the store are subqueries rather than joins, which PostgreSQL takes longer to plan."""
    message, claim = Message._meta.db_table, Claim._meta.db_table
    order, store = Order._meta.db_table, Store._meta.db_table
    by_dispute, by_order, by_claim = (
        "r.dispute_id = {dispute}.id",
        "r.order_id = {dispute}.order_id",
        f"r.claim_id = {claim}.id",
    )
    lists = [
        f"SELECT CAST(o.updated_at AS TEXT) FROM {order} o WHERE o.id = {{dispute}}.order_id",
        f"SELECT s.name || ':' || CAST(s.owner_id AS TEXT) FROM {store} s WHERE s.id = {{dispute}}.store_id",
        rows_version_sql(DisputeEvent, by_dispute),
        rows_version_sql(Offer, by_dispute, "decided_at"),
        rows_version_sql(Message, by_dispute),
        rows_version_sql(
            Attachment, f"r.message_id IN (SELECT m.id FROM {message} m WHERE m.dispute_id = {{dispute}}.id)"
        ),
        rows_version_sql(Decision, by_claim),
        rows_version_sql(EvidenceRequest, by_claim, "buyer_answered_at", "seller_answered_at", "closed_at"),
        rows_version_sql(Appeal, by_claim),
        rows_version_sql(OrderItem, by_order),
        rows_version_sql(TrackingEvent, by_order),
    ]
    # One column rather than one per list: each annotation costs Python time to add and compile.
    return {**claim_case_annotations(), "v_lists": of_dispute(" || '|' || ".join(f"({sql})" for sql in lists))}


@cache
def claim_case_version_rows() -> QuerySet[Dispute, dict[str, Any]]:
    """The query of a claim's case version (claim_case_version_columns(), with the dispute's key and
    `updated_at` and the claim's), for every claim: made once per process, since adding the
    columns costs Python time on every request; each request narrows a copy of it
    (claim_case_version_row())."""
    columns = claim_case_version_columns()
    return Dispute.objects.annotate(**columns).values(*columns, "pk", "updated_at", "claim__updated_at")


def claim_case_version_row(*, user: User, claim_pk: int) -> dict[str, Any]:
    """The version of claim `claim_pk`'s case, for a user who may read its dispute (as
    claim_case_get()); Dispute.DoesNotExist otherwise."""
    rows: Any = claim_case_version_rows()  # a DisputeQuerySet, which the ORM's types do not follow
    row: dict[str, Any] = rows.visible_to(user).filter(claim__pk=claim_pk).get()
    return row


# The account columns the claim page's kept case is checked against: all but the moment of the last
# sign-in, which changes on every sign-in and is shown nowhere.
CASE_PEOPLE_COLUMNS = [str(field.column) for field in User._meta.concrete_fields if field.name != "last_login"]


def case_people_rows(ids: list[int]) -> list[tuple[Any, ...]]:
    """The rows of the accounts `ids` as they are now (CASE_PEOPLE_COLUMNS, by id): what a kept
    claim page's case holds of the people it names is still right while these are the same."""
    if not ids:
        return []
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(CASE_PEOPLE_COLUMNS)} FROM {User._meta.db_table} WHERE id IN ({marks}) ORDER BY id", ids
        )
        return [tuple(row) for row in cursor.fetchall()]


def claim_case_get(*, user: User, claim_pk: int) -> Dispute:
    """The dispute of claim `claim_pk` with everything the admin claim page shows; 404 when there
    is no such claim or the user may not read its dispute (as dispute_get()).

    The dispute is read as the site's dispute page reads it (dispute_page_queryset()), found by the
    claim's id, with claim_case_annotations(); the people the page names come in one query by
    primary key (name_case_people()) instead of more tables in the joins (on the bench database
    three accounts in the dispute's join tripled PostgreSQL's planning time)."""
    try:
        dispute = dispute_page_queryset(user=user).annotate(**claim_case_annotations()).get(claim__pk=claim_pk)
    except Dispute.DoesNotExist:
        raise Http404 from None
    name_case_people(dispute)
    return dispute


def case_people_ids(dispute: Dispute) -> list[int]:
    """The primary keys of the accounts the claim page names (the buyer, the store's owner, the
    arbitrator, the messages' authors, the events' actors, the deciders), in order."""
    claim: Claim = dispute.claim
    wanted: set[int | None] = {
        dispute.buyer_id,
        dispute.store.owner_id,
        claim.assigned_to_id,
        *(message.author_id for message in dispute.messages.all()),
        *(event.actor_id for event in dispute.events.all()),
        *(decision.decided_by_id for decision in claim.decisions.all()),
    }
    return sorted(pk for pk in wanted if pk is not None)


def name_case_people(dispute: Dispute) -> dict[int, User]:
    """The accounts the claim page names (case_people_ids()), read now in one query by primary key
    and set on `dispute`'s relations."""
    claim: Claim = dispute.claim
    store: Store = dispute.store
    people = User.objects.in_bulk(case_people_ids(dispute))
    # Assigning the same account through each relation puts it in the relation's cache.
    dispute.buyer = people[dispute.buyer_id]
    store.owner = people[store.owner_id]
    claim.assigned_to = people.get(claim.assigned_to_id) if claim.assigned_to_id else None
    for message in dispute.messages.all():
        message.author = people[message.author_id]
    for event in dispute.events.all():
        event.actor = people.get(event.actor_id) if event.actor_id else None
    for decision in claim.decisions.all():
        decision.decided_by = people[decision.decided_by_id]
    return people


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


def dispute_list(*, user: User, as_seller: bool = False) -> "DisputeList":
    """The user's disputes as their buyer (Dispute.objects.as_buyer()), or as the seller of their
    store (as_seller()), newest first, for a Paginator: how many there are and a page's rows, one
    statement each."""
    return DisputeList(user_pk=user.pk, as_seller=as_seller)


class DisputeListRow(NamedTuple):
    """A dispute as a list shows it, as plain values: its columns, its claim's stage and dates,
    the offer now on the table (so a list shows the amount being discussed, not the first
    request), its order's number and currency, the other party's name (the store's in the buyer's
    list, the buyer's in the seller's) and the item its line shows (the disputed one, or the
    order's first for a dispute about the whole order; None without items). Everything a row shows
    follows from these values, the language, the zone and the moment (presenters.list_line_as_of)."""

    pk: int
    status: str
    kind: str
    requested_amount: Decimal
    resolved_amount: Decimal | None
    currency: str
    seller_answer_due_at: datetime | None
    auto_claim_due_at: datetime | None
    return_due_at: datetime | None
    refund_completed_at: datetime | None
    claim_stage: str | None
    evidence_due_at: datetime | None
    appeal_due_at: datetime | None
    overdue_due_at: datetime | None
    open_offer_amount: Decimal | None
    open_offer_role: str | None
    number: str
    order_currency: str
    party: str
    item: "ListedItem | None"


class ListedItem(NamedTuple):
    """The item a list's row shows, with what orders/_item_line.html reads of it (its picture as
    the stored file's name: empty without one)."""

    pk: int
    title: str
    variant: str
    quantity: int
    unit_price: Decimal
    image: str
    image_url: str


# A statement's row: DisputeListRow's values but `item`, then the item's (ListedItem's).
_ROW_NAMES = tuple(DisputeListRow.__annotations__)[:-1]
_ITEM_AT = len(_ROW_NAMES)


class DisputeList:
    """The disputes of one reader's list, as a Paginator reads them: count(), and a slice of rows
    (DisputeListRow) in the list's order. Whose disputes they are is written into both statements
    as the one column as_buyer() or as_seller() filter on (tests/test_dispute_list_kept.py holds
    them to the same disputes for every kind of reader)."""

    def __init__(self, *, user_pk: int, as_seller: bool) -> None:
        self.user_pk = user_pk
        self.statement = _dispute_list_statement(as_seller)

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(self.statement.count_sql, [self.user_pk])
            (count,) = cursor.fetchone()
        return int(count)

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[DisputeListRow]:
        return iter(self[0 : self.count()])

    @overload
    def __getitem__(self, window: int) -> DisputeListRow: ...

    @overload
    def __getitem__(self, window: slice) -> list[DisputeListRow]: ...

    def __getitem__(self, window: int | slice) -> DisputeListRow | list[DisputeListRow]:
        if isinstance(window, int):
            return self[window : window + 1][0]
        start, stop = window.start or 0, window.stop
        if stop is None or stop <= start:
            return []
        with connection.cursor() as cursor:
            cursor.execute(self.statement.sql, [self.user_pk, stop - start, start])
            rows = cursor.fetchall()
        listed = []
        for row in rows:
            values = self.statement.read(row)
            item = ListedItem(*values[_ITEM_AT:]) if values[_ITEM_AT] is not None else None
            listed.append(DisputeListRow(**dict(zip(_ROW_NAMES, values[:_ITEM_AT], strict=True)), item=item))
        return listed


@dataclass(frozen=True)
class _ListStatement:
    """DisputeList's two statements, written out once per process (plain SQL that PostgreSQL and
    SQLite share, tables and columns named from the models' _meta), and each column's converters,
    applied as the ORM's compiler applies them: they cost a small part of the Python time the ORM
    spends building and reading the same join, and make no model instance."""

    sql: str  # by the reader's key, then LIMIT and OFFSET
    count_sql: str  # by the reader's key
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]  # (column index, converters, its field)

    def read(self, row: tuple[Any, ...]) -> list[Any]:
        return statements.converted(row, self.converters)


@cache
def _dispute_list_statement(as_seller: bool) -> _ListStatement:
    table, column = statements.table, statements.column
    selection = statements.Selection()
    read = selection.field

    def of_order(name: str) -> str:
        return (
            f"(SELECT o.{column(Order, name)} FROM {table(Order)} o"
            f" WHERE o.{column(Order, 'id')} = d.{column(Dispute, 'order')})"
        )

    def of_pending_offer(name: str) -> str:
        # At most one offer is pending at a time; the earliest, should there ever be two.
        return (
            f"(SELECT f.{column(Offer, name)} FROM {table(Offer)} f"
            f" WHERE f.{column(Offer, 'dispute')} = d.{column(Dispute, 'id')}"
            f" AND f.{column(Offer, 'status')} = '{pending}'"
            f" ORDER BY f.{column(Offer, 'created_at')}, f.{column(Offer, 'id')} LIMIT 1)"
        )

    pending = Offer.Status.PENDING.value
    assert pending.isidentifier()  # written into the statement as a literal
    for name in (
        "id", "status", "kind", "requested_amount", "resolved_amount", "currency", "seller_answer_due_at",
        "auto_claim_due_at", "return_due_at", "refund_completed_at",
    ):  # fmt: skip
        read(f"d.{column(Dispute, name)}", Dispute, name)
    for name in ("stage", "evidence_due_at", "appeal_due_at", "overdue_due_at"):
        read(f"c.{column(Claim, name)}", Claim, name)
    read(of_pending_offer("amount"), Offer, "amount")
    read(of_pending_offer("role"), Offer, "role")
    read(of_order("number"), Order, "number")
    read(of_order("currency"), Order, "currency")
    if as_seller:
        read(
            f"(SELECT u.{column(User, 'username')} FROM {table(User)} u"
            f" WHERE u.{column(User, 'id')} = d.{column(Dispute, 'buyer')})",
            User,
            "username",
        )
    else:
        read(
            f"(SELECT s.{column(Store, 'name')} FROM {table(Store)} s"
            f" WHERE s.{column(Store, 'id')} = d.{column(Dispute, 'store')})",
            Store,
            "name",
        )
    for name in ("id", "title", "variant", "quantity", "unit_price", "image", "image_url"):
        read(f"i.{column(OrderItem, name)}", OrderItem, name)

    # as_seller(): by the store's owner (a store has one owner, an account owns one store at most);
    # as_buyer(): by the buyer.
    def whose(alias: str) -> str:
        if as_seller:
            return (
                f"{alias}.{column(Dispute, 'store')} = (SELECT s.{column(Store, 'id')} FROM {table(Store)} s"
                f" WHERE s.{column(Store, 'owner')} = %s)"
            )
        return f"{alias}.{column(Dispute, 'buyer')} = %s"

    newest_first = f"ORDER BY {{0}}.{column(Dispute, 'opened_at')} DESC, {{0}}.{column(Dispute, 'id')} DESC"
    first_item = (
        f"(SELECT MIN(r.{column(OrderItem, 'id')}) FROM {table(OrderItem)} r"
        f" WHERE r.{column(OrderItem, 'order')} = d.{column(Dispute, 'order')})"
    )
    sql = (
        f"SELECT {', '.join(selection.columns)} FROM {table(Dispute)} d"
        f" LEFT JOIN {table(Claim)} c ON c.{column(Claim, 'dispute')} = d.{column(Dispute, 'id')}"
        # The disputed item, or the order's first for a dispute about the whole order.
        f" LEFT JOIN {table(OrderItem)} i ON i.{column(OrderItem, 'id')}"
        f" = COALESCE(d.{column(Dispute, 'item')}, {first_item})"
        # The page's keys first, from the index alone: the columns and subqueries above are then
        # read for the page's rows only, not for every row an OFFSET skips.
        f" WHERE d.{column(Dispute, 'id')} IN (SELECT k.{column(Dispute, 'id')} FROM {table(Dispute)} k"
        f" WHERE {whose('k')} {newest_first.format('k')} LIMIT %s OFFSET %s)"
        f" {newest_first.format('d')}"
    )
    assert len(selection.columns) == _ITEM_AT + len(ListedItem.__annotations__)
    count_sql = f"SELECT COUNT(*) FROM {table(Dispute)} d WHERE {whose('d')}"
    return _ListStatement(sql=sql, count_sql=count_sql, converters=selection.frozen_converters())


def attachment_get(*, user: User, token: str) -> Attachment:
    """A file for its dispute's buyer and seller, staff who may read dispute files, or (before it
    is posted) its owner; 404 for anyone else."""
    attachment = Attachment.objects.visible_to(user).filter(token=token).first()
    if attachment is None:
        raise Http404
    return attachment


def pending_uploads(*, user: User, ids: list[int]) -> list[Attachment]:
    if not ids:
        return []  # a draft without files (most steps): nothing to compile or ask
    return list(Attachment.objects.filter(Attachment.unclaimed(), owner=user, pk__in=ids).order_by("pk"))


def rouble_equivalent(amount: Decimal | None, currency: str) -> tuple[Decimal, ExchangeRate] | None:
    """The amount in roubles at the stored rate, for showing beside it (never for paying)."""
    return RoubleEquivalents()(amount, currency)


def rouble_equivalent_of(dispute: Dispute, amount: Decimal | None) -> tuple[Decimal, ExchangeRate] | None:
    """rouble_equivalent() in the dispute's currency, from the rate claim_case_get() read with the
    dispute (no query)."""
    if not hasattr(dispute, "rate_pk"):  # not read by claim_case_get()
        return rouble_equivalent(amount, dispute.currency)
    read: Any = dispute  # with claim_case_get()'s annotations
    if amount is None or dispute.currency == "RUB" or read.rate_pk is None:
        return None
    rate = ExchangeRate(
        pk=read.rate_pk, currency=dispute.currency, rub_per_unit=read.rate_rub_per_unit, as_of=read.rate_as_of
    )
    return to_cents(amount * rate.rub_per_unit), rate


class RoubleEquivalents:
    """Rouble equivalents for one page: each currency's rate is read once, however many amounts
    (request, offer, agreement, decision) the page shows beside it; none for a currency whose rate
    (or its absence) the page read already (`known`)."""

    def __init__(self, known: dict[str, ExchangeRate | None] | None = None) -> None:
        self._rates: dict[str, ExchangeRate | None] = dict(known or {})

    def __call__(self, amount: Decimal | None, currency: str) -> tuple[Decimal, ExchangeRate] | None:
        if amount is None or currency == "RUB":
            return None
        if currency not in self._rates:
            self._rates[currency] = ExchangeRate.objects.filter(currency=currency).first()
        rate = self._rates[currency]
        if rate is None:
            return None
        return to_cents(amount * rate.rub_per_unit), rate


# --- the arbitration policy (disputes/policy.py) ---------------------------------------------------


def policy_case_get(dispute_id: int) -> Dispute:
    """A dispute with what the policy's facts need (policy.facts_of), in five queries: for a
    service deciding under the row lock; the claim page reads the same from claim_case_get()."""
    return (
        Dispute.objects.select_related("order")
        .prefetch_related(
            "order__tracking_events",
            "offers",
            Prefetch(
                "messages",
                queryset=Message.objects.prefetch_related(
                    Prefetch("attachments", queryset=Attachment.objects.order_by("pk"), to_attr="attached_files")
                ),
            ),
        )
        .get(pk=dispute_id)
    )


def switched_off_rules() -> frozenset[str]:
    """The codes of the rules whose latest switch turned them off (one query over a short table)."""
    latest: dict[str, bool] = {}
    for rule, enabled in PolicyRuleSwitch.objects.order_by("switched_at", "pk").values_list("rule", "enabled"):
        latest[rule] = enabled
    return frozenset(rule for rule, enabled in latest.items() if not enabled)


# The claim page's policy figures are kept in each process's memory (the `fragments` cache) under
# the primary key of the latest row of the table they are read from, which claim_case_get() reads
# with the dispute: switches and decisions are only ever added (claims.policy_rule_switch,
# claims.claim_decide), so a new row makes a new key and a kept figure is never stale. The timeout
# only bounds how long an unused one stays.
KEPT_FIGURES = "fragments"
KEPT_FIGURES_SECONDS = 300


def switched_off_rules_as_of(latest_switch_pk: int | None) -> frozenset[str]:
    """switched_off_rules() when the latest switch has primary key `latest_switch_pk` (None: there
    is none, so every rule is on)."""
    if latest_switch_pk is None:
        return frozenset()
    key = f"policy-off:{latest_switch_pk}"
    kept: frozenset[str] | None = caches[KEPT_FIGURES].get(key)
    if kept is None:
        kept = switched_off_rules()
        caches[KEPT_FIGURES].set(key, kept, KEPT_FIGURES_SECONDS)
    return kept


# How many of the latest decided claims of the same kind and reason the claim page sums up.
SIMILAR_WINDOW = 500


@dataclass(frozen=True)
class OutcomeShare:
    winner: str
    label: str
    count: int
    percent: int
    median_share: int  # the median refund, in percent of what was paid


@dataclass(frozen=True)
class SimilarDecisions:
    total: int
    outcomes: list[OutcomeShare]


def _latest_shares(*, kind: str, problems: list[str], limit: int) -> list[tuple[int, str, Decimal]]:
    """(claim id, winner, refund as a share of what was paid) of the latest `limit` first
    decisions on claims of this kind and reason, the latest first."""
    rows = (
        Decision.objects.filter(kind=Decision.Kind.FIRST, claim__dispute__kind=kind, claim__dispute__problems=problems)
        .order_by("-decided_at", "-pk")
        .values_list("claim_id", "winner", "amount", "claim__dispute__paid_amount")[:limit]
    )
    return [(claim_id, winner, amount / paid if paid else Decimal("0")) for claim_id, winner, amount, paid in rows]


def similar_decisions(
    *,
    kind: str,
    problems: list[str],
    exclude_claim_id: int | None = None,
    kept_as_of: tuple[int | None] | None = None,
) -> SimilarDecisions:
    """How the latest first decisions on claims of the same kind and reason went: how often each
    outcome was chosen and its median refund as a share of what was paid (orders are in different
    currencies, so amounts are compared as shares of what was paid for the disputed item). One
    query, bounded by SIMILAR_WINDOW; none when the caller gives the latest decision's primary key
    (`kept_as_of=(pk,)`, `(None,)` when there is no decision at all) and this process has read the
    figures as of that decision already (they are kept per kind and reason, without leaving out
    the claim, which is left out here)."""
    # One more than the window: a claim has at most one first decision, so leaving it out of the
    # latest SIMILAR_WINDOW + 1 leaves the latest SIMILAR_WINDOW of the others.
    limit = SIMILAR_WINDOW + 1
    if kept_as_of is None:
        latest = _latest_shares(kind=kind, problems=problems, limit=limit)
    elif kept_as_of[0] is None:
        latest = []
    else:
        key = f"similar:{kept_as_of[0]}:{kind}:{','.join(problems)}"
        kept: list[tuple[int, str, Decimal]] | None = caches[KEPT_FIGURES].get(key)
        if kept is None:
            kept = _latest_shares(kind=kind, problems=problems, limit=limit)
            caches[KEPT_FIGURES].set(key, kept, KEPT_FIGURES_SECONDS)
        latest = kept
    shares: dict[str, list[Decimal]] = {}
    for _claim, winner, share in [row for row in latest if row[0] != exclude_claim_id][:SIMILAR_WINDOW]:
        shares.setdefault(winner, []).append(share)
    total = sum(len(values) for values in shares.values())
    labels = dict(Winner.choices)
    outcomes = [
        OutcomeShare(
            winner,
            str(labels[winner]),
            len(shares[winner]),
            round(100 * len(shares[winner]) / total),
            round(100 * median(shares[winner])),
        )
        for winner in Winner.values
        if winner in shares
    ]
    return SimilarDecisions(total, outcomes)


@dataclass(frozen=True)
class PolicyPanel:
    """What the claim page shows beside the decision form: the policy's reading, the evidence that
    would change it, and how similar claims were decided."""

    recommendation: "policy.Recommendation"
    gaps: list["policy.Evidence"]
    similar: SimilarDecisions
    paid: Decimal
    # Names all of the above, for the panel kept rendered: the facts and the switched-off rules the
    # recommendation and the gaps follow from, the figures, what was paid and in what currency.
    key: str = ""


def _stable(value: Any) -> Any:
    """`value` with its sets and dicts as sorted tuples, so that its repr() is the same for the same
    contents (a set's order is not)."""
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(value))
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


def policy_panel(dispute: Dispute, *, now: datetime) -> PolicyPanel:
    """The panel from a dispute read by claim_case_get(): no query while this process keeps the
    figures as of the latest switch and decision, else two (the switched-off rules, the
    similar decisions), whatever the case holds."""
    # claim_case_get() reads the latest switch's and decision's keys with the dispute: the kept
    # figures then cost no query.
    read: Any = dispute  # with claim_case_get()'s annotations, or without
    folded = hasattr(read, "latest_switch_pk")
    off = switched_off_rules_as_of(read.latest_switch_pk) if folded else switched_off_rules()
    facts = policy.facts_of(dispute, now=now)
    recommendation = policy.policy.recommend(facts, switched_off=off)
    claim = claim_of(dispute)
    similar = similar_decisions(
        kind=dispute.kind,
        problems=list(dispute.problems),
        exclude_claim_id=claim.pk if claim else None,
        kept_as_of=(read.latest_decision_pk,) if folded else None,
    )
    facts_shown = tuple((each.name, _stable(getattr(facts, each.name))) for each in fields(facts))
    return PolicyPanel(
        recommendation,
        policy.gaps(facts, recommendation, switched_off=off),
        similar,
        dispute.paid_amount,
        digest((facts_shown, sorted(off), similar, dispute.paid_amount, dispute.currency)),
    )


@dataclass(frozen=True)
class ConsistencyRow:
    """One arbitrator's or one problem kind's first decisions: how many, how many of those with a
    recommendation followed it, how many an appeal overturned (another winner), the median days
    from the claim's opening to the decision."""

    group: str
    name: str
    decisions: int
    with_recommendation: int
    followed: int
    overturned: int
    median_days: float

    @property
    def followed_percent(self) -> int | None:
        return round(100 * self.followed / self.with_recommendation) if self.with_recommendation else None

    @property
    def overturned_percent(self) -> int:
        return round(100 * self.overturned / self.decisions) if self.decisions else 0


def consistency_report() -> tuple[list[ConsistencyRow], list[ConsistencyRow]]:
    """The consistency figures per arbitrator and per problem kind, from every first decision: one
    query of six narrow columns, summed here (medians are not portable SQL)."""
    overturned = Decision.objects.filter(claim_id=OuterRef("claim_id"), kind=Decision.Kind.APPEAL).exclude(
        winner=OuterRef("winner")
    )
    rows = (
        Decision.objects.filter(kind=Decision.Kind.FIRST)
        .annotate(overturned=Exists(overturned))
        .values_list(
            "decided_by__username",
            "claim__dispute__kind",
            "followed_recommendation",
            "overturned",
            "decided_at",
            "claim__opened_at",
        )
    )
    by_arbitrator: dict[str, list[tuple[bool | None, bool, float]]] = {}
    by_kind: dict[str, list[tuple[bool | None, bool, float]]] = {}
    for username, kind, followed, was_overturned, decided_at, opened_at in rows:
        line = (followed, was_overturned, (decided_at - opened_at).total_seconds() / 86400)
        by_arbitrator.setdefault(username, []).append(line)
        by_kind.setdefault(kind, []).append(line)
    kinds = dict(Dispute.Kind.choices)
    return (
        [_consistency("arbitrator", name, lines) for name, lines in sorted(by_arbitrator.items())],
        [_consistency("kind", str(kinds.get(kind, kind)), lines) for kind, lines in sorted(by_kind.items())],
    )


def _consistency(group: str, name: str, lines: list[tuple[bool | None, bool, float]]) -> ConsistencyRow:
    return ConsistencyRow(
        group,
        name,
        len(lines),
        sum(1 for followed, _o, _d in lines if followed is not None),
        sum(1 for followed, _o, _d in lines if followed),
        sum(1 for _f, was_overturned, _d in lines if was_overturned),
        round(median(days for _f, _o, days in lines), 1),
    )
