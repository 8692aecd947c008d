from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.emails import email_queue, handoff_batched
from accounts.models import User
from core.dates import days_lazy
from core.sweeps import DeadlineSweep, SweepResult, register, register_deadlines

from . import claims, rules, services
from .rules import Action

_flag_days = days_lazy(settings.CLAIM_DECISION_FLAG_DAYS)
_overdue_days = days_lazy(settings.CLAIM_DECISION_OVERDUE_DAYS)


def _dispute_deadline(
    name: str, action: Action, service: Callable[..., object], description: StrOrPromise
) -> DeadlineSweep:
    # Each service takes the dispute its sweep has locked, with its order and parties.
    return DeadlineSweep(name, action, service, "dispute", description, related=services.DISPUTE_RELATED)


register_deadlines(
    rules.book,
    _dispute_deadline(
        "seller-silence",
        Action.GRANT_FOR_SILENCE,
        services.dispute_grant_for_seller_silence,
        _("продавец не ответил вовремя: требование покупателя удовлетворено"),
    ),
    DeadlineSweep(
        "auto-claim",
        Action.AUTO_CLAIM,
        services.dispute_auto_claim,
        "dispute",
        _("спор без решения слишком долго: становится претензией"),
        # Escalating needs the order's number and both parties, not the item.
        related=("order", "buyer", "store__owner"),
        read_with={services.OFFER_PENDING_HINT: services.OFFER_PENDING},
        fields=services.AUTO_CLAIM_READS,
    ),
    _dispute_deadline(
        "return-deadlines",
        Action.CLOSE_UNRETURNED,
        services.dispute_close_unreturned,
        _("товар не отправлен обратно вовремя: спор закрыт без возврата"),
    ),
    _dispute_deadline(
        "evidence-deadlines",
        Action.CLOSE_EVIDENCE_REQUEST,
        claims.evidence_request_close,
        _("срок ответа на запрос арбитра прошёл: арбитр изучает то, что прислали"),
    ),
    _dispute_deadline(
        "claim-flags",
        Action.FLAG_CLAIM,
        claims.claim_flag_undecided,
        format_lazy(_("претензия без решения {days}: отмечается для арбитров"), days=_flag_days),
    ),
    _dispute_deadline(
        "claim-overdue",
        Action.MARK_CLAIM_OVERDUE,
        claims.claim_mark_overdue,
        format_lazy(_("претензия без решения {days}: просрочена, руководителю арбитража письмо"), days=_overdue_days),
    ),
    _dispute_deadline(
        "appeal-windows",
        Action.FINALIZE_DECISION,
        claims.claim_finalize,
        _("срок обжалования прошёл: решение исполняется"),
    ),
    handoff=handoff_batched,
)


@register(
    "arbitration-digest",
    description=format_lazy(_("сводка арбитрам: претензии без решения дольше чем {days}"), days=_flag_days),
    daily_at_hour=7,
)
def send_claim_digest(now: datetime) -> SweepResult:
    """Once a day: every arbitrator gets the list of claims flagged for waiting too long."""
    flagged = list(rules.flagged_claims().select_related("order", "claim").order_by("escalated_at"))
    result = SweepResult("arbitration-digest")
    if not flagged:
        return result
    for arbitrator in User.objects.filter(groups__permissions__codename="decide_claim", is_active=True).distinct():
        sent = email_queue(
            user=arbitrator,
            template="claim_digest",
            context={"claims": flagged},
            dedupe_key=f"claim-digest:{now.date().isoformat()}:{arbitrator.pk}",
        )
        result.changed += sent is not None
    return result
