"""Actions on orders. Every change locks the order row, re-checks the rule that allowed it,
writes, records an OrderEvent and queues mail after commit."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.emails import email_queue
from accounts.models import User
from core.errors import ActionRefused
from core.rules import save_move

from . import rules
from .models import Order, OrderEvent, ProtectionExtension, SupportRequest
from .rules import Action, Role


def order_lock(order_id: int) -> Order:
    """The order row, locked for this transaction. Only the order's own row is locked (not its
    buyer or store); where a dispute is locked too, the order comes first."""
    return Order.objects.select_for_update(of=("self",)).select_related("buyer", "store__owner").get(pk=order_id)


def _role(order: Order, actor: User | None) -> Role:
    return Role.SYSTEM if actor is None else rules.role_of(order, actor)


_record = OrderEvent.record


# The event that records an order's move into each status: a status is entered one way.
ENTERED_BY: dict[str, str] = {
    Order.Status.IN_TRANSIT: OrderEvent.Kind.SHIPPED,
    Order.Status.DELIVERED: OrderEvent.Kind.DELIVERED,
    Order.Status.CONFIRMED: OrderEvent.Kind.CONFIRMED,
    Order.Status.COMPLETED: OrderEvent.Kind.COMPLETED,
    Order.Status.CANCELLED: OrderEvent.Kind.CANCELLED,
}


def order_transition(
    *,
    order_id: int,
    to_status: str,
    actor: User | None,
    now: datetime,
    action: rules.Action | None = None,
    changes: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    happened_at: datetime | None = None,
) -> Order:
    """Move an order to `to_status`, the only way an order's status changes, with the event that
    enters that status (ENTERED_BY), dated `happened_at` (`now` by default).

    Must run inside a transaction. `action` is the rulebook's action that must still be allowed
    to `actor` (the system when None) once the row is locked. `happened_at` is for news that
    arrives after the fact (the marketplace's feed says when the parcel left): the history shows
    when it happened, not when the site heard of it.
    """
    order = order_lock(order_id)
    # The action's own rule first: its reason says more than "the order moved on".
    if action is not None:
        rules.require(action, order, _role(order, actor), now)
    save_move(order, to_status, rules.transition_refusal(order, to_status), changes)
    _record(order, ENTERED_BY[to_status], actor, min(happened_at or now, now), **(details or {}))
    return order


@transaction.atomic(durable=True)
def order_confirm_receipt(*, order: Order, buyer: User, now: datetime | None = None) -> Order:
    now = now or timezone.now()
    return order_transition(
        order_id=order.pk,
        to_status=Order.Status.CONFIRMED,
        actor=buyer,
        now=now,
        action=Action.CONFIRM,
        changes={
            "confirmed_at": now,
            "protection_due_at": rules.protection_end_after_confirmation(confirmed_at=now),
        },
    )


@transaction.atomic(durable=True)
def extension_request(
    *, order: Order, buyer: User, days: int, reason: str, now: datetime | None = None
) -> ProtectionExtension:
    now = now or timezone.now()
    order = order_lock(order.pk)
    has_pending = order.extensions.filter(status=ProtectionExtension.Status.PENDING).exists()
    rules.require(
        Action.EXTEND, order, rules.role_of(order, buyer), now, rules.Facts(has_pending_extension=has_pending)
    )
    if message := rules.extension_days_refusal(order, days):
        raise ActionRefused(message)
    extension = ProtectionExtension.objects.create(order=order, days=days, reason=reason.strip())
    _record(order, OrderEvent.Kind.EXTENSION_REQUESTED, buyer, days=days)
    email_queue(
        user=order.store.owner,
        template="extension_requested",
        context={"order": order, "extension": extension},
        dedupe_key=f"extension-requested:{extension.pk}",
    )
    return extension


@transaction.atomic(durable=True)
def extension_answer(
    *, extension: ProtectionExtension, seller: User, accept: bool, now: datetime | None = None
) -> ProtectionExtension:
    now = now or timezone.now()
    order = order_lock(extension.order_id)
    extension = ProtectionExtension.objects.select_for_update(of=("self",)).get(pk=extension.pk)
    action = Action.ACCEPT_EXTENSION if accept else Action.REFUSE_EXTENSION
    rules.require(action, order, rules.role_of(order, seller), now, rules.Facts(extension=extension))
    if accept:
        # Another extension may have been granted since the buyer asked: keep within the maximum.
        granted = min(extension.days, rules.extension_max_days(order))
        order.protection_days += granted
        assert order.shipped_at is not None  # protection runs, so the order was shipped
        order.protection_due_at = rules.protection_end_after_shipment(
            shipped_at=order.shipped_at, protection_days=order.protection_days
        )
        # The reminder belongs to the old end date; the new one gets its own.
        order.confirm_reminder_sent_at = None
        order.save(update_fields=["protection_days", "protection_due_at", "confirm_reminder_sent_at", "updated_at"])
        extension.days = granted
        extension.status = ProtectionExtension.Status.ACCEPTED
        _record(order, OrderEvent.Kind.EXTENSION_ACCEPTED, seller, days=granted)
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
    order = order_lock(order_id)
    if rules.refusal(Action.REMIND_CONFIRM, order, Role.SYSTEM, now):
        return False
    assert order.protection_due_at is not None  # a reminder is due only while protection runs
    order.confirm_reminder_sent_at = now
    order.save(update_fields=["confirm_reminder_sent_at", "updated_at"])
    _record(order, OrderEvent.Kind.REMINDER_SENT, None, protection_due_at=order.protection_due_at.isoformat())
    email_queue(
        user=order.buyer,
        template="confirm_delivery",
        context={"order": order},
        dedupe_key=f"confirm-reminder:{order.pk}:{order.protection_due_at.isoformat()}",
    )
    return True


@transaction.atomic
def order_complete_expired(*, order_id: int, now: datetime | None = None, notify: bool = True) -> Order | None:
    """Protection is over with no dispute: the order completes and no dispute can be opened.
    `notify=False` (an order imported when its protection had long ended) mails no one."""
    now = now or timezone.now()
    try:
        order = order_transition(
            order_id=order_id,
            to_status=Order.Status.COMPLETED,
            actor=None,
            now=now,
            action=Action.COMPLETE,
            changes={"completed_at": now},
        )
    except ActionRefused:
        return None
    order.extensions.filter(status=ProtectionExtension.Status.PENDING).update(
        status=ProtectionExtension.Status.LAPSED, decided_at=now
    )
    if not notify:
        return order
    email_queue(
        user=order.buyer,
        template="protection_ended",
        context={"order": order},
        dedupe_key=f"protection-ended:{order.pk}",
    )
    return order


# --- support requests ---------------------------------------------------------------------------


def support_request_create(
    *, author: User, text: str, order: Order | None = None, article: str = "", now: datetime | None = None
) -> SupportRequest:
    """A buyer writes to support, about one of their orders (also after its dispute closed) or
    about the help centre."""
    if order is not None:
        rules.require(Action.ASK_SUPPORT, order, rules.role_of(order, author), now or timezone.now())
    return SupportRequest.objects.create(
        author=author, order=order, article=article[:200], text=text.strip(), created_at=now or timezone.now()
    )


@transaction.atomic  # not durable: admin's save_model runs inside the change view's transaction
def support_request_answer(
    *, support_request: SupportRequest, staff: User, answer: str, now: datetime | None = None
) -> SupportRequest:
    """Support answers; the buyer reads it on their page and by e-mail. A later answer replaces the
    earlier one and is mailed again."""
    if not staff.has_perm("orders.answer_supportrequest"):
        raise ActionRefused(_("Отвечать на обращения может только сотрудник поддержки."))
    if len(answer.strip()) < 10:
        raise ActionRefused(_("Напишите ответ хотя бы в 10 символов."))
    now = now or timezone.now()
    item = SupportRequest.objects.select_for_update(of=("self",)).get(pk=support_request.pk)
    item.answer, item.answered_by, item.answered_at = answer.strip(), staff, now
    item.status = SupportRequest.Status.ANSWERED
    item.save(update_fields=["answer", "answered_by", "answered_at", "status"])
    email_queue(
        user=item.author,
        template="support_answer",
        context={"support_request": item},
        dedupe_key=f"support-answer:{item.pk}:{now.isoformat()}",
    )
    return item
