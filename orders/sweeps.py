from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from helpcenter.sweeps import SweepResult, sweep

from . import services
from .models import Order

WAITING_ON_PROTECTION = (Order.Status.IN_TRANSIT, Order.Status.DELIVERED, Order.Status.CONFIRMED)


def _waiting(**filters) -> QuerySet[Order]:
    # Matches the partial index order_protection_due_idx.
    return Order.objects.filter(status__in=WAITING_ON_PROTECTION, under_dispute=False, **filters)


def due_confirm_reminders(now: datetime) -> QuerySet[Order]:
    soon = now + timedelta(days=settings.CONFIRM_DELIVERY_REMINDER_DAYS)
    return _waiting(
        protection_ends_at__gt=now, protection_ends_at__lte=soon, confirm_reminder_sent_at__isnull=True
    ).exclude(status=Order.Status.CONFIRMED)


def due_completions(now: datetime) -> QuerySet[Order]:
    return _waiting(protection_ends_at__lte=now)


def send_confirm_reminders(now: datetime) -> SweepResult:
    return sweep(
        "protection-reminders",
        due_confirm_reminders,
        lambda pk, at: services.order_send_confirm_reminder(order_id=pk, now=at),
        now=now,
        order_by="protection_ends_at",
    )


def complete_expired_orders(now: datetime) -> SweepResult:
    return sweep(
        "protection-expiry",
        due_completions,
        lambda pk, at: services.order_complete_expired(order_id=pk, now=at),
        now=now,
        order_by="protection_ends_at",
    )
