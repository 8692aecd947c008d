"""What a cache read costs through Django's own Redis cache, against one Redis client kept and reused.

Django's `RedisCache` builds a `redis.Redis` around its connection pool on every call. The site
uses `core.redis_cache.RedisCache` (a backend of its own on Django's public `BaseCache`, which
keeps one client per process). This script measures, in one run and against one Redis:

- baseline: one `redis.Redis` on a connection pool, reused for every GET, the value unpickled as
  Django does (what the removed class did on each read, without Django around it);
- Django: `caches[...].get(key)`, as the site reads a session, a counter or a cached page, with the
  site's OPTIONS;
- the same through `get_many` of two keys (the page cache and the permission cache read so);
- the site's backend, `core.redis_cache.RedisCache`, for `get` and `get_many`.

Prints microseconds per call and each as a ratio to the baseline. Needs a Redis (BENCH_REDIS_URL,
default redis://127.0.0.1:6379/12; one key is written there).
Usage: python bench/cache_client.py [--calls 20000] [--rounds 5]
"""

import argparse
import gc
import os
import pickle
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent


def per_call_microseconds(call: Callable[[], object], calls: int) -> float:
    gc.collect()  # the previous variant's garbage is not collected on this one's time
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    # The site's OPTIONS (helpcenter/settings.py); timeouts change nothing while Redis answers.
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    backend = "django.core.cache.backends.redis.RedisCache"
    settings.configure(
        CACHES={
            "default": {"BACKEND": backend, "LOCATION": url, "OPTIONS": options},
            "site": {"BACKEND": "core.redis_cache.RedisCache", "LOCATION": url, "OPTIONS": options},
        }
    )
    django.setup()
    import redis
    from django.core.cache import caches

    cache, site = caches["default"], caches["site"]
    value = {"_auth_user_id": "42", "_auth_user_backend": "accounts.auth.SignInBackend", "_auth_user_hash": "x" * 64}
    cache.set("bench:cache-client", value, 600)
    cache.set("bench:cache-client:2", value, 600)
    stored_key = cache.make_and_validate_key("bench:cache-client")

    pool = redis.ConnectionPool.from_url(url, **options)
    reused = redis.Redis(connection_pool=pool)

    def baseline() -> object:
        raw = reused.get(stored_key)
        return None if raw is None else pickle.loads(cast(bytes, raw))

    def django_get() -> object:
        return cache.get("bench:cache-client")

    def django_get_many() -> object:
        return cache.get_many(["bench:cache-client", "bench:cache-client:2"])

    def site_get() -> object:
        return site.get("bench:cache-client")

    def site_get_many() -> object:
        return site.get_many(["bench:cache-client", "bench:cache-client:2"])

    def new_client() -> object:
        return redis.Redis(connection_pool=pool)

    assert baseline() == django_get() == site_get() == value
    variants = {
        "baseline": baseline,
        "get": django_get,
        "get_many": django_get_many,
        "client": new_client,
        "site_get": site_get,
        "site_get_many": site_get_many,
    }
    timings: dict[str, list[float]] = {name: [] for name in variants}
    # Interleaved rounds, so a neighbour's load on this shared machine falls on every variant alike.
    for _ in range(args.rounds):
        for name, call in variants.items():
            timings[name].append(per_call_microseconds(call, args.calls))
    floor = statistics.median(timings["baseline"])
    print(f"{args.calls} calls x {args.rounds} rounds against {url}; median of the rounds")
    print(f"{'variant':<58} {'µs/call':>8} {'x baseline':>10}")
    rows = [
        ("baseline: one reused redis.Redis, GET + unpickle", timings["baseline"]),
        ("Django RedisCache.get (a new redis.Redis per call)", timings["get"]),
        ("Django RedisCache.get_many, 2 keys", timings["get_many"]),
        ("of which: building one redis.Redis (no round trip)", timings["client"]),
        ("core.redis_cache.RedisCache.get (the site's)", timings["site_get"]),
        ("core.redis_cache.RedisCache.get_many, 2 keys", timings["site_get_many"]),
    ]
    for name, values in rows:
        median = statistics.median(values)
        print(f"{name:<58} {median:8.1f} {median / floor:10.2f}")
    cache.delete_many(["bench:cache-client", "bench:cache-client:2"])


if __name__ == "__main__":
    main()
