"""Every app's timeline (orders, disputes, reports, accounts) is one shape, core.models.TimelineEvent:
who (the actor and the role they acted in), what (a kind and its details) and when, written one
way (`record()`). The rows written before the role existed get it from their migration."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts import blocking
from accounts.models import AccountEvent, BlockReason
from accounts.roles import sync_staff_groups
from core.models import TimelineEvent
from core.rules import Role
from disputes import claims
from disputes.models import DisputeEvent
from orders import services as order_services
from orders import shipping
from orders.models import OrderEvent
from reports import services as report_services
from reports.models import ReportEvent

from .disputes_helpers import escalate, open_dispute, seller_counter_offer
from .factories import OrderFactory, UserFactory, arbitrator, support_agent
from .test_reports import file_report, item_link

pytestmark = pytest.mark.django_db

EVENT_MODELS = [OrderEvent, DisputeEvent, ReportEvent, AccountEvent]


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda model: model.__name__)
def test_every_timeline_is_the_one_core_event_shape(model):
    assert issubclass(model, TimelineEvent)
    fields = {field.name for field in model._meta.get_fields()}
    assert {"actor", "actor_role", "kind", "details", "created_at", model.subject_field} <= fields
    assert model._meta.ordering == ["created_at", "pk"]


def roles(events) -> list[tuple[str, str]]:
    return [(event.kind, event.actor_role) for event in events.order_by("created_at", "pk")]


def test_dispute_events_name_the_role_each_actor_acted_in(order, buyer, seller):
    dispute = open_dispute(order)
    seller_counter_offer(dispute)
    dispute.refresh_from_db()
    escalate(dispute)
    with time_machine.travel(dispute.escalation_opens_at + timedelta(hours=1)):
        claims.claim_take(dispute=dispute, arbitrator=arbitrator())
    assert roles(dispute.events) == [
        (DisputeEvent.Kind.OPENED, Role.BUYER),
        (DisputeEvent.Kind.OFFER_REFUSED, Role.SELLER),
        (DisputeEvent.Kind.OFFER_MADE, Role.SELLER),
        (DisputeEvent.Kind.ESCALATED, Role.BUYER),
        (DisputeEvent.Kind.CLAIM_TAKEN, Role.STAFF),
    ]


def test_the_sellers_first_event_still_marks_the_dispute_answered(order, seller):
    dispute = open_dispute(order)
    assert dispute.seller_answered_at is None
    seller_counter_offer(dispute)
    dispute.refresh_from_db()
    first_answer = dispute.events.filter(actor_role=Role.SELLER).first()
    assert first_answer is not None
    assert dispute.seller_answered_at == first_answer.created_at


def test_a_deadline_the_system_keeps_is_recorded_as_the_systems(order, run_sweep):
    dispute = open_dispute(order)
    assert dispute.seller_answer_due_at is not None
    run_sweep("seller-silence", dispute.seller_answer_due_at + timedelta(minutes=1))
    granted = dispute.events.get(kind=DisputeEvent.Kind.SELLER_SILENT)
    assert (granted.actor, granted.actor_role) == (None, Role.SYSTEM)


def test_order_events_name_the_buyer_and_the_seller():
    order = OrderFactory.awaiting_shipment()
    shipping.order_ship(order=order, seller=order.store.owner, tracking_number="RA123456789CN")
    order.refresh_from_db()
    order_services.extension_request(order=order, buyer=order.buyer, days=10, reason="Посылка задерживается")
    assert roles(order.events) == [
        (OrderEvent.Kind.SHIPPED, Role.SELLER),
        (OrderEvent.Kind.EXTENSION_REQUESTED, Role.BUYER),
    ]


def test_report_events_name_the_reporter_the_reported_party_and_staff(order, buyer, seller):
    support = support_agent()
    report = file_report(buyer, order=order, link=item_link(order))
    report_services.report_notify(report=report, staff=support)
    report_services.report_answer(
        report=report, user=seller, text="Мы не просили платить мимо площадки.", attachment_ids=[]
    )
    assert roles(report.events) == [
        (ReportEvent.Kind.FILED, Role.REPORTER),
        (ReportEvent.Kind.NOTIFIED, Role.STAFF),
        (ReportEvent.Kind.ANSWERED, Role.REPORTED),
    ]


def test_account_events_name_staff_and_the_accounts_own_holder():
    user = UserFactory()
    staff = support_agent()
    now = timezone.now()
    blocking.account_block(user=user, staff=staff, reason=BlockReason.FRAUD, note="", now=now)
    blocking.account_appeal_file(user=user, text="Это ошибка: я ничего не нарушал.", attachment_ids=[], now=now)
    assert roles(user.account_events) == [
        (AccountEvent.Kind.BLOCKED, Role.STAFF),
        (AccountEvent.Kind.APPEAL_FILED, Role.BUYER),
    ]


def test_an_event_is_written_at_the_time_the_service_acted():
    at = timezone.now() - timedelta(days=3)
    user = UserFactory()
    event = AccountEvent.record(user, AccountEvent.Kind.BLOCKED, None, at, reason={"old": None, "new": "fraud"})
    event.refresh_from_db()
    assert (event.created_at, event.actor_role, event.details) == (
        at,
        Role.SYSTEM,
        {"reason": {"old": None, "new": "fraud"}},
    )
    assert str(event) == "Аккаунт заблокирован"


# The migrations that added the role, and the ones just before them.
ROLE_MIGRATIONS = {
    "orders": ("0016_order_feed", "0017_orderevent_actor_role"),
    "disputes": ("0017_claim_stage_index", "0018_disputeevent_actor_role"),
    "reports": ("0002_support_handles_reports", "0003_reportevent_actor_role"),
    "accounts": ("0010_staff_rights_for_marketplace", "0011_accountevent_actor_role"),
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migrations_give_the_events_already_written_their_roles_and_go_back(needs_postgres):
    sync_staff_groups(apps)  # a transactional test starts from empty tables, groups included
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        order = OrderFactory()
        buyer, seller_account = order.buyer, order.store.owner
        dispute = open_dispute(order)
        seller_counter_offer(dispute)
        report = file_report(buyer, order=order, link=item_link(order))
        staff = support_agent()
        report_services.report_notify(report=report, staff=staff)
        blocking.account_block(user=buyer, staff=staff, reason=BlockReason.FRAUD, note="", now=timezone.now())
        blocking.account_appeal_file(user=buyer, text="Это ошибка, я ничего не нарушал.", attachment_ids=[])
    OrderEvent.record(order, OrderEvent.Kind.REMINDER_SENT, None)
    counts = {model: model._default_manager.count() for model in EVENT_MODELS}
    latest = [(app, names[1]) for app, names in ROLE_MIGRATIONS.items()]
    try:
        old_apps = _migrate([(app, names[0]) for app, names in ROLE_MIGRATIONS.items()])
        old_dispute_event = old_apps.get_model("disputes", "DisputeEvent")
        assert "actor_role" not in {field.name for field in old_dispute_event._meta.get_fields()}
        assert old_dispute_event.objects.count() == counts[DisputeEvent]
        _migrate(latest)
    finally:
        # The test database is left as it was found (every app at its newest migration, later ones
        # than the role's included), whatever happened above.
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert {model: model._default_manager.count() for model in EVENT_MODELS} == counts
    assert roles(order.events) == [(OrderEvent.Kind.REMINDER_SENT, Role.SYSTEM)]
    assert roles(dispute.events) == [
        (DisputeEvent.Kind.OPENED, Role.BUYER),
        (DisputeEvent.Kind.OFFER_REFUSED, Role.SELLER),
        (DisputeEvent.Kind.OFFER_MADE, Role.SELLER),
    ]
    assert roles(report.events) == [
        (ReportEvent.Kind.FILED, Role.REPORTER),
        (ReportEvent.Kind.NOTIFIED, Role.STAFF),
    ]
    assert roles(buyer.account_events) == [
        (AccountEvent.Kind.BLOCKED, Role.STAFF),
        (AccountEvent.Kind.APPEAL_FILED, Role.BUYER),
    ]
    assert seller_account.pk == dispute.store.owner_id
    assert Decimal(dispute.events.get(kind=DisputeEvent.Kind.OFFER_MADE).details["amount"]) == Decimal("5")


# --- one event per fact, people named by role on the parties' pages -------------------------------


def test_shipping_over_a_pending_cancellation_reads_as_one_shipment_named_by_role(client):
    from django.urls import reverse

    from orders.shipping import order_cancel_request

    from .factories import SellerFactory

    seller = SellerFactory(username="shop-login-7")
    buyer = UserFactory(username="buyer-login-7")
    order = OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store)
    order_cancel_request(order=order, buyer=buyer, reason="changed_mind")
    shipping.order_ship(order=order, seller=seller, tracking_number="LP00123456789CN")

    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds.count(OrderEvent.Kind.SHIPPED) == 1
    for viewer in (buyer, seller):
        client.force_login(viewer)
        page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
        history = page[page.index('id="events-heading"') :]
        assert history.count("отправил") == 1  # "Продавец отправил заказ", once
        assert "Просьба отменить заказ закрыта: заказ уже отправлен" in history
        assert "(Покупатель)" in history and "(Продавец)" in history
        assert "shop-login-7" not in history and "buyer-login-7" not in history


def test_parties_read_the_arbitrator_and_the_system_by_role_and_staff_read_names(client):
    from django.urls import reverse

    order = OrderFactory(buyer=UserFactory(username="buyer-login-8"))
    dispute = escalate(open_dispute(order))
    olga = arbitrator(username="olga-login", first_name="Ольга", last_name="Арбитрова")
    claims.claim_take(dispute=dispute, arbitrator=olga)
    DisputeEvent.record(dispute, DisputeEvent.Kind.CLAIM_FLAGGED, None)

    for viewer in (order.buyer, order.store.owner):
        client.force_login(viewer)
        page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
        history = page[page.index('id="timeline-heading"') :]
        assert "(Арбитр)" in history and "(Система)" in history and "(Покупатель)" in history
        assert "olga-login" not in history and "Ольга" not in history and "buyer-login-8" not in history

    client.force_login(olga)
    claim_page = client.get(reverse("admin:disputes_claim_change", args=[dispute.claim.pk])).content.decode()
    staff_history = claim_page[claim_page.index('id="timeline-heading"') :]
    assert "<td>Ольга Арбитрова</td>" in staff_history and "<td>Система</td>" in staff_history
