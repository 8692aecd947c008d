"""Deadline sweeps at scale: 1,000,000 open disputes on PostgreSQL.

Prints the time of a sweep with nothing due at 10,000 and at 1,000,000 open disputes (the ratio
shows whether the cost follows the due rows or the table). Then makes 10,000 disputes due for the
15-day auto-claim and escalates them three times over, the rows put back each time:

1. by one bare SQL statement doing the same writes (UPDATE of the disputes and their offers,
   INSERT of the claims, the events and the outbox rows), the floor no per-row sweep can beat;
2. by the sweep in this process: disputes/s, SQL statements per dispute, and the ratio to 1;
3. by the same sweep in --workers processes at once (each its own connection, sharing the rows
   through SKIP LOCKED): the combined rate, each process's rate, and a check that every dispute
   got exactly one event, one claim and one e-mail per party.

Usage: python bench/deadlines.py [--open 1000000] [--due 10000] [--workers 2]
The machine's other load moves the absolute figures; the ratio to bare SQL, measured in the same
run, is the one to compare.
"""

import argparse
import multiprocessing
import os
import statistics
import time
from typing import Any

os.environ.setdefault("CELERY_BROKER_URL", "memory://")  # measure the sweep, not a mail server

from _setup import ORDER_COLUMNS, django_on_bench_database

