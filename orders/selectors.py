from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import F, Model, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404

from accounts.models import Store, User
from core import statements
from core.fragments import rows_version_sql

from .models import (
    Order,
    OrderCancellation,
    OrderEvent,
    OrderItem,
    OrderQuerySet,
    ProtectionExtension,
    TrackingEvent,
)

# The "with a dispute" choice of the orders filter, beside the order statuses.
DISPUTED = "disputed"


# What an order card (templates/orders/_order_card.html), its key and its protection line read
# of the order and its store; the list reads no other column (the buyer's name: see order_list).
ORDER_CARD_FIELDS = (
    "number",
    "status",
    "currency",
    "total_amount",
    "paid_at",
    "protection_due_at",
    "ship_by",  # a store's unshipped order says by when to ship it
    "has_dispute",
    "updated_at",
    "store__name",
)


def order_list(
    *,
    user: User,
    as_seller: bool = False,
    status: str = "",
    query: str = "",
    with_items: bool = True,
    card_fields_only: bool = False,
) -> QuerySet[Order]:
    """The buyer's orders, or the seller's store orders, newest first, filtered as asked; with
    their items, unless the caller fetches those itself (for the rows it has to draw). With
    `card_fields_only`, only what an order card shows is read (ORDER_CARD_FIELDS)."""
    orders = Order.objects.as_seller(user) if as_seller else Order.objects.as_buyer(user)
    if status == DISPUTED:
        orders = orders.filter(has_dispute=True)
    elif status:
        orders = orders.filter(status=status)
    query = query.strip()
    if query:
        digits = query.replace(" ", "")
        orders = orders.filter(Q(number__icontains=digits) | Q(items__title__icontains=query)).distinct()
    # A buyer's own list names the store; only the seller's names the buyer.
    related = ("store", "buyer") if as_seller else ("store",)
    orders = orders.select_related(*related).order_by("-paid_at", "-pk")
    if card_fields_only:
        orders = orders.only(*ORDER_CARD_FIELDS, *(["buyer__username"] if as_seller else []))
    return orders.prefetch_related(items_with_disputes()) if with_items else orders


def dispute_states(order_ids: list[int]) -> dict[int, tuple[tuple[int, str], ...]]:
    """Each order's disputes as (pk, status), in pk order, for the orders `order_ids` (no query
    for none)."""
    if not order_ids:
        return {}
    states: dict[int, tuple[tuple[int, str], ...]] = {}
    # The dispute model through the reverse relation (orders come before disputes in the layers and
    # cannot import it); its own table alone: a join of the orders cost PostgreSQL more to plan.
    disputes = Order._meta.get_field("disputes").related_model._default_manager
    rows = disputes.filter(order__in=order_ids).order_by("pk").values_list("order_id", "pk", "status")
    for order_id, pk, status in rows:
        states[order_id] = (*states.get(order_id, ()), (pk, status))
    return states


def items_with_disputes() -> Prefetch:
    """An order's items, each with its dispute (if any) read in the same query."""
    return Prefetch("items", queryset=OrderItem.objects.select_related("dispute"))


# The attribute items_with_dispute_amounts() gives each item: what was paid for the item its
# dispute is about, None when it has none (a dispute's paid_amount is never null).
DISPUTE_PAID = "dispute_paid"


def items_with_dispute_amounts(order: Order) -> list[OrderItem]:
    """The order's items in pk order, each with DISPUTE_PAID read in the same query (no dispute
    row is made): for pages that show no dispute (undisputed_among)."""
    items = OrderItem.objects.filter(order=order).annotate(**{DISPUTE_PAID: F("dispute__paid_amount")})
    return list(items.order_by("pk"))


def undisputed_items(order: Order, items: list[OrderItem] | None = None) -> frozenset[int] | None:
    """The order's items (pks) that may still get a dispute, for the rulebook's facts; reads the
    prefetched items (items_with_disputes), or queries them. None for an order without item rows.
    A dispute opened before disputes were per item bounded by the whole order's total covers every
    item. `items`: the order's items with their disputes, when the caller read them itself."""
    items = list(order.items.all()) if items is None else items
    return _undisputed(order, {item.pk: item.dispute.paid_amount if _has_dispute(item) else None for item in items})


