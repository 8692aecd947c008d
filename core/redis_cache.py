"""Django's Redis cache, with one redis-py client per process and server instead of one per call.

`django.core.cache.backends.redis.RedisCache` makes a new `redis.Redis` object for every cache
call, and redis-py builds its table of reply callbacks in each one: more CPU than the read itself.
A page of this site reads Redis several times (the session, the permissions, a kept help-centre
page, the health check), so this backend keeps the client it made. Everything else is Django's:
the same keys (KEY_PREFIX, VERSION, KEY_FUNCTION), the same stored values (its `RedisSerializer`:
integers as they are, anything else pickled), the same timeouts, the same redis-py errors when
Redis is unreachable, and the OPTIONS go to redis-py's connection pool as with Django's
(`socket_timeout`, `socket_connect_timeout`, ...). Several servers in LOCATION: writes go to the
first, reads to one of the others, as with Django's.

redis-py's client is safe to share between threads, and its connection pool opens new connections
in a forked process, so a client made before gunicorn forks is still right after it.
"""

import random
import re
from collections.abc import Iterable
from typing import Any

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's cache client, whose `get_client` hands out the same redis-py client every time."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        unsupported = {"pool_class", "parser_class"} & set(options)
        if unsupported:
            raise ValueError(f"core.redis_cache does not take {', '.join(sorted(unsupported))} in OPTIONS")
        super().__init__(servers, **options)
        self.servers = servers
        self.connection_options = {name: value for name, value in options.items() if name != "serializer"}
        self.clients: dict[int, redis.Redis] = {}

    def get_client(self, key: str | bytes | memoryview | None = None, *, write: bool = False) -> redis.Redis:
        index = 0 if write or len(self.servers) == 1 else random.randint(1, len(self.servers) - 1)
        client = self.clients.get(index)
        if client is None:
            client = self.clients[index] = redis.Redis.from_url(self.servers[index], **self.connection_options)
        return client


class RedisCache(BaseCache):
    """CACHES backend "core.redis_cache.RedisCache": Django's RedisCache with reused clients."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(params)
        servers = re.split("[;,]", server) if isinstance(server, str) else list(server)
        self.client = ReusedClientRedisCacheClient(servers, **params.get("OPTIONS", {}))

    def get_backend_timeout(self, timeout: float | None = DEFAULT_TIMEOUT) -> int | None:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        # None keeps the key for good; zero or less deletes it (as Django's Redis backend).
        return None if timeout is None else max(0, int(timeout))

    def add(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(self.client.add(key, value, self.get_backend_timeout(timeout)))

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        return self.client.get(key, default)

    def set(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        self.client.set(key, value, self.get_backend_timeout(timeout))

    def touch(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        # django-stubs leave out the None (no expiry) that Django's client takes here.
        return bool(self.client.touch(key, self.get_backend_timeout(timeout)))  # type: ignore[arg-type]

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(self.client.delete(key))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        made: dict[Any, Any] = {self.make_and_validate_key(key, version=version): key for key in keys}
        return {made[key]: value for key, value in self.client.get_many(made.keys()).items()}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(self.client.has_key(key))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        return int(self.client.incr(key, delta))

    def set_many(
        self, data: dict[Any, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        if data:
            made: dict[Any, Any] = {self.make_and_validate_key(key, version=version): data[key] for key in data}
            # As touch(): None (no expiry) is Django's own, missing from django-stubs.
            self.client.set_many(made, self.get_backend_timeout(timeout))  # type: ignore[arg-type]
        return []

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        if made:
            self.client.delete_many(made)

    def clear(self) -> None:
        self.client.clear()