DISPUTE_COLUMNS = (
    "order_id, buyer_id, store_id, kind, problems, held_by_customs, wrong_address, refund_type, requested_amount, "
    "currency, return_item, request_text, status, opened_at, seller_answer_due_at, escalation_opens_at, "
    "auto_claim_due_at, return_required, return_tracking_number, updated_at, paid_amount"
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
               opened + interval '15 days', false, '', now(), 25.00
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


ESCALATED_KEYS = "dispute:%:escalated:%"


def make_due(cursor, count: int) -> None:
    # Opened 15 days and a minute ago, every date consistent with that.
    cursor.execute(
        "UPDATE disputes_dispute SET opened_at = now() - interval '15 days 1 minute', "
        "escalation_opens_at = now() - interval '12 days 1 minute', "
        "auto_claim_due_at = now() - interval '1 minute' "
        "WHERE id IN (SELECT id FROM disputes_dispute ORDER BY random() LIMIT %s)",
        [count],
    )


def due_ids(cursor) -> list[int]:
    cursor.execute(
        "SELECT id FROM disputes_dispute WHERE status IN ('awaiting_seller', 'negotiating') "
        "AND auto_claim_due_at <= now()"
    )
    return [row[0] for row in cursor.fetchall()]


def put_back(cursor, ids: list[int]) -> None:
    """The escalated disputes due again, as before the run (what the run wrote, deleted)."""
    cursor.execute("DELETE FROM accounts_outgoingemail WHERE dedupe_key LIKE %s", [ESCALATED_KEYS])
    cursor.execute("DELETE FROM disputes_disputeevent WHERE dispute_id = ANY(%s)", [ids])
    cursor.execute("DELETE FROM disputes_claim WHERE dispute_id = ANY(%s)", [ids])
    cursor.execute(
        "UPDATE disputes_dispute SET status = 'negotiating', escalated_at = NULL, "
        "auto_claim_due_at = now() - interval '1 minute' WHERE id = ANY(%s)",
        [ids],
    )
    for table in ("disputes_dispute", "disputes_disputeevent", "disputes_claim", "accounts_outgoingemail"):
        cursor.execute(f"VACUUM ANALYZE {table}")


BARE_SQL = """
WITH due AS (
    SELECT id FROM disputes_dispute
    WHERE status IN ('awaiting_seller', 'negotiating') AND auto_claim_due_at <= now()
    FOR UPDATE SKIP LOCKED
), escalated AS (
    UPDATE disputes_dispute AS d
    SET status = 'claim', escalated_at = now(), seller_answer_due_at = NULL, auto_claim_due_at = NULL,
        updated_at = now()
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.buyer_id, d.store_id
), offers AS (
    UPDATE disputes_offer SET status = 'superseded', decided_at = now()
    WHERE status = 'pending' AND dispute_id IN (SELECT id FROM escalated)
), claims AS (
    INSERT INTO disputes_claim (dispute_id, stage, opened_at, flag_due_at, overdue_due_at, next_due_at, updated_at)
    SELECT id, 'processing', now(), now() + interval '15 days', now() + interval '60 days',
           now() + interval '15 days', now()
    FROM escalated
), events AS (
    INSERT INTO disputes_disputeevent (dispute_id, kind, actor_id, details, created_at)
    SELECT id, 'escalated', NULL, '{"automatic": true}', now() FROM escalated
)
INSERT INTO accounts_outgoingemail (recipient_id, to_address, template, language, context, subject, body, kind,
                                    dedupe_key, status, attempts, next_attempt_at, last_error, created_at)
SELECT u.id, u.email, 'dispute_update', u.preferred_language,
       jsonb_build_object('dispute', jsonb_build_object('__model__', 'disputes.Dispute', 'pk', e.id)), '', '',
       'service', 'dispute:' || e.id || ':escalated:' || u.id, 'pending', 0, now(), '', now()
FROM escalated AS e
JOIN accounts_store AS s ON s.id = e.store_id
JOIN accounts_user AS u ON u.id IN (e.buyer_id, s.owner_id)
"""


def bare_sql(connection) -> float:
    """Seconds for the bare statement, commit included."""
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(BARE_SQL)
        cursor.execute("COMMIT")
    return time.perf_counter() - start


TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(connection) -> float:
    """CPU seconds the PostgreSQL backend of `connection` has used (it runs on this machine)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def sweep_counting(sweeps, connection, now) -> tuple[Any, float, int, float, float]:
    """The auto-claim sweep here: its result, seconds, the SQL statements it sent, and the CPU
    seconds it took in this process and in its PostgreSQL backend (what the machine's other load
    barely moves, unlike the seconds)."""
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    backend_before, python_before = backend_cpu(connection), time.process_time()
    with connection.execute_wrapper(count):
        start = time.perf_counter()
        result = sweeps.run("auto-claim", now)
        elapsed = time.perf_counter() - start
    python = time.process_time() - python_before
    return result, elapsed, statements, python, backend_cpu(connection) - backend_before


def _worker(start_at: float, results) -> None:  # a child process: its own connection
    from django.db import connections
    from django.utils import timezone

    from core import sweeps

    connections["default"].ensure_connection()
    while time.time() < start_at:
        time.sleep(0.001)
    backend_before, python_before = backend_cpu(connections["default"]), time.process_time()
    begun = time.time()  # comparable across the processes, unlike perf_counter()
    result = sweeps.run("auto-claim", timezone.now())
    ended = time.time()
    cpu = time.process_time() - python_before + backend_cpu(connections["default"]) - backend_before
    results.put((result.changed, result.failed, begun, ended, cpu))
    connections.close_all()


def sweep_in_processes(workers: int) -> tuple[list[tuple[int, float]], int, float, float]:
    """The same sweep in `workers` processes at once: (changed, seconds) each, failures, wall
    seconds, and the CPU seconds of all of them and their PostgreSQL backends."""
    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0
    processes = [context.Process(target=_worker, args=(start_at, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    runs = [results.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
    wall = max(run[3] for run in runs) - min(run[2] for run in runs)
    cpu = sum(run[4] for run in runs)
    each = [(changed, end - begun) for changed, _failed, begun, end, _cpu in runs]
    return each, sum(run[1] for run in runs), wall, cpu


def check_once_each(cursor, ids: list[int]) -> list[str]:
    """What went wrong, if anything: each dispute one claim, one escalation event, one mail per party."""
    problems = []
    cursor.execute(
        "SELECT count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n > 1) FROM ("
        "SELECT d.id, count(e.id) AS n FROM disputes_dispute d LEFT JOIN disputes_disputeevent e "
        "ON e.dispute_id = d.id AND e.kind = 'escalated' WHERE d.id = ANY(%s) GROUP BY d.id) AS per_dispute",
        [ids],
    )
    once, twice = cursor.fetchone()
    if (once, twice) != (len(ids), 0):
        problems.append(f"events: {once} disputes with one, {twice} with more, of {len(ids)}")
    cursor.execute("SELECT count(*), count(DISTINCT dispute_id) FROM disputes_claim WHERE dispute_id = ANY(%s)", [ids])
    claims, distinct = cursor.fetchone()
    if claims != len(ids) or distinct != len(ids):
        problems.append(f"claims: {claims} rows for {distinct} of {len(ids)} disputes")
    cursor.execute(
        "SELECT count(*), count(DISTINCT (recipient_id, context)) FROM accounts_outgoingemail WHERE dedupe_key LIKE %s",
        [ESCALATED_KEYS],
    )
    mails, distinct_mails = cursor.fetchone()
    if mails != 2 * len(ids) or distinct_mails != mails:
        problems.append(f"e-mails: {mails} rows ({distinct_mails} distinct) for {2 * len(ids)} facts")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="processes sweeping the same rows at once (0: skip)")
    parser.add_argument("--database", default="helpcenter_bench_deadlines")
    args = parser.parse_args()
    small = min(10_000, args.open)

    django_on_bench_database(args.database)
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Store, User
    from core import sweeps
    from disputes.models import Dispute

    settings.DEBUG = False  # no query log: measure the sweep, not Django's debug bookkeeping
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
        make_due(cursor, args.due)
        cursor.execute("ANALYZE disputes_dispute")
        ids = due_ids(cursor)
    bare = bare_sql(connection)
    bare_rate = len(ids) / bare
    with connection.cursor() as cursor:
        problems = check_once_each(cursor, ids)
        put_back(cursor, ids)
    print(
        f"bare SQL, one statement over the {len(ids):,} due: {bare:.2f} s ({bare_rate:,.0f} disputes/s)"
        + (f"  CHECK FAILED: {problems}" if problems else "")
    )

    result, elapsed, statements, python_cpu, database_cpu = sweep_counting(sweeps, connection, timezone.now())
    rate = result.changed / elapsed
    with connection.cursor() as cursor:
        problems = check_once_each(cursor, ids)
        put_back(cursor, ids)
    print(
        f"sweep, 1 process: {result.changed:,} escalated in {elapsed:.1f} s = {rate:,.0f} disputes/s, each with its "
        f"event, claim and two queued e-mails; {statements / max(result.changed, 1):.1f} SQL statements per dispute "
        f"(+ BEGIN and COMMIT); bare SQL is x{bare_rate / rate:.1f} faster"
        + (f"  CHECK FAILED: {problems}" if problems else "")
    )
    changed = max(result.changed, 1)
    print(
        f"CPU per dispute, 1 process: {python_cpu / changed * 1000:.2f} ms in Python + "
        f"{database_cpu / changed * 1000:.2f} ms in its PostgreSQL backend"
    )

    if args.workers > 0:
        runs, failed, wall, cpu = sweep_in_processes(args.workers)
        with connection.cursor() as cursor:
            problems = check_once_each(cursor, ids)
        each = ", ".join(f"{changed:,} at {changed / seconds:,.0f}/s" for changed, seconds in runs)
        total = sum(changed for changed, _seconds in runs)
        print(
            f"sweep, {args.workers} processes at once: {total:,} escalated in {wall:.1f} s = {total / wall:,.0f} "
            f"disputes/s together ({each}; {failed} failed); "
            + (f"CHECK FAILED: {problems}" if problems else "each dispute: one event, one claim, one e-mail per party")
        )
        print(
            f"CPU per dispute, {args.workers} processes: {cpu / max(total, 1) * 1000:.2f} ms "
            "(Python and PostgreSQL backends together)"
        )

    start = time.perf_counter()
    again = sweeps.run("auto-claim", timezone.now())
    print(f"the same sweep again: {again.changed} escalated in {(time.perf_counter() - start) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
