from datetime import datetime, timedelta

from django.db.models import QuerySet

from core.sweeps import SweepResult, register, sweep

from . import emails
from .models import OutgoingEmail


def due_emails(now: datetime) -> QuerySet[OutgoingEmail]:
    # A minute's grace, so the sweep does not race the worker that got the after-commit message.
    return OutgoingEmail.objects.filter(
        status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=now - timedelta(minutes=1)
    )


@register("outbox", description="письма, которые не ушли с первого раза или ждут повтора")
def send_due_emails(now: datetime) -> SweepResult:
    return sweep(
        "outbox",
        due_emails,
        lambda pk, at: emails.email_send(email_id=pk),
        now=now,
        order_by="next_attempt_at",
        limit=emails.SWEEP_BATCH_SIZE,
    )
