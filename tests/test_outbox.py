"""The e-mail outbox: plain text arrives as typed, Message-ID marks a redelivery, SMTP failures back
off and end as FAILED."""

import contextlib
import json
import smtplib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import OperationalError, connection
from django.template import TemplateDoesNotExist
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from accounts import emails, mail_context
from accounts.emails import email_queue, email_send
from accounts.mail_context import MailContextError
from accounts.models import OutgoingEmail
from core import sweeps
from core.dates import days_lazy
from core.money import money_lazy

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp_down(monkeypatch):
    def refuse(self):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(locmem.EmailBackend, "open", refuse)


def test_plain_text_mail_arrives_without_html_escaping(buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(user=buyer, template="test_notice", context={"text": 'Tom & Jerry <shop> "quoted" it\'s'})
    assert mail.outbox[0].body.strip() == 'Tom & Jerry <shop> "quoted" it\'s'
    assert "&amp;" not in OutgoingEmail.objects.get().body


def test_every_mail_carries_a_message_id_from_its_dedupe_key(buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        keyed = email_queue(user=buyer, template="test_notice", context={"text": "a"}, dedupe_key="notice:1")
        keyless = email_queue(user=buyer, template="test_notice", context={"text": "b"})
    assert keyed is not None and keyless is not None
    sent = {message.body.strip(): message.message()["Message-ID"] for message in mail.outbox}
    assert sent["a"] == emails.message_id(keyed)
    assert sent["b"] == emails.message_id(keyless)
    assert sent["a"] != sent["b"]
    assert sent["a"].startswith("<outbox.") and sent["a"].endswith("@helpcenter.local>")


def test_smtp_failures_back_off_then_the_mail_fails_and_no_sweep_sends_it(buyer, smtp_down, monkeypatch):
    with time_machine.travel(START, tick=False):
        email = email_queue(user=buyer, template="test_notice", context={"text": "lost?"})
        assert email is not None
        assert email_send(email_id=email.pk) is False  # the worker's try after commit
    tried_at, delays = START, []
    for attempt in range(1, emails.MAX_ATTEMPTS):
        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, attempt)
        assert "ConnectionRefusedError" in email.last_error
        delays.append(email.next_attempt_at - tried_at)
        # Not before it is due (the sweep gives the worker a minute's grace) ...
        with time_machine.travel(email.next_attempt_at, tick=False):
            sweeps.run("outbox", timezone.now())
        assert OutgoingEmail.objects.get().attempts == attempt
        # ... then the sweep tries again.
        tried_at = email.next_attempt_at + timedelta(minutes=1)
        with time_machine.travel(tried_at, tick=False):
            sweeps.run("outbox", timezone.now())
    assert delays == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 64)]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, emails.MAX_ATTEMPTS)
    assert mail.outbox == []

    monkeypatch.undo()  # SMTP is back; a failed mail stays failed (staff see it in admin)
    with time_machine.travel(tried_at + timedelta(days=1), tick=False):
        sweeps.run("outbox", timezone.now())
        assert email_send(email_id=email.pk) is False
    assert mail.outbox == []
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, emails.MAX_ATTEMPTS)


def test_the_outbox_sweep_retries_a_mail_smtp_refused_once(buyer, smtp_down, monkeypatch):
    with time_machine.travel(START, tick=False):
        email = email_queue(user=buyer, template="test_notice", context={"text": "second time lucky"})
        assert email is not None
        email_send(email_id=email.pk)
    monkeypatch.undo()
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        assert sweeps.run("outbox", timezone.now()).changed == 1
    assert [message.body.strip() for message in mail.outbox] == ["second time lucky"]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 2)


# --- rendered by the worker that sends it -----------------------------------------------------------


