from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from core.sweeps import SweepResult, register, sweep

from . import payments, services, shipping
from .models import Order, OrderCancellation, Refund

WAITING_ON_PROTECTION = (Order.Status.IN_TRANSIT, Order.Status.DELIVERED, Order.Status.CONFIRMED)


def _waiting(**filters: object) -> QuerySet[Order]:
    # Matches the partial index order_protection_due_idx.
    return Order.objects.filter(status__in=WAITING_ON_PROTECTION, has_dispute=False, **filters)


def due_confirm_reminders(now: datetime) -> QuerySet[Order]:
    soon = now + timedelta(days=settings.CONFIRM_DELIVERY_REMINDER_DAYS)
    return _waiting(
        protection_due_at__gt=now, protection_due_at__lte=soon, confirm_reminder_sent_at__isnull=True
    ).exclude(status=Order.Status.CONFIRMED)


def due_completions(now: datetime) -> QuerySet[Order]:
    return _waiting(protection_due_at__lte=now)


@register("protection-reminders", description="«Подтвердите получение» за несколько дней до конца защиты")
def send_confirm_reminders(now: datetime) -> SweepResult:
    return sweep(
        "protection-reminders",
        due_confirm_reminders,
        lambda pk, at: services.order_send_confirm_reminder(order_id=pk, now=at),
        now=now,
        order_by="protection_due_at",
    )


@register("protection-expiry", description="конец защиты без спора: заказ завершён")
def complete_expired_orders(now: datetime) -> SweepResult:
    return sweep(
        "protection-expiry",
        due_completions,
        lambda pk, at: services.order_complete_expired(order_id=pk, now=at),
        now=now,
        order_by="protection_due_at",
    )


@register("refunds", description="возвраты, которые не дошли до платёжной системы, отправляются снова")
def send_lost_refunds(now: datetime) -> SweepResult:
    return sweep(
        "refunds",
        lambda at: Refund.objects.filter(status=Refund.Status.REQUESTED, send_due_at__lte=at),
        lambda pk, at: payments.refund_send(refund_id=pk, now=at),
        now=now,
        order_by="send_due_at",
    )


@register("stale-refunds", description="возвраты, которые слишком долго готовятся, отмечаются для сотрудников")
def flag_stale_refunds(now: datetime) -> SweepResult:
    return sweep(
        "stale-refunds",
        lambda at: Refund.objects.filter(status=Refund.Status.REQUESTED, stale_due_at__lte=at),
        lambda pk, at: payments.refund_flag_stale(refund_id=pk, now=at),
        now=now,
        order_by="stale_due_at",
    )


def due_cancellations(now: datetime) -> QuerySet[Order]:
    # Reads the partial index cancellation_due_idx (pending requests by their deadline).
    return Order.objects.filter(
        status=Order.Status.AWAITING_SHIPMENT,
        cancellation__status=OrderCancellation.Status.PENDING,
        cancellation__respond_by__lte=now,
    )


def due_unshipped(now: datetime) -> QuerySet[Order]:
    # Reads the partial index order_ship_by_idx.
    return Order.objects.filter(status=Order.Status.AWAITING_SHIPMENT, ship_by__lte=now)


@register("cancellations", description="продавец не ответил на просьбу отменить заказ: заказ отменён, деньги вернутся")
def cancel_when_seller_silent(now: datetime) -> SweepResult:
    return sweep(
        "cancellations",
        due_cancellations,
        lambda pk, at: shipping.cancellation_expire(order_id=pk, now=at),
        now=now,
        order_by="cancellation__respond_by",
    )


@register("shipping-deadlines", description="заказ не отправлен в срок отправки: заказ отменён, деньги вернутся")
def cancel_unshipped_orders(now: datetime) -> SweepResult:
    return sweep(
        "shipping-deadlines",
        due_unshipped,
        lambda pk, at: shipping.order_expire_unshipped(order_id=pk, now=at),
        now=now,
        order_by="ship_by",
    )
