"""The marketplace's order events: the bulk import and the signed feed, in events per second per
process, and the import's memory over a million orders.

1. Writes N generated orders as JSON lines in the order things happened (every order paid; one in
   twenty also shipped, two in five of those delivered two weeks later; one in a hundred cancelled
   and refunded by the marketplace), each order into one of --processes files.
2. Imports the files with `manage.py import_orders`, one child process per file, all at once, on a
   fresh bench database, sampling each child's resident memory as it goes (the peak, and the memory
   at each tenth of its run: flat means bounded).
3. Starts gunicorn with one sync worker (production settings) and posts signed order.placed and
   order.paid events to POST /marketplace/orders/events/ one after another, each a new order, then
   the paid ones again (duplicates), and /healthz as the floor of a request on the same server.

The floor of the import is measured in the same run: each line read, decoded and written as one
row in a savepoint, in transactions of 500 lines (the least any per-event path does). Ratios to
the floors carry over to another machine better than the raw rates.

Needs PostgreSQL (BENCH_DATABASE_SERVER, default the local one). The bench database is
`marketplace_bench` (dropped and made again).

Usage: python bench/marketplace_feed.py [--orders 1000000] [--processes 1] [--feed-events 2000] [--port 18910]
"""

import argparse
import heapq
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATABASE = "marketplace_bench"
FEED_SECRET = "bench-marketplace-feed-secret"
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-feed",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "EMAIL_URL": "consolemail://",
    "CELERY_BROKER_URL": "memory://",
    "REDIS_CACHE_URL": os.environ.get("REDIS_CACHE_URL", "redis://127.0.0.1:6379/13"),
    "DJANGO_LOG_LEVEL": "WARNING",
    "MARKETPLACE_FEED_SECRET": FEED_SECRET,
}
for _name, _value in PRODUCTION_ENV.items():
    os.environ.setdefault(_name, _value)

from _setup import django_on_bench_database  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
TITLES = ["Беспроводные наушники", "Смарт-часы", "Чехол для телефона", "Кабель USB-C", "Плед флисовый", "Кроссовки"]


def order_events(number: int, rng: random.Random, now: datetime, paid_at: datetime) -> list[dict]:
    """One generated order's events, oldest first: paid; one in twenty shipped (two in five of those
    delivered two weeks later); one in a hundred cancelled and refunded by the marketplace."""
    order_number = f"9{number:015d}"
    buyer = rng.randrange(200_000)
    store = rng.randrange(5_000)
    items: list[dict[str, Any]] = [
        {
            "title": rng.choice(TITLES),
            "variant": rng.choice(["", "Чёрный", "42", "L"]),
            "quantity": rng.randint(1, 3),
            "price": f"{rng.randint(100, 9000) / 100:.2f}",
            "image_url": f"https://img.marketplace.example/{number}.jpg",
            "product_id": f"1005{number:012d}",
        }
        for _ in range(rng.choice([1, 1, 1, 2]))
    ]
    order = {
        "number": order_number,
        "currency": rng.choice(["USD", "USD", "RUB", "EUR"]),
        "buyer": {"id": f"b{buyer}", "email": f"b{buyer}@example.com", "name": "Покупатель"},
        "store": {
            "id": f"s{store}",
            "name": f"Store {store}",
            "seller": {"id": f"seller{store}", "email": f"seller{store}@example.com", "name": "Seller"},
        },
        "items": items,
        "shipping": {"method": "AliExpress Standard Shipping", "price": "0.00"},
        "protection_days": rng.choice([30, 45, 60, 75]),
        "handling_days": rng.randint(3, 7),
    }
    only_number = {"number": order_number}

    def event(kind: str, at: datetime, **body: object) -> dict:
        at = min(at, now - timedelta(minutes=1))
        return {"id": f"e{number}-{kind}", "type": f"order.{kind}", "occurred_at": at.isoformat(), **body}

    events = [event("paid", paid_at, order=order)]
    roll = rng.random()
    if roll < 0.01:
        events.append(event("cancelled", paid_at + timedelta(days=1), order=only_number))
        total = sum(float(item["price"]) * item["quantity"] for item in items)
        refund = {"amount": f"{total:.2f}", "currency": order["currency"]}
        events.append(event("refunded", paid_at + timedelta(days=2), order=only_number, refund=refund))
    elif roll < 0.06:
        shipment = {"carrier": "Cainiao", "tracking_number": f"LP{number:011d}CN"}
        events.append(event("shipped", paid_at + timedelta(days=2), order=only_number, shipment=shipment))
        if roll < 0.03:
            events.append(event("delivered", paid_at + timedelta(days=14), order=only_number))
    return events


