"""Before and during delivery: the seller ships (or does not, by the listing's handling time), the
buyer asks to cancel an unshipped order, and the carrier's tracking events arrive.

Every action locks the order row first (the project's lock order: order, then anything of it),
re-checks its rule from orders/rules.py under the lock, writes, records an OrderEvent and queues
mail after commit. The sweeps call the same functions the buttons do, so a seller who ships at
the moment the sweep cancels gets one outcome: whoever locks the order first wins, the other is
refused (the seller) or finds nothing due (the sweep).
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.emails import email_queue
from accounts.models import User
from core.errors import ActionRefused
from core.signatures import NoticeRejected, notice_json, notice_text, notice_verify_from
from core.tracking_numbers import (
    MAX_LENGTH,
    MAX_TYPED_LENGTH,
    MIN_LENGTH,
    tracking_number_normalise,
    tracking_number_problem,
)

from . import payments, rules
from .models import Order, OrderCancellation, OrderEvent, Refund, TrackingEvent
from .rules import Action, Role
from .services import _record, order_lock, order_transition

# --- the seller ships --------------------------------------------------------------------------


@transaction.atomic(durable=True)
def order_ship(*, order: Order, seller: User, tracking_number: str, now: datetime | None = None) -> Order:
    """The seller hands the parcel over with its tracking number: protection starts now. A pending
    cancellation request ends as "the seller shipped first"."""
    now = now or timezone.now()
    tracking_number = tracking_number_normalise(tracking_number)
    if not tracking_number:
        raise ActionRefused(_("Укажите трек-номер посылки: без него покупатель не сможет её отследить."))
    if message := tracking_number_problem(tracking_number):
        raise ActionRefused(message)
    order = order_transition(
        order_id=order.pk,
        to_status=Order.Status.IN_TRANSIT,
        actor=seller,
        now=now,
        action=Action.SHIP,
        changes={
            "shipped_at": now,
            "tracking_number": tracking_number,
            "protection_due_at": rules.protection_end_after_shipment(
                shipped_at=now, protection_days=order.protection_days
            ),
        },
        details={"tracking_number": tracking_number},
    )
    cancellation = _pending_cancellation(order)
    if cancellation is not None:
        _close_cancellation(cancellation, OrderCancellation.Status.SHIPPED, now)
        _record(order, OrderEvent.Kind.CANCEL_OVERTAKEN, seller)
    # One mail either way: a buyer who asked to cancel learns the cancellation did not happen.
    email_queue(
        user=order.buyer,
        template="cancel_overtaken" if cancellation is not None else "order_shipped",
        context={"order": order},
        dedupe_key=f"order-shipped:{order.pk}",
    )
    return order


# --- the buyer asks to cancel -------------------------------------------------------------------


def _pending_cancellation(order: Order) -> OrderCancellation | None:
    return (
        OrderCancellation.objects.select_for_update(of=("self",))
        .filter(order=order, status=OrderCancellation.Status.PENDING)
        .first()
    )


def _close_cancellation(cancellation: OrderCancellation, status: str, now: datetime) -> None:
    cancellation.status, cancellation.resolved_at = status, now
    cancellation.save(update_fields=["status", "resolved_at"])


@transaction.atomic(durable=True)
def order_cancel_request(
    *, order: Order, buyer: User, reason: str, note: str = "", now: datetime | None = None
) -> OrderCancellation:
    """The buyer asks to cancel an order that has not been shipped. The seller has
    ORDER_CANCEL_SELLER_DAYS to agree or to ship; silence cancels the order (the sweep)."""
    now = now or timezone.now()
    if reason not in OrderCancellation.Reason.values:
        raise ActionRefused(_("Выберите причину отмены."))
    order = order_lock(order.pk)
    earlier = OrderCancellation.objects.filter(order=order).first()
    rules.require(Action.CANCEL, order, rules.role_of(order, buyer), now, rules.Facts(cancellation=earlier))
    cancellation = OrderCancellation.objects.create(
        order=order,
        reason=reason,
        note=note.strip()[:1000],
        requested_at=now,
        respond_by=rules.cancel_respond_by(requested_at=now),
    )
    _record(order, OrderEvent.Kind.CANCEL_REQUESTED, buyer, reason=reason)
    email_queue(
        user=order.store.owner,
        template="cancel_requested",
        context={"order": order, "cancellation": cancellation},
        dedupe_key=f"cancel-requested:{order.pk}",
    )
    return cancellation


@transaction.atomic(durable=True)
def order_cancel_agree(*, order: Order, seller: User, now: datetime | None = None) -> Order:
    """The seller agrees to the buyer's request: the order is cancelled and refunded now."""
    now = now or timezone.now()
    order = order_lock(order.pk)
    cancellation = _pending_cancellation(order)
    rules.require(Action.AGREE_CANCEL, order, rules.role_of(order, seller), now, rules.Facts(cancellation=cancellation))
    assert cancellation is not None  # the rule refused otherwise
    _cancel(order, reason=Order.CancelReason.SELLER_AGREED, actor=seller, now=now)
    _close_cancellation(cancellation, OrderCancellation.Status.AGREED, now)
    return order


