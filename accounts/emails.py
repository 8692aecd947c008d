"""The e-mail outbox: queue inside the caller's transaction, send after commit, retry by sweep."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import OutgoingEmail, User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SWEEP_BATCH_SIZE = 200


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4 ... minutes, at most about four hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


def email_queue(
    *,
    user: User,
    template: str,
    context: dict,
    dedupe_key: str | None = None,
    kind: str = OutgoingEmail.Kind.SERVICE,
) -> OutgoingEmail | None:
    """Write an e-mail to the outbox and hand it to a worker once the caller's transaction commits.

    `template` names `emails/<template>_subject.txt` and `emails/<template>.txt`, rendered in the
    recipient's language. Returns None when nothing is queued: marketing to someone who opted
    out, a user with no address, or a `dedupe_key` that was queued before.
    """
    if kind == OutgoingEmail.Kind.MARKETING and not user.marketing_emails:
        return None
    if not user.email:
        return None
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        full_context = {"user": user, "site_url": settings.SITE_URL, **context}
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", full_context).split())
        body = render_to_string(f"emails/{template}.txt", full_context)
    try:
        with transaction.atomic():
            email = OutgoingEmail.objects.create(
                recipient=user,
                to_address=user.email,
                subject=subject[:255],
                body=body,
                kind=kind,
                dedupe_key=dedupe_key,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        if dedupe_key and OutgoingEmail.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    transaction.on_commit(lambda: _hand_to_worker(email.pk))
    return email


def _hand_to_worker(email_id: int) -> None:
    from .tasks import send_email

    try:
        send_email.delay(email_id)
    except Exception:
        logger.warning("Broker unavailable; e-mail %s stays in the outbox for the sweep", email_id, exc_info=True)


def email_send(*, email_id: int) -> bool:
    """Send one queued e-mail. Safe to call twice or from two workers: only one sends it."""
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutgoingEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return False
        email.attempts += 1
        try:
            send_mail(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to_address])
        except Exception as error:  # noqa: BLE001 - SMTP and network errors alike are retried
            email.last_error = repr(error)[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutgoingEmail.Status.FAILED
            else:
                email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
            email.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return False
        email.status = OutgoingEmail.Status.SENT
        email.sent_at = timezone.now()
        email.save(update_fields=["attempts", "status", "sent_at"])
        return True


def email_send_due(*, limit: int = SWEEP_BATCH_SIZE) -> int:
    """Send what is due in the outbox: mail the broker never delivered and mail due for a retry."""
    # A minute's grace so the sweep does not race the worker that got the on-commit message.
    due_before = timezone.now() - timedelta(minutes=1)
    due_ids = list(
        OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=due_before)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(email_send(email_id=email_id) for email_id in due_ids)
