import logging
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from core.sweeps import SweepResult, register

from . import emails
from .models import OutgoingEmail

logger = logging.getLogger(__name__)


def due_emails(now: datetime) -> QuerySet[OutgoingEmail]:
    """Mails to try now: pending ones whose next attempt is due (a minute's grace, so the sweep does
    not race the worker that got the after-commit message), and "sending" ones whose worker's
    lease ran out (it died, or could not tell whether the server took the mail)."""
    return OutgoingEmail.objects.filter(
        Q(status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=now - timedelta(minutes=1))
        | Q(status=OutgoingEmail.Status.SENDING, lease_expires_at__lte=now)
    )


@register("outbox", description="письма, которые не ушли с первого раза или ждут повтора")
def send_due_emails(now: datetime) -> SweepResult:
    """Not core.sweeps.sweep: that runs each row's action inside a transaction that holds the row,
    and a mail must be sent with no transaction open (email_send claims the row itself)."""
    result = SweepResult("outbox")
    due = due_emails(now).order_by("next_attempt_at").values_list("pk", flat=True)[: emails.SWEEP_BATCH_SIZE]
    for email_id in list(due):
        try:
            sent = emails.email_send(email_id=email_id, now=now)
        except Exception:
            logger.exception("Sweep outbox: mail %s failed; the other mails go on", email_id)
            result.failed += 1
            result.failed_ids.append(email_id)
            continue
        if sent:
            result.changed += 1
        else:
            result.skipped += 1
    if result.changed or result.skipped or result.failed:
        logger.info("%s", result)
    return result
