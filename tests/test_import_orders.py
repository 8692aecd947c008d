"""`manage.py import_orders FILE`: the marketplace's history as JSON lines, applied like the feed,
stoppable and run again without duplicates, with a summary of the refused lines."""

import io
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from orders import feed_import
from orders.feed_import import ImportSummary
from orders.management.commands.import_orders import ProgressBar
from orders.models import FeedEvent, Order

from .marketplace import ago, event, shipped, snapshot

pytestmark = pytest.mark.django_db


def _paid(number: str, *, days: float = 3, buyer: str = "mp-buyer-1") -> dict:
    return event("paid", number, at=ago(days=days), order=snapshot(number, buyer_id=buyer))


def _write(tmp_path, lines: list) -> str:
    path = tmp_path / "history.jsonl"
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines)
    )
    return str(path)


def _run(path: str, **options) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_orders", path, stdout=out, stderr=err, **options)
    return out.getvalue()


def test_import_applies_every_event_and_lists_refused_lines_by_reason(tmp_path):
    path = _write(
        tmp_path,
        [
            _paid("8300000000000001"),
            _paid("8300000000000002", buyer="mp-buyer-2"),
            shipped("8300000000000001", at=ago(days=2)),
            "{not json",
            event("cancelled", "8300000000000002", at=ago(days=2)),
            event("delivered", "8300000000000002", at=ago(days=1)),
            shipped("8300000000000009", at=ago(days=1)),
            "",
            {**_paid("8300000000000003"), "order": {**snapshot("8300000000000003"), "currency": "GBP"}},
        ],
    )
    output = _run(path)
    assert Order.objects.get(number="8300000000000001").status == Order.Status.IN_TRANSIT
    assert Order.objects.get(number="8300000000000002").status == Order.Status.CANCELLED
    assert not Order.objects.filter(number="8300000000000003").exists()
    assert (
        "9 lines: 4 applied, 0 already imported, 0 not newer than what the order holds (ignored), 1 waiting" in output
    )
    assert "1 refused by the order's state, 2 unreadable." in output
    assert "body must be a JSON object in UTF-8  (lines 4)" in output
    assert "order.currency must be one of USD, RUB, EUR  (lines 9)" in output
    assert "order N was cancelled here; it cannot be delivered  (lines 6)" in output
    assert "1 events wait for their order's order.paid" in output
    assert not mail.outbox


def test_running_the_same_file_again_adds_nothing(tmp_path):
    path = _write(tmp_path, [_paid("8300000000000001"), shipped("8300000000000001", at=ago(days=1))])
    _run(path)
    output = _run(path)
    assert "2 lines: 0 applied, 2 already imported" in output
    assert Order.objects.count() == 1 and FeedEvent.objects.count() == 2


def test_an_import_stopped_half_way_goes_on_without_duplicates(tmp_path, monkeypatch):
    lines = [_paid(f"83000000000001{index:02d}", buyer=f"mp-buyer-{index % 3}") for index in range(10)]
    path = _write(tmp_path, lines)
    real_batch = feed_import._apply_batch
    calls = {"count": 0}

    def batch_then_stop(*args, **kwargs):
        calls["count"] += 1
        done = real_batch(*args, **kwargs)
        if calls["count"] == 3:
            raise KeyboardInterrupt  # Ctrl-C once the third batch is written, before it commits
        return done

    monkeypatch.setattr(feed_import, "_apply_batch", batch_then_stop)
    output = _run(path, batch_size=2)
    assert "Stopped. Lines 1 to 4 are imported" in output
    assert Order.objects.count() == 4  # the batch under way was rolled back whole
    monkeypatch.setattr(feed_import, "_apply_batch", real_batch)
    output = _run(path, batch_size=2)
    assert "10 lines: 6 applied, 4 already imported" in output
    assert Order.objects.count() == 10
    assert User.objects.filter(marketplace_id__startswith="mp-buyer-").count() == 3


