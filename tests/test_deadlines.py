"""Deadlines: each sweep one minute before and one minute after its moment."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import OutgoingEmail
from disputes import services
from disputes.models import Dispute, DisputeEvent, Refund
from helpcenter import deadlines
from orders import services as order_services
from orders.models import Order, OrderEvent, ProtectionExtension

from .disputes_helpers import open_dispute, seller_counter_offer
from .factories import OrderFactory, StaffFactory

pytestmark = pytest.mark.django_db
S = Dispute.Status
MINUTE = timedelta(minutes=1)


@pytest.fixture
def run_sweep(django_capture_on_commit_callbacks):
    """Run a sweep as beat would at `at`, with its after-commit mail and tasks."""

    def run(name, at):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return deadlines.run(name, timezone.now())

    return run


# --- protection --------------------------------------------------------------------------------


def test_confirm_reminder_goes_out_once_five_days_before_protection_ends(order, run_sweep, settings):
    due = order.protection_ends_at - timedelta(days=settings.CONFIRM_DELIVERY_REMINDER_DAYS)
    assert run_sweep("protection-reminders", due - MINUTE).changed == 0
    assert mail.outbox == []
    assert run_sweep("protection-reminders", due + MINUTE).changed == 1
    assert run_sweep("protection-reminders", due + 2 * MINUTE).changed == 0
    assert [message.to for message in mail.outbox] == [[order.buyer.email]]
    assert "Подтвердите получение" in mail.outbox[0].subject
    assert order.events.filter(kind=OrderEvent.Kind.REMINDER_SENT).count() == 1


def test_no_reminder_for_confirmed_or_disputed_orders(order, buyer, seller, run_sweep):
    confirmed = OrderFactory.confirmed(buyer=buyer, store=seller.store)
    open_dispute(order)
    assert run_sweep("protection-reminders", confirmed.protection_ends_at - MINUTE).changed == 0
    assert run_sweep("protection-reminders", order.protection_ends_at - MINUTE).changed == 0


def test_an_extension_brings_a_new_reminder_before_the_new_end(order, buyer, seller, run_sweep):
    first_due = order.protection_ends_at - timedelta(days=5)
    run_sweep("protection-reminders", first_due + MINUTE)
    with time_machine.travel(first_due + 2 * MINUTE):
        extension = order_services.extension_request(order=order, buyer=buyer, days=10, reason="таможня")
        order_services.extension_answer(extension=extension, seller=seller, accept=True)
    order.refresh_from_db()
    assert run_sweep("protection-reminders", order.protection_ends_at - timedelta(days=5) + MINUTE).changed == 1
    reminders = [message for message in mail.outbox if "Подтвердите получение" in message.subject]
    assert len(reminders) == 2


def test_order_completes_when_protection_ends_and_no_dispute_can_follow(order, run_sweep):
    with time_machine.travel(order.protection_ends_at - 2 * MINUTE):
        order_services.extension_request(order=order, buyer=order.buyer, days=5, reason="ещё в пути")
    assert run_sweep("protection-expiry", order.protection_ends_at - MINUTE).changed == 0
    assert run_sweep("protection-expiry", order.protection_ends_at + MINUTE).changed == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.completed_at
    assert order.extensions.get().status == ProtectionExtension.Status.LAPSED
    with pytest.raises(services.DisputeActionRefused):
        open_dispute(order)


def test_an_order_under_dispute_does_not_complete(order, run_sweep):
    open_dispute(order)
    assert run_sweep("protection-expiry", order.protection_ends_at + MINUTE).changed == 0
    order.refresh_from_db()
    assert order.status == Order.Status.IN_TRANSIT


# --- seller silence, auto-claim ------------------------------------------------------------------


def test_seller_silent_for_5_days_loses_and_the_refund_starts(dispute_factory, run_sweep):
    dispute = dispute_factory()
    assert run_sweep("seller-silence", dispute.seller_answer_due_at - MINUTE).changed == 0
    assert run_sweep("seller-silence", dispute.seller_answer_due_at + MINUTE).changed == 1
    dispute.refresh_from_db()
    assert dispute.status == S.REFUNDED
    assert dispute.resolved_amount == dispute.requested_amount
    assert dispute.events.filter(kind=DisputeEvent.Kind.SELLER_SILENT).count() == 1
    assert Refund.objects.filter(dispute=dispute).count() == 1


def test_a_seller_who_answered_is_not_punished(dispute_factory, run_sweep):
    dispute = dispute_factory()
    seller_counter_offer(dispute)
    assert run_sweep("seller-silence", dispute.opened_at + timedelta(days=5, minutes=1)).changed == 0
    dispute.refresh_from_db()
    assert dispute.status == S.NEGOTIATING


def test_unresolved_dispute_becomes_a_claim_after_15_days_and_both_are_told(dispute_factory, run_sweep):
    dispute = dispute_factory()
    seller_counter_offer(dispute)
    mail.outbox.clear()
    assert run_sweep("auto-claim", dispute.auto_claim_at - MINUTE).changed == 0
    assert run_sweep("auto-claim", dispute.auto_claim_at + MINUTE).changed == 1
    assert run_sweep("auto-claim", dispute.auto_claim_at + 2 * MINUTE).changed == 0
    dispute.refresh_from_db()
    assert dispute.status == S.CLAIM
    assert dispute.events.filter(kind=DisputeEvent.Kind.ESCALATED).count() == 1
    assert sorted(message.to[0] for message in mail.outbox) == sorted([dispute.buyer.email, dispute.store.owner.email])


def test_the_page_promises_the_date_the_sweep_keeps(login, dispute_factory, run_sweep):
    dispute = dispute_factory()
    seller_counter_offer(dispute)
    page = login(dispute.buyer).get(f"/account/disputes/{dispute.pk}/").content.decode()
    promised = timezone.localtime(dispute.auto_claim_at, timezone=ZoneInfo("Europe/Moscow"))
    assert f"{promised:%H:%M}" in page
    run_sweep("auto-claim", dispute.auto_claim_at)
    dispute.refresh_from_db()
    assert dispute.status == S.CLAIM


# --- returns, claims, appeals -----------------------------------------------------------------


def test_a_return_not_shipped_in_10_days_closes_the_dispute(dispute_factory, run_sweep):
    dispute = dispute_factory()
    offer = services.offer_make(
        dispute=dispute, user=dispute.store.owner, refund_type="full", amount=None, return_required=True, note="верните"
    )
    services.offer_accept(dispute=dispute, offer_id=offer.pk, user=dispute.buyer)
    dispute.refresh_from_db()
    assert run_sweep("return-deadlines", dispute.return_due_at - MINUTE).changed == 0
    assert run_sweep("return-deadlines", dispute.return_due_at + MINUTE).changed == 1
    dispute.refresh_from_db()
    assert dispute.status == S.CLOSED
    assert not Refund.objects.filter(dispute=dispute).exists()


def escalated(dispute_factory):
    dispute = dispute_factory()
    with time_machine.travel(dispute.escalation_opens_at + MINUTE):
        services.dispute_escalate(dispute=dispute, user=dispute.buyer)
    dispute.refresh_from_db()
    return dispute


def test_claims_without_a_decision_are_flagged_at_15_days_and_overdue_at_60(dispute_factory, run_sweep):
    dispute = escalated(dispute_factory)
    head = StaffFactory(email="head@example.com")
    head.groups.add(Group.objects.get(name="arbitration_heads"))
    flag_at, overdue_at = dispute.escalated_at + timedelta(days=15), dispute.escalated_at + timedelta(days=60)
    assert run_sweep("claim-deadlines", flag_at - MINUTE).changed == 0
    assert run_sweep("claim-deadlines", flag_at + MINUTE).changed == 1
    dispute.refresh_from_db()
    assert dispute.claim_flagged_at and not dispute.claim_overdue_at
    assert run_sweep("claim-deadlines", overdue_at - MINUTE).changed == 0
    mail.outbox.clear()
    assert run_sweep("claim-deadlines", overdue_at + MINUTE).changed == 1
    dispute.refresh_from_db()
    assert dispute.claim_overdue_at
    assert [message.to for message in mail.outbox] == [["head@example.com"]]


def test_daily_digest_lists_flagged_claims_for_each_arbitrator(dispute_factory, run_sweep):
    dispute = escalated(dispute_factory)
    arbitrator = StaffFactory(email="arb@example.com")
    arbitrator.groups.add(Group.objects.get(name="arbitrators"))
    run_sweep("claim-deadlines", dispute.escalated_at + timedelta(days=15, minutes=1))
    mail.outbox.clear()
    day = dispute.escalated_at + timedelta(days=16)
    assert run_sweep("arbitration-digest", day).changed == 1
    assert run_sweep("arbitration-digest", day + timedelta(hours=1)).changed == 0  # once a day
    assert mail.outbox[0].to == ["arb@example.com"] and dispute.order.number in mail.outbox[0].body


def test_admin_filters_claims_waiting_over_15_days(client, dispute_factory, run_sweep):
    dispute = escalated(dispute_factory)
    other = escalated(dispute_factory)
    run_sweep("claim-deadlines", dispute.escalated_at + timedelta(days=15, minutes=1))
    Dispute.objects.filter(pk=other.pk).update(claim_flagged_at=None)
    client.force_login(StaffFactory(is_superuser=True))
    page = client.get("/admin/disputes/dispute/?claim_age=15").content.decode()
    assert dispute.order.number in page and other.order.number not in page


@pytest.mark.parametrize(("winner", "final_status"), [("buyer", S.REFUNDED), ("seller", S.CLOSED)])
def test_a_decision_becomes_final_when_the_7_day_appeal_window_passes(dispute_factory, run_sweep, winner, final_status):
    dispute = escalated(dispute_factory)
    decided = services.claim_decide(
        dispute=dispute, arbitrator=StaffFactory(), winner=winner, amount=Decimal("20"), reason="Видео подтверждает"
    )
    assert decided.appeal_deadline_at == decided.decided_at + timedelta(days=7)
    assert run_sweep("appeal-windows", decided.appeal_deadline_at - MINUTE).changed == 0
    dispute.refresh_from_db()
    assert dispute.status == S.CLAIM
    assert run_sweep("appeal-windows", decided.appeal_deadline_at + MINUTE).changed == 1
    dispute.refresh_from_db()
    assert dispute.status == final_status
    assert Refund.objects.filter(dispute=dispute).exists() == (winner == "buyer")


def test_a_decided_claim_is_no_longer_flagged(dispute_factory, run_sweep):
    dispute = escalated(dispute_factory)
    services.claim_decide(
        dispute=dispute, arbitrator=StaffFactory(), winner="seller", amount=None, reason="Нет доказательств"
    )
    assert run_sweep("claim-deadlines", dispute.escalated_at + timedelta(days=61)).changed == 0


# --- refunds and e-mail that the broker never got -------------------------------------------------


def test_a_refund_the_broker_lost_is_retried_by_the_sweep(dispute_factory, run_sweep, settings):
    dispute = dispute_factory()
    services.offer_accept(
        dispute=dispute, offer_id=dispute.offers.get().pk, user=dispute.store.owner
    )  # no commit hooks
    dispute.refresh_from_db()
    assert dispute.status == S.REFUNDING
    assert (
        run_sweep("refunds", dispute.updated_at + timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS - 60)).changed
        == 0
    )
    assert (
        run_sweep("refunds", dispute.updated_at + timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS + 60)).changed
        == 1
    )
    dispute.refresh_from_db()
    assert dispute.status == S.REFUNDED


def _fresh_producer_pool(app):
    # Producers remember their broker connection; the next publish must dial the new URL.
    app._pool = None
    app.amqp._producer_pool = None


def test_broker_down_while_a_dispute_opens_the_mail_goes_out_later(
    order, run_sweep, django_capture_on_commit_callbacks
):
    from helpcenter.celery import app

    app.conf.task_always_eager = False
    previous = (app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_publish_retry)
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.broker_transport_options = {"socket_connect_timeout": 0.5}
    app.conf.task_publish_retry = False
    _fresh_producer_pool(app)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            dispute = open_dispute(order)
    finally:
        app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_publish_retry = previous
        app.conf.task_always_eager = True
        _fresh_producer_pool(app)
    assert Dispute.objects.filter(pk=dispute.pk).exists()
    assert mail.outbox == []
    pending = OutgoingEmail.objects.get(to_address=order.store.owner.email)
    assert pending.status == OutgoingEmail.Status.PENDING
    assert run_sweep("outbox", timezone.now() + 2 * MINUTE).changed == 1
    assert [message.to for message in mail.outbox] == [[order.store.owner.email]]


# --- operator commands ---------------------------------------------------------------------------


def test_deadlines_command_lists_the_schedule_and_runs_a_sweep(dispute_factory, capsys):
    call_command("deadlines", "list")
    listing = capsys.readouterr().out
    assert "sweep-auto-claim" in listing and "daily-arbitration-digest" in listing
    dispute = dispute_factory()
    at = (dispute.seller_answer_due_at + MINUTE).isoformat()
    call_command("deadlines", "run", "seller-silence", "--at", at)
    assert "seller-silence: 1 changed" in capsys.readouterr().out


def test_every_scheduled_sweep_runs(run_sweep):
    for name in [*deadlines.sweeps(), *deadlines.DAILY]:
        assert run_sweep(name, timezone.now()).name


# --- arbitration in admin ------------------------------------------------------------------------


def test_an_arbitrator_decides_a_claim_in_admin_and_the_appeal_window_opens(client, dispute_factory):
    dispute = escalated(dispute_factory)
    arbitrator = StaffFactory()
    arbitrator.groups.add(Group.objects.get(name="arbitrators"))
    client.force_login(arbitrator)
    url = f"/admin/disputes/dispute/{dispute.pk}/decide/"
    missing_amount = client.post(url, {"winner": "buyer", "reason": "Видео подтверждает поломку"})
    assert "Укажите сумму" in missing_amount.content.decode()
    client.post(url, {"winner": "buyer", "amount": "20", "reason": "Видео подтверждает поломку"})
    dispute.refresh_from_db()
    decision = (dispute.decision_winner, dispute.decision_amount, dispute.decided_by)
    assert decision == ("buyer", Decimal("20"), arbitrator)
    assert dispute.appeal_deadline_at == dispute.decided_at + timedelta(days=7)


def test_support_cannot_decide_claims(client, dispute_factory):
    dispute = escalated(dispute_factory)
    support = StaffFactory()
    support.groups.add(Group.objects.get(name="support"))
    client.force_login(support)
    response = client.post(f"/admin/disputes/dispute/{dispute.pk}/decide/", {"winner": "seller", "reason": "x"})
    assert response.status_code == 403
    dispute.refresh_from_db()
    assert dispute.decided_at is None
