"""The claims' own deadlines: a claim waiting too long is flagged (15 days) and then overdue (60
days, the head of arbitration is told), and every arbitrator gets a daily digest of the flagged
ones. Each sweep one minute before and one minute after its moment."""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from disputes.models import Claim, Dispute, DisputeEvent

from .disputes_helpers import decide, escalate
from .factories import StaffFactory, arbitrator, support_agent

pytestmark = pytest.mark.django_db
MINUTE = timedelta(minutes=1)


@pytest.fixture
def olga(db):
    return arbitrator(username="olga")


@pytest.fixture
def head(db):
    head = arbitrator(username="head")
    head.groups.add(Group.objects.get(name="arbitration_heads"))
    return head


def claim_of(dispute: Dispute) -> Claim:
    return Claim.objects.get(dispute=dispute)


def moment(value: datetime | None) -> datetime:
    assert value is not None
    return value


def waiting_filter(client, user, which: str) -> str:
    client.force_login(user)
    return client.get(reverse("admin:disputes_claim_changelist") + f"?decision=all&waiting={which}").content.decode()


def mails_to(user) -> list:
    return [message for message in mail.outbox if message.to == [user.email]]


# --- claim-flags ---------------------------------------------------------------------------------


def test_a_claim_undecided_for_15_days_is_flagged_once_and_shows_in_the_admin_filter(
    client, dispute_factory, olga, run_sweep
):
    dispute = escalate(dispute_factory())
    due = moment(claim_of(dispute).flag_due_at)
    assert due == moment(dispute.escalated_at) + timedelta(days=15)

    assert run_sweep("claim-flags", due - MINUTE).changed == 0
    assert claim_of(dispute).flagged_at is None
    assert dispute.order.number not in waiting_filter(client, olga, "flagged")

    assert run_sweep("claim-flags", due + MINUTE).changed == 1
    assert run_sweep("claim-flags", due + 2 * MINUTE).changed == 0
    claim = claim_of(dispute)
    assert claim.flagged_at == due + MINUTE and claim.flag_due_at is None
    assert dispute.events.filter(kind=DisputeEvent.Kind.CLAIM_FLAGGED).count() == 1
    assert dispute.order.number in waiting_filter(client, olga, "flagged")
    assert dispute.order.number not in waiting_filter(client, olga, "overdue")


def test_a_claim_decided_in_time_is_never_flagged_nor_overdue(dispute_factory, olga, head, run_sweep):
    dispute = escalate(dispute_factory())
    claim = claim_of(dispute)
    decide(dispute, arbitrator=olga, winner="seller", now=moment(dispute.escalated_at) + timedelta(days=3))
    mail.outbox.clear()
    assert run_sweep("claim-flags", moment(claim.flag_due_at) + MINUTE).changed == 0
    assert run_sweep("claim-overdue", moment(claim.overdue_due_at) + MINUTE).changed == 0
    claim = claim_of(dispute)
    assert (claim.flagged_at, claim.overdue_at) == (None, None)
    assert mails_to(head) == []


# --- claim-overdue -------------------------------------------------------------------------------


def test_a_claim_undecided_for_60_days_is_overdue_and_the_head_of_arbitration_gets_one_email(
    client, dispute_factory, olga, head, run_sweep
):
    dispute = escalate(dispute_factory())
    due = moment(claim_of(dispute).overdue_due_at)
    assert due == moment(dispute.escalated_at) + timedelta(days=60)
    mail.outbox.clear()

    assert run_sweep("claim-overdue", due - MINUTE).changed == 0
    assert mails_to(head) == []

    assert run_sweep("claim-overdue", due + MINUTE).changed == 1
    assert run_sweep("claim-overdue", due + 2 * MINUTE).changed == 0
    claim = claim_of(dispute)
    assert claim.overdue_at == due + MINUTE and claim.overdue_due_at is None
    [overdue] = mails_to(head)
    assert dispute.order.number in overdue.subject and "без решения 60 дней" in overdue.subject
    assert mails_to(olga) == []  # an arbitrator who is not the head is not written to
    assert dispute.order.number in waiting_filter(client, olga, "overdue")


def test_without_a_head_of_arbitration_the_superusers_hear_of_an_overdue_claim(dispute_factory, run_sweep):
    admin = StaffFactory(username="root", is_superuser=True)
    dispute = escalate(dispute_factory())
    mail.outbox.clear()
    assert run_sweep("claim-overdue", moment(claim_of(dispute).overdue_due_at) + MINUTE).changed == 1
    [overdue] = mails_to(admin)
    assert dispute.order.number in overdue.subject


# --- arbitration-digest --------------------------------------------------------------------------


def seven_utc(day: datetime) -> datetime:
    return datetime.combine(day.date(), time(7), tzinfo=day.tzinfo)


def test_each_arbitrator_gets_one_digest_a_day_listing_only_the_flagged_claims(dispute_factory, olga, run_sweep):
    ivan = arbitrator(username="ivan")
    support = support_agent()
    flagged = escalate(dispute_factory())
    run_sweep("claim-flags", moment(claim_of(flagged).flag_due_at) + MINUTE)
    fresh = escalate(dispute_factory())  # not flagged (yet)
    mail.outbox.clear()
    morning = seven_utc(moment(claim_of(flagged).flagged_at) + timedelta(days=1))

    assert run_sweep("arbitration-digest", morning).changed == 2
    for person in (olga, ivan):
        [digest] = mails_to(person)
        assert "1 претензия ждёт решения дольше, чем 15 дней" in digest.subject
        assert flagged.order.number in digest.body and fresh.order.number not in digest.body
        assert reverse("admin:disputes_claim_change", args=[claim_of(flagged).pk]) in digest.body
    assert mails_to(support) == []

    assert run_sweep("arbitration-digest", morning + timedelta(hours=3)).changed == 0  # once a day
    assert len(mails_to(olga)) == 1
    assert run_sweep("arbitration-digest", morning + timedelta(days=1)).changed == 2  # and again the next
    assert len(mails_to(olga)) == len(mails_to(ivan)) == 2


def test_no_digest_when_no_claim_is_flagged(dispute_factory, olga, run_sweep):
    decided = escalate(dispute_factory())
    run_sweep("claim-flags", moment(claim_of(decided).flag_due_at) + MINUTE)
    flagged_at = moment(claim_of(decided).flagged_at)
    decide(decided, arbitrator=olga, winner="seller", now=flagged_at + MINUTE)  # a flagged claim, decided
    escalate(dispute_factory())  # a claim not waiting long enough to be flagged
    mail.outbox.clear()
    assert run_sweep("arbitration-digest", seven_utc(flagged_at + timedelta(days=1))).changed == 0
    assert mails_to(olga) == []