def test_a_mail_is_stored_unrendered_and_the_sender_renders_it_in_the_recipients_language(
    buyer, django_capture_on_commit_callbacks
):
    buyer.preferred_language = "en"
    buyer.save(update_fields=["preferred_language"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email = email_queue(
            user=buyer,
            template="test_notice",
            context={
                "text": format_lazy(
                    gettext_lazy("Покупатель открыл спор по заказу {number}. Ответьте за {days}."),
                    number="RU1",
                    days=days_lazy(5),
                )
            },
        )
    assert email is not None
    row = OutgoingEmail.objects.get()
    assert (row.template, row.language, row.subject, row.body) == ("test_notice", "en", "", "")
    assert mail.outbox == []

    for callback in callbacks:
        callback()
    [message] = mail.outbox
    assert message.body.strip() == "The buyer opened a dispute on order RU1. Please respond within 5 days."
    row.refresh_from_db()
    assert row.status == OutgoingEmail.Status.SENT
    assert (row.subject, row.body) == (message.subject, message.body)  # kept for admin and audit


def test_context_values_come_back_as_themselves(order):
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    context = {
        "order": order,
        "amount": Decimal("24.90"),
        "when": moment,
        "day": moment.date(),
        "price": money_lazy(Decimal("24.90"), "USD"),
        "nested": [{"flag": True, "count": 3, "none": None}, ("a", 1.5)],
    }
    decoded = mail_context.decode(json.loads(json.dumps(mail_context.encode(context))))
    assert decoded["order"] == order and decoded["order"] is not order
    assert decoded["amount"] == Decimal("24.90") and isinstance(decoded["amount"], Decimal)
    assert (decoded["when"], decoded["day"]) == (moment, moment.date())
    assert decoded["nested"] == [{"flag": True, "count": 3, "none": None}, ["a", 1.5]]
    with translation.override("en"):
        assert str(decoded["price"]) == "$24.90"
    with translation.override("ru"):
        assert str(decoded["price"]) == "24,90\xa0$"


@pytest.mark.parametrize(
    "value",
    [
        {1, 2},
        object(),
        lambda: "text",
        [b"bytes"],
        {"__model__": "a key that would read as a reference"},
    ],
    ids=["set", "object", "function", "bytes in a list", "reserved key"],
)
def test_a_context_value_that_cannot_be_stored_is_refused_when_queued(buyer, value):
    with pytest.raises(MailContextError, match=r"context\['value'\]"):
        email_queue(user=buyer, template="test_notice", context={"value": value})
    assert not OutgoingEmail.objects.exists()


def test_an_unsaved_row_is_refused_in_a_context(buyer):
    from accounts.models import User

    with pytest.raises(MailContextError, match="unsaved User"):
        email_queue(user=buyer, template="test_notice", context={"someone": User(username="nobody")})
    assert not OutgoingEmail.objects.exists()


def test_a_mail_with_an_unknown_template_is_refused_when_queued(buyer):
    with pytest.raises(TemplateDoesNotExist):
        email_queue(user=buyer, template="no_such_notice", context={})
    assert not OutgoingEmail.objects.exists()


def test_a_mail_about_a_row_gone_before_sending_fails_with_the_reason_and_is_retried(buyer):
    from .factories import UserFactory

    someone = UserFactory()
    email = email_queue(user=buyer, template="test_notice", context={"text": someone})
    assert email is not None
    someone.delete()
    assert email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 1)
    assert "LookupError" in email.last_error and "no longer exists" in email.last_error
    assert mail.outbox == []


# --- sent once: claimed, sent outside any transaction, marked sent ---------------------------------

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


class TakesTheMailThenDies(locmem.EmailBackend):
    """The SMTP server took the mail, and then the worker never heard back (or was killed)."""

    death: BaseException = TimeoutError()

    def send_messages(self, messages):
        super().send_messages(messages)
        raise type(self).death


def lease_end(settings, start=START) -> datetime:
    settings.OUTBOX_LEASE_SECONDS = 600  # the default, set here so that the test reads it
    return start + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def message_ids() -> list[str]:
    return [message.message()["Message-ID"] for message in mail.outbox]


@pytest.mark.parametrize(
    "death",
    [TimeoutError("timed out waiting for the reply to DATA"), SystemExit("worker killed")],
    ids=["no reply", "worker killed"],
)
def test_a_mail_the_server_took_before_the_worker_died_is_sent_again_only_after_the_lease(buyer, settings, death):
    with time_machine.travel(START, tick=False):
        email = email_queue(user=buyer, template="test_notice", context={"text": "once"}, dedupe_key="notice:crash")
        assert email is not None
        settings.MAILERS = {"default": {"BACKEND": f"{__name__}.TakesTheMailThenDies"}}
        TakesTheMailThenDies.death = death
        with pytest.raises(type(death)) if isinstance(death, SystemExit) else contextlib.nullcontext():
            assert email_send(email_id=email.pk) is False
    settings.MAILERS = LOCMEM
    assert len(mail.outbox) == 1

    # The task's own retry, and every sweep until the lease ends, send nothing.
    with time_machine.travel(lease_end(settings) - timedelta(seconds=1), tick=False):
        assert email_send(email_id=email.pk) is False
        assert sweeps.run("outbox", timezone.now()).changed == 0
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENDING, 1)
    assert email.lease_expires_at == lease_end(settings)

    with time_machine.travel(lease_end(settings), tick=False):
        assert sweeps.run("outbox", timezone.now()).changed == 1
    first, again = message_ids()
    assert first == again == emails.message_id(email)
    email.refresh_from_db()
    assert (email.status, email.attempts, email.lease_expires_at) == (OutgoingEmail.Status.SENT, 2, None)


