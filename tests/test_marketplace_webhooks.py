"""Outcomes sent back to the marketplace: signed notices through an outbox written with the fact,
delivered after commit, retried with growing delays by a sweep, at least once under a stable
event id; finance sees the ones that keep failing and sends them again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from core import webhooks
from core.models import OutgoingWebhook
from disputes import outcomes
from disputes.models import Claim, Dispute
from disputes.services import dispute_cancel, offer_accept, offer_make
from orders.models import Order

from .disputes_helpers import decide, escalate, open_dispute
from .factories import StaffFactory
from .marketplace import NUMBER, ago, event, post_event, shipped
from .webhook_receiver import start_receiver

pytestmark = pytest.mark.django_db
SECRET = "test-outgoing-secret"


@pytest.fixture
def marketplace(settings):
    """The marketplace's receiver, running; the help centre is told to post to it."""
    receiver, server = start_receiver(SECRET)
    settings.MARKETPLACE_WEBHOOK_URL = receiver.url
    settings.MARKETPLACE_WEBHOOK_SECRET = SECRET
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def fed_order(client) -> Order:
    """An order the marketplace fed in, shipped three days ago."""
    post_event(client, event("paid", at=ago(days=5)))
    post_event(client, shipped(at=ago(days=3)))
    return Order.objects.select_related("buyer", "store__owner").get(number=NUMBER)


def kinds(receiver) -> list[str]:
    return [request.payload["type"] for request in receiver.requests]