def test_history_whose_protection_ended_is_completed_without_mail(tmp_path):
    number = "8300000000000001"
    path = _write(
        tmp_path,
        [
            _paid(number, days=200),
            shipped(number, at=ago(days=198)),
            event("delivered", number, at=ago(days=170)),
        ],
    )
    _run(path)
    assert Order.objects.get(number=number).status == Order.Status.COMPLETED
    assert not mail.outbox


def test_an_event_before_its_order_in_the_file_waits_for_it(tmp_path):
    number = "8300000000000001"
    path = _write(tmp_path, [shipped(number, at=ago(days=1)), _paid(number, days=2)])
    _run(path, batch_size=1)
    assert Order.objects.get(number=number).status == Order.Status.IN_TRANSIT
    assert FeedEvent.objects.filter(outcome=FeedEvent.Outcome.HELD).count() == 0


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no such file"):
        _run(str(tmp_path / "nope.jsonl"))


def test_the_progress_line_shows_the_share_done_the_rate_and_the_time_left():
    written: list[str] = []
    bar = ProgressBar(written.append, total_bytes=1000, interactive=True)
    bar.started -= 10  # ten seconds in
    summary = ImportSummary(lines=400, bytes_read=250)
    summary.outcomes["applied"] = 400
    bar(summary, final=True)
    line = written[-1]
    assert line.startswith("\r[#######.......................]  25.0%  400 lines  40 events/s  0m30s left")


def test_refused_reasons_are_bounded_however_many_kinds_come():
    summary = ImportSummary()
    for number in range(1000):
        summary.refuse(number, f"reason {'x' * (number % 97)}")
    assert len(summary.refused) == feed_import.MAX_REASONS + 1
    assert all(len(entry.lines) <= feed_import.EXAMPLE_LINES for entry in summary.refused.values())
    assert sum(entry.count for entry in summary.refused.values()) == 1000


def test_the_import_time_is_not_the_event_time(tmp_path):
    """The events keep the times the marketplace gave them; received_at is when they came."""
    path = _write(tmp_path, [_paid("8300000000000001", days=30)])
    before = timezone.now()
    _run(path)
    row = FeedEvent.objects.get()
    assert row.received_at >= before and row.occurred_at < before - timedelta(days=29)
    assert row.source == FeedEvent.Source.IMPORT


def test_an_order_made_in_bulk_is_the_order_the_feed_makes(tmp_path, client):
    from .marketplace import post_event

    post_event(client, _paid("8300000000000001"))
    _run(_write(tmp_path, [_paid("8300000000000002")]))
    fed, imported = Order.objects.get(number="8300000000000001"), Order.objects.get(number="8300000000000002")
    fields = [
        field.name
        for field in Order._meta.concrete_fields
        if field.name not in ("id", "number", "created_at", "updated_at", "paid_at", "ship_by", "marketplace_event_at")
    ]
    assert {name: getattr(fed, name) for name in fields} == {name: getattr(imported, name) for name in fields}
    item_fields = ["title", "variant", "quantity", "unit_price", "item_id", "image_url"]
    assert list(fed.items.values(*item_fields)) == list(imported.items.values(*item_fields))
    assert FeedEvent.objects.get(order=imported).outcome == FeedEvent.Outcome.APPLIED


def test_a_batch_that_collides_with_the_live_feed_is_applied_event_by_event(tmp_path, monkeypatch):
    from django.db import IntegrityError

    real_bulk = feed_import._new_orders_at_once

    def collide(*args, **kwargs):
        monkeypatch.setattr(feed_import, "_new_orders_at_once", real_bulk)
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(feed_import, "_new_orders_at_once", collide)
    output = _run(_write(tmp_path, [_paid(f"830000000000000{index}") for index in range(3)]))
    assert "3 lines: 3 applied" in output
    assert Order.objects.count() == 3