def _cancel(order: Order, *, reason: str, actor: User | None, now: datetime) -> Order:
    """Cancel a locked, unshipped order and refund all of it; one mail to each party."""
    order = order_transition(
        order_id=order.pk,
        to_status=Order.Status.CANCELLED,
        actor=actor,
        now=now,
        changes={"cancelled_at": now, "cancel_reason": reason},
        details={"reason": reason},
    )
    refund = payments.refund_request(
        order=order,
        purpose=Refund.Purpose.CANCELLATION,
        amount=order.total_amount,
        currency=order.currency,
        now=now,
    )
    for user in (order.buyer, order.store.owner):
        email_queue(
            user=user,
            template="order_cancelled",
            context={"order": order, "refund": refund, "for_buyer": user.pk == order.buyer_id},
            dedupe_key=f"order-cancelled:{order.pk}:{user.pk}",
        )
    return order


# --- deadlines, called by the beat sweeps -------------------------------------------------------


@transaction.atomic
def cancellation_expire(*, order_id: int, now: datetime | None = None) -> Order | None:
    """The seller neither agreed nor shipped by the deadline: the order is cancelled and refunded."""
    now = now or timezone.now()
    order = order_lock(order_id)
    cancellation = _pending_cancellation(order)
    if rules.refusal(Action.EXPIRE_CANCELLATION, order, Role.SYSTEM, now, rules.Facts(cancellation=cancellation)):
        return None
    assert cancellation is not None
    _cancel(order, reason=Order.CancelReason.SELLER_SILENT, actor=None, now=now)
    _close_cancellation(cancellation, OrderCancellation.Status.SELLER_SILENT, now)
    return order


@transaction.atomic
def order_expire_unshipped(*, order_id: int, now: datetime | None = None) -> Order | None:
    """The listing's handling time passed without shipment: the order closes and is refunded."""
    now = now or timezone.now()
    order = order_lock(order_id)
    if rules.refusal(Action.EXPIRE_UNSHIPPED, order, Role.SYSTEM, now):
        return None
    _cancel(order, reason=Order.CancelReason.NOT_SHIPPED, actor=None, now=now)
    if (cancellation := _pending_cancellation(order)) is not None:
        _close_cancellation(cancellation, OrderCancellation.Status.OVERTAKEN, now)
    return order


# --- tracking events ----------------------------------------------------------------------------


@transaction.atomic  # not durable: admin's save_model runs inside the change view's transaction
def tracking_event_record(
    *,
    order: Order,
    kind: str,
    happened_at: datetime,
    location: str = "",
    source: str,
    external_id: str | None = None,
    now: datetime | None = None,
    notify: bool = True,
) -> TrackingEvent | None:
    """Record one scan of the parcel; None when this `external_id` was recorded before (a repeated
    notice changes nothing). "Delivered" on a parcel in transit starts the same 15-day dispute
    window as confirming receipt. `notify=False` (history imported from the marketplace) mails no one."""
    now = now or timezone.now()
    if kind not in TrackingEvent.Kind.values:
        raise ActionRefused(_("Неизвестное событие отслеживания."))
    if message := rules.tracking_event_refusal(happened_at, now):
        raise ActionRefused(message)
    external_id = external_id or f"{source}-{secrets.token_hex(8)}"
    order = order_lock(order.pk)
    if TrackingEvent.objects.filter(external_id=external_id).exists():
        return None
    try:
        with transaction.atomic():
            event = TrackingEvent.objects.create(
                order=order,
                kind=kind,
                happened_at=happened_at,
                location=location.strip()[:200],
                source=source,
                external_id=external_id,
                received_at=now,
            )
    except IntegrityError:  # the same notice, delivered twice at the same moment
        return None
    if kind == TrackingEvent.Kind.DELIVERED and order.status == Order.Status.IN_TRANSIT:
        changes: dict[str, Any] = {"delivered_at": happened_at}
        if not order.has_dispute:
            # The dispute window is counted from the delivery scan, as from a confirmation.
            changes["protection_due_at"] = rules.protection_end_after_confirmation(confirmed_at=happened_at)
            changes["confirm_reminder_sent_at"] = None
        order = order_transition(
            order_id=order.pk,
            to_status=Order.Status.DELIVERED,
            actor=None,
            now=now,
            changes=changes,
            details={"happened_at": happened_at.isoformat()},
            happened_at=happened_at,
        )
        if notify and not order.has_dispute:
            email_queue(
                user=order.buyer,
                template="order_delivered",
                context={"order": order},
                dedupe_key=f"order-delivered:{order.pk}",
            )
    return event