def test_a_mail_the_server_refused_is_retried_on_the_backoff_not_the_lease(buyer, monkeypatch):
    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({buyer.email: (450, b"mailbox busy")})

    with time_machine.travel(START, tick=False):
        email = email_queue(user=buyer, template="test_notice", context={"text": "later"})
        assert email is not None
        monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
        assert email_send(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.status, email.lease_expires_at) == (OutgoingEmail.Status.PENDING, None)
    assert email.next_attempt_at == START + timedelta(minutes=1) and "SMTPRecipientsRefused" in email.last_error
    monkeypatch.undo()
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        assert sweeps.run("outbox", timezone.now()).changed == 1
    assert len(mail.outbox) == 1


class SecondWorkerMeanwhile(locmem.EmailBackend):
    """While the first worker talks to the SMTP server, a second one is handed the same mail."""

    email_id: int = 0
    second_sent: list[bool] = []

    def send_messages(self, messages):
        cls = type(self)
        if not cls.second_sent:
            cls.second_sent.append(False)  # the second worker's own send does not recurse
            cls.second_sent[0] = email_send(email_id=cls.email_id)
        return super().send_messages(messages)


def test_a_second_worker_does_not_send_a_mail_the_first_is_sending(buyer, settings):
    email = email_queue(user=buyer, template="test_notice", context={"text": "one copy"})
    assert email is not None
    SecondWorkerMeanwhile.email_id, SecondWorkerMeanwhile.second_sent = email.pk, []
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.SecondWorkerMeanwhile"}}
    assert email_send(email_id=email.pk) is True
    assert SecondWorkerMeanwhile.second_sent == [False]
    assert [message.body.strip() for message in mail.outbox] == ["one copy"]


@pytest.fixture
def broker_down(monkeypatch):
    """Queued mails wait for the sweep (in a test without a transaction, the eager "worker" would
    otherwise send them the moment they are queued)."""
    monkeypatch.setattr(emails, "_publish", lambda email_ids: None)


