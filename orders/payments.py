"""Refunds: the ledger, the payment system's confirmation, and what happens when money is back.

A refund is requested inside the transaction that decides it (a dispute resolved, an order
cancelled) and handed to the payment system after commit. The payment system confirms it by a
signed webhook (or staff confirm it by hand); then the handler registered for its purpose runs
(the dispute becomes "refund completed"). Every step is idempotent: a second webhook, a replayed
one, or a task that runs twice changes nothing.
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ActionRefused
from core.signatures import NoticeRejected, notice_json, notice_object, notice_text, notice_verify_from

from . import rules
from .models import Order, OrderItem, PaymentNotice, Refund
from .rules import Action, Role

logger = logging.getLogger(__name__)

RefundCompleted = Callable[[Refund, datetime], None]
_completion_handlers: dict[str, RefundCompleted] = {}


def on_refund_completed(purpose: str) -> Callable[[RefundCompleted], RefundCompleted]:
    """Register what happens when a refund of this purpose is confirmed (the app that asked for
    it registers; orders imports none of them)."""

    def register(handler: RefundCompleted) -> RefundCompleted:
        _completion_handlers[purpose] = handler
        return handler

    return register


# --- the payment system ------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayAnswer:
    reference: str
    completed: bool  # paid at once, or to be confirmed later by the webhook


def gateway_send(refund: Refund) -> GatewayAnswer:
    """Ask the payment system to pay the refund.

    "simulated" (the default for `make run` and tests) pays at once. "external" sends nothing
    from here and waits for the payment system's webhook or for staff: a real provider's API call
    belongs in this function.
    """
    if settings.PAYMENT_GATEWAY == "simulated":
        return GatewayAnswer(reference=f"SIM-{secrets.token_hex(6).upper()}", completed=True)
    return GatewayAnswer(reference="", completed=False)


# --- the ledger --------------------------------------------------------------------------------


def refund_lock(refund_id: int) -> Refund:
    return Refund.objects.select_for_update(of=("self",)).select_related("order").get(pk=refund_id)


def refund_request(
    *, order: Order, purpose: str, amount: Decimal, currency: str, now: datetime, item: OrderItem | None = None
) -> Refund:
    """Start a refund inside the caller's transaction; the payment system gets it after commit.
    `item`: the item a dispute's refund is for (one refund per item and purpose)."""
    reference = f"RF-{order.number}-{secrets.token_hex(3).upper()}"
    refund = Refund.objects.create(
        order=order,
        item=item,
        purpose=purpose,
        amount=amount,
        currency=currency,
        reference=reference,
        requested_at=now,
        send_due_at=now + timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS),
        stale_due_at=now + timedelta(hours=settings.REFUND_STALE_HOURS),
    )
    refund_id = refund.pk
    transaction.on_commit(lambda: _hand_to_worker(refund_id))
    return refund


def refund_already_completed(
    order: Order,
    *,
    amount: Decimal,
    currency: str,
    reference: str,
    requested_at: datetime,
    completed_at: datetime,
    confirmed_by: str,
    gateway_reference: str = "",
) -> Refund:
    """The ledger row of a cancellation's refund that was paid back outside this site (the
    marketplace's own, or the demo's story): completed already, nothing to send."""
    return Refund.objects.create(
        order=order,
        purpose=Refund.Purpose.CANCELLATION,
        amount=amount,
        currency=currency,
        reference=reference,
        status=Refund.Status.COMPLETED,
        requested_at=requested_at,
        sent_at=requested_at,
        completed_at=completed_at,
        confirmed_by=confirmed_by,
        gateway_reference=gateway_reference,
    )


def _hand_to_worker(refund_id: int) -> None:
    from .tasks import send_refund

    try:
        send_refund.delay(refund_id)
    except Exception:
        logger.warning("Broker unavailable; refund %s waits for the refunds sweep", refund_id, exc_info=True)


@transaction.atomic  # not durable: the refunds sweep's row action (the task opens its own)
def refund_send(*, refund_id: int, now: datetime | None = None) -> bool:
    """Hand a requested refund to the payment system, once."""
    now = now or timezone.now()
    refund = refund_lock(refund_id)
    if rules.refusal(Action.SEND_REFUND, refund, Role.SYSTEM, now):
        return False
    answer = gateway_send(refund)
    refund.sent_at, refund.send_due_at, refund.gateway_reference = now, None, answer.reference
    refund.save(update_fields=["sent_at", "send_due_at", "gateway_reference"])
    if answer.completed:
        _complete(refund, confirmed_by=Refund.ConfirmedBy.GATEWAY, user=None, now=now)
    return True


def _complete(refund: Refund, *, confirmed_by: str, user: User | None, now: datetime) -> None:
    refund.status, refund.completed_at = Refund.Status.COMPLETED, now
    refund.confirmed_by, refund.confirmed_by_user = confirmed_by, user
    refund.stale_due_at = refund.send_due_at = None
    refund.save(
        update_fields=["status", "completed_at", "confirmed_by", "confirmed_by_user", "stale_due_at", "send_due_at"]
    )
    handler = _completion_handlers.get(refund.purpose)
    if handler is not None:
        handler(refund, now)


