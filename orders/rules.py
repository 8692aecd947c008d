"""Buyer-protection date rules. Pages, services and sweeps all ask these functions, so a date a
page promises is the date the server keeps."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from core.dates import days

from .models import Order

PROTECTED_STATUSES = (Order.Status.IN_TRANSIT, Order.Status.DELIVERED, Order.Status.CONFIRMED)

# Which status may follow which (transitions as data): anything else is refused.
ORDER_PIPELINE: dict[str, frozenset[str]] = {
    Order.Status.AWAITING_SHIPMENT: frozenset({Order.Status.IN_TRANSIT, Order.Status.CANCELLED}),
    Order.Status.IN_TRANSIT: frozenset({Order.Status.DELIVERED, Order.Status.CONFIRMED, Order.Status.COMPLETED}),
    Order.Status.DELIVERED: frozenset({Order.Status.CONFIRMED, Order.Status.COMPLETED}),
    Order.Status.CONFIRMED: frozenset({Order.Status.COMPLETED}),
    Order.Status.COMPLETED: frozenset(),
    Order.Status.CANCELLED: frozenset(),
}


def transition_refusal(order: Order, to_status: str) -> str | None:
    if to_status not in ORDER_PIPELINE[order.status]:
        return _("Заказ уже в другом состоянии: обновите страницу.")
    return None


def protection_end_after_shipment(*, shipped_at: datetime, protection_days: int) -> datetime:
    return shipped_at + timedelta(days=protection_days)


def protection_end_after_confirmation(*, confirmed_at: datetime) -> datetime:
    return confirmed_at + timedelta(days=settings.DISPUTE_WINDOW_AFTER_CONFIRMATION_DAYS)


def confirm_reminder_due_at(order: Order) -> datetime | None:
    if order.protection_due_at is None:
        return None
    return order.protection_due_at - timedelta(days=settings.CONFIRM_DELIVERY_REMINDER_DAYS)


def protection_is_running(order: Order, now: datetime) -> bool:
    return order.status in PROTECTED_STATUSES and order.protection_due_at is not None and now < order.protection_due_at


@dataclass(frozen=True)
class ProtectionState:
    code: str  # "not_started", "running", "ended"
    ends_at: datetime | None
    days_left: int | None

    @property
    def is_running(self) -> bool:
        return self.code == "running"

    @property
    def ending_soon(self) -> bool:
        return (
            self.is_running and self.days_left is not None and self.days_left <= settings.CONFIRM_DELIVERY_REMINDER_DAYS
        )


def protection_state(order: Order, now: datetime) -> ProtectionState:
    if order.status == Order.Status.CANCELLED:
        return ProtectionState("cancelled", None, None)
    if order.status == Order.Status.AWAITING_SHIPMENT or order.protection_due_at is None:
        return ProtectionState("not_started", None, None)
    if protection_is_running(order, now):
        days_left = math.ceil((order.protection_due_at - now) / timedelta(days=1))
        return ProtectionState("running", order.protection_due_at, days_left)
    return ProtectionState("ended", order.protection_due_at, None)


def extension_max_days(order: Order) -> int:
    """How many days the buyer may still ask for: the total never passes the maximum."""
    return max(settings.PROTECTION_MAX_DAYS - order.protection_days, 0)


def protection_at_maximum() -> str:
    return _("Защита уже длится %(days)s: это наибольший срок.") % {"days": days(settings.PROTECTION_MAX_DAYS)}


def extension_days_refusal(order: Order, requested: int) -> str | None:
    most = extension_max_days(order)
    if not 1 <= requested <= most:
        return _("Можно попросить самое большее %(most)s: вся защита длится не больше чем %(max)s.") % {
            "most": days(most),
            "max": days(settings.PROTECTION_MAX_DAYS),
        }
    return None


def confirm_refusal(order: Order, now: datetime) -> str | None:
    """Why the buyer cannot confirm receipt now, or None when they can."""
    # With a dispute the money waits for its outcome; confirming would only cut protection short.
    if order.has_dispute:
        return _("По заказу есть спор: подтверждать получение не нужно, деньги ждут итога спора.")
    if order.status == Order.Status.CONFIRMED:
        return _("Вы уже подтвердили получение этого заказа.")
    if order.status not in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED):
        return _("Подтвердить получение можно, когда заказ отправлен и ещё не завершён.")
    if not protection_is_running(order, now):
        return _("Срок защиты закончился, заказ завершается.")
    return None


def extension_refusal(order: Order, now: datetime, *, has_pending: bool) -> str | None:
    """Why the buyer cannot ask for a longer protection period now, or None when they can."""
    if order.has_dispute:
        return _("По заказу есть спор: продлевать защиту не нужно, деньги ждут итога спора.")
    if order.status == Order.Status.CONFIRMED:
        return _("Вы подтвердили получение, поэтому продлевать защиту больше не нужно.")
    if order.status not in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED):
        return _("Продлить защиту можно, пока заказ в пути и срок защиты не истёк.")
    if not protection_is_running(order, now):
        return _("Срок защиты уже закончился.")
    if has_pending:
        return _("Продавец ещё не ответил на вашу прошлую просьбу.")
    if extension_max_days(order) <= 0:
        return protection_at_maximum()
    return None


def confirm_reminder_is_due(order: Order, now: datetime) -> bool:
    """The "please confirm delivery" e-mail: once, a few days before protection ends, while the
    parcel is still unconfirmed and no dispute is open."""
    due_at = confirm_reminder_due_at(order)
    return (
        order.status in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED)
        and not order.has_dispute
        and order.confirm_reminder_sent_at is None
        and due_at is not None
        and due_at <= now
        and protection_is_running(order, now)
    )


def dispute_open_refusal(order: Order, now: datetime) -> str | None:
    """Why a dispute cannot be opened on this order now, or None when it can."""
    if order.has_dispute:
        return _("По этому заказу уже открывали спор. Спор по заказу открывается только один раз.")
    if order.status == Order.Status.CANCELLED:
        return _("Заказ отменён, деньги возвращаются: спор не нужен.")
    if order.status == Order.Status.AWAITING_SHIPMENT:
        return _("Спор можно открыть, когда продавец отправит заказ.")
    if order.status == Order.Status.COMPLETED or not protection_is_running(order, now):
        return _("Срок защиты заказа закончился, поэтому открыть спор уже нельзя.")
    return None


def completion_refusal(order: Order, now: datetime) -> str | None:
    """Why the order may not complete now, or None when its protection is over and nothing holds it."""
    if order.has_dispute:
        return _("По заказу открыт спор.")
    if order.protection_due_at is None or now < order.protection_due_at:
        return _("Защита заказа ещё действует.")
    return None


# --- before shipment: the seller's shipping deadline and the buyer's cancellation ---------------


def ship_by_for(*, paid_at: datetime, handling_days: int) -> datetime:
    """The seller ships by then (the listing's handling time), or the order is cancelled and refunded."""
    return paid_at + timedelta(days=handling_days)


def cancel_respond_by(*, requested_at: datetime) -> datetime:
    return requested_at + timedelta(days=settings.ORDER_CANCEL_SELLER_DAYS)


def cancel_request_refusal(order: Order, now: datetime, *, has_request: bool) -> str | None:
    """Why the buyer cannot ask to cancel now, or None when they can."""
    if order.status != Order.Status.AWAITING_SHIPMENT:
        return _("Отменить можно только заказ, который ещё не отправлен.")
    if has_request:
        return _("Вы уже попросили отменить этот заказ: продавец отвечает.")
    return None


def cancel_agree_refusal(order: Order, now: datetime) -> str | None:
    if order.status != Order.Status.AWAITING_SHIPMENT:
        return _("Заказ уже отправлен или отменён: обновите страницу.")
    return None


def ship_refusal(order: Order, now: datetime) -> str | None:
    """Why the seller cannot mark the order shipped now (a cancelled order stays cancelled)."""
    if order.status == Order.Status.CANCELLED:
        return _("Заказ уже отменён, деньги возвращаются покупателю: отправлять его нельзя.")
    if order.status != Order.Status.AWAITING_SHIPMENT:
        return _("Заказ уже отправлен.")
    return None


def not_shipped_in_time(order: Order, now: datetime) -> str | None:
    """None when the shipping deadline passed on an order still awaiting shipment (the sweep
    cancels it); otherwise why not."""
    if order.status != Order.Status.AWAITING_SHIPMENT:
        return _("Заказ уже отправлен или отменён.")
    if order.ship_by is None or now < order.ship_by:
        return _("Срок отправки ещё не прошёл.")
    return None


def tracking_event_refusal(happened_at: datetime, now: datetime) -> str | None:
    """A scan cannot come from the future (an hour of clock skew is allowed)."""
    if happened_at > now + timedelta(hours=1):
        return _("Событие отслеживания не может быть в будущем.")
    return None


def tracking_stalled_since(last_event_at: datetime | None, order: Order, now: datetime) -> datetime | None:
    """When the parcel last moved, if it has not moved for TRACKING_STALL_DAYS while in transit.
    A parcel without any event is not judged: its carrier may not report to us at all."""
    if order.status != Order.Status.IN_TRANSIT or last_event_at is None:
        return None
    if now - last_event_at < timedelta(days=settings.TRACKING_STALL_DAYS):
        return None
    return last_event_at
