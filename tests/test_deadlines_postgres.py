"""Deadline sweeps against PostgreSQL's locks, and a real Celery worker and beat on Redis."""

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import OutgoingEmail
from core import sweeps
from core.errors import ActionRefused
from disputes import services
from disputes.models import Claim, Dispute, DisputeEvent

from .concurrency import run_together
from .disputes_helpers import open_dispute, seller_counter_offer
from .factories import OrderFactory, SellerFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
ROOT = Path(settings.BASE_DIR)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")


def due_disputes(count: int, *, days_ago: int = 16) -> list[Dispute]:
    seller = SellerFactory()
    opened = timezone.now() - timedelta(days=days_ago)
    disputes = []
    for _ in range(count):
        order = OrderFactory(buyer=UserFactory(), store=seller.store, days_since_shipment=days_ago + 1)
        dispute = open_dispute(order, now=opened)
        seller_counter_offer(dispute, amount="1", now=opened)
        disputes.append(dispute)
    return disputes


def test_two_sweeps_at_once_escalate_each_dispute_once():
    disputes = due_disputes(30)
    now = timezone.now()
    first, second = run_together(lambda: sweeps.run("auto-claim", now), lambda: sweeps.run("auto-claim", now))
    assert first.changed + second.changed == 30
    assert Dispute.objects.filter(pk__in=[d.pk for d in disputes], status="claim").count() == 30
    assert DisputeEvent.objects.filter(kind="escalated").count() == 30


def test_two_workers_share_one_sweep_and_each_dispute_gets_one_event_and_one_set_of_mails():
    disputes = due_disputes(24)
    mail.outbox.clear()
    now = timezone.now()
    first, second = run_together(lambda: sweeps.run("auto-claim", now), lambda: sweeps.run("auto-claim", now))
    assert isinstance(first, sweeps.SweepResult) and isinstance(second, sweeps.SweepResult)
    assert (first.changed + second.changed, first.failed + second.failed) == (24, 0)
    assert first.changed and second.changed, "both workers took rows"
    ids = [dispute.pk for dispute in disputes]
    events = Counter(DisputeEvent.objects.filter(dispute__in=ids, kind="escalated").values_list("dispute", flat=True))
    assert events == Counter(ids)
    assert Claim.objects.filter(dispute__in=ids).count() == 24
    queued = Counter(
        OutgoingEmail.objects.filter(dedupe_key__contains=":escalated:").values_list(
            "recipient", "context__dispute__pk"
        )
    )
    expected = Counter(
        {(party, dispute.pk): 1 for dispute in disputes for party in (dispute.buyer_id, dispute.store.owner_id)}
    )
    assert queued == expected
    sent = Counter((message.to[0], message.subject) for message in mail.outbox if "претензи" in message.body)
    assert len(sent) == 48 and set(sent.values()) == {1}


def test_a_sweep_racing_the_buyers_click_gives_one_claim_one_event_one_email_each():
    [dispute] = due_disputes(1)
    mail.outbox.clear()
    now = timezone.now()
    results = run_together(
        lambda: sweeps.run("auto-claim", now),
        lambda: services.dispute_escalate(dispute=dispute, user=dispute.buyer),
    )
    dispute.refresh_from_db()
    assert dispute.status == "claim"
    assert DisputeEvent.objects.filter(dispute=dispute, kind=DisputeEvent.Kind.ESCALATED).count() == 1
    escalation_mail = [message for message in mail.outbox if "претензи" in message.body]
    assert sorted(message.to[0] for message in escalation_mail) == sorted(
        [dispute.buyer.email, dispute.store.owner.email]
    )
    click = results[1]
    assert isinstance(click, Dispute | ActionRefused)


def test_a_seller_shipping_as_the_sweep_cancels_gives_one_outcome_and_one_mail_each():
    from orders import shipping
    from orders.models import Order, Refund

    seller = SellerFactory()
    buyer = UserFactory()
    outcomes = set()
    for _ in range(6):  # one due order at a time, so the sweep's mail is this order's
        order = OrderFactory.awaiting_shipment(
            buyer=buyer, store=seller.store, paid_at=timezone.now() - timedelta(days=6), handling_days=5
        )
        mail.outbox.clear()
        results = run_together(
            lambda: sweeps.run("shipping-deadlines", timezone.now()),
            lambda order=order: shipping.order_ship(order=order, seller=seller, tracking_number="LP00999111222CN"),
        )
        order.refresh_from_db()
        refunds = Refund.objects.filter(order=order).count()
        if order.status == Order.Status.CANCELLED:
            assert isinstance(results[1], ActionRefused)
            assert refunds == 1
            assert sorted(message.to[0] for message in mail.outbox) == sorted([buyer.email, seller.email])
        else:
            assert order.status == Order.Status.IN_TRANSIT and results[0].changed == 0
            assert refunds == 0
            assert [message.to[0] for message in mail.outbox] == [buyer.email]  # "shipped", nothing else
        outcomes.add(order.status)
    assert outcomes <= {Order.Status.CANCELLED, Order.Status.IN_TRANSIT}


def _deadline_columns() -> dict[str, tuple[QuerySet[Any], str, str]]:
    """Every deadline every sweep reads (core.sweeps' registry, from the apps' rulebooks): its due
    rows now, the table of its deadline column and the column."""
    columns = {}
    for entry in sweeps.registered().values():
        for deadline in entry.deadlines:
            for rows in deadline.due_each(timezone.now()):
                model = rows.model
                *path, column = deadline.column.split("__")
                for step in path:
                    model = model._meta.get_field(step).related_model
                key = f"{entry.name}:{deadline.action}:{rows.model._meta.label}"
                columns[key] = (rows, model._meta.db_table, model._meta.get_field(column).column)
    return columns


@pytest.mark.parametrize("name", sorted(_deadline_columns()))
def test_every_deadline_column_a_sweep_reads_is_indexed(name):
    due_disputes(3)
    queryset, table, column = _deadline_columns()[name]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        cursor.execute("SET enable_seqscan = off")
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert any(info["index"] and info["columns"][:1] == [column] for info in constraints.values()), table
    assert "Index" in plan, plan


@pytest.fixture
def live_celery(tmp_path):
    """A real worker and a real beat, as separate processes, on the local Redis and the test database."""
    broker = os.environ.get("CELERY_TEST_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_TEST_BROKER_URL=redis://... (CI does)")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpcenter.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEADLINE_SWEEP_SECONDS": "1",
    }
    celery = [sys.executable, "-m", "celery", "-A", "helpcenter"]
    subprocess.run([*celery, "purge", "-f"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=60)
    logs = tmp_path / "celery.log"
    with logs.open("w") as log:
        worker = subprocess.Popen(
            [*celery, "worker", "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        beat = subprocess.Popen(
            [*celery, "beat", "--loglevel=INFO", f"--schedule={tmp_path / 'beat-schedule'}"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield logs
        finally:
            for process in (beat, worker):
                process.terminate()
            for process in (beat, worker):
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_a_real_worker_and_beat_escalate_a_due_dispute(live_celery):
    [dispute] = due_disputes(1)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        dispute.refresh_from_db()
        if dispute.status == "claim":
            break
        time.sleep(1)
    assert dispute.status == "claim", live_celery.read_text()[-4000:]
    assert dispute.events.filter(kind="escalated", actor__isnull=True).count() == 1
