"""Refunds: "preparing refund" until the payment system confirms by its signed webhook (or staff
by hand); a replayed or repeated notice changes nothing; a refund stuck too long is flagged."""

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core import sweeps
from core.signatures import notice_signature
from disputes import services
from disputes.models import Dispute
from orders.models import PaymentNotice, Refund

from .disputes_helpers import open_dispute
from .factories import StaffFactory, support_agent

pytestmark = pytest.mark.django_db
S = Dispute.Status


@pytest.fixture
def external_gateway(settings):
    settings.PAYMENT_GATEWAY = "external"


@pytest.fixture
def refunding(order, external_gateway, django_capture_on_commit_callbacks):
    """A dispute the seller accepted: its refund is with the payment system, not yet confirmed."""
    dispute = open_dispute(order)
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_accept(dispute=dispute, offer_id=dispute.offers.get().pk, user=dispute.store.owner)
    dispute.refresh_from_db()
    return dispute, Refund.objects.get(order=order)


def notice(refund: Refund, *, event_id: str = "evt_1", kind: str = "refund.completed") -> bytes:
    return json.dumps(
        {"id": event_id, "type": kind, "data": {"reference": refund.reference, "gateway_reference": "PSP-777"}}
    ).encode()


def post_notice(client, body: bytes, *, secret="test-webhook-secret", timestamp=None, signature=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = signature or notice_signature(secret=secret, timestamp=timestamp, body=body)
    return client.post(
        reverse("payment_webhook"),
        data=body,
        content_type="application/json",
        headers={"X-Payment-Signature": f"t={timestamp},v1={signature}"},
    )


def test_the_refund_waits_for_the_payment_system_as_preparing(refunding, login):
    dispute, refund = refunding
    assert (dispute.status, refund.status, refund.sent_at is not None) == (S.REFUNDING, "requested", True)
    page = login(dispute.buyer).get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Подготовка к возврату" in page


def test_a_signed_notice_completes_the_refund_and_the_dispute(client, refunding, django_capture_on_commit_callbacks):
    dispute, refund = refunding
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_notice(client, notice(refund))
    assert (response.status_code, response.json()) == (200, {"status": "processed"})
    refund.refresh_from_db()
    dispute.refresh_from_db()
    assert (refund.status, refund.confirmed_by, refund.gateway_reference) == ("completed", "webhook", "PSP-777")
    assert dispute.status == S.REFUNDED and dispute.refund_completed_at
    assert sorted(message.to[0] for message in mail.outbox) == sorted([dispute.buyer.email, dispute.store.owner.email])
    assert "завершён" in mail.outbox[0].body


def test_the_same_notice_twice_changes_nothing(client, refunding):
    dispute, refund = refunding
    body = notice(refund)
    post_notice(client, body)
    again = post_notice(client, body)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert PaymentNotice.objects.count() == 1
    assert dispute.events.filter(kind="refund_completed").count() == 1


def test_a_second_notice_for_a_confirmed_refund_changes_nothing(client, refunding):
    dispute, refund = refunding
    post_notice(client, notice(refund, event_id="evt_1"))
    response = post_notice(client, notice(refund, event_id="evt_2"))
    assert response.status_code == 200
    assert dispute.events.filter(kind="refund_completed").count() == 1


@pytest.mark.parametrize(
    ("how", "status"),
    [("wrong secret", 401), ("tampered body", 401), ("old timestamp", 401), ("no header", 400)],
)
def test_a_notice_that_is_not_signed_right_is_refused_and_changes_nothing(client, refunding, how, status):
    _dispute, refund = refunding
    body = notice(refund)
    if how == "wrong secret":
        response = post_notice(client, body, secret="guessed")
    elif how == "tampered body":
        signature = notice_signature(secret="test-webhook-secret", timestamp=int(time.time()), body=body)
        response = post_notice(client, body.replace(b"PSP-777", b"PSP-000"), signature=signature)
    elif how == "old timestamp":  # a captured notice replayed ten minutes later
        response = post_notice(client, body, timestamp=int(time.time()) - 600)
    else:
        response = client.post(reverse("payment_webhook"), data=body, content_type="application/json")
    assert response.status_code == status
    refund.refresh_from_db()
    assert refund.status == "requested" and not PaymentNotice.objects.exists()


def test_a_notice_for_an_unknown_refund_is_refused(client, refunding):
    _dispute, refund = refunding
    refund.reference = "RF-SOMETHING-ELSE"
    assert post_notice(client, notice(refund)).status_code == 404


def test_without_a_secret_the_webhook_accepts_nothing(client, refunding, settings):
    _dispute, refund = refunding
    settings.PAYMENT_WEBHOOK_SECRET = ""
    assert post_notice(client, notice(refund), secret="").status_code == 503


def test_finance_staff_confirm_a_refund_by_hand_in_admin(client, refunding):
    dispute, refund = refunding
    finance = StaffFactory(groups=["finance"])
    client.force_login(finance)
    client.post(
        reverse("admin:orders_refund_changelist"),
        {"action": "confirm_by_hand", "_selected_action": [refund.pk]},
    )
    refund.refresh_from_db()
    dispute.refresh_from_db()
    assert (refund.status, refund.confirmed_by, refund.confirmed_by_user) == ("completed", "staff", finance)
    assert dispute.status == S.REFUNDED
    assert dispute.events.get(kind="refund_completed").actor == finance


def test_support_cannot_confirm_a_refund(client, refunding):
    _dispute, refund = refunding
    client.force_login(support_agent())
    page = client.get(reverse("admin:orders_refund_changelist")).content.decode()
    assert "confirm_by_hand" not in page
    client.post(
        reverse("admin:orders_refund_changelist"), {"action": "confirm_by_hand", "_selected_action": [refund.pk]}
    )
    refund.refresh_from_db()
    assert refund.status == "requested"


def test_a_refund_preparing_too_long_is_flagged_once(refunding, settings, django_capture_on_commit_callbacks):
    _dispute, refund = refunding
    finance = StaffFactory(groups=["finance"], email="money@example.com")
    stale = refund.requested_at + timedelta(hours=settings.REFUND_STALE_HOURS)
    assert sweeps.run("stale-refunds", stale - timedelta(minutes=1)).changed == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeps.run("stale-refunds", stale + timedelta(minutes=1)).changed == 1
    assert sweeps.run("stale-refunds", stale + timedelta(minutes=2)).changed == 0
    refund.refresh_from_db()
    assert refund.flagged_at
    assert [message.to for message in mail.outbox] == [[finance.email]]
    assert refund.reference in mail.outbox[0].subject


def test_flagged_refunds_are_a_filter_in_admin(client, refunding, settings):
    _dispute, refund = refunding
    sweeps.run("stale-refunds", timezone.now() + timedelta(hours=settings.REFUND_STALE_HOURS + 1))
    client.force_login(StaffFactory(is_superuser=True))
    page = client.get(reverse("admin:orders_refund_changelist") + "?flagged_at__isnull=False").content.decode()
    assert refund.reference in page
