"""The marketplace's order events: the bulk import and the signed feed, in events per second per
process, and the import's memory over a million orders.

1. Writes N generated orders as JSON lines (every order paid; a quarter of them also shipped, a
   tenth delivered, one in twenty cancelled and refunded by the marketplace), streamed to a file.
2. Imports the file with `manage.py import_orders` in a child process on a fresh bench database,
   sampling the child's resident memory as it goes (the peak, and the memory at each tenth of
   the file: flat means bounded).
3. Starts gunicorn with one sync worker (production settings) and posts signed order.paid and
   order.placed events to POST /marketplace/orders/events/ one after another, and /healthz as the
   floor of a request on the same server.

The floor of the import is measured in the same run: each line read, decoded and written as one
row in a savepoint, in transactions of 500 lines (the least any per-event path does). Ratios to
the floors carry over to another machine better than the raw rates.

Needs PostgreSQL (BENCH_DATABASE_SERVER, default the local one). The bench database is
`marketplace_bench` (dropped and made again unless --reuse).

Usage: python bench/marketplace_feed.py [--orders 1000000] [--feed-events 2000] [--port 18910] [--reuse FILE]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    items = [
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


def write_history(path: Path, orders: int) -> tuple[int, int]:
    """Write the file in the order things happened, as a history export is (an order's later
    events come days after its payment, among other orders' events); (events, bytes)."""
    rng = random.Random(24)
    now = datetime.now(UTC)
    step = (now - timedelta(days=1) - START) / orders
    waiting: list[tuple[datetime, int, str]] = []  # later events, by time
    events = 0
    with path.open("w") as out:
        for number in range(orders):
            paid_at = START + step * number
            while waiting and waiting[0][0] <= paid_at:
                out.write(heapq.heappop(waiting)[2])
                events += 1
            first, *later = order_events(number, rng, now, paid_at)
            out.write(json.dumps(first, ensure_ascii=False, separators=(",", ":")) + "\n")
            events += 1
            for position, event in enumerate(later):
                line = json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"
                heapq.heappush(waiting, (datetime.fromisoformat(event["occurred_at"]), number * 4 + position, line))
        while waiting:
            out.write(heapq.heappop(waiting)[2])
            events += 1
    return events, path.stat().st_size


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_import(path: Path, database_url: str) -> dict:
    """`manage.py import_orders` in a child; its time, peak memory and memory at each tenth."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "helpcenter.settings"}
    log = path.with_suffix(".log")
    started = time.monotonic()
    with log.open("w") as output:
        child = subprocess.Popen(
            [sys.executable, "manage.py", "import_orders", str(path)], cwd=ROOT, env=env, stdout=output, stderr=output
        )
        samples: list[tuple[float, float]] = []
        while child.poll() is None:
            samples.append((time.monotonic() - started, rss_mb(child.pid)))
            time.sleep(1)
    elapsed = time.monotonic() - started
    if child.returncode != 0:
        raise SystemExit(f"import_orders failed:\n{log.read_text()[-3000:]}")
    tenths = [samples[min(len(samples) - 1, int(len(samples) * share / 10))][1] for share in range(1, 11)]
    return {
        "seconds": elapsed,
        "peak_mb": max(mb for _, mb in samples),
        "tenths_mb": tenths,
        "summary": [line for line in log.read_text().splitlines() if " lines: " in line][-1:],
    }


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

        def timed(name: str, bodies: list[tuple[str, bytes | None]]) -> None:
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
    parser.add_argument("--reuse", help="an events file written before (skips writing it)")
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()

    database_url = django_on_bench_database(DATABASE)
    print(f"bench database {DATABASE}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    if args.reuse:
        path = Path(args.reuse)
        events, size = sum(1 for _ in path.open("rb")), path.stat().st_size
    else:
        path = Path(tempfile.gettempdir()) / f"marketplace-history-{args.orders}.jsonl"
        started = time.monotonic()
        events, size = write_history(path, args.orders)
        took = time.monotonic() - started
        print(f"wrote {args.orders:,} orders as {events:,} events ({size / 2**20:,.0f} MB) in {took:,.0f} s")

    floor = import_floor(path, min(events, 50_000))
    from django.db import connections

    connections.close_all()
    print(f"import floor (read, decode, one INSERT in a savepoint per line): {floor:,.0f} lines/s")
    if not args.skip_import:
        result = run_import(path, database_url)
        rate = events / result["seconds"]
        print(
            f"import_orders: {events:,} events of {args.orders:,} orders in {result['seconds']:,.0f} s = "
            f"{rate:,.0f} events/s ({args.orders / result['seconds']:,.0f} orders/s) per process, "
            f"{rate / floor:.2f} of the floor"
        )
        print(
            f"  peak RSS {result['peak_mb']:,.0f} MB; RSS at each tenth of the run (MB): "
            + ", ".join(f"{mb:.0f}" for mb in result["tenths_mb"])
        )
        for line in result["summary"]:
            print(f"  {line}")

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
