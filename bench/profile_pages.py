"""Where a page's time goes: cProfile over requests to a warmed process, on bench/load.py's data.

For each page: SQL queries, Python function calls per request (a figure the machine's other load
does not move) and the wall time per request, and with --top the functions that cost most
(cumulative). Run bench/load.py or bench/load_compare.py once first to build the data.

Usage: python bench/profile_pages.py [--only "My orders"] [--requests 50] [--top 25]
"""

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import load  # noqa: E402  (sets the production environment before Django starts)
from _setup import django_on_bench_database  # noqa: E402
from load_compare import find_data  # noqa: E402


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
    pages = [page for page in load.page_list(data) if args.only.lower() in page.name.lower()]
    print("| page | queries | Python calls per request | ms per request (profiled) |")
    print("| --- | ---: | ---: | ---: |")
    for page in pages:
        client = Client(HTTP_HOST="127.0.0.1")
        if page.session:
            client.cookies["sessionid"] = page.session
        for _ in range(5):  # warm: templates, caches, connections
            response = client.get(page.url)
            assert response.status_code == 200, (page.name, response.status_code)
        queries = load.count_queries(page)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for _ in range(args.requests):
            client.get(page.url)
        profile.disable()
        elapsed = (time.perf_counter() - started) / args.requests * 1000
        stats = pstats.Stats(profile)
        calls = stats.total_calls // args.requests  # type: ignore[attr-defined]
        print(f"| {page.name} | {queries} | {calls:,} | {elapsed:.1f} |", flush=True)
        if args.top:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
