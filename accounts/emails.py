"""The e-mail outbox: queue inside the caller's transaction, render and send after commit, retry by sweep."""

import functools
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template import Engine
from django.utils import timezone, translation

from . import mail_context
from .models import OutgoingEmail, User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SWEEP_BATCH_SIZE = 200
HANDOFF_BATCH_SIZE = 50


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


@dataclass(frozen=True)
class Mail:
    """One e-mail to queue: `template` names `emails/<template>_subject.txt` and `emails/<template>.txt`."""

    user: User
    template: str
    context: dict[str, Any]
    dedupe_key: str | None = None
    kind: str = OutgoingEmail.Kind.SERVICE


def email_queue(
    *,
    user: User,
    template: str,
    context: dict[str, Any],
    dedupe_key: str | None = None,
    kind: str = OutgoingEmail.Kind.SERVICE,
) -> OutgoingEmail | None:
    """Write an e-mail to the outbox and hand it to a worker once the caller's transaction commits.

    The worker renders it in the recipient's language (email_send); the context is stored as JSON
    (accounts/mail_context.py) and a value that cannot be stored raises MailContextError here.
    Returns None when nothing is queued: marketing to someone who opted out, a user with no
    address, or a `dedupe_key` that was queued before.
    """
    queued = email_queue_all([Mail(user, template, context, dedupe_key, kind)])
    return queued[0] if queued else None


def email_queue_all(mails: list[Mail]) -> list[OutgoingEmail]:
    """Queue several e-mails in one statement (a fact that tells both parties); returns those queued."""
    rows = [
        _row(
            recipient=mail.user,
            to_address=mail.user.email,
            language=mail.user.preferred_language,
            template=mail.template,
            context={"user": mail.user, **mail.context},
            dedupe_key=mail.dedupe_key,
            kind=mail.kind,
        )
        for mail in mails
        if mail.user.email and (mail.kind != OutgoingEmail.Kind.MARKETING or mail.user.marketing_emails)
    ]
    return _insert(rows)


def email_queue_to_address(
    *, to_address: str, language: str, template: str, context: dict[str, Any], dedupe_key: str | None = None
) -> OutgoingEmail | None:
    """The same for an address no account has yet (the "finish signing up" letter), in `language`."""
    row = _row(
        recipient=None,
        to_address=to_address,
        language=language,
        template=template,
        context=context,
        dedupe_key=dedupe_key,
        kind=OutgoingEmail.Kind.SERVICE,
    )
    queued = _insert([row])
    return queued[0] if queued else None


@functools.lru_cache(maxsize=256)
def _template_exists(site_engine: Engine, template: str) -> bool:
    # Found once per process and template: a misspelt name fails in the caller, not in a worker.
    engine = _plain_text_engine(site_engine)
    for name in (f"emails/{template}_subject.txt", f"emails/{template}.txt"):
        engine.find_template(name)
    return True


def _row(
    *,
    recipient: User | None,
    to_address: str,
    language: str,
    template: str,
    context: dict[str, Any],
    dedupe_key: str | None,
    kind: str,
) -> OutgoingEmail:
    _template_exists(Engine.get_default(), template)
    now = timezone.now()
    return OutgoingEmail(
        recipient=recipient,
        to_address=to_address,
        language=language or settings.LANGUAGE_CODE,
        template=template,
        context=mail_context.encode(context),
        kind=kind,
        dedupe_key=dedupe_key,
        next_attempt_at=now,
        created_at=now,
    )


