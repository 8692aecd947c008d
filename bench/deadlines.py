"""Deadline sweeps at scale: 1,000,000 open disputes on PostgreSQL.

Prints the time of a sweep with nothing due at 10,000 and at 1,000,000 open disputes (the ratio
shows whether the cost follows the due rows or the table), then makes 10,000 disputes due for
the 15-day auto-claim and prints the time of the sweep that escalates them and the rate.
Usage: python bench/deadlines.py [--open 1000000] [--due 10000]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("CELERY_BROKER_URL", "memory://")  # measure the sweep, not a mail server

from _setup import django_on_bench_database

ORDER_COLUMNS = (
    "number, buyer_id, store_id, status, currency, total_amount, shipping_method, tracking_number, "
    "protection_days, paid_at, shipped_at, protection_due_at, has_dispute, created_at, updated_at"
)
DISPUTE_COLUMNS = (
    "order_id, buyer_id, store_id, kind, problems, held_by_customs, wrong_address, refund_type, requested_amount, "
    "currency, return_item, request_text, status, opened_at, seller_answer_due_at, escalation_opens_at, "
    "auto_claim_due_at, return_required, return_tracking_number, updated_at"
)


def add_open_disputes(cursor, *, first: int, count: int, buyer_id: int, store_id: int) -> None:
    """Orders in transit, each with an open dispute opened 0-14 days ago (none due yet)."""
    cursor.execute(
        f"""
        INSERT INTO orders_order ({ORDER_COLUMNS})
        SELECT 'B' || g, %(buyer)s, %(store)s, 'in_transit', 'USD', 25.00, 'Standard', 'LP' || g, 60,
               now() - interval '20 days', now() - interval '18 days', now() + interval '42 days', true, now(), now()
        FROM generate_series(%(first)s, %(last)s) AS g
        """,
        {"buyer": buyer_id, "store": store_id, "first": first, "last": first + count - 1},
    )
    cursor.execute(
        f"""
        INSERT INTO disputes_dispute ({DISPUTE_COLUMNS})
        SELECT o.id, o.buyer_id, o.store_id, 'not_received', '["no_tracking"]', false, false, 'full', 25.00,
               'USD', false, 'generated', 'negotiating', opened, NULL, opened + interval '3 days',
               opened + interval '15 days', false, '', now()
        FROM (
            SELECT id, buyer_id, store_id, now() - (random() * interval '14 days') AS opened
            FROM orders_order WHERE number >= %(low)s AND id > %(after)s
        ) AS o
        """,
        {"low": "B", "after": cursor_last_dispute_order(cursor)},
    )


def cursor_last_dispute_order(cursor) -> int:
    cursor.execute("SELECT coalesce(max(order_id), 0) FROM disputes_dispute")
    return cursor.fetchone()[0]


def time_empty_sweeps(sweeps, timezone, repeat: int = 7) -> tuple[float, float]:
    """Median milliseconds of the auto-claim sweep alone, and of every minute sweep, with nothing due."""
    single, everything = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        sweeps.run("auto-claim", timezone.now())
        single.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        for name in sweeps.registered():
            sweeps.run(name, timezone.now())
        everything.append((time.perf_counter() - start) * 1000)
    return statistics.median(single), statistics.median(everything)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--database", default="helpcenter_bench_deadlines")
    args = parser.parse_args()
    small = min(10_000, args.open)

    django_on_bench_database(args.database)
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Store, User
    from core import sweeps
    from disputes.models import Dispute

    buyer = User.objects.create(username="bench-buyer", email="buyer@bench.local")
    seller = User.objects.create(username="bench-seller", email="seller@bench.local", role="seller")
    store = Store.objects.create(owner=seller, name="Bench Store")

    with connection.cursor() as cursor:
        add_open_disputes(cursor, first=1, count=small, buyer_id=buyer.pk, store_id=store.pk)
        cursor.execute("VACUUM ANALYZE orders_order")
        cursor.execute("VACUUM ANALYZE disputes_dispute")
    small_single, small_all = time_empty_sweeps(sweeps, timezone)
    print(f"open disputes: {small:>9,}  empty auto-claim sweep {small_single:7.2f} ms, all sweeps {small_all:7.2f} ms")

    started = time.perf_counter()
    with connection.cursor() as cursor:
        add_open_disputes(cursor, first=small + 1, count=args.open - small, buyer_id=buyer.pk, store_id=store.pk)
        cursor.execute("VACUUM ANALYZE orders_order")
        cursor.execute("VACUUM ANALYZE disputes_dispute")
    print(f"filled to {Dispute.objects.count():,} open disputes and orders in {time.perf_counter() - started:.1f} s")
    large_single, large_all = time_empty_sweeps(sweeps, timezone)
    print(
        f"open disputes: {args.open:>9,}  empty auto-claim sweep {large_single:7.2f} ms, all sweeps {large_all:7.2f} ms"
    )
    print(
        f"empty sweep, {args.open:,} vs {small:,} open: x{large_single / small_single:.2f} (auto-claim), "
        f"x{large_all / small_all:.2f} (all sweeps); the table grew x{args.open / small:.0f}"
    )

    with connection.cursor() as cursor:
        cursor.execute(
            # Opened 15 days and a minute ago, every date consistent with that.
            "UPDATE disputes_dispute SET opened_at = now() - interval '15 days 1 minute', "
            "escalation_opens_at = now() - interval '12 days 1 minute', "
            "auto_claim_due_at = now() - interval '1 minute' "
            "WHERE id IN (SELECT id FROM disputes_dispute ORDER BY random() LIMIT %s)",
            [args.due],
        )
        cursor.execute("ANALYZE disputes_dispute")
    start = time.perf_counter()
    result = sweeps.run("auto-claim", timezone.now())
    elapsed = time.perf_counter() - start
    print(
        f"sweep over {args.due:,} due of {args.open:,}: {elapsed:.1f} s, {result.changed:,} escalated "
        f"({result.changed / elapsed:,.0f} disputes/s, each with its event and two queued e-mails)"
    )
    start = time.perf_counter()
    again = sweeps.run("auto-claim", timezone.now())
    print(f"the same sweep again: {again.changed} escalated in {(time.perf_counter() - start) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
