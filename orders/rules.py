"""Buyer-protection date rules. Pages, services and sweeps all ask these functions, so a date a
page promises is the date the server keeps."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from .models import Order

PROTECTED_STATUSES = (Order.Status.IN_TRANSIT, Order.Status.DELIVERED, Order.Status.CONFIRMED)


def protection_end_after_shipment(*, shipped_at: datetime, protection_days: int) -> datetime:
    return shipped_at + timedelta(days=protection_days)


def protection_end_after_confirmation(*, confirmed_at: datetime) -> datetime:
    return confirmed_at + timedelta(days=settings.DISPUTE_WINDOW_AFTER_CONFIRMATION_DAYS)


def confirm_reminder_due_at(order: Order) -> datetime | None:
    if order.protection_ends_at is None:
        return None
    return order.protection_ends_at - timedelta(days=settings.CONFIRM_DELIVERY_REMINDER_DAYS)


def protection_is_running(order: Order, now: datetime) -> bool:
    return (
        order.status in PROTECTED_STATUSES and order.protection_ends_at is not None and now < order.protection_ends_at
    )


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
    if order.status == Order.Status.AWAITING_SHIPMENT or order.protection_ends_at is None:
        return ProtectionState("not_started", None, None)
    if protection_is_running(order, now):
        days_left = math.ceil((order.protection_ends_at - now) / timedelta(days=1))
        return ProtectionState("running", order.protection_ends_at, days_left)
    return ProtectionState("ended", order.protection_ends_at, None)


def extension_max_days(order: Order) -> int:
    """How many days the buyer may still ask for: the total never passes 90 days."""
    return max(settings.PROTECTION_MAX_DAYS - order.protection_days, 0)


def confirm_refusal(order: Order, now: datetime) -> str | None:
    """Why the buyer cannot confirm receipt now, or None when they can."""
    if order.status == Order.Status.CONFIRMED:
        return _("Вы уже подтвердили получение этого заказа.")
    if order.status not in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED):
        return _("Подтвердить получение можно, когда заказ отправлен и ещё не завершён.")
    if not protection_is_running(order, now):
        return _("Срок защиты закончился, заказ завершается.")
    return None


def extension_refusal(order: Order, now: datetime, *, has_pending: bool) -> str | None:
    """Why the buyer cannot ask for a longer protection period now, or None when they can."""
    if order.status == Order.Status.CONFIRMED:
        return _("Вы подтвердили получение, поэтому продлевать защиту больше не нужно.")
    if order.status not in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED):
        return _("Продлить защиту можно, пока заказ в пути и срок защиты не истёк.")
    if not protection_is_running(order, now):
        return _("Срок защиты уже закончился.")
    if has_pending:
        return _("Продавец ещё не ответил на вашу прошлую просьбу.")
    if extension_max_days(order) <= 0:
        return _("Защита уже длится 90 дней: это наибольший срок.")
    return None


def confirm_reminder_is_due(order: Order, now: datetime) -> bool:
    """The "please confirm delivery" e-mail: once, a few days before protection ends, while the
    parcel is still unconfirmed and no dispute is open."""
    due_at = confirm_reminder_due_at(order)
    return (
        order.status in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED)
        and not order.under_dispute
        and order.confirm_reminder_sent_at is None
        and due_at is not None
        and due_at <= now
        and protection_is_running(order, now)
    )


def completion_refusal(order: Order, now: datetime) -> str | None:
    """Why the order may not complete now, or None when its protection is over and nothing holds it."""
    if order.under_dispute:
        return _("По заказу открыт спор.")
    if order.protection_ends_at is None or now < order.protection_ends_at:
        return _("Защита заказа ещё действует.")
    return None
