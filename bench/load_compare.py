"""Two checkouts of the site under the same load in one sitting: before and after a change.

Serves each checkout in turn with gunicorn (production settings, 4 sync workers) against the same
database and Redis, drives the pages of bench/load.py with wrk, and prints each page's requests/s
as a ratio to the floor (`/healthz`: Django, its middleware and one SELECT 1) measured by the same
server right before it (each row is a floor run and a page run, back to back); and the server's
CPU per request (gunicorn's workers and their PostgreSQL backends, read from /proc) as a ratio to
the floor's. On a machine shared with other work, requests/s follow the others' load, while the
CPU a request costs barely moves. Rounds alternate the checkouts (A, B, A, B, ...) so that the
machine's other load falls on both; the summary gives each ratio's range over the rounds.

The data is bench/load.py's, built once into --database and reused by later runs (--rebuild to
start again). Sessions are made afresh before each server starts, as the cache is emptied.

Usage: python bench/load_compare.py --checkouts /path/to/before,/path/to/after [--rounds 2]
       [--duration 5] [--connections 10,50] [--only "My orders,dispute"] [--port 18801]
"""

import argparse
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import load  # noqa: E402  (sets the production environment before Django starts)
from _setup import django_on_bench_database, start_gunicorn, stop_gunicorn  # noqa: E402

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


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 for one that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def server_pids(server: subprocess.Popen, database: str) -> list[int]:
    """The gunicorn workers and the PostgreSQL backends serving them."""
    from django.db import connection

    workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database])
        backends = [row[0] for row in cursor.fetchall()]
    return [server.pid, *map(int, workers), *backends]


def server_cpu(server: subprocess.Popen, database: str) -> dict[int, float]:
    return {pid: process_cpu(pid) for pid in server_pids(server, database)}


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", required=True, help="two or more checkouts, comma-separated")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", default="10,50")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=18801)
    parser.add_argument("--only", default="", help="pages whose name contains one of these (comma-separated)")
    parser.add_argument("--database", default="helpcenter_bench_load")
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    args = parser.parse_args()
    checkouts = [Path(path).resolve() for path in args.checkouts.split(",")]
    levels = [int(level) for level in args.connections.split(",")]

    django_on_bench_database(args.database, fresh=args.rebuild)
    database = args.database
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
    cpu_ratios: dict[str, dict[int, dict[Path, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    names: list[str] = []

    def measure(server: subprocess.Popen, url: str, level: int, cookie: str) -> tuple[load.Figures, float]:
        """wrk's figures, and the server's CPU seconds per request (gunicorn and PostgreSQL)."""
        before = server_cpu(server, database)
        figures = load.wrk(url, connections=level, duration=args.duration, cookie=cookie)
        used = cpu_used(before, server_cpu(server, database))
        return figures, used / max(1.0, figures.requests_per_second * args.duration)

    for round_number in range(1, args.rounds + 1):
        for checkout in checkouts:
            caches["default"].clear()  # the pages, the permissions and the sessions: both start cold
            wanted = [part.strip().lower() for part in args.only.split(",")]
            pages = [
                page
                for page in load.page_list(data)
                if page.name != FLOOR and any(part in page.name.lower() for part in wanted)
            ]
            names = [page.name for page in pages]
            connections.close_all()
            server = start_gunicorn(
                checkout,
                args.port,
                args.workers,
                # Connections live through the whole run, so that the backends' CPU can be counted.
                {"PYTHONPATH": str(checkout), "DATABASE_CONN_MAX_AGE": "3600"},
            )
            try:
                print(f"\nround {round_number}, {checkout}", flush=True)
                floor_url = f"http://127.0.0.1:{args.port}/healthz"
                for page in pages:
                    url = f"http://127.0.0.1:{args.port}{page.url}"
                    cookie = f"sessionid={page.session}" if page.session else ""
                    load.wrk(url, connections=10, duration=1, cookie=cookie)  # warm every worker
                    for level in levels:
                        # The floor is measured again right before each page: on a machine that
                        # others share, the load moves within minutes, and the ratio to a floor
                        # measured at another moment says little.
                        floor, floor_cpu = measure(server, floor_url, level, "")
                        figures, page_cpu = measure(server, url, level, cookie)
                        if not floor.requests_per_second or not figures.requests_per_second:
                            print(f"  {page.name:36} c={level:<3} no answer in {args.duration:g} s: skipped")
                            continue
                        if figures.errors:
                            raise SystemExit(f"{page.name}: {figures.errors} errors from {checkout}")
                        ratio = figures.requests_per_second / floor.requests_per_second
                        rates[page.name][level][checkout].append(figures.requests_per_second)
                        ratios[page.name][level][checkout].append(ratio)
                        cpu_ratios[page.name][level][checkout].append(floor_cpu / page_cpu)
                        print(
                            f"  {page.name:36} c={level:<3} {figures.requests_per_second:8,.0f}/s "
                            f"(floor {floor.requests_per_second:,.0f}/s) x{ratio:.3f} of the floor, "
                            f"p99 {figures.p99_ms:.1f} ms; server CPU {page_cpu * 1000:.2f} ms a request "
                            f"(floor {floor_cpu * 1000:.2f}): x{floor_cpu / page_cpu:.3f}",
                            flush=True,
                        )
            finally:
                stop_gunicorn(server)

    for title, table in (
        ("Requests/s as a ratio to the floor run just before (range over rounds)", ratios),
        (
            "Capacity as a ratio to the floor: the floor's server CPU per request (gunicorn and "
            "PostgreSQL) over the page's, which the machine's other load moves far less",
            cpu_ratios,
        ),
    ):
        print(f"\n{title}:\n")
        header = " | ".join(f"{checkout.name} req/s | {checkout.name} ×floor" for checkout in checkouts)
        print(f"| page | connections | {header} |")
        print("| --- | ---: |" + " ---: | ---: |" * len(checkouts))
        for name in names:
            for level in levels:
                cells = []
                for checkout in checkouts:
                    seen, against_floor = rates[name][level][checkout], table[name][level][checkout]
                    if not seen:
                        cells.append("— | —")
                        continue
                    cells.append(
                        f"{min(seen):,.0f}–{max(seen):,.0f} | {min(against_floor):.3f}–{max(against_floor):.3f}"
                    )
                print(f"| {name} | {level} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
