from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.emails import email_queue, handoff_batched
from accounts.models import User
from core.dates import days_lazy
from core.sweeps import SweepResult, register, sweep

from . import claims, services
from .models import Claim, Dispute
from .rules import UNDECIDED_STAGES

S = Dispute.Status
_flag_days = days_lazy(settings.CLAIM_DECISION_FLAG_DAYS)
_overdue_days = days_lazy(settings.CLAIM_DECISION_OVERDUE_DAYS)
DisputeService = Callable[..., object]

UNDECIDED = tuple(UNDECIDED_STAGES)

# name: (which disputes may be due, the service, the deadline column, what happens)
DEADLINES: dict[str, tuple[Callable[[], QuerySet[Dispute]], DisputeService, str, object]] = {
    "seller-silence": (
        lambda: Dispute.objects.filter(status=S.AWAITING_SELLER),
        services.dispute_grant_for_seller_silence,
        "seller_answer_due_at",
        _("продавец не ответил вовремя: требование покупателя удовлетворено"),
    ),
    "auto-claim": (
        lambda: Dispute.objects.filter(status__in=(S.AWAITING_SELLER, S.NEGOTIATING)),
        services.dispute_auto_claim,
        "auto_claim_due_at",
        _("спор без решения слишком долго: становится претензией"),
    ),
    "return-deadlines": (
        lambda: Dispute.objects.filter(status=S.AWAITING_RETURN),
        services.dispute_close_unreturned,
        "return_due_at",
        _("товар не отправлен обратно вовремя: спор закрыт без возврата"),
    ),
    "evidence-deadlines": (
        lambda: Dispute.objects.filter(status=S.CLAIM, claim__stage=Claim.Stage.AWAITING_PARTIES),
        claims.evidence_request_close,
        "claim__evidence_due_at",
        _("срок ответа на запрос арбитра прошёл: арбитр изучает то, что прислали"),
    ),
    "claim-flags": (
        lambda: Dispute.objects.filter(status=S.CLAIM, claim__stage__in=UNDECIDED),
        claims.claim_flag_undecided,
        "claim__flag_due_at",
        format_lazy(_("претензия без решения {days}: отмечается для арбитров"), days=_flag_days),
    ),
    "claim-overdue": (
        lambda: Dispute.objects.filter(status=S.CLAIM, claim__stage__in=UNDECIDED),
        claims.claim_mark_overdue,
        "claim__overdue_due_at",
        format_lazy(_("претензия без решения {days}: просрочена, руководителю арбитража письмо"), days=_overdue_days),
    ),
    "appeal-windows": (
        lambda: Dispute.objects.filter(status=S.CLAIM, claim__stage=Claim.Stage.DECIDED),
        claims.claim_finalize,
        "claim__appeal_due_at",
        _("срок обжалования прошёл: решение исполняется"),
    ),
}


def due(name: str, now: datetime) -> QuerySet[Dispute]:
    """The disputes the deadline sweep `name` takes now."""
    candidates, _service, column, _description = DEADLINES[name]
    return candidates().filter(**{f"{column}__lte": now})


def _register_deadline(name: str) -> None:
    _candidates, service, column, description = DEADLINES[name]

    def run(now: datetime) -> SweepResult:
        with handoff_batched():
            return sweep(
                name,
                lambda at: due(name, at),
                lambda dispute, at: service(dispute=dispute, now=at),
                now=now,
                order_by=column,
                row=services.with_parties,
            )

    register(name, description=description)(run)  # type: ignore[arg-type]


for _name in DEADLINES:
    _register_deadline(_name)


@register(
    "arbitration-digest",
    description=format_lazy(_("сводка арбитрам: претензии без решения дольше чем {days}"), days=_flag_days),
    daily_at_hour=7,
)
def send_claim_digest(now: datetime) -> SweepResult:
    """Once a day: every arbitrator gets the list of claims flagged for waiting too long."""
    flagged = list(
        Dispute.objects.filter(status=S.CLAIM, claim__stage__in=UNDECIDED, claim__flagged_at__isnull=False)
        .select_related("order", "claim")
        .order_by("escalated_at")
    )
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
