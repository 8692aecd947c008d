"""Counters that slow down guessing and flooding: sign-in, password reset, sign-up, uploads.

Fixed windows in the cache (Redis in production, so every web process counts together; a
per-process memory cache for `make run` and tests). A client is known by REMOTE_ADDR; the
X-Forwarded-For header is read only as far as TRUSTED_PROXY_COUNT proxies of our own set it,
because a client can send any value there.
"""

import hashlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    window_seconds: int

    def _keys(self, ident: str) -> tuple[str, str]:
        digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{digest}:count", f"throttle:{self.scope}:{digest}:start"

    def retry_after(self, ident: str) -> int:
        """Seconds until `ident` may try again; 0 while it is under the limit."""
        count_key, start_key = self._keys(ident)
        values = cache.get_many([count_key, start_key])
        if values.get(count_key, 0) < self.limit:
            return 0
        started = values.get(start_key, time.time())
        return max(1, math.ceil(started + self.window_seconds - time.time()))

    def hit(self, ident: str, cost: int = 1) -> None:
        count_key, start_key = self._keys(ident)
        cache.add(start_key, time.time(), timeout=self.window_seconds)
        cache.add(count_key, 0, timeout=self.window_seconds)
        try:
            cache.incr(count_key, cost)
        except ValueError:  # the window ended between add() and incr()
            cache.set(count_key, cost, timeout=self.window_seconds)

    def reset(self, ident: str) -> None:
        cache.delete_many(list(self._keys(ident)))


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address our own proxies put in X-Forwarded-For."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def minutes_to_wait(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def retry_after_any(checks: Iterable[tuple[Throttle, str]]) -> int:
    """Seconds until every (throttle, ident) pair allows another try; 0 when all of them do."""
    return max((throttle.retry_after(ident) for throttle, ident in checks), default=0)


def hit_all(checks: Iterable[tuple[Throttle, str]]) -> None:
    for throttle, ident in checks:
        throttle.hit(ident)
