"""Deadlines: each sweep one minute before and one minute after its moment."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import OutgoingEmail
from core import sweeps
from core.errors import ActionRefused
from disputes import services
from disputes.models import Dispute, DisputeEvent
from orders import services as order_services
from orders.models import Order, OrderEvent, ProtectionExtension, Refund

from .disputes_helpers import open_dispute, seller_counter_offer
from .factories import OrderFactory

pytestmark = pytest.mark.django_db
S = Dispute.Status
MINUTE = timedelta(minutes=1)


# --- protection --------------------------------------------------------------------------------


def test_confirm_reminder_goes_out_once_five_days_before_protection_ends(order, run_sweep, settings):
    due = order.protection_due_at - timedelta(days=settings.CONFIRM_DELIVERY_REMINDER_DAYS)
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
    assert confirmed.protection_due_at is not None
    assert run_sweep("protection-reminders", confirmed.protection_due_at - MINUTE).changed == 0
    assert run_sweep("protection-reminders", order.protection_due_at - MINUTE).changed == 0


def test_an_extension_brings_a_new_reminder_before_the_new_end(order, buyer, seller, run_sweep):
    first_due = order.protection_due_at - timedelta(days=5)
    run_sweep("protection-reminders", first_due + MINUTE)
    with time_machine.travel(first_due + 2 * MINUTE):
        extension = order_services.extension_request(order=order, buyer=buyer, days=10, reason="таможня")
        order_services.extension_answer(extension=extension, seller=seller, accept=True)
    order.refresh_from_db()
    assert run_sweep("protection-reminders", order.protection_due_at - timedelta(days=5) + MINUTE).changed == 1
    reminders = [message for message in mail.outbox if "Подтвердите получение" in message.subject]
    assert len(reminders) == 2


def test_order_completes_when_protection_ends_and_no_dispute_can_follow(order, run_sweep):
    with time_machine.travel(order.protection_due_at - 2 * MINUTE):
        order_services.extension_request(order=order, buyer=order.buyer, days=5, reason="ещё в пути")
    assert run_sweep("protection-expiry", order.protection_due_at - MINUTE).changed == 0
    assert run_sweep("protection-expiry", order.protection_due_at + MINUTE).changed == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.completed_at
    assert order.extensions.get().status == ProtectionExtension.Status.LAPSED
    with pytest.raises(ActionRefused, match="закончился"):
        open_dispute(order)


def test_an_order_has_dispute_does_not_complete(order, run_sweep):
    open_dispute(order)
    assert run_sweep("protection-expiry", order.protection_due_at + MINUTE).changed == 0
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
    assert Refund.objects.filter(order=dispute.order).count() == 1


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
    assert run_sweep("auto-claim", dispute.auto_claim_due_at - MINUTE).changed == 0
    assert run_sweep("auto-claim", dispute.auto_claim_due_at + MINUTE).changed == 1
    assert run_sweep("auto-claim", dispute.auto_claim_due_at + 2 * MINUTE).changed == 0
    dispute.refresh_from_db()
    assert dispute.status == S.CLAIM
    assert dispute.events.filter(kind=DisputeEvent.Kind.ESCALATED).count() == 1
    assert sorted(message.to[0] for message in mail.outbox) == sorted([dispute.buyer.email, dispute.store.owner.email])


def test_the_page_promises_the_date_the_sweep_keeps(login, dispute_factory, run_sweep):
    dispute = dispute_factory()
    seller_counter_offer(dispute)
    page = login(dispute.buyer).get(f"/account/disputes/{dispute.pk}/").content.decode()
    promised = timezone.localtime(dispute.auto_claim_due_at, timezone=ZoneInfo("Europe/Moscow"))
    assert f"{promised:%H:%M}" in page
    run_sweep("auto-claim", dispute.auto_claim_due_at)
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
    assert not Refund.objects.filter(order=dispute.order).exists()


# --- refunds and e-mail that the broker never got -------------------------------------------------


def test_a_refund_the_broker_lost_is_sent_again_by_the_sweep(dispute_factory, run_sweep, settings):
    dispute = dispute_factory()
    # No after-commit hooks run here: the task that hands the refund over never left.
    services.offer_accept(dispute=dispute, offer_id=dispute.offers.get().pk, user=dispute.store.owner)
    refund = Refund.objects.get(order=dispute.order)
    assert (refund.status, refund.sent_at) == (Refund.Status.REQUESTED, None)
    assert refund.send_due_at == refund.requested_at + timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS)
    assert run_sweep("refunds", refund.send_due_at - MINUTE).changed == 0
    assert run_sweep("refunds", refund.send_due_at + MINUTE).changed == 1
    refund.refresh_from_db()
    dispute.refresh_from_db()
    assert refund.status == Refund.Status.COMPLETED and dispute.status == S.REFUNDED


def _fresh_producer_pool(app):
    # Producers remember their broker connection; the next publish must dial the new URL.
    app._pool = None
    app.amqp._producer_pool = None


def test_broker_down_while_a_dispute_opens_the_mail_goes_out_later(
    order, run_sweep, django_capture_on_commit_callbacks
):
    from helpcenter.celery import app

    names = ("broker_url", "broker_transport_options", "task_publish_retry", "task_always_eager")
    previous = {name: app.conf[name] for name in names}
    app.conf.update(
        broker_url="redis://127.0.0.1:1/0",
        broker_transport_options={"socket_connect_timeout": 0.5},
        task_publish_retry=False,
        task_always_eager=False,
    )
    _fresh_producer_pool(app)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            dispute = open_dispute(order)
    finally:
        app.conf.update(previous)
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
    assert "auto-claim" in listing and "every 60 s" in listing
    assert "arbitration-digest" in listing and "daily 07:00 UTC" in listing
    dispute = dispute_factory()
    at = (dispute.seller_answer_due_at + MINUTE).isoformat()
    call_command("deadlines", "run", "seller-silence", "--at", at)
    assert "seller-silence: 1 changed" in capsys.readouterr().out


def test_beat_runs_every_registered_sweep_through_one_task():
    from helpcenter.celery import beat_schedule

    schedule = beat_schedule()
    assert sorted(entry["args"][0] for entry in schedule.values()) == sorted(sweeps.registered())
    assert {entry["task"] for entry in schedule.values()} == {"core.tasks.run_sweep"}
    assert schedule["sweep-auto-claim"]["schedule"] == 60.0
    assert schedule["sweep-arbitration-digest"]["schedule"].hour == {7}


def test_every_registered_sweep_runs_on_an_empty_database(run_sweep):
    for name in sweeps.registered():
        result = run_sweep(name, timezone.now())
        assert (result.changed, result.failed) == (0, 0), name
