"""The marketplace's order feed: order events applied once each, in order per order.

Three doors lead here and all apply events the same way (`feed_event_apply`): the signed endpoint
the marketplace calls (POST /marketplace/orders/events/, `feed_receive`), the bulk import of
history (`manage.py import_orders`) and the demo data (`manage.py seed_demo`).

- Once: every event is kept by its id (FeedEvent); the same id again changes nothing and gets
  the answer it got the first time.
- In order: an order remembers the latest event applied to it (its time, then its step in the
  order's life: placed, paid, shipped, delivered, cancelled, refunded). An event that is not newer
  is recorded as stale and changes nothing, so a late "paid" never undoes a "shipped".
- An order appears here when it is paid (buyer protection starts with the payment); "placed" makes
  the buyer's and the store's accounts. An event for an order not paid yet is held and applied
  the moment its "paid" arrives.
- A fact the order's state does not allow (a "delivered" for a cancelled order) is refused with a
  reason the sender can read, and recorded with what came.
- A buyer or store seen for the first time gets an account without a password (accounts.marketplace).

Reasons are in English: they are read by the marketplace's engineers, like the other webhooks' answers.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.emails import email_queue
from accounts.marketplace import MARKETPLACE_ID, MarketplaceAccounts, Person, StoreIdentity
from accounts.models import User
from core.errors import ActionRefused
from core.rules import Role
from core.signatures import NoticeRejected, notice_json, notice_verify_from

from . import payments, rules, services, shipping
from .models import Currency, FeedEvent, Order, OrderCancellation, OrderEvent, OrderItem, Refund, TrackingEvent

Kind = FeedEvent.Kind
Outcome = FeedEvent.Outcome

EVENT_TYPES: dict[str, str] = {f"order.{kind}": kind for kind in Kind.values}
# An event's step in an order's life: of two events at the same moment, the later step is newer.
STEP: dict[str, int] = {kind: position for position, kind in enumerate(Kind.values)}
# Events after which an imported order's protection may already be over.
FORWARD = frozenset({Kind.SHIPPED, Kind.DELIVERED})
ORDER_NUMBER_CHARACTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_")
MAX_ITEMS = 100
MAX_UNIT_PRICE = Decimal("100000000")
MAX_TOTAL = Decimal("9999999999.99")
# An event from the future is refused; a minute of clock difference between the systems is not.
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Wide enough to quantize any amount the checks below would refuse anyway.
_WIDE = Context(prec=1000, Emax=MAX_EMAX, Emin=MIN_EMIN)
_valid_email = EmailValidator()
_valid_url = URLValidator(schemes=["http", "https"])


class FeedInvalid(Exception):
    """The event cannot be read: `reason` says which field and what it must be."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Item:
    title: str
    variant: str
    quantity: int
    unit_price: Decimal
    image_url: str
    product_id: str


@dataclass(frozen=True)
class Snapshot:
    """What "placed" and "paid" say about the order."""

    buyer: Person
    store: StoreIdentity
    currency: str
    items: tuple[Item, ...]
    shipping_method: str
    shipping_price: Decimal
    protection_days: int
    handling_days: int

    @property
    def total(self) -> Decimal:
        return sum((item.unit_price * item.quantity for item in self.items), self.shipping_price)


@dataclass(frozen=True)
class OrderFeedEvent:
    """One event, read and checked."""

    event_id: str
    kind: str
    order_number: str
    occurred_at: datetime
    raw: dict[str, Any]
    snapshot: Snapshot | None = None
    carrier: str = ""
    tracking_number: str = ""
    location: str = ""
    note: str = ""
    amount: Decimal | None = None
    currency: str = ""
    reference: str = ""

    @property
    def position(self) -> tuple[datetime, int]:
        return (self.occurred_at, STEP[self.kind])


@dataclass(frozen=True)
class FeedAnswer:
    """What the sender is told: `status` is an outcome, or "duplicate" with the first outcome."""

    status: str
    reason: str = ""
    first_status: str = ""

    @property
    def http_status(self) -> int:
        if self.status == Outcome.HELD:
            return 202
        if self.status == Outcome.REFUSED:
            return 409
        return 200

    def as_json(self) -> dict[str, str]:
        answer = {"status": self.status}
        if self.first_status:
            answer["first_status"] = self.first_status
        if self.reason:
            answer["reason"] = self.reason
        return answer


