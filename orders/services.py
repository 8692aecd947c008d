"""Actions on orders. Every change locks the order row, re-checks the rule that allowed it,
writes, records an OrderEvent and queues mail after commit."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.emails import email_queue
from accounts.models import User

from . import rules
from .models import Order, OrderEvent, ProtectionExtension

# Which status may follow which: anything else is refused.
ORDER_PIPELINE: dict[str, set[str]] = {
    Order.Status.AWAITING_SHIPMENT: {Order.Status.IN_TRANSIT},
    Order.Status.IN_TRANSIT: {Order.Status.DELIVERED, Order.Status.CONFIRMED, Order.Status.COMPLETED},
    Order.Status.DELIVERED: {Order.Status.CONFIRMED, Order.Status.COMPLETED},
    Order.Status.CONFIRMED: {Order.Status.COMPLETED},
    Order.Status.COMPLETED: set(),
}


class OrderActionRefused(Exception):
    """The action is not allowed in the order's current state; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update().select_related("buyer", "store__owner").get(pk=order_id)


def _record(order: Order, kind: str, actor: User | None, **details) -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=kind, actor=actor, details=details)


def order_transition(
    *,
    order_id: int,
    to_status: str,
    event: str,
    actor: User | None,
    now: datetime,
    refusal=None,
    changes: dict | None = None,
    details: dict | None = None,
) -> Order:
    """Move an order to `to_status`, the only way an order's status changes.

    Must run inside a transaction. `refusal(order, now)` is the rule that must still hold once
    the row is locked; it returns a message to refuse with, or None.
    """
    order = _lock_order(order_id)
    if to_status not in ORDER_PIPELINE[order.status]:
        raise OrderActionRefused(_("Заказ уже в другом состоянии: обновите страницу."))
    if refusal is not None and (message := refusal(order, now)):
        raise OrderActionRefused(message)
    order.status = to_status
    for field, value in (changes or {}).items():
        setattr(order, field, value)
    order.save(update_fields=["status", "updated_at", *(changes or {})])
    _record(order, event, actor, **(details or {}))
    return order


order_transition.alters_data = True


@transaction.atomic
def order_confirm_receipt(*, order: Order, buyer: User, now: datetime | None = None) -> Order:
    now = now or timezone.now()
    if order.buyer_id != buyer.pk:
        raise OrderActionRefused(_("Подтвердить получение может только покупатель."))
    return order_transition(
        order_id=order.pk,
        to_status=Order.Status.CONFIRMED,
        event=OrderEvent.Kind.CONFIRMED,
        actor=buyer,
        now=now,
        refusal=rules.confirm_refusal,
        changes={
            "confirmed_at": now,
            "protection_ends_at": rules.protection_end_after_confirmation(confirmed_at=now),
        },
    )


@transaction.atomic
def extension_request(
    *, order: Order, buyer: User, days: int, reason: str, now: datetime | None = None
) -> ProtectionExtension:
    now = now or timezone.now()
    if order.buyer_id != buyer.pk:
        raise OrderActionRefused(_("Продлить защиту может попросить только покупатель."))
    order = _lock_order(order.pk)
    has_pending = order.extensions.filter(status=ProtectionExtension.Status.PENDING).exists()
    if message := rules.extension_refusal(order, now, has_pending=has_pending):
        raise OrderActionRefused(message)
    if not 1 <= days <= rules.extension_max_days(order):
        raise OrderActionRefused(
            _("Можно попросить от 1 до %(max)d дней: вместе защита не длится дольше 90 дней.")
            % {"max": rules.extension_max_days(order)}
        )
    extension = ProtectionExtension.objects.create(order=order, days=days, reason=reason.strip())
    _record(order, OrderEvent.Kind.EXTENSION_REQUESTED, buyer, days=days)
    email_queue(
        user=order.store.owner,
        template="extension_requested",
        context={"order": order, "extension": extension},
        dedupe_key=f"extension-requested:{extension.pk}",
    )
    return extension


@transaction.atomic
def extension_answer(
    *, extension: ProtectionExtension, seller: User, accept: bool, now: datetime | None = None
) -> ProtectionExtension:
    now = now or timezone.now()
    order = _lock_order(extension.order_id)
    if order.store.owner_id != seller.pk:
        raise OrderActionRefused(_("Ответить на просьбу может только продавец этого заказа."))
    extension = ProtectionExtension.objects.select_for_update().get(pk=extension.pk)
    if extension.status != ProtectionExtension.Status.PENDING:
        raise OrderActionRefused(_("Вы уже ответили на эту просьбу."))
    if accept:
        if not rules.protection_is_running(order, now) or order.status == Order.Status.CONFIRMED:
            raise OrderActionRefused(_("Защита по заказу уже закончилась, продлить её нельзя."))
        # Another extension may have been granted since the buyer asked: keep within 90 days.
        days = min(extension.days, rules.extension_max_days(order))
        if days <= 0:
            raise OrderActionRefused(_("Защита уже длится 90 дней: это наибольший срок."))
        order.protection_days += days
        order.protection_ends_at = rules.protection_end_after_shipment(
            shipped_at=order.shipped_at, protection_days=order.protection_days
        )
        # The reminder belongs to the old end date; the new one gets its own.
        order.confirm_reminder_sent_at = None
        order.save(update_fields=["protection_days", "protection_ends_at", "confirm_reminder_sent_at", "updated_at"])
        extension.days = days
        extension.status = ProtectionExtension.Status.ACCEPTED
        _record(order, OrderEvent.Kind.EXTENSION_ACCEPTED, seller, days=days)
    else:
        extension.status = ProtectionExtension.Status.REFUSED
        _record(order, OrderEvent.Kind.EXTENSION_REFUSED, seller, days=extension.days)
    extension.decided_at = now
    extension.save(update_fields=["days", "status", "decided_at"])
    email_queue(
        user=order.buyer,
        template="extension_answered",
        context={"order": order, "extension": extension},
        dedupe_key=f"extension-answered:{extension.pk}",
    )
    return extension


# --- deadlines, called by the beat sweeps -----------------------------------------------------


@transaction.atomic
def order_send_confirm_reminder(*, order_id: int, now: datetime | None = None) -> bool:
    """Send the "please confirm delivery" e-mail once per protection end date."""
    now = now or timezone.now()
    order = _lock_order(order_id)
    if not rules.confirm_reminder_is_due(order, now):
        return False
    order.confirm_reminder_sent_at = now
    order.save(update_fields=["confirm_reminder_sent_at", "updated_at"])
    _record(order, OrderEvent.Kind.REMINDER_SENT, None, protection_ends_at=order.protection_ends_at.isoformat())
    email_queue(
        user=order.buyer,
        template="confirm_delivery",
        context={"order": order},
        dedupe_key=f"confirm-reminder:{order.pk}:{order.protection_ends_at.isoformat()}",
    )
    return True


@transaction.atomic
def order_complete_expired(*, order_id: int, now: datetime | None = None) -> Order | None:
    """Protection is over with no dispute: the order completes and no dispute can be opened."""
    now = now or timezone.now()
    try:
        order = order_transition(
            order_id=order_id,
            to_status=Order.Status.COMPLETED,
            event=OrderEvent.Kind.COMPLETED,
            actor=None,
            now=now,
            refusal=rules.completion_refusal,
            changes={"completed_at": now},
        )
    except OrderActionRefused:
        return None
    order.extensions.filter(status=ProtectionExtension.Status.PENDING).update(
        status=ProtectionExtension.Status.LAPSED, decided_at=now
    )
    return order
