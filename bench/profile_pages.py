"""What a page costs, in a warmed process on bench/load.py's data, with cProfile for where it goes.

For each page: SQL queries; Python function calls per request (a figure the machine's other load
does not move); CPU per request, this process's and its PostgreSQL backend's (read from /proc, so
waiting for a busy machine is not counted), and that as a ratio to the floor's (`/healthz`), the
capacity a dedicated server would have for the page relative to the floor (without wrk, gunicorn
and Redis, the same for every page); with --top the functions that cost most (cumulative). Run
bench/load.py or bench/load_compare.py once first to build the data.

Usage: python bench/profile_pages.py [--only "My orders,dispute"] [--requests 50] [--top 25]
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import load  # noqa: E402  (sets the production environment before Django starts)
from _setup import django_on_bench_database  # noqa: E402
from load_compare import find_data  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_per_request(client, url: str, *, seconds: float = 2.0) -> float:
    """CPU seconds per request of this process and its PostgreSQL backend (which must be on this
    machine), over enough requests for /proc's 10 ms ticks not to matter."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    requests = 0
    started, backend_started = time.process_time(), backend_cpu(backend)
    while time.process_time() - started < seconds:
        client.get(url)
        requests += 1
    return (time.process_time() - started + backend_cpu(backend) - backend_started) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions per page")
    parser.add_argument("--database", default="helpcenter_bench_load")
    args = parser.parse_args()

    django_on_bench_database(args.database, fresh=False)
    from django.core.cache import caches
    from django.test import Client

    data = find_data()
    if data is None:
        raise SystemExit("No bench data: run bench/load.py (or load_compare.py) with this --database first.")
    caches["default"].clear()
    wanted = [part.strip().lower() for part in args.only.split(",")]
    floor, *others = load.page_list(data)
    pages = [floor, *(page for page in others if any(part in page.name.lower() for part in wanted))]
    print("| page | queries | Python calls per request | CPU ms per request (Django + PostgreSQL) | ×floor |")
    print("| --- | ---: | ---: | ---: | ---: |")
    floor_cpu = None
    for page in pages:
        client = Client(HTTP_HOST="127.0.0.1")
        if page.session:
            client.cookies["sessionid"] = page.session
        for _ in range(5):  # warm: templates, caches, connections
            response = client.get(page.url)
            assert response.status_code == 200, (page.name, response.status_code)
        queries = load.count_queries(page)
        cpu = cpu_per_request(client, page.url)
        if floor_cpu is None:
            floor_cpu = cpu  # the first page is the floor
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            client.get(page.url)
        profile.disable()
        stats = pstats.Stats(profile)
        calls = stats.total_calls // args.requests  # type: ignore[attr-defined]
        print(f"| {page.name} | {queries} | {calls:,} | {cpu * 1000:.2f} | {floor_cpu / cpu:.3f} |", flush=True)
        if args.top:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