@dataclass(frozen=True)
class TrackingNoticeFields:
    event_id: str
    tracking_number: str
    kind: str
    happened_at: datetime
    location: str


# The event's id is kept as "carrier:<id>" in TrackingEvent.external_id.
_EXTERNAL_ID_PREFIX = "carrier:"
_MAX_EVENT_ID = (TrackingEvent._meta.get_field("external_id").max_length or 0) - len(_EXTERNAL_ID_PREFIX)
_MAX_LOCATION = TrackingEvent._meta.get_field("location").max_length or 0
_MAX_TIME_TEXT = 40


def tracking_notice_fields(body: bytes) -> TrackingNoticeFields:
    """A signed notice's fields, each checked for its type, length and format before anything is
    looked up: {"id": text, "tracking_number": text, "event": <TrackingEvent.Kind>,
    "happened_at": ISO 8601 with its offset, "location": text}. NoticeRejected(400) naming the
    field otherwise."""
    payload = notice_json(body)
    event_id = notice_text(payload, "id", max_length=_MAX_EVENT_ID)
    typed_number = notice_text(payload, "tracking_number", max_length=MAX_TYPED_LENGTH)
    tracking_number = tracking_number_normalise(typed_number)
    if tracking_number_problem(tracking_number):
        raise NoticeRejected(
            400,
            f"tracking_number must be {MIN_LENGTH} to {MAX_LENGTH} Latin letters, digits and dashes between them",
        )
    kind = notice_text(payload, "event", max_length=32)
    if kind not in TrackingEvent.Kind.values:
        raise NoticeRejected(400, f"event must be one of {', '.join(TrackingEvent.Kind.values)}")
    happened_text = notice_text(payload, "happened_at", max_length=_MAX_TIME_TEXT)
    try:
        happened_at = parse_datetime(happened_text)
        # In UTC now: a time near year 1 or 9999 with an offset would overflow only when saved.
        happened_at = happened_at.astimezone(UTC) if happened_at and timezone.is_aware(happened_at) else None
    except (ValueError, OverflowError):
        happened_at = None
    if happened_at is None:
        raise NoticeRejected(400, "happened_at must be an ISO 8601 time with its offset")
    location = notice_text(payload, "location", max_length=_MAX_LOCATION, required=False)
    return TrackingNoticeFields(event_id, tracking_number, kind, happened_at, location)


def tracking_notice_receive(*, body: bytes, signature_header: str, now: datetime | None = None) -> str:
    """One signed notice from the logistics system (tracking_notice_fields says what it holds).
    Returns "processed" or "duplicate"; raises NoticeRejected otherwise."""
    now = now or timezone.now()
    notice_verify_from("TRACKING_WEBHOOK", header=signature_header, body=body, now=now)
    notice = tracking_notice_fields(body)
    # The number is matched in the spelling every form and service stores (core.tracking_numbers).
    order = Order.objects.filter(tracking_number=notice.tracking_number).first()
    if order is None:
        raise NoticeRejected(404, "no order with that tracking number")
    try:
        event = tracking_event_record(
            order=order,
            kind=notice.kind,
            happened_at=notice.happened_at,
            location=notice.location,
            source=TrackingEvent.Source.CARRIER,
            external_id=_EXTERNAL_ID_PREFIX + notice.event_id,
            now=now,
        )
    except ActionRefused as refused:
        raise NoticeRejected(400, str(refused.message)) from None
    return "processed" if event is not None else "duplicate"
