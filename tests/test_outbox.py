"""The e-mail outbox: plain text arrives as typed, Message-ID marks a redelivery, SMTP failures back
off and end as FAILED."""

import json
import smtplib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
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
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)


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


def test_a_mail_sent_again_after_a_crash_has_the_same_message_id(buyer, monkeypatch):
    email = email_queue(user=buyer, template="test_notice", context={"text": "once"}, dedupe_key="notice:crash")
    assert email is not None
    real_save = OutgoingEmail.save

    def crash_after_smtp(self, *args, **kwargs):
        # The SMTP server took the mail, then the worker died before the row said SENT.
        raise SystemExit("worker killed")

    monkeypatch.setattr(OutgoingEmail, "save", crash_after_smtp)
    with pytest.raises(SystemExit, match="worker killed"):
        email_send(email_id=email.pk)
    monkeypatch.setattr(OutgoingEmail, "save", real_save)
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.PENDING

    assert email_send(email_id=email.pk) is True
    first, again = (message.message()["Message-ID"] for message in mail.outbox)
    assert first == again
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT


def test_smtp_failures_back_off_then_the_mail_fails_and_no_sweep_sends_it(buyer, smtp_down, monkeypatch):
    with time_machine.travel(START, tick=False):
        email = email_queue(user=buyer, template="test_notice", context={"text": "lost?"})
        assert email is not None
        assert email_send(email_id=email.pk) is False  # the worker's try after commit
    tried_at, delays = START, []
    for attempt in range(1, emails.MAX_ATTEMPTS):
        email.refresh_from_db()
        assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, attempt)
        assert "SMTPServerDisconnected" in email.last_error
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