@transaction.atomic  # not durable: the payment webhook confirms inside its own transaction
def refund_confirm(
    *,
    refund_id: int,
    confirmed_by: str,
    user: User | None = None,
    gateway_reference: str = "",
    now: datetime | None = None,
) -> bool:
    """The money reached the buyer. Returns False when the refund was already confirmed."""
    now = now or timezone.now()
    refund = refund_lock(refund_id)
    if refund.status == Refund.Status.COMPLETED:
        return False
    if confirmed_by == Refund.ConfirmedBy.STAFF and (user is None or not user.has_perm("orders.confirm_refund")):
        raise ActionRefused(_("Отмечать возврат выполненным может только сотрудник с таким правом."))
    if gateway_reference:
        refund.gateway_reference = gateway_reference
        refund.save(update_fields=["gateway_reference"])
    _complete(refund, confirmed_by=confirmed_by, user=user, now=now)
    return True


@transaction.atomic
def refund_flag_stale(*, refund_id: int, now: datetime | None = None) -> bool:
    """A refund "preparing" for too long: flagged for staff (admin filter, one e-mail)."""
    now = now or timezone.now()
    refund = refund_lock(refund_id)
    if rules.refusal(Action.FLAG_STALE_REFUND, refund, Role.SYSTEM, now):
        return False
    refund.flagged_at, refund.stale_due_at = now, None
    refund.save(update_fields=["flagged_at", "stale_due_at"])
    from accounts.emails import email_queue

    for person in refund_watchers():
        email_queue(
            user=person,
            template="refund_stale",
            context={"refund": refund},
            dedupe_key=f"refund-stale:{refund.pk}:{person.pk}",
        )
    return True


def refund_watchers() -> list[User]:
    """Who hears about stuck refunds: staff who may confirm refunds, or else the superusers."""
    may_confirm = Q(groups__permissions__codename="confirm_refund") | Q(user_permissions__codename="confirm_refund")
    watchers = list(User.objects.filter(may_confirm, is_active=True).distinct())
    return watchers or list(User.objects.filter(is_superuser=True, is_active=True))


# --- the payment system's webhook ----------------------------------------------------------------


def _verify(*, header: str, body: bytes, now: datetime) -> None:
    # An old notice replayed with its real signature is refused by the tolerance: it changes nothing.
    notice_verify_from("PAYMENT_WEBHOOK", header=header, body=body, now=now)


@dataclass(frozen=True)
class PaymentNoticeFields:
    event_id: str
    kind: str
    reference: str
    gateway_reference: str
    payload: dict[str, Any]


def _column_length(model: type[models.Model], field: str) -> int:
    return int(model._meta.get_field(field).max_length or 0)  # type: ignore[union-attr]


def payment_notice_fields(body: bytes) -> PaymentNoticeFields:
    """A signed notice's fields, each checked for its type and its column's length before
    anything is looked up: {"id": text, "type": text, "data": {"reference": text,
    "gateway_reference": text}}. NoticeRejected(400) naming the field otherwise."""
    payload = notice_json(body)
    data = notice_object(payload, "data")
    return PaymentNoticeFields(
        event_id=notice_text(payload, "id", max_length=_column_length(PaymentNotice, "event_id")),
        kind=notice_text(payload, "type", max_length=_column_length(PaymentNotice, "kind")),
        # Absent in notices about nothing of ours; "refund.completed" without one finds no refund (404).
        reference=notice_text(
            data, "reference", max_length=_column_length(Refund, "reference"), required=False, where="data"
        ),
        gateway_reference=notice_text(
            data,
            "gateway_reference",
            max_length=_column_length(Refund, "gateway_reference"),
            required=False,
            where="data",
        ),
        payload=payload,
    )


def payment_notice_receive(*, body: bytes, signature_header: str, now: datetime | None = None) -> str:
    """Take one signed notice: "refund.completed" confirms a refund. Returns "processed" or
    "duplicate" (the same event id seen before); raises NoticeRejected otherwise."""
    now = now or timezone.now()
    _verify(header=signature_header, body=body, now=now)
    notice = payment_notice_fields(body)
    if PaymentNotice.objects.filter(event_id=notice.event_id).exists():
        return "duplicate"
    refund = Refund.objects.filter(reference=notice.reference).first()
    if notice.kind == "refund.completed" and refund is None:
        raise NoticeRejected(404, "no refund with that reference")
    try:
        with transaction.atomic(durable=True):
            PaymentNotice.objects.create(
                event_id=notice.event_id, refund=refund, kind=notice.kind, received_at=now, payload=notice.payload
            )
            if notice.kind == "refund.completed" and refund is not None:
                refund_confirm(
                    refund_id=refund.pk,
                    confirmed_by=Refund.ConfirmedBy.WEBHOOK,
                    gateway_reference=notice.gateway_reference,
                    now=now,
                )
    except IntegrityError:  # the same notice, delivered twice at the same moment
        return "duplicate"
    return "processed"