def test_opening_a_dispute_tells_the_marketplace_to_hold_the_payout(
    marketplace, fed_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(fed_order)
    [notice] = marketplace.requests
    assert notice.signature_ok and notice.answered == 200
    assert notice.payload["type"] == "dispute.opened"
    assert notice.event_id == notice.payload["id"] == OutgoingWebhook.objects.get().event_id
    item = fed_order.items.get()
    assert notice.payload["data"] == {
        "order_number": NUMBER,
        "item_id": item.item_id,
        "order_item_id": item.pk,
        "dispute_id": dispute.pk,
        "buyer_id": "mp-buyer-1",
        "store_id": "mp-store-1",
        "kind": "not_as_described",
        "requested": {"amount": "26.00", "currency": "USD"},
        "order_total": {"amount": "26.00", "currency": "USD"},
        "item_paid": {"amount": "26.00", "currency": "USD"},
        "hold_payout": True,
    }
    assert OutgoingWebhook.objects.get().status == OutgoingWebhook.Status.DELIVERED


def test_a_delivery_that_fails_twice_then_succeeds_is_delivered_once(
    marketplace, fed_order, django_capture_on_commit_callbacks, run_sweep
):
    marketplace.answers = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(fed_order)
    notice = OutgoingWebhook.objects.get()
    assert (notice.status, notice.attempts, notice.last_error) == ("pending", 1, "HTTP 500")
    first_retry = notice.next_attempt_at
    assert run_sweep("marketplace-webhooks", first_retry - timedelta(seconds=1)).changed == 0
    assert len(marketplace.requests) == 1
    run_sweep("marketplace-webhooks", first_retry + timedelta(seconds=1))
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == ("pending", 2, "HTTP 503")
    # Each delay is twice the one before.
    assert notice.next_attempt_at - (first_retry + timedelta(seconds=1)) == 2 * webhooks.retry_delay(1)
    assert run_sweep("marketplace-webhooks", notice.next_attempt_at + timedelta(seconds=1)).changed == 1
    notice.refresh_from_db()
    assert notice.status == OutgoingWebhook.Status.DELIVERED and notice.attempts == 3
    # Later sweeps find nothing more to send.
    assert run_sweep("marketplace-webhooks", notice.next_attempt_at + timedelta(days=2)).changed == 0
    assert [request.answered for request in marketplace.requests] == [500, 503, 200]
    assert {request.event_id for request in marketplace.requests} == {notice.event_id}
    assert all(request.signature_ok for request in marketplace.requests)
    assert list(marketplace.accepted) == [notice.event_id]


def test_a_fact_rolled_back_sends_nothing(marketplace, fed_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        open_dispute(fed_order)
        raise RuntimeError("the request failed after the dispute was written")
    assert not OutgoingWebhook.objects.exists()
    assert marketplace.requests == []


def test_nothing_is_queued_beside_no_marketplace(settings, fed_order):
    settings.MARKETPLACE_WEBHOOK_URL = ""
    open_dispute(fed_order)
    assert not OutgoingWebhook.objects.exists()


def test_each_fact_is_queued_once(marketplace, fed_order):
    dispute = open_dispute(fed_order)
    outcomes.dispute_opened(dispute, now=dispute.opened_at)
    assert OutgoingWebhook.objects.count() == 1


def test_an_accepted_offer_tells_the_refund_who_pays_and_then_the_end(
    marketplace, fed_order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(fed_order)
        offer = offer_make(
            dispute=dispute,
            user=fed_order.store.owner,
            refund_type=Dispute.RefundType.PARTIAL,
            amount=Decimal("10.00"),
            return_required=False,
            note="Верну часть денег: второй наушник работает.",
        )
        offer_accept(dispute=dispute, offer_id=offer.pk, user=fed_order.buyer)
    assert kinds(marketplace) == ["dispute.opened", "dispute.refund_decided", "dispute.closed"]
    decided, closed = marketplace.requests[1].payload["data"], marketplace.requests[2].payload["data"]
    assert decided["refund"] == {"amount": "10.00", "currency": "USD"}
    assert (decided["paid_by"], decided["decided_by"], decided["return_required"]) == ("seller", "agreement", False)
    assert closed["outcome"] == "refunded" and closed["refunded"] == {"amount": "10.00", "currency": "USD"}
    assert closed["release_payout"] is True and closed["was_claim"] is False


def test_a_silent_seller_loses_and_the_marketplace_hears_who_decided(
    marketplace, fed_order, django_capture_on_commit_callbacks, run_sweep
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(fed_order)
    assert dispute.seller_answer_due_at is not None
    run_sweep("seller-silence", dispute.seller_answer_due_at + timedelta(minutes=1))
    decided = next(r.payload["data"] for r in marketplace.requests if r.payload["type"] == "dispute.refund_decided")
    assert decided["decided_by"] == "seller_silence"
    assert decided["refund"] == {"amount": "26.00", "currency": "USD"}


def test_a_claim_won_by_the_seller_ends_with_no_refund(
    marketplace, fed_order, django_capture_on_commit_callbacks, run_sweep
):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = escalate(open_dispute(fed_order))
        decide(dispute, winner="seller")
    due = Claim.objects.get(dispute=dispute).appeal_due_at
    assert due is not None
    run_sweep("appeal-windows", due + timedelta(minutes=1))
    assert kinds(marketplace) == ["dispute.opened", "claim.closed", "dispute.refund_decided", "dispute.closed"]
    claim, decided, closed = (request.payload["data"] for request in marketplace.requests[1:])
    assert (claim["winner"], claim["on_appeal"], claim["refund"]["amount"]) == ("seller", False, "0.00")
    assert (decided["paid_by"], decided["decided_by"], decided["refund"]["amount"]) == (None, "arbitration", "0.00")
    assert (closed["outcome"], closed["was_claim"]) == ("closed_without_refund", True)


def test_a_buyer_who_cancels_ends_the_case(marketplace, fed_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(fed_order)
        dispute_cancel(dispute=dispute, buyer=fed_order.buyer)
    assert kinds(marketplace) == ["dispute.opened", "dispute.closed"]
    assert marketplace.requests[1].payload["data"]["outcome"] == "cancelled_by_buyer"


def test_a_redirect_is_not_a_delivery(marketplace, fed_order, django_capture_on_commit_callbacks):
    marketplace.answers = [302]
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(fed_order)
    notice = OutgoingWebhook.objects.get()
    assert (notice.status, notice.last_error) == ("pending", "HTTP 302")


def test_after_the_last_attempt_a_notice_is_given_up(marketplace, fed_order):
    marketplace.answers = [500] * webhooks.MAX_ATTEMPTS
    notice = webhooks.webhook_queue(kind="test", dedupe_key="test:1", data={}, now=fed_order.paid_at)
    assert notice is not None
    for _ in range(webhooks.MAX_ATTEMPTS):
        webhooks.webhook_deliver(webhook_id=notice.pk)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (OutgoingWebhook.Status.FAILED, webhooks.MAX_ATTEMPTS)
    assert webhooks.webhook_deliver(webhook_id=notice.pk) is False
    assert len(marketplace.requests) == webhooks.MAX_ATTEMPTS


def _failed_notice(fed_order) -> OutgoingWebhook:
    dispute = open_dispute(fed_order)
    notice = OutgoingWebhook.objects.get(dedupe_key=f"dispute-opened:{dispute.pk}")
    notice.status, notice.attempts, notice.last_error = OutgoingWebhook.Status.FAILED, 12, "HTTP 500"
    notice.save()
    return notice


def test_finance_sees_the_notices_that_keep_failing_and_sends_one_again(
    marketplace, fed_order, django_capture_on_commit_callbacks
):
    failed = _failed_notice(fed_order)
    delivered = webhooks.webhook_queue(kind="test", dedupe_key="test:ok", data={}, now=fed_order.paid_at)
    assert delivered is not None
    OutgoingWebhook.objects.filter(pk=delivered.pk).update(status=OutgoingWebhook.Status.DELIVERED)
    finance = Client()
    finance.force_login(StaffFactory(groups=["finance"]))
    page = finance.get(reverse("admin:core_outgoingwebhook_changelist")).content.decode()
    assert failed.event_id in page and delivered.event_id not in page
    assert "Отправить снова" in page
    with django_capture_on_commit_callbacks(execute=True):
        finance.post(
            reverse("admin:core_outgoingwebhook_changelist"),
            {"action": "send_again", "_selected_action": [failed.pk]},
        )
    failed.refresh_from_db()
    assert failed.status == OutgoingWebhook.Status.DELIVERED
    assert [request.event_id for request in marketplace.requests] == [failed.event_id]


def test_staff_without_the_right_neither_see_nor_resend_notices(marketplace, fed_order):
    from core.errors import ActionRefused

    failed = _failed_notice(fed_order)
    support = StaffFactory(groups=["support"])
    client = Client()
    client.force_login(support)
    assert client.get(reverse("admin:core_outgoingwebhook_changelist")).status_code == 403
    with pytest.raises(ActionRefused):
        webhooks.webhook_resend(webhook_id=failed.pk, staff=support)
    failed.refresh_from_db()
    assert failed.status == OutgoingWebhook.Status.FAILED
