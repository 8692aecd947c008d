from decimal import Decimal

from django.db.models import F, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404

from accounts.models import User

from .models import Order, OrderItem, OrderQuerySet

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