def write_history(paths: list[Path], orders: int) -> list[int]:
    """Write the history in the order things happened, as an export is (an order's later events
    come days after its payment, among other orders' events), each order into one of `paths` (one
    file per import process); the events in each file."""
    rng = random.Random(24)
    now = datetime.now(UTC)
    step = (now - timedelta(days=1) - START) / orders
    waiting: list[tuple[datetime, int, str]] = []  # later events, by time
    counts = [0] * len(paths)
    outs = [path.open("w") for path in paths]

    def write(number: int, line: str) -> None:
        outs[number % len(outs)].write(line)
        counts[number % len(outs)] += 1

    for number in range(orders):
        paid_at = START + step * number
        while waiting and waiting[0][0] <= paid_at:
            _at, key, line = heapq.heappop(waiting)
            write(key // 4, line)
        first, *later = order_events(number, rng, now, paid_at)
        write(number, json.dumps(first, ensure_ascii=False, separators=(",", ":")) + "\n")
        for position, event in enumerate(later):
            line = json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"
            heapq.heappush(waiting, (datetime.fromisoformat(event["occurred_at"]), number * 4 + position, line))
    while waiting:
        _at, key, line = heapq.heappop(waiting)
        write(key // 4, line)
    for out in outs:
        out.close()
    return counts


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class _Child:
    path: Path
    child: subprocess.Popen
    output: IO[str]
    samples: list[float] = field(default_factory=list)
    seconds: float = 0.0


def run_imports(paths: list[Path], database_url: str) -> list[dict]:
    """`manage.py import_orders` in one child per file, all at once; each child's time, peak memory
    and memory at each tenth of its run."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "helpcenter.settings"}
    started = time.monotonic()
    children = []
    for path in paths:
        output = path.with_suffix(".log").open("w")
        child = subprocess.Popen(
            [sys.executable, "manage.py", "import_orders", str(path)], cwd=ROOT, env=env, stdout=output, stderr=output
        )
        children.append(_Child(path, child, output))
    while any(entry.child.poll() is None for entry in children):
        for entry in children:
            if entry.child.poll() is None:
                entry.samples.append(rss_mb(entry.child.pid))
                entry.seconds = time.monotonic() - started
        time.sleep(1)
    results = []
    for entry in children:
        entry.output.close()
        log = entry.path.with_suffix(".log").read_text()
        if entry.child.returncode != 0:
            raise SystemExit(f"import_orders failed:\n{log[-3000:]}")
        samples = entry.samples or [0.0]
        results.append(
            {
                "seconds": entry.seconds,
                "peak_mb": max(samples),
                "tenths_mb": [samples[min(len(samples) - 1, int(len(samples) * share / 10))] for share in range(1, 11)],
                "summary": [line for line in log.splitlines() if " lines: " in line][-1:],
            }
        )
    return results


def import_floor(path: Path, lines: int) -> float:
    """Lines per second for the least per-event work: read, decode, one INSERT in a savepoint."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_floor (event_id varchar(100) PRIMARY KEY, body jsonb)")
    started = time.monotonic()
    with path.open("rb") as stream:
        batch: list[dict] = []
        done = 0
        for line in stream:
            batch.append(json.loads(line))
            if len(batch) == 500:
                with transaction.atomic(), connection.cursor() as cursor:
                    for event in batch:
                        with transaction.atomic():
                            cursor.execute(
                                "INSERT INTO bench_floor VALUES (%s, %s)", [event["id"], json.dumps(event["order"])]
                            )
                done += len(batch)
                batch = []
            if done >= lines:
                break
    return done / (time.monotonic() - started)


def signed(body: bytes) -> str:
    from core.signatures import signed_header

    return signed_header(secret=FEED_SECRET, timestamp=int(time.time()), body=body)


def post(url: str, body: bytes | None, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def run_feed(port: int, database_url: str, count: int) -> dict:
    """Events per second through one gunicorn worker: order.placed, then order.paid, each a new order."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "helpcenter.settings"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "helpcenter.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if post(f"{base}/healthz", None, {}) == 200:
                    break
            except OSError:
                time.sleep(0.2)
        rng = random.Random(7)
        now = datetime.now(UTC)
        rates = {}

        def timed(name: str, bodies: Sequence[tuple[str, bytes | None]]) -> None:
            statuses: dict[int, int] = {}
            started = time.monotonic()
            for url, body in bodies:
                headers = {"Content-Type": "application/json", "X-Marketplace-Signature": signed(body)} if body else {}
                status = post(url, body, headers)
                statuses[status] = statuses.get(status, 0) + 1
            rates[name] = (len(bodies) / (time.monotonic() - started), statuses)

        timed("healthz (floor)", [(f"{base}/healthz", None)] * count)
        numbers = range(10_000_000, 10_000_000 + count)
        placed, paid = [], []
        for number in numbers:
            paid_event = order_events(number, rng, now, now - timedelta(hours=1))[0]
            placed_event = {**paid_event, "id": f"e{number}-placed", "type": "order.placed"}
            placed.append((f"{base}/marketplace/orders/events/", json.dumps(placed_event).encode()))
            paid.append((f"{base}/marketplace/orders/events/", json.dumps(paid_event).encode()))
        timed("order.placed", placed)
        timed("order.paid", paid)
        timed("order.paid again (duplicates)", paid[: count // 2])
        return rates
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--feed-events", type=int, default=2000)
    parser.add_argument("--port", type=int, default=18910)
    parser.add_argument("--processes", type=int, default=1, help="import processes, each with its share of the orders")
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()

    database_url = django_on_bench_database(DATABASE)
    print(f"bench database {DATABASE}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    paths = [
        Path(tempfile.gettempdir()) / f"marketplace-history-{args.orders}-{index + 1}-of-{args.processes}.jsonl"
        for index in range(args.processes)
    ]
    started = time.monotonic()
    counts = write_history(paths, args.orders)
    events, size = sum(counts), sum(path.stat().st_size for path in paths)
    took = time.monotonic() - started
    print(
        f"wrote {args.orders:,} orders as {events:,} events ({size / 2**20:,.0f} MB, {len(paths)} files), {took:.0f} s"
    )

    floor = import_floor(paths[0], min(counts[0], 20_000))
    from django.db import connections

    connections.close_all()
    print(f"import floor (read, decode, one INSERT in a savepoint per line): {floor:,.0f} lines/s")
    if not args.skip_import:
        results = run_imports(paths, database_url)
        for index, (result, count) in enumerate(zip(results, counts, strict=True), start=1):
            rate = count / result["seconds"]
            print(
                f"import_orders process {index}/{len(results)}: {count:,} events in {result['seconds']:,.0f} s = "
                f"{rate:,.0f} events/s, {rate / floor:.2f} of the floor; peak RSS {result['peak_mb']:,.0f} MB; "
                "RSS at each tenth of its run (MB): " + ", ".join(f"{mb:.0f}" for mb in result["tenths_mb"])
            )
            for line in result["summary"]:
                print(f"  {line}")
        longest = max(result["seconds"] for result in results)
        print(
            f"all {args.orders:,} orders ({events:,} events) imported in {longest:,.0f} s: "
            f"{events / longest:,.0f} events/s, {args.orders / longest:,.0f} orders/s with {len(results)} processes"
        )

    rates = run_feed(args.port, database_url, args.feed_events)
    floor_rate = rates["healthz (floor)"][0]
    print(f"signed feed, one gunicorn sync worker, {args.feed_events:,} requests each:")
    for name, (rate, statuses) in rates.items():
        print(f"  {name:32} {rate:8,.0f} requests/s  {rate / floor_rate:5.2f} of the floor   statuses {statuses}")
    paid_rate, placed_rate = rates["order.paid"][0], rates["order.placed"][0]
    per_order = 1 / paid_rate + 1 / placed_rate  # a placed and a paid event per order at the peak
    print(
        f"a peak of 10,000 orders/s (order.placed + order.paid each) needs about "
        f"{math.ceil(10_000 * per_order):,} worker processes busy at this speed"
    )


if __name__ == "__main__":
    main()
