"""The e-mail outbox: queue inside the caller's transaction, render and send after commit, retry by sweep."""

import enum
import functools
import hashlib
import logging
import smtplib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q
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
                # The row object stays the caller's, with what it holds (its recipient); saving it
                # again updates the row by its pk.
                row.pk = returned[row.dedupe_key]
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

    A broker message costs about as much as a swept row (docs/performance.md): a sweep that sent
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


class Delivery(enum.Enum):
    SENT = "sent"
    REFUSED = "refused"  # the SMTP server certainly did not take it: retried on the backoff
    UNKNOWN = "unknown"  # it may have: sent again only after the lease


# Errors after which the server certainly has not taken the mail: it refused the sender, every
# recipient or the message itself, or the address could not even be written (ValueError). Any
# other error while sending (a timeout waiting for the reply, a dropped connection) may come after
# the server took it.
_REFUSALS: tuple[type[BaseException], ...] = (
    smtplib.SMTPSenderRefused,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
    ValueError,
)
# Marking a sent mail "sent" is tried again this many times (seconds between): a PostgreSQL restart
# of a few seconds then costs no second copy after the lease.
MARK_SENT_RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8)


def email_send(*, email_id: int, now: datetime | None = None) -> bool:
    """Send one queued e-mail; True if this call sent it. Called by the worker after commit and by
    the outbox sweep, outside any transaction. Safe to call twice or from two workers: only one
    sends it.

    Three steps, so that no transaction is open while the SMTP server is talking:
    1. claim: a short transaction takes a pending row (or a "sending" one whose lease has passed),
       renders it if it was not rendered yet, and marks it "sending" with a lease of
       OUTBOX_LEASE_SECONDS. Subject and body are kept on the row, so a later attempt sends the
       text the first one made.
    2. send, with no transaction open and no row locked.
    3. record: "sent"; or "pending" again on the backoff if the server refused it; or, if we cannot
       know whether the server took it, left "sending" until the lease passes.
    A worker killed during 2 or 3 leaves the row "sending": the sweep sends it again only after the
    lease, with the same Message-ID (and idempotency key), so at most one more copy.
    """
    now = now or timezone.now()
    email = _claim(email_id, now)
    if email is None:
        return False
    delivery, error = _deliver(email)
    if delivery is Delivery.SENT:
        _mark_sent(email.pk)
        return True
    _record_failure(email, delivery, error, timezone.now())
    return False


def _claim(email_id: int, now: datetime) -> OutgoingEmail | None:
    """The row, rendered and marked "sending" with a lease, committed; None if it is not ours to send."""
    claimable = Q(status=OutgoingEmail.Status.PENDING) | Q(
        status=OutgoingEmail.Status.SENDING, lease_expires_at__lte=now
    )
    with transaction.atomic(durable=True):
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(claimable, pk=email_id)
            .first()
        )
        if email is None:
            return None
        if email.attempts >= MAX_ATTEMPTS:  # its last attempt's lease ran out: give up, staff see it
            email.status, email.lease_expires_at = OutgoingEmail.Status.FAILED, None
            email.save(update_fields=["status", "lease_expires_at"])
            return None
        email.attempts += 1
        try:
            if email.template and not email.body:
                email.subject, email.body = email_render(email)
        except Exception as error:  # noqa: BLE001 - e.g. a row the context names is gone: retried
            _back_off(email, error, now)
            email.save(update_fields=["attempts", "status", "next_attempt_at", "last_error", "lease_expires_at"])
            return None
        email.status = OutgoingEmail.Status.SENDING
        # From the clock, not from `now`: a sweep's `now` is when it started, maybe minutes ago.
        email.lease_expires_at = max(now, timezone.now()) + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        # For admin's "next attempt" and the sweep's order: not before the lease ends.
        email.next_attempt_at = email.lease_expires_at
        email.save(update_fields=["attempts", "status", "lease_expires_at", "next_attempt_at", "subject", "body"])
    return email