# Without the test's transaction: a database error inside one would spoil it for what follows,
# where in a worker (autocommit) the next statement simply runs.
@pytest.mark.django_db(transaction=True)
def test_a_database_error_while_marking_a_mail_sent_does_not_send_it_again_before_the_lease(
    buyer, settings, monkeypatch, broker_down
):
    monkeypatch.setattr(emails, "MARK_SENT_RETRY_DELAYS", (0, 0), raising=False)

    def database_gone_when_marking_sent(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE") and "outgoingemail" in sql and "sent" in (params or ()):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with time_machine.travel(START, tick=False):
        email = email_queue(user=buyer, template="test_notice", context={"text": "once"}, dedupe_key="notice:db")
        assert email is not None
        with connection.execute_wrapper(database_gone_when_marking_sent), pytest.raises(OperationalError):
            email_send(email_id=email.pk)
    assert len(mail.outbox) == 1

    with time_machine.travel(lease_end(settings) - timedelta(seconds=1), tick=False):
        assert email_send(email_id=email.pk) is False  # the task retried after the error
        assert sweeps.run("outbox", timezone.now()).changed == 0
    assert len(mail.outbox) == 1
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENDING
    with time_machine.travel(lease_end(settings), tick=False):
        assert sweeps.run("outbox", timezone.now()).changed == 1
    assert len(set(message_ids())) == 1 and len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_a_short_database_outage_while_marking_sent_costs_no_second_copy(buyer, monkeypatch, broker_down):
    monkeypatch.setattr(emails, "MARK_SENT_RETRY_DELAYS", (0, 0))
    failures: list[str] = []

    def database_back_after_one_failure(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE") and "sent" in (params or ()) and not failures:
            failures.append(sql)
            raise OperationalError("the database system is starting up")
        return execute(sql, params, many, context)

    email = email_queue(user=buyer, template="test_notice", context={"text": "once"})
    assert email is not None
    with connection.execute_wrapper(database_back_after_one_failure):
        assert email_send(email_id=email.pk) is True
    email.refresh_from_db()
    assert (email.status, len(failures), len(mail.outbox)) == (OutgoingEmail.Status.SENT, 1, 1)


def test_a_mail_whose_last_attempt_ended_unknown_fails_when_its_lease_ends(buyer, settings):
    with time_machine.travel(START, tick=False):
        email = email_queue(user=buyer, template="test_notice", context={"text": "?"})
        assert email is not None
        settings.MAILERS = {"default": {"BACKEND": f"{__name__}.TakesTheMailThenDies"}}
        TakesTheMailThenDies.death = TimeoutError("no reply")
        OutgoingEmail.objects.filter(pk=email.pk).update(attempts=emails.MAX_ATTEMPTS - 1)
        assert email_send(email_id=email.pk) is False
    settings.MAILERS = LOCMEM
    with time_machine.travel(lease_end(settings), tick=False):
        sweeps.run("outbox", timezone.now())
    email.refresh_from_db()
    assert (email.status, email.attempts, len(mail.outbox)) == (OutgoingEmail.Status.FAILED, emails.MAX_ATTEMPTS, 1)


def test_the_provider_gets_the_same_idempotency_key_on_every_attempt(buyer, settings):
    settings.EMAIL_IDEMPOTENCY_HEADER = "Resend-Idempotency-Key"
    with time_machine.travel(START, tick=False):
        email = email_queue(user=buyer, template="test_notice", context={"text": "a"}, dedupe_key="refund-stale:12:3")
        assert email is not None
        settings.MAILERS = {"default": {"BACKEND": f"{__name__}.TakesTheMailThenDies"}}
        TakesTheMailThenDies.death = TimeoutError("no reply")
        email_send(email_id=email.pk)
    settings.MAILERS = LOCMEM
    with time_machine.travel(lease_end(settings), tick=False):
        sweeps.run("outbox", timezone.now())
    keys = [message.message()["Resend-Idempotency-Key"] for message in mail.outbox]
    assert keys == [emails.idempotency_key(email)] * 2
    assert keys[0].startswith("outbox.") and "refund-stale" not in keys[0]  # the key names rows: hashed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_send_one_mail_once(needs_postgres, buyer, broker_down):
    from .concurrency import run_together

    email = email_queue(user=buyer, template="test_notice", context={"text": "together"})
    assert email is not None
    results = run_together(lambda: email_send(email_id=email.pk), lambda: email_send(email_id=email.pk))
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT
