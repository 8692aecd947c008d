"""Dispute date rules. The dispute page, the services and the beat sweeps all ask these, so a
date a page promises is the date the server keeps."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orders.models import Order
from orders.rules import protection_is_running

from .models import Dispute


def seller_answer_due(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.DISPUTE_SELLER_ANSWER_DAYS)


def escalation_opens(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.DISPUTE_ESCALATION_AFTER_DAYS)


def auto_claim_at(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.DISPUTE_AUTO_CLAIM_AFTER_DAYS)


def return_due(resolved_at: datetime) -> datetime:
    return resolved_at + timedelta(days=settings.DISPUTE_RETURN_SHIP_DAYS)


def dispute_open_refusal(order: Order, now: datetime, *, has_dispute: bool) -> str | None:
    """Why a dispute cannot be opened on this order now, or None when it can."""
    if has_dispute:
        return _("По этому заказу уже открывали спор. Спор по заказу открывается только один раз.")
    if order.status == Order.Status.AWAITING_SHIPMENT:
        return _("Спор можно открыть, когда продавец отправит заказ.")
    if order.status == Order.Status.COMPLETED or not protection_is_running(order, now):
        return _("Срок защиты заказа закончился, поэтому открыть спор уже нельзя.")
    return None


def escalation_refusal(dispute: Dispute, now: datetime) -> str | None:
    if dispute.status not in (Dispute.Status.AWAITING_SELLER, Dispute.Status.NEGOTIATING):
        return _("Этот спор уже нельзя передать в претензию.")
    if now < dispute.escalation_opens_at:
        return _("Передать спор в претензию можно с %(date)s.") % {"date": local_date(dispute.escalation_opens_at)}
    return None


def max_refund(order: Order):
    return order.total_amount


def claim_flag_due(escalated_at: datetime) -> datetime:
    return escalated_at + timedelta(days=settings.CLAIM_DECISION_FLAG_DAYS)


def claim_overdue_due(escalated_at: datetime) -> datetime:
    return escalated_at + timedelta(days=settings.CLAIM_DECISION_OVERDUE_DAYS)


def appeal_deadline(decided_at: datetime) -> datetime:
    return decided_at + timedelta(days=settings.CLAIM_APPEAL_DAYS)


def is_due(deadline: datetime | None, now: datetime) -> bool:
    """A deadline has passed: the same comparison for the pages and the sweeps."""
    return deadline is not None and deadline <= now


def local_date(moment: datetime) -> str:
    """A deadline as the user reads it: in their time zone, to the minute."""
    return formats.date_format(timezone.localtime(moment), "j E, H:i")