def undisputed_among(order: Order, items: list[OrderItem]) -> frozenset[int] | None:
    """undisputed_items() of the items items_with_dispute_amounts() read."""
    return _undisputed(order, {item.pk: getattr(item, DISPUTE_PAID) for item in items})


def _undisputed(order: Order, paid: dict[int, Decimal | None]) -> frozenset[int] | None:
    # `paid`: by item pk, what was paid for the item its dispute is about; None for one without.
    if not paid:
        return None
    disputed = [amount for amount in paid.values() if amount is not None]
    if len(paid) > 1 and any(amount >= order.total_amount for amount in disputed):
        return frozenset()
    return frozenset(pk for pk, amount in paid.items() if amount is None)


def _has_dispute(item: OrderItem) -> bool:
    return hasattr(item, "dispute")


def tracking_events_read(order: Order) -> None:
    """Reads the carrier's events of an order read without them (order_get()), in one query, for
    the page that turns out to show them."""
    prefetch_related_objects([order], "tracking_events")


# What the dispute wizard reads of the order: the rule for opening a dispute (status, whether it
# had one, the protection's end), and what its pages show (number, amount, whether it has tracking).
NEW_DISPUTE_ORDER_FIELDS = (
    "number",
    "buyer",
    "status",
    "has_dispute",
    "protection_due_at",
    "protection_days",
    "currency",
    "total_amount",
    "tracking_number",
)


def order_for_new_dispute(*, buyer: User, number: str) -> Order:
    """The buyer's own order for the dispute wizard (NEW_DISPUTE_ORDER_FIELDS), without its items
    (items_with_dispute_amounts); anyone else's is 404, as a missing one. Neither the store nor a
    cancellation is read: the wizard shows neither, and opening the dispute reads the order again
    under its lock."""
    try:
        order = Order.objects.as_buyer(buyer).only(*NEW_DISPUTE_ORDER_FIELDS).get(number=number)
    except Order.DoesNotExist:
        raise Http404 from None
    order.buyer = buyer
    return order


def order_get(*, user: User, number: str, with_tracking: bool = False) -> Order:
    """The order for its buyer, its seller or staff; anyone else gets 404, as for a missing one.
    `with_tracking` fetches the carrier's events too (one more query) for pages that show them."""
    prefetch: list[str | Prefetch] = (
        [items_with_disputes(), "tracking_events"] if with_tracking else [items_with_disputes()]
    )
    # A reader who may open only their own purchases (no store, not staff) can only be the order's
    # buyer: the order gets that account from the caller instead of a second join of the accounts.
    buyer_only = user.own_store() is None and not user.has_perm(OrderQuerySet.staff_permission)
    related = ("store__owner", "cancellation") if buyer_only else ("store__owner", "buyer", "cancellation")
    try:
        order = Order.objects.visible_to(user).select_related(*related).prefetch_related(*prefetch).get(number=number)
    except Order.DoesNotExist:
        raise Http404 from None
    if buyer_only:
        order.buyer = user
    return order


@dataclass(frozen=True)
class OrderPage:
    """What the order page shows of an order besides the order itself: its store (set on the
    order), the buyer's request to cancel (None without one), the buyer's name, its items (each
    with its dispute, if any), the carrier's events, the requests to extend protection, and the
    version of its history (`events`: how many events it has and the newest one's key; events are
    only ever added, so a history kept under it is never stale)."""

    order: Order
    cancellation: OrderCancellation | None
    buyer_name: str
    items: list[OrderItem]
    tracking: list[TrackingEvent]
    extensions: list[ProtectionExtension]
    events: str