# --- reading an event ------------------------------------------------------------------------------


def _field(container: dict[str, Any], key: str, path: str) -> Any:
    if key not in container or container[key] is None:
        raise FeedInvalid(f"{path}{key} is missing")
    return container[key]


def _object(container: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = _field(container, key, path)
    if not isinstance(value, dict):
        raise FeedInvalid(f"{path}{key} must be an object")
    return value


def _text(container: dict[str, Any], key: str, path: str, *, max_length: int, required: bool = True) -> str:
    if not required and container.get(key) in (None, ""):
        return ""
    value = _field(container, key, path)
    if not isinstance(value, str) or not value.strip():
        raise FeedInvalid(f"{path}{key} must be a non-empty string")
    value = value.strip()
    if len(value) > max_length or "\x00" in value:
        raise FeedInvalid(f"{path}{key} must be at most {max_length} characters, without NUL")
    return value


def _integer(container: dict[str, Any], key: str, path: str, *, low: int, high: int, default: int | None = None) -> int:
    if default is not None and container.get(key) is None:
        return default
    value = _field(container, key, path)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FeedInvalid(f"{path}{key} must be a whole number from {low} to {high}")
    return value


def _amount(container: dict[str, Any], key: str, path: str, *, positive: bool) -> Decimal:
    value = _field(container, key, path)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FeedInvalid(f'{path}{key} must be an amount such as "24.90"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise FeedInvalid(f'{path}{key} must be an amount such as "24.90"') from None
    if not amount.is_finite():
        raise FeedInvalid(f'{path}{key} must be an amount such as "24.90"')
    if amount != amount.quantize(Decimal("0.01"), context=_WIDE):
        raise FeedInvalid(f"{path}{key} must have at most two decimal places")
    if amount < 0 or (positive and amount == 0) or amount > MAX_UNIT_PRICE:
        low = "greater than 0" if positive else "0 or more"
        raise FeedInvalid(f"{path}{key} must be {low} and at most {MAX_UNIT_PRICE}")
    return amount.quantize(Decimal("0.01"))


def _currency(container: dict[str, Any], key: str, path: str) -> str:
    value = _field(container, key, path)
    if value not in Currency.values:
        raise FeedInvalid(f"{path}{key} must be one of {', '.join(Currency.values)}")
    return str(value)


def _marketplace_id(container: dict[str, Any], path: str) -> str:
    value = _field(container, "id", path)
    if not isinstance(value, str) or not MARKETPLACE_ID.fullmatch(value):
        raise FeedInvalid(f"{path}id must be 1 to 64 letters, digits or . _ : @ + - (starting with a letter or digit)")
    return value


def _checked_text(
    container: dict[str, Any], key: str, path: str, *, max_length: int, check: Callable[[str], None], must_be: str
) -> str:
    """An optional text that, when given, passes `check` (a Django validator)."""
    value = _text(container, key, path, max_length=max_length, required=False)
    if value:
        try:
            check(value)
        except ValidationError:
            raise FeedInvalid(f"{path}{key} must be {must_be}") from None
    return value


def _person(container: dict[str, Any], key: str, path: str) -> Person:
    who = _object(container, key, path)
    where = f"{path}{key}."
    email = _checked_text(who, "email", where, max_length=254, check=_valid_email, must_be="an e-mail address")
    return Person(_marketplace_id(who, where), email, _text(who, "name", where, max_length=150, required=False))


def _snapshot(order: dict[str, Any]) -> Snapshot:
    path = "order."
    store = _object(order, "store", path)
    store_identity = StoreIdentity(
        marketplace_id=_marketplace_id(store, "order.store."),
        name=_text(store, "name", "order.store.", max_length=120),
        seller=_person(store, "seller", "order.store."),
    )
    buyer = _person(order, "buyer", path)
    if buyer.marketplace_id == store_identity.seller.marketplace_id:
        raise FeedInvalid("order.buyer.id and order.store.seller.id are the same account")
    raw_items = _field(order, "items", path)
    if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= MAX_ITEMS:
        raise FeedInvalid(f"order.items must be a list of 1 to {MAX_ITEMS} items")
    items = []
    for index, raw in enumerate(raw_items):
        where = f"order.items[{index}]."
        if not isinstance(raw, dict):
            raise FeedInvalid(f"order.items[{index}] must be an object")
        image_url = _checked_text(
            raw, "image_url", where, max_length=500, check=_valid_url, must_be="an http(s) address"
        )
        items.append(
            Item(
                title=_text(raw, "title", where, max_length=255),
                variant=_text(raw, "variant", where, max_length=120, required=False),
                quantity=_integer(raw, "quantity", where, low=1, high=10000),
                unit_price=_amount(raw, "price", where, positive=True),
                image_url=image_url,
                product_id=_text(raw, "product_id", where, max_length=20, required=False),
            )
        )
    shipping = _object(order, "shipping", path)
    snapshot = Snapshot(
        buyer=buyer,
        store=store_identity,
        currency=_currency(order, "currency", path),
        items=tuple(items),
        shipping_method=_text(shipping, "method", "order.shipping.", max_length=120),
        shipping_price=_amount(shipping, "price", "order.shipping.", positive=False)
        if shipping.get("price") is not None
        else Decimal("0.00"),
        protection_days=_integer(order, "protection_days", path, low=1, high=settings.PROTECTION_MAX_DAYS),
        handling_days=_integer(order, "handling_days", path, low=1, high=30, default=7),
    )
    if snapshot.total > MAX_TOTAL:
        raise FeedInvalid(f"the order's total must be at most {MAX_TOTAL}")
    return snapshot


def feed_event_parse(payload: Any, *, now: datetime) -> OrderFeedEvent:
    """Read one event (a decoded JSON value); raises FeedInvalid saying what is wrong."""
    if not isinstance(payload, dict):
        raise FeedInvalid("the event must be a JSON object")
    event_id = _text(payload, "id", "", max_length=100)
    event_type = payload.get("type")
    kind = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if kind is None:
        raise FeedInvalid(f"type must be one of {', '.join(EVENT_TYPES)}")
    occurred_text = _text(payload, "occurred_at", "", max_length=40)
    try:
        occurred_at = parse_datetime(occurred_text)
    except ValueError:
        occurred_at = None
    if occurred_at is None or timezone.is_naive(occurred_at):
        raise FeedInvalid("occurred_at must be an ISO 8601 time with its offset, e.g. 2026-05-02T09:30:00+00:00")
    if occurred_at > now + CLOCK_SKEW:
        raise FeedInvalid("occurred_at is in the future")
    if occurred_at < EARLIEST:
        raise FeedInvalid(f"occurred_at must be after {EARLIEST.date().isoformat()}")
    order = _object(payload, "order", "")
    number = _text(order, "number", "order.", max_length=32)
    if not set(number) <= ORDER_NUMBER_CHARACTERS:
        raise FeedInvalid("order.number may hold only letters, digits, - and _")
    fields: dict[str, Any] = {}
    if kind in (Kind.PLACED, Kind.PAID):
        fields["snapshot"] = _snapshot(order)
    elif kind == Kind.SHIPPED:
        shipment = _object(payload, "shipment", "")
        fields["carrier"] = _text(shipment, "carrier", "shipment.", max_length=120, required=False)
        tracking = _text(shipment, "tracking_number", "shipment.", max_length=64, required=False).upper()
        if tracking and (len(tracking) < 5 or not tracking.isalnum()):
            raise FeedInvalid("shipment.tracking_number must be 5 to 64 letters and digits (or left out)")
        fields["tracking_number"] = tracking
    elif kind == Kind.DELIVERED:
        delivery = payload.get("delivery") or {}
        if not isinstance(delivery, dict):
            raise FeedInvalid("delivery must be an object")
        fields["location"] = _text(delivery, "location", "delivery.", max_length=200, required=False)
    elif kind == Kind.CANCELLED:
        cancellation = payload.get("cancellation") or {}
        if not isinstance(cancellation, dict):
            raise FeedInvalid("cancellation must be an object")
        fields["note"] = _text(cancellation, "reason", "cancellation.", max_length=1000, required=False)
    elif kind == Kind.REFUNDED:
        refund = _object(payload, "refund", "")
        fields["amount"] = _amount(refund, "amount", "refund.", positive=True)
        fields["currency"] = _currency(refund, "currency", "refund.")
        fields["reference"] = _text(refund, "reference", "refund.", max_length=40, required=False)
    return OrderFeedEvent(
        event_id=event_id, kind=kind, order_number=number, occurred_at=occurred_at, raw=payload, **fields
    )


# --- the signed endpoint ------------------------------------------------------------------------


def feed_receive(*, body: bytes, signature_header: str, now: datetime | None = None) -> FeedAnswer:
    """One signed event from the marketplace; raises NoticeRejected (400 with the reason for a body
    or header that cannot be read, 401 for a bad signature, 503 without a configured secret)."""
    now = now or timezone.now()
    notice_verify_from("MARKETPLACE_FEED", header=signature_header, body=body, now=now)
    return feed_body_apply(body, source=FeedEvent.Source.FEED, now=now)


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def feed_body_apply(
    body: bytes,
    *,
    source: str,
    now: datetime | None = None,
    notify: bool = True,
) -> FeedAnswer:
    """Read and apply one event whose signature (if any) was checked; NoticeRejected(400) when it
    cannot be read."""
    now = now or timezone.now()
    try:
        event = feed_event_parse(notice_json(body), now=now)
    except FeedInvalid as invalid:
        raise NoticeRejected(400, invalid.reason) from None
    return feed_event_apply(event, source=source, now=now, notify=notify)


# --- applying an event --------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, reason: str, outcome: str = Outcome.REFUSED) -> None:
        super().__init__(reason)
        self.reason, self.outcome = reason, outcome


def _stale(reason: str) -> _Refused:
    return _Refused(reason, Outcome.STALE)


@dataclass
class _Context:
    source: str
    now: datetime
    accounts: MarketplaceAccounts
    notify: bool
    complete_ended: bool


def feed_event_apply(
    event: OrderFeedEvent,
    *,
    source: str,
    now: datetime | None = None,
    accounts: MarketplaceAccounts | None = None,
    notify: bool = True,
    complete_ended: bool = False,
    isolated: bool = True,
) -> FeedAnswer:
    """Apply one event once. `notify=False` (history, demo) queues no e-mail. `complete_ended`
    (history) completes an order whose protection is already over, instead of leaving it to the
    protection sweep, which would write to its buyer about an order long finished.

    `isolated=False` is for the bulk import, which has checked the batch's event ids itself and
    runs the batch in one transaction: no savepoint, no retry here (an IntegrityError rolls the
    batch back, and the import applies it again event by event, isolated)."""
    context = _Context(source, now or timezone.now(), accounts or MarketplaceAccounts(), notify, complete_ended)
    if not isolated:
        return _apply(event, context, check_seen=False)
    try:
        with transaction.atomic():
            return _apply(event, context)
    except IntegrityError:
        # The same event, the same new order or the same new account, committed a moment ago by
        # another delivery: applied again, it now finds what the other wrote.
        context.accounts.forget()
        with transaction.atomic():
            return _apply(event, context)


def one_at_a_time(order_numbers: Iterable[str]) -> None:
    """Within the caller's transaction, wait until no other transaction applies events of these
    order numbers (PostgreSQL advisory locks, released at commit). The order row cannot be the lock:
    a "shipped" held for an order not here yet and the "paid" that makes it would each miss the
    other's uncommitted row, and the "shipped" would wait forever. SQLite writes one at a time anyway."""
    if connection.vendor != "postgresql":
        return
    keys = sorted(
        {int.from_bytes(hashlib.sha256(number.encode()).digest()[:8], "big", signed=True) for number in order_numbers}
    )
    if keys:
        with connection.cursor() as cursor:
            # In key order, so two transactions that lock several numbers never wait on each other in a circle.
            cursor.execute("SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key", [keys])


def _apply(event: OrderFeedEvent, context: _Context, *, check_seen: bool = True) -> FeedAnswer:
    one_at_a_time([event.order_number])
    if check_seen:
        seen = FeedEvent.objects.filter(event_id=event.event_id).values_list("outcome", "reason").first()
        if seen is not None:
            return FeedAnswer("duplicate", reason=seen[1], first_status=seen[0])
    order = Order.objects.select_for_update(of=("self",)).filter(number=event.order_number).first()
    outcome, reason, order = _decide(order, event, context)
    FeedEvent.objects.create(
        event_id=event.event_id,
        kind=event.kind,
        order_number=event.order_number,
        order=order,
        occurred_at=event.occurred_at,
        received_at=context.now,
        source=context.source,
        outcome=outcome,
        reason=reason[:300],
        payload=event.raw if outcome in (Outcome.HELD, Outcome.REFUSED) else None,
    )
    moved_on = outcome == Outcome.APPLIED and event.kind in FORWARD
    if outcome == Outcome.APPLIED and event.kind == Kind.PAID and order is not None:
        moved_on = _release_held(order, context) > 0
    if moved_on and order is not None and context.complete_ended:
        _complete_if_protection_over(order.pk, context.now)
    return FeedAnswer(outcome, reason)


def _decide(order: Order | None, event: OrderFeedEvent, context: _Context) -> tuple[str, str, Order | None]:
    """Apply the event to the order (locked, or None when unknown): the outcome, its reason, and
    the order (the new one, for "paid")."""
    if event.kind in (Kind.PLACED, Kind.PAID):
        assert event.snapshot is not None
        if order is not None:
            return Outcome.STALE, f"order {order.number} is already paid here", order
        buyer_id = context.accounts.person_id(event.snapshot.buyer, role=User.Role.BUYER)
        store_id, _owner_id = context.accounts.store_ids(event.snapshot.store)
        if event.kind == Kind.PLACED:
            return Outcome.APPLIED, "accounts ready; the order appears here once it is paid", None
        return Outcome.APPLIED, "", _create_order(event, event.snapshot, buyer_id=buyer_id, store_id=store_id)
    if order is None:
        reason = f"order {event.order_number} is not known here yet: kept until its order.paid arrives"
        return Outcome.HELD, reason, None
    if order.marketplace_event_at is not None and event.position <= (
        order.marketplace_event_at,
        STEP.get(order.marketplace_event_kind, -1),
    ):
        reason = (
            f"order {order.number} already holds order.{order.marketplace_event_kind} of "
            f"{order.marketplace_event_at.isoformat()}, which is not older than this event"
        )
        return Outcome.STALE, reason, order
    try:
        _HANDLERS[event.kind](order, event, context)
    except _Refused as refused:
        return refused.outcome, refused.reason, order
    except ActionRefused as refused:
        return Outcome.REFUSED, str(refused.message), order
    Order.objects.filter(pk=order.pk).update(marketplace_event_at=event.occurred_at, marketplace_event_kind=event.kind)
    return Outcome.APPLIED, "", order


def _create_order(event: OrderFeedEvent, snapshot: Snapshot, *, buyer_id: int, store_id: int) -> Order:
    order = new_order(event, snapshot, buyer_id=buyer_id, store_id=store_id)
    order.save(force_insert=True)
    OrderItem.objects.bulk_create(new_items(order, snapshot))
    return order


def new_order(event: OrderFeedEvent, snapshot: Snapshot, *, buyer_id: int, store_id: int) -> Order:
    """The order a "paid" event makes, not saved yet (the bulk import saves many at once)."""
    paid_at = event.occurred_at
    return Order(
        number=event.order_number,
        buyer_id=buyer_id,
        store_id=store_id,
        status=Order.Status.AWAITING_SHIPMENT,
        currency=snapshot.currency,
        total_amount=snapshot.total,
        shipping_method=snapshot.shipping_method,
        protection_days=snapshot.protection_days,
        paid_at=paid_at,
        handling_days=snapshot.handling_days,
        ship_by=rules.ship_by_for(paid_at=paid_at, handling_days=snapshot.handling_days),
        marketplace_event_at=event.occurred_at,
        marketplace_event_kind=event.kind,
    )


def new_items(order: Order, snapshot: Snapshot) -> list[OrderItem]:
    return [
        OrderItem(
            order=order,
            title=item.title,
            variant=item.variant,
            quantity=item.quantity,
            unit_price=item.unit_price,
            item_id=item.product_id,
            image_url=item.image_url,
        )
        for item in snapshot.items
    ]


def _release_held(order: Order, context: _Context) -> int:
    """The events that waited for this order, applied now in their order; how many there were."""
    waiting = list(
        FeedEvent.objects.select_for_update(of=("self",)).filter(order_number=order.number, outcome=Outcome.HELD)
    )
    events = []
    for row in waiting:
        try:
            events.append((feed_event_parse(row.payload, now=row.received_at), row))
        except FeedInvalid as invalid:  # read once already; cannot happen unless the rules changed
            row.outcome, row.reason = Outcome.REFUSED, invalid.reason
            row.save(update_fields=["outcome", "reason"])
    for event, row in sorted(events, key=lambda pair: pair[0].position):
        locked = services.order_lock(order.pk)
        outcome, reason, _order = _decide(locked, event, context)
        row.outcome, row.reason, row.order = outcome, reason[:300], locked
        if outcome != Outcome.REFUSED:
            row.payload = None
        row.save(update_fields=["outcome", "reason", "order", "payload"])
    return len(waiting)


def _complete_if_protection_over(order_id: int, now: datetime) -> None:
    order = Order.objects.only("status", "has_dispute", "protection_due_at").get(pk=order_id)
    if order.status in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED, Order.Status.CONFIRMED) and (
        rules.refusal(rules.Action.COMPLETE, order, Role.SYSTEM, now) is None
    ):
        services.order_complete_expired(order_id=order_id, now=now, notify=False)


# --- one function per kind of event ---------------------------------------------------------------


def _shipped(order: Order, event: OrderFeedEvent, context: _Context) -> None:
    if order.status == Order.Status.CANCELLED:
        raise _Refused(f"order {order.number} was cancelled here ({order.cancel_reason}); it cannot be shipped")
    if order.status != Order.Status.AWAITING_SHIPMENT:
        raise _stale(f"order {order.number} is already shipped here")
    shipped = services.order_transition(
        order_id=order.pk,
        to_status=Order.Status.IN_TRANSIT,
        actor=None,
        now=context.now,
        changes={
            "shipped_at": event.occurred_at,
            "tracking_number": event.tracking_number,
            "protection_due_at": rules.protection_end_after_shipment(
                shipped_at=event.occurred_at, protection_days=order.protection_days
            ),
        },
        details={"tracking_number": event.tracking_number, "carrier": event.carrier, "source": "marketplace"},
        happened_at=event.occurred_at,
    )
    overtaken = _close_pending_cancellation(shipped, OrderCancellation.Status.SHIPPED, context.now)
    if overtaken:
        OrderEvent.record(shipped, OrderEvent.Kind.CANCEL_OVERTAKEN, None)
    if context.notify:
        email_queue(
            user=shipped.buyer,
            template="cancel_overtaken" if overtaken else "order_shipped",
            context={"order": shipped},
            dedupe_key=f"order-shipped:{shipped.pk}",
        )


def _delivered(order: Order, event: OrderFeedEvent, context: _Context) -> None:
    if order.status == Order.Status.CANCELLED:
        raise _Refused(f"order {order.number} was cancelled here; it cannot be delivered")
    if order.status == Order.Status.AWAITING_SHIPMENT:
        raise _Refused(f"order {order.number} is not shipped here yet: send order.shipped first")
    shipping.tracking_event_record(
        order=order,
        kind=TrackingEvent.Kind.DELIVERED,
        happened_at=event.occurred_at,
        location=event.location,
        source=TrackingEvent.Source.FEED,
        external_id=f"feed:{event.event_id}",
        now=context.now,
        notify=context.notify,
    )


def _cancelled(order: Order, event: OrderFeedEvent, context: _Context) -> None:
    if order.status == Order.Status.CANCELLED:
        raise _stale(f"order {order.number} is already cancelled here")
    if order.status != Order.Status.AWAITING_SHIPMENT:
        raise _Refused(
            f"order {order.number} is already shipped (status {order.status}): a shipped order is not "
            "cancelled; its buyer opens a dispute"
        )
    _cancel(order, event, context)


def _cancel(order: Order, event: OrderFeedEvent, context: _Context) -> Order:
    cancelled = services.order_transition(
        order_id=order.pk,
        to_status=Order.Status.CANCELLED,
        actor=None,
        now=context.now,
        changes={"cancelled_at": event.occurred_at, "cancel_reason": Order.CancelReason.MARKETPLACE},
        details={"reason": Order.CancelReason.MARKETPLACE, **({"note": event.note} if event.note else {})},
        happened_at=event.occurred_at,
    )
    _close_pending_cancellation(cancelled, OrderCancellation.Status.OVERTAKEN, context.now)
    if context.notify:
        for user in (cancelled.buyer, cancelled.store.owner):
            email_queue(
                user=user,
                template="order_cancelled_by_marketplace",
                context={"order": cancelled, "for_buyer": user.pk == cancelled.buyer_id},
                dedupe_key=f"order-cancelled:{cancelled.pk}:{user.pk}",
            )
    return cancelled


def _close_pending_cancellation(order: Order, status: str, now: datetime) -> bool:
    """A buyer's request to cancel that the marketplace's event overtook ends with `status`."""
    pending = (
        OrderCancellation.objects.select_for_update(of=("self",))
        .filter(order=order, status=OrderCancellation.Status.PENDING)
        .first()
    )
    if pending is None:
        return False
    pending.status, pending.resolved_at = status, now
    pending.save(update_fields=["status", "resolved_at"])
    return True


def _refunded(order: Order, event: OrderFeedEvent, context: _Context) -> None:
    assert event.amount is not None
    if event.currency != order.currency:
        raise _Refused(f"order {order.number} is paid in {order.currency}, not {event.currency}")
    requested = order.refunds.filter(status=Refund.Status.REQUESTED)
    if event.reference:
        requested = requested.filter(reference=event.reference)
    waiting = requested.order_by("pk").first()
    if waiting is not None:
        # A refund this help centre asked for (a dispute's, or a cancellation's): the marketplace paid it.
        if waiting.amount != event.amount:
            raise _Refused(f"refund {waiting.reference} is for {waiting.amount} {waiting.currency}, not {event.amount}")
        payments.refund_confirm(
            refund_id=waiting.pk,
            confirmed_by=Refund.ConfirmedBy.FEED,
            gateway_reference=event.event_id[:80],
            now=context.now,
        )
        return
    if event.reference:
        raise _Refused(f"order {order.number} has no refund {event.reference} waiting for the money")
    if order.status == Order.Status.AWAITING_SHIPMENT:
        order = _cancel(order, event, context)
    if order.status != Order.Status.CANCELLED:
        raise _Refused(
            f"order {order.number} is {order.status} here and no refund of it is waiting: a refund after "
            "shipment goes through the buyer's dispute"
        )
    if order.refunds.filter(purpose=Refund.Purpose.CANCELLATION).exists():
        raise _stale(f"order {order.number}'s cancellation is already refunded here")
    if event.amount > order.total_amount:
        raise _Refused(f"order {order.number} was paid {order.total_amount} {order.currency}, less than {event.amount}")
    payments.refund_already_completed(
        order,
        amount=event.amount,
        currency=event.currency,
        reference=f"MP-{order.number}",
        requested_at=event.occurred_at,
        completed_at=event.occurred_at,
        confirmed_by=Refund.ConfirmedBy.FEED,
        gateway_reference=event.event_id[:80],
    )


_HANDLERS: dict[str, Callable[[Order, OrderFeedEvent, _Context], None]] = {
    Kind.SHIPPED: _shipped,
    Kind.DELIVERED: _delivered,
    Kind.CANCELLED: _cancelled,
    Kind.REFUNDED: _refunded,
}
