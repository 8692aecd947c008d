import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import User
from core.demo import DEMO_PASSWORD
from orders.models import Order

pytestmark = pytest.mark.django_db


def test_demo_data_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.filter(username="buyer").exists()


def test_demo_data_creates_every_login_and_can_run_twice(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    for username in ("buyer", "buyer2", "seller", "seller2", "arbitrator", "arbitrator2", "head", "support", "finance"):
        assert Client().login(username=username, password=DEMO_PASSWORD), username
    assert User.objects.filter(username="buyer").count() == 1
    assert Order.objects.count() == 17
    assert User.objects.get(username="arbitrator").groups.filter(name="arbitrators").exists()
    assert User.objects.get(username="support").groups.filter(name="support").exists()


def test_demo_orders_cover_every_state_and_currency(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert {"USD", "RUB"} <= set(Order.objects.values_list("currency", flat=True))
    assert Order.objects.filter(tracking_number="").exclude(status="awaiting_shipment").exists()


def test_demo_buyer_has_an_order_whose_protection_ends_soon(settings):
    from django.utils import timezone

    from orders.rules import protection_state

    settings.DEBUG = True
    call_command("seed_demo")
    now = timezone.now()
    states = [protection_state(order, now) for order in Order.objects.filter(buyer__username="buyer")]
    assert any(state.ending_soon for state in states)


def test_demo_claims_cover_the_stages_arbitrators_and_parties_meet(settings):
    from disputes.models import Claim

    settings.DEBUG = True
    call_command("seed_demo")
    stages = set(Claim.objects.values_list("stage", flat=True))
    assert {"processing", "awaiting_parties", "decided", "appeal"} <= stages
    assert Claim.objects.filter(stage="processing", assigned_to__isnull=True).exists()
    assert User.objects.get(username="head").groups.filter(name="arbitration_heads").exists()


def test_demo_histories_agree_with_the_dates_their_pages_show(settings):
    """Every dated step of a demo story (events, messages, offers) stands where the headers put it:
    the claim opens when the history says it was escalated, the decision when it was decided."""
    from disputes.models import Claim, Dispute, DisputeEvent

    settings.DEBUG = True
    call_command("seed_demo")
    for dispute in Dispute.objects.all():
        opened = dispute.events.get(kind=DisputeEvent.Kind.OPENED).created_at
        assert opened == dispute.opened_at
        for rows in (dispute.events.all(), dispute.messages.all(), dispute.offers.all()):
            assert all(opened <= row.created_at < dispute.updated_at for row in rows), dispute.order.number
        request = dispute.messages.order_by("pk").first()
        assert request is not None and request.created_at == opened
    for claim in Claim.objects.select_related("dispute"):
        escalated = claim.dispute.events.get(kind=DisputeEvent.Kind.ESCALATED)
        assert escalated.created_at == claim.opened_at
        for decision in claim.decisions.all():
            kind = DisputeEvent.Kind.DECIDED if decision.kind == "first" else DisputeEvent.Kind.APPEAL_DECIDED
            assert claim.dispute.events.get(kind=kind).created_at == decision.decided_at
