"""Two checkouts of the site under the same load in one sitting: before and after a change.

Serves each checkout in turn with gunicorn (production settings, 4 sync workers) against the same
database and Redis, drives the pages of bench/load.py with wrk, and prints each page's requests/s
as a ratio to the floor (`/healthz`: Django, its middleware and one SELECT 1) measured by the same
server in the same round. Rounds alternate the checkouts (A, B, A, B, ...) so that the machine's
other load falls on both; the summary gives each ratio's range over the rounds.

The data is bench/load.py's, built once into --database and reused by later runs (--rebuild to
start again). Sessions are made afresh before each server starts, as the cache is emptied.

Usage: python bench/load_compare.py --checkouts /path/to/before,/path/to/after [--rounds 2]
       [--duration 5] [--connections 10,50] [--only "My orders"] [--port 18801]
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import load  # noqa: E402  (sets the production environment before Django starts)
from _setup import django_on_bench_database  # noqa: E402

FLOOR = "health check (floor)"


def find_data() -> dict[str, object] | None:
    """The objects bench/load.py built, if they are there."""
    from accounts.models import User
    from disputes.models import Claim, Dispute
    from orders.models import Order

    arbitrator = User.objects.filter(username="bench-arbitrator").first()
    disputed = Order.objects.filter(number="9100000000000001").first()
    wizard_order = Order.objects.filter(number="9100000000000002").first()
    if arbitrator is None or disputed is None or wizard_order is None:
        return None
    return {
        "buyer": disputed.buyer,
        "arbitrator": arbitrator,
        "dispute": Dispute.objects.get(order=disputed),
        "order": disputed,
        "wizard_order": wizard_order,
        "claim": Claim.objects.filter(stage="investigation").order_by("pk").first(),
    }


def start(checkout: Path, port: int, workers: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "helpcenter.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
        cwd=checkout,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "helpcenter.settings", "PYTHONPATH": str(checkout)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError as error:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"gunicorn in {checkout} did not start: {stderr}") from error
            time.sleep(0.2)
    raise SystemExit(f"gunicorn in {checkout} did not answer /healthz in 30 s")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", required=True, help="two or more checkouts, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", default="10,50")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=18801)
    parser.add_argument("--only", default="", help="pages whose name contains this (the floor always)")
    parser.add_argument("--database", default="helpcenter_bench_load")
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    args = parser.parse_args()
    checkouts = [Path(path).resolve() for path in args.checkouts.split(",")]
    levels = [int(level) for level in args.connections.split(",")]

    django_on_bench_database(args.database, fresh=args.rebuild)
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connections

    call_command("collectstatic", interactive=False, verbosity=0)
    data = find_data()
    if data is None:
        caches["default"].clear()
        data = load.build_data()

    # ratios[page][level][checkout] = [ratio per round]
    ratios: dict[str, dict[int, dict[Path, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    rates: dict[str, dict[int, dict[Path, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    names: list[str] = []
    for round_number in range(1, args.rounds + 1):
        for checkout in checkouts:
            caches["default"].clear()  # the pages, the permissions and the sessions: both start cold
            pages = [
                page for page in load.page_list(data) if page.name == FLOOR or args.only.lower() in page.name.lower()
            ]
            names = [page.name for page in pages]
            connections.close_all()
            server = start(checkout, args.port, args.workers)
            try:
                print(f"\nround {round_number}, {checkout}", flush=True)
                for page in pages:
                    url = f"http://127.0.0.1:{args.port}{page.url}"
                    cookie = f"sessionid={page.session}" if page.session else ""
                    load.wrk(url, connections=10, duration=1, cookie=cookie)  # warm every worker
                    for level in levels:
                        figures = load.wrk(url, connections=level, duration=args.duration, cookie=cookie)
                        if figures.errors:
                            raise SystemExit(f"{page.name}: {figures.errors} errors from {checkout}")
                        rates[page.name][level][checkout].append(figures.requests_per_second)
                        floor = rates[FLOOR][level][checkout][-1]
                        ratios[page.name][level][checkout].append(figures.requests_per_second / floor)
                        print(
                            f"  {page.name:36} c={level:<3} {figures.requests_per_second:8,.0f}/s "
                            f"x{figures.requests_per_second / floor:.3f} of the floor  p99 {figures.p99_ms:.1f} ms",
                            flush=True,
                        )
            finally:
                stop(server)

    print("\nRequests/s as a ratio to the floor of the same server and round (range over rounds):\n")
    header = " | ".join(f"{checkout.name} req/s | {checkout.name} ×floor" for checkout in checkouts)
    print(f"| page | connections | {header} |")
    print("| --- | ---: |" + " ---: | ---: |" * len(checkouts))
    for name in names:
        for level in levels:
            cells = []
            for checkout in checkouts:
                rate, ratio = rates[name][level][checkout], ratios[name][level][checkout]
                cells.append(f"{min(rate):,.0f}–{max(rate):,.0f} | {min(ratio):.3f}–{max(ratio):.3f}")
            print(f"| {name} | {level} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