def order_page_get(*, user: User, number: str) -> OrderPage:
    """The order page's reads for its buyer, its seller or staff (404 for anyone else, as for a
    missing order): one statement (_OrderPageRow) for the order, its store, the request to cancel
    and how many rows each list has, then one query per list that has any rows.

    Whom it shows the order to is Order.objects.visible_to()'s rule, asked of the row read
    (tests/test_order_page_kept.py holds the two to the same answers)."""
    statement = _order_page_row()
    values = statements.fetch_one(statement.sql, [number])
    if values is None:
        raise Http404
    order, cancellation, buyer_name, counts = statement.read(values)
    # visible_to(): its buyer, the owner of its store (User.party_filter(): a seller's own store,
    # which has one owner), or staff with the permission, asked last: it costs the parties nothing.
    party = order.buyer_id == user.pk or (user.is_seller and order.store.owner_id == user.pk)
    if not party and not user.has_perm(OrderQuerySet.staff_permission):
        raise Http404
    if order.buyer_id == user.pk:
        order.buyer = user
    items, tracking, extensions, events = counts
    if items:
        prefetch_related_objects([order], items_with_disputes())
    return OrderPage(
        order=order,
        cancellation=cancellation,
        buyer_name=buyer_name,
        # Lists without rows (no extension asked, no scan yet, an order fed without items) cost no query.
        items=list(order.items.all()) if items else [],
        tracking=list(order.tracking_events.all()) if tracking else [],
        extensions=list(order.extensions.all()) if extensions else [],
        events=events,
    )


def order_page_of(order: Order) -> OrderPage:
    """order_page_get()'s reads of an order read by order_get() (the page drawn again with a form's
    errors)."""
    with connection.cursor() as cursor:
        cursor.execute(_order_page_row().events_sql, [order.pk])
        (events,) = cursor.fetchone()
    return OrderPage(
        order=order,
        cancellation=getattr(order, "cancellation", None),
        buyer_name=order.buyer.username,
        items=list(order.items.all()),
        tracking=list(order.tracking_events.all()),
        extensions=list(order.extensions.all()),
        events=events,
    )


@dataclass(frozen=True)
class _OrderPageRow:
    """order_page_get()'s statement, written out once per process, and how to read its row.

    Written by hand (plain SQL that PostgreSQL and SQLite share, tables and columns named from the
    models' _meta), it costs a small part of the Python time the ORM spends building the same join
    on every request, and it counts the page's lists in the same round trip. Its row is read as the
    ORM reads one: each column through its field's database converters, each model made with
    Model.from_db() and its relations set by assignment."""

    sql: str  # by the order's number
    events_sql: str  # the history's version alone, by the order's key
    models: tuple[tuple[type[Model], tuple[str, ...]], ...]  # order, store, cancellation: attnames
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]  # (column index, converters, its field)

    def read(self, row: tuple[Any, ...]) -> tuple[Order, OrderCancellation | None, str, tuple[int, int, int, str]]:
        values = statements.converted(row, self.converters)
        # No request to cancel joined: None.
        (order, store, cancellation), start = statements.models_from(values, self.models)
        buyer_name, items, tracking, extensions, events = values[start:]
        order.store = store  # assigned, the relation's cached object (plain assignment, public API)
        return order, cancellation, buyer_name, (items, tracking, extensions, events)


@cache
def _order_page_row() -> _OrderPageRow:
    table, column = statements.table, statements.column
    selection = statements.Selection()
    for model, alias in ((Order, "o"), (Store, "s"), (OrderCancellation, "c")):
        selection.model(model, alias)
    selected = selection.columns

    order_id = f"o.{column(Order, 'id')}"

    def count(model: type[Model]) -> str:
        return f"(SELECT COUNT(*) FROM {table(model)} r WHERE r.{column(model, 'order')} = {order_id})"

    events = rows_version_sql(OrderEvent, f"r.{column(OrderEvent, 'order')} = {order_id}")
    selected += [
        f"(SELECT u.{column(User, 'username')} FROM {table(User)} u"
        f" WHERE u.{column(User, 'id')} = o.{column(Order, 'buyer')})",
        count(OrderItem),
        count(TrackingEvent),
        count(ProtectionExtension),
        f"({events})",
    ]
    sql = (
        f"SELECT {', '.join(selected)} FROM {table(Order)} o"
        f" INNER JOIN {table(Store)} s ON s.{column(Store, 'id')} = o.{column(Order, 'store')}"
        f" LEFT JOIN {table(OrderCancellation)} c ON c.{column(OrderCancellation, 'order')} = {order_id}"
        f" WHERE o.{column(Order, 'number')} = %s"
    )
    events_sql = rows_version_sql(OrderEvent, f"r.{column(OrderEvent, 'order')} = %s")
    return _OrderPageRow(
        sql=sql, events_sql=events_sql, models=selection.frozen_models(), converters=selection.frozen_converters()
    )
