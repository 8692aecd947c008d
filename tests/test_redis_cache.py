"""core.redis_cache.RedisCache answers every cache call as Django's own Redis backend does, while
keeping one redis-py client per process. Needs a Redis: CELERY_TEST_BROKER_URL=redis://... (CI
sets it); the keys carry a prefix of their own and are deleted afterwards."""

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangosRedisCache

from core.cache_outage import CACHE_UNREACHABLE
from core.redis_cache import RedisCache

from .redis_outage import STOPPED_REDIS

REDIS_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL.startswith("redis://"), reason="needs Redis: set CELERY_TEST_BROKER_URL=redis://... (CI does)"
)
OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def backend(kind: type, prefix: str, location: str = REDIS_URL) -> Any:
    return kind(location, {"KEY_PREFIX": prefix, "TIMEOUT": 300, "OPTIONS": OPTIONS})


@pytest.fixture
def both() -> Iterator[tuple[Any, Any]]:
    """Ours and Django's, each with its own key prefix on the same Redis."""
    run = secrets.token_hex(4)
    ours, djangos = backend(RedisCache, f"ours-{run}"), backend(DjangosRedisCache, f"django-{run}")
    yield ours, djangos
    keys = ["a", "b", "c", "n", "gone", "kept", "zero", "big"]
    ours.delete_many(keys)
    djangos.delete_many(keys)


def every_call(cache: Any) -> list[Any]:
    """The same calls, in order, as the site makes them (sessions, counters, kept pages)."""
    answers: list[Any] = [
        cache.get("a"),
        cache.get("a", "default"),
        cache.add("a", {"user": 42}),
        cache.add("a", "second"),
        cache.get("a"),
        cache.set("b", [1, "два", 3.5]),
        cache.get_many(["a", "b", "missing"]),
        cache.has_key("b"),
        cache.has_key("missing"),
        cache.set_many({"c": b"bytes", "big": "x" * 50_000}, timeout=60),
        cache.get_many(["c", "big"]) == {"c": b"bytes", "big": "x" * 50_000},
        cache.add("n", 0),
        cache.incr("n"),
        cache.incr("n", 5),
        cache.decr("n", 2),
        cache.get("n"),
        cache.touch("n", 30),
        cache.touch("missing", 30),
        cache.set("kept", "forever", timeout=None),
        cache.touch("kept", None),
        cache.set("zero", "gone at once", timeout=0),
        cache.get("zero"),
        cache.add("zero", "not kept either", timeout=0),
        cache.get("zero"),
        cache.set("gone", 1),
        cache.delete("gone"),
        cache.delete("gone"),
        cache.delete_many(["a", "b"]),
        cache.get_many(["a", "b"]),
        cache.get("a", version=2),
        cache.set("a", "second version", version=2),
        cache.get("a", version=2),
        cache.get("a"),
    ]
    with pytest.raises(ValueError):
        cache.incr("missing")
    return answers


@needs_redis
def test_every_cache_call_answers_as_djangos_redis_backend_does(both):
    ours, djangos = both
    assert every_call(ours) == every_call(djangos)


@needs_redis
def test_values_written_by_one_backend_are_read_by_the_other(both):
    ours, _ = both
    djangos_on_our_prefix = backend(DjangosRedisCache, ours.key_prefix)
    ours.set("a", {"session": "data"})
    ours.add("n", 7)
    assert djangos_on_our_prefix.get("a") == {"session": "data"}
    assert djangos_on_our_prefix.incr("n") == 8
    djangos_on_our_prefix.set("b", ["from", "django"])
    assert ours.get("b") == ["from", "django"]


@needs_redis
def test_expiry_is_set_in_redis_as_djangos_backend_sets_it(both):
    ours, djangos = both
    ours.set("a", 1, timeout=120)
    djangos.set("a", 1, timeout=120)
    ours.set("kept", 1, timeout=None)
    raw = redis.Redis.from_url(REDIS_URL)
    assert 110 < raw.ttl(ours.make_key("a")) <= 120
    assert 110 < raw.ttl(djangos.make_key("a")) <= 120
    assert raw.ttl(ours.make_key("kept")) == -1


@needs_redis
def test_one_redis_client_serves_every_call_of_a_process():
    cache = backend(RedisCache, f"ours-{secrets.token_hex(4)}")
    first = cache.client.get_client()
    cache.get("a")
    cache.set("a", 1)
    cache.get_many(["a"])
    assert cache.client.get_client() is first
    assert cache.client.get_client(write=True) is first
    assert first.connection_pool.connection_kwargs["socket_timeout"] == 0.5
    cache.delete("a")


def test_a_stopped_redis_raises_what_the_outage_handling_expects():
    cache = backend(RedisCache, "stopped", location=STOPPED_REDIS)
    with pytest.raises(CACHE_UNREACHABLE):
        cache.get("a")
    with pytest.raises(CACHE_UNREACHABLE):
        cache.set("a", 1)


def test_options_it_cannot_honour_are_refused_at_start():
    with pytest.raises(ValueError, match="parser_class"):
        RedisCache(STOPPED_REDIS, {"OPTIONS": {"parser_class": "redis.connection.DefaultParser"}}).client  # noqa: B018
