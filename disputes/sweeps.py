from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from helpcenter.sweeps import SweepResult, sweep

from . import services
from .models import Dispute

S = Dispute.Status
REFUSED = (services.DisputeActionRefused, ObjectDoesNotExist)


def due_seller_silence(now: datetime) -> QuerySet[Dispute]:
    return Dispute.objects.filter(seller_answer_due_at__lte=now, status=S.AWAITING_SELLER)


def due_auto_claims(now: datetime) -> QuerySet[Dispute]:
    return Dispute.objects.filter(auto_claim_at__lte=now, status__in=(S.AWAITING_SELLER, S.NEGOTIATING))


def due_unreturned(now: datetime) -> QuerySet[Dispute]:
    return Dispute.objects.filter(return_due_at__lte=now, status=S.AWAITING_RETURN)


def due_claim_flags(now: datetime) -> QuerySet[Dispute]:
    return Dispute.objects.filter(claim_flag_due_at__lte=now, status=S.CLAIM)


def due_claim_overdue(now: datetime) -> QuerySet[Dispute]:
    return Dispute.objects.filter(claim_overdue_due_at__lte=now, status=S.CLAIM)


def due_appeal_windows(now: datetime) -> QuerySet[Dispute]:
    return Dispute.objects.filter(appeal_deadline_at__lte=now, status=S.CLAIM)


def due_refunds(now: datetime) -> QuerySet[Dispute]:
    # The refund task normally runs right after commit; this picks up any the broker lost.
    cutoff = now - timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS)
    return Dispute.objects.filter(status=S.REFUNDING, updated_at__lte=cutoff)


def _dispute_sweep(name: str, due, service, deadline: str) -> Callable[[datetime], SweepResult]:
    """A sweep that calls `service(dispute_id=..., now=...)` for each dispute due by `deadline`."""

    def run(now: datetime) -> SweepResult:
        return sweep(
            name, due, lambda pk, at: service(dispute_id=pk, now=at), now=now, order_by=deadline, refused=REFUSED
        )

    return run


grant_for_seller_silence = _dispute_sweep(
    "seller-silence", due_seller_silence, services.dispute_grant_for_seller_silence, "seller_answer_due_at"
)
escalate_unresolved = _dispute_sweep("auto-claim", due_auto_claims, services.dispute_auto_claim, "auto_claim_at")
close_unreturned = _dispute_sweep(
    "return-deadlines", due_unreturned, services.dispute_close_unreturned, "return_due_at"
)
_flag_claims = _dispute_sweep("claim-flags", due_claim_flags, services.claim_flag_undecided, "claim_flag_due_at")
_mark_overdue_claims = _dispute_sweep(
    "claim-overdue", due_claim_overdue, services.claim_mark_overdue, "claim_overdue_due_at"
)
finalize_decisions = _dispute_sweep("appeal-windows", due_appeal_windows, services.claim_finalize, "appeal_deadline_at")
retry_refunds = _dispute_sweep("refunds", due_refunds, services.refund_execute, "updated_at")


def flag_undecided_claims(now: datetime) -> SweepResult:
    flagged, overdue = _flag_claims(now), _mark_overdue_claims(now)
    return SweepResult("claim-deadlines", flagged.changed + overdue.changed, flagged.skipped + overdue.skipped)


def send_claim_digest(now: datetime) -> SweepResult:
    """Once a day: every arbitrator gets the list of claims waiting more than 15 days."""
    from django.contrib.auth import get_user_model

    from accounts.emails import email_queue

    claims = list(
        Dispute.objects.filter(status=S.CLAIM, decided_at__isnull=True, claim_flagged_at__isnull=False)
        .select_related("order")
        .order_by("escalated_at")
    )
    result = SweepResult("arbitration-digest")
    if not claims:
        return result
    for arbitrator in get_user_model().objects.filter(groups__name="arbitrators", is_active=True):
        sent = email_queue(
            user=arbitrator,
            template="claim_digest",
            context={"claims": claims},
            dedupe_key=f"claim-digest:{now.date().isoformat()}:{arbitrator.pk}",
        )
        result.changed += sent is not None
    return result