def _insert(rows: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: a dedupe key queued before is skipped by the
    database, without a savepoint per mail (PostgreSQL and SQLite alike)."""
    keyed: dict[str, OutgoingEmail] = {}
    for row in rows:
        if row.dedupe_key is not None:
            keyed.setdefault(row.dedupe_key, row)
    batches = [list(keyed.values())] if keyed else []
    # A mail without a key never conflicts, but several in one statement would come back in an
    # order the database does not promise: one statement each.
    batches += [[row] for row in rows if row.dedupe_key is None]
    queued = []
    for batch in batches:
        returned = _insert_ignoring_conflicts(batch)
        for row in batch:
            if row.dedupe_key is None or row.dedupe_key in returned:
                row.pk = returned[row.dedupe_key]
                row._state.adding, row._state.db = False, "default"
                queued.append(row)
    if queued:
        ids = [row.pk for row in queued]
        transaction.on_commit(lambda: _hand_to_worker(ids))
    return queued


def _insert_ignoring_conflicts(rows: list[OutgoingEmail]) -> dict[str | None, int]:
    """The new rows' ids by dedupe key (None for a row without one)."""
    meta = OutgoingEmail._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row_sql] * len(rows))} "
        f"ON CONFLICT DO NOTHING RETURNING {quote('id')}, {quote('dedupe_key')}"
    )
    params = [
        field.get_db_prep_save(field.pre_save(row, add=True), connection=connection) for row in rows for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {dedupe_key: pk for pk, dedupe_key in cursor.fetchall()}


_handoff_batch: ContextVar[list[int] | None] = ContextVar("outbox_handoff_batch", default=None)


@contextmanager
def handoff_batched() -> Iterator[None]:
    """Inside, mails are handed to workers after commit in messages of up to HANDOFF_BATCH_SIZE.

    A broker message costs about as much as a swept row (some 0.6 ms in Celery): a sweep that sent
    one per transaction spent most of its time there. Ids wait at most until the batch fills or
    the block ends; if the process dies first, the outbox sweep sends those mails, as it does
    after a broker outage.
    """
    if _handoff_batch.get() is not None:
        yield
        return
    waiting: list[int] = []
    token = _handoff_batch.set(waiting)
    try:
        yield
    finally:
        _handoff_batch.reset(token)
        if waiting:
            _publish(waiting)


def _hand_to_worker(email_ids: list[int]) -> None:
    waiting = _handoff_batch.get()
    if waiting is None:
        _publish(email_ids)
        return
    waiting.extend(email_ids)
    if len(waiting) >= HANDOFF_BATCH_SIZE:
        _publish(waiting[:])
        waiting.clear()


def _publish(email_ids: list[int]) -> None:
    from .tasks import send_emails

    try:
        send_emails.delay(email_ids)
    except Exception:
        logger.warning("Broker unavailable; e-mails %s stay in the outbox for the sweep", email_ids, exc_info=True)


def email_render(email: OutgoingEmail) -> tuple[str, str]:
    """Subject and body of a queued mail, rendered now in the language it was queued in."""
    with translation.override(email.language or settings.LANGUAGE_CODE):
        context = {"site_url": settings.SITE_URL, **mail_context.decode(email.context)}
        subject = " ".join(render_text(f"emails/{email.template}_subject.txt", context).split())
        body = render_text(f"emails/{email.template}.txt", context)
    return subject[:255], body


def email_send(*, email_id: int) -> bool:
    """Send one queued e-mail. Safe to call twice or from two workers: only one sends it.

    The mail is rendered here, in the worker, not in the transaction that queued it; subject and
    body are kept on the row (admin, audit), and a later attempt sends the text the first one made.
    """
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
            if email.template and not email.body:
                email.subject, email.body = email_render(email)
            EmailMessage(
                email.subject,
                email.body,
                settings.DEFAULT_FROM_EMAIL,
                [email.to_address],
                headers={"Message-ID": message_id(email)},
            ).send(using="default")
        except Exception as error:  # noqa: BLE001 - rendering, SMTP and network errors alike are retried
            email.last_error = repr(error)[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutgoingEmail.Status.FAILED
            else:
                email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
            email.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "subject", "body"])
            return False
        email.status = OutgoingEmail.Status.SENT
        email.sent_at = timezone.now()
        email.save(update_fields=["attempts", "status", "sent_at", "subject", "body"])
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
