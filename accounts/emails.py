"""The e-mail outbox: queue inside the caller's transaction, send after commit, retry by sweep."""

import functools
import hashlib
import logging
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template import Engine
from django.utils import timezone, translation

from .models import OutgoingEmail, User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SWEEP_BATCH_SIZE = 200


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4 ... minutes, at most about four hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


@functools.lru_cache(maxsize=4)
def _plain_text_engine(site_engine: Engine) -> Engine:
    # The site's engine (same folders, loaders and tag libraries) with HTML escaping off: a mail
    # is plain text, where "Tom & Jerry" must not arrive as "Tom &amp; Jerry". Every mail goes
    # through here, so a new template cannot forget {% autoescape off %}. Keyed by the site's
    # engine, which Django rebuilds when a test changes TEMPLATES.
    return Engine(
        dirs=site_engine.dirs,
        loaders=site_engine.loaders,
        context_processors=[],
        debug=site_engine.debug,
        string_if_invalid=site_engine.string_if_invalid,
        file_charset=site_engine.file_charset,
        libraries=site_engine.libraries,
        builtins=[name for name in site_engine.builtins if name not in Engine.default_builtins],
        autoescape=False,
    )


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a plain-text template (a mail's body or subject) without HTML escaping."""
    return _plain_text_engine(Engine.get_default()).render_to_string(template_name, context)


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
    return _queue(
        recipient=user,
        to_address=user.email,
        language=user.preferred_language,
        template=template,
        context={"user": user, **context},
        dedupe_key=dedupe_key,
        kind=kind,
    )


def email_queue_to_address(
    *, to_address: str, language: str, template: str, context: dict, dedupe_key: str | None = None
) -> OutgoingEmail | None:
    """The same for an address no account has yet (the "finish signing up" letter), in `language`."""
    return _queue(
        recipient=None,
        to_address=to_address,
        language=language,
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        kind=OutgoingEmail.Kind.SERVICE,
    )


def _queue(
    *,
    recipient: User | None,
    to_address: str,
    language: str,
    template: str,
    context: dict,
    dedupe_key: str | None,
    kind: str,
) -> OutgoingEmail | None:
    with translation.override(language or settings.LANGUAGE_CODE):
        full_context = {"site_url": settings.SITE_URL, **context}
        subject = " ".join(render_text(f"emails/{template}_subject.txt", full_context).split())
        body = render_text(f"emails/{template}.txt", full_context)
    try:
        with transaction.atomic():
            email = OutgoingEmail.objects.create(
                recipient=recipient,
                to_address=to_address,
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
            EmailMessage(
                email.subject,
                email.body,
                settings.DEFAULT_FROM_EMAIL,
                [email.to_address],
                headers={"Message-ID": message_id(email)},
            ).send(using="default")
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


def message_id(email: OutgoingEmail) -> str:
    """The mail's Message-ID, the same every time this row is sent.

    Delivery is at least once: a worker that dies after the SMTP server took the mail but before
    the row says SENT sends it again. The copy carries the same Message-ID, so mail clients and
    whoever reads the logs see one message twice, not two messages. Derived from the dedupe key
    (one fact, one mail) or, without one, the row id; the row's creation time goes in too, so a
    key or id reused by a fresh database never collides with a mail sent before.
    """
    fact = email.dedupe_key or f"row:{email.pk}"
    digest = hashlib.sha256(f"{fact}|{email.created_at.isoformat()}".encode()).hexdigest()[:32]
    return f"<outbox.{digest}@{_message_id_domain()}>"


def _message_id_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "helpcenter.local"
