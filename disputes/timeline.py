"""A dispute event in words, for the timeline on the dispute page and the claim page in admin:
no codes, no JSON. Parties see everyone by role; staff see staff by name."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.money import format_money

from .models import Claim, Dispute, DisputeEvent, Winner, return_postage_sentence
from .problems import ALL_PROBLEMS


def _money(value: Any, currency: str) -> str:
    try:
        return format_money(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError):
        return str(value)


def _problems(codes: Any) -> str:
    if not isinstance(codes, list):
        return "—"
    return "; ".join(f"«{ALL_PROBLEMS[code].label}»" for code in codes if code in ALL_PROBLEMS) or "—"


def _date(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return formats.date_format(timezone.localtime(moment), "j E Y, H:i T")


def _stage(code: Any) -> str:
    return str(Claim.Stage(code).label) if code in Claim.Stage.values else "—"


def describe(event: DisputeEvent, dispute: Dispute, *, for_staff: bool) -> list[str]:
    """What changed in this event, one short line each."""
    details = event.details or {}
    currency = dispute.currency
    lines: list[str] = []
    if "amount" in details and event.kind != DisputeEvent.Kind.OPENED:
        lines.append(_("сумма: %(amount)s") % {"amount": _money(details["amount"], currency)})
    if event.kind == DisputeEvent.Kind.OPENED:
        lines.append(_("причина: %(problems)s") % {"problems": _problems(details.get("problems"))})
        if "amount" in details:
            lines.append(_("просит: %(amount)s") % {"amount": _money(details["amount"], currency)})
    if "problems" in details and isinstance(details["problems"], dict):
        lines.append(
            _("причина: было %(old)s, стало %(new)s")
            % {"old": _problems(details["problems"].get("old")), "new": _problems(details["problems"].get("new"))}
        )
    if "note" in details:
        lines.append(_("пояснение арбитра: %(note)s") % {"note": details["note"]})
    if "winner" in details and details["winner"] in Winner.values:
        lines.append(str(Winner(details["winner"]).label))
    if details.get("return_required"):
        lines.append(_("товар вернуть продавцу"))
        if "postage_limit" in details:
            limit = details["postage_limit"]
            lines.append(str(return_postage_sentence(Decimal(limit) if limit else None, currency, "")))
    if "tracking_number" in details:
        lines.append(_("трек: %(number)s") % {"number": details["tracking_number"]})
    if event.kind == DisputeEvent.Kind.EVIDENCE_REQUESTED:
        asked = [
            who
            for who, wanted in (
                (_("у покупателя"), details.get("of_buyer")),
                (_("у продавца"), details.get("of_seller")),
            )
            if wanted
        ]
        lines.append(", ".join(asked))
        if "due_at" in details:
            lines.append(_("ответить до %(date)s") % {"date": _date(details["due_at"])})
    if details.get("deadline_passed"):
        lines.append(_("срок ответа прошёл"))
    if "reference" in details:
        lines.append(_("номер возврата: %(reference)s") % {"reference": details["reference"]})
    if for_staff:
        if isinstance(details.get("arbitrator"), dict):
            lines.append(
                _("арбитр: было %(old)s, стало %(new)s")
                % {"old": details["arbitrator"].get("old") or "—", "new": details["arbitrator"].get("new") or "—"}
            )
        if isinstance(details.get("stage"), dict):
            lines.append(
                _("этап: было «%(old)s», стало «%(new)s»")
                % {"old": _stage(details["stage"].get("old")), "new": _stage(details["stage"].get("new"))}
            )
        # The policy's recommendation is for staff: the parties read only the quoted reason.
        if details.get("followed_recommendation") is True:
            lines.append(_("по рекомендации правил"))
        elif details.get("followed_recommendation") is False:
            lines.append(_("не по рекомендации правил: %(why)s") % {"why": details.get("deviation_reason", "—")})
    return [line for line in lines if line]


def actor_label(event: DisputeEvent, dispute: Dispute, *, for_staff: bool) -> str:
    """Who did it: parties read a role (Покупатель, Продавец, Арбитр, Поддержка, Система), never a
    login; staff read the staff member's name."""
    if for_staff and event.actor is not None and event.actor_id not in (dispute.buyer_id, dispute.store.owner_id):
        return staff_name(event.actor)
    return event.role_label()


def staff_name(user: Any) -> str:
    """A staff member as staff screens name them: the full name, the login only without one."""
    return str(user.get_full_name() or user.get_username())