def _deliver(email: OutgoingEmail) -> tuple[Delivery, BaseException | None]:
    message = EmailMessage(
        email.subject, email.body, settings.DEFAULT_FROM_EMAIL, [email.to_address], headers=_headers(email)
    )
    mailer = mailers["default"]
    try:
        mailer.open()  # connecting and signing in: nothing is sent yet
    except Exception as error:  # noqa: BLE001 - a server down or refusing us is retried
        return Delivery.REFUSED, error
    try:
        sent = mailer.send_messages([message])
    except _REFUSALS as error:
        return Delivery.REFUSED, error
    except Exception as error:  # noqa: BLE001 - the server may have taken it
        return Delivery.UNKNOWN, error
    finally:
        try:
            mailer.close()
        except Exception:  # what was sent is sent; a failed QUIT changes nothing
            logger.warning("Closing the mail connection failed after mail %s", email.pk, exc_info=True)
    if not sent:
        return Delivery.REFUSED, RuntimeError("the mail backend sent nothing")
    return Delivery.SENT, None


def _mark_sent(email_id: int) -> None:
    """The row says "sent", in its own transaction; a database error is tried again for about 15
    seconds, then raised (the row stays "sending", and the lease keeps it from a second copy
    until it passes)."""
    database = connections[OutgoingEmail.objects.db]
    for delay in (*MARK_SENT_RETRY_DELAYS, None):
        try:
            OutgoingEmail.objects.filter(pk=email_id).exclude(status=OutgoingEmail.Status.SENT).update(
                status=OutgoingEmail.Status.SENT, sent_at=timezone.now(), lease_expires_at=None
            )
            return
        except DatabaseError:
            if delay is None:
                raise
            logger.warning("Could not mark mail %s sent; trying again in %s s", email_id, delay, exc_info=True)
            if not database.in_atomic_block:
                # A connection PostgreSQL dropped is closed here and opened anew by the next query.
                database.close_if_unusable_or_obsolete()
            time.sleep(delay)


def _back_off(email: OutgoingEmail, error: BaseException, now: datetime) -> None:
    email.last_error, email.lease_expires_at = repr(error)[:2000], None
    if email.attempts >= MAX_ATTEMPTS:
        email.status = OutgoingEmail.Status.FAILED
    else:
        email.status = OutgoingEmail.Status.PENDING
        email.next_attempt_at = now + retry_delay(email.attempts)


def _record_failure(email: OutgoingEmail, delivery: Delivery, error: BaseException | None, now: datetime) -> None:
    """What one failed attempt leaves on the row, unless another worker took it since (its lease
    ran out): then that worker's outcome counts, not this one."""
    assert error is not None
    ours = OutgoingEmail.objects.filter(
        pk=email.pk, status=OutgoingEmail.Status.SENDING, lease_expires_at=email.lease_expires_at
    )
    if delivery is Delivery.UNKNOWN:
        # Perhaps delivered: it stays "sending" until the lease passes.
        ours.update(last_error=repr(error)[:2000])
        return
    _back_off(email, error, now)
    ours.update(
        status=email.status,
        next_attempt_at=email.next_attempt_at,
        last_error=email.last_error,
        lease_expires_at=email.lease_expires_at,
    )


def _headers(email: OutgoingEmail) -> dict[str, str]:
    headers = {"Message-ID": message_id(email)}
    if settings.EMAIL_IDEMPOTENCY_HEADER:
        headers[settings.EMAIL_IDEMPOTENCY_HEADER] = idempotency_key(email)
    return headers


def _fact_digest(email: OutgoingEmail) -> str:
    # The dedupe key (one fact, one mail) or, without one, the row id; the row's creation time goes
    # in too, so a key or id reused by a fresh database never collides with a mail sent before.
    # Hashed: the key names rows (ids) that are nobody's business in a mail header.
    fact = email.dedupe_key or f"row:{email.pk}"
    return hashlib.sha256(f"{fact}|{email.created_at.isoformat()}".encode()).hexdigest()[:32]


def message_id(email: OutgoingEmail) -> str:
    """The mail's Message-ID, the same every time this row is sent: a copy sent again after a
    lease ran out is one message twice to mail clients and to whoever reads the logs."""
    return f"<outbox.{_fact_digest(email)}@{_message_id_domain()}>"


def idempotency_key(email: OutgoingEmail) -> str:
    """What a provider that deduplicates by key (EMAIL_IDEMPOTENCY_HEADER) gets: the same for every
    attempt at this row, so the provider drops a copy sent again after a lease ran out."""
    return f"outbox.{_fact_digest(email)}"


def _message_id_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "helpcenter.local"
