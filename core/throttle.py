"""Counters that slow down guessing and flooding: sign-in, password reset, sign-up, uploads.

Fixed windows (Throttle) and runs of failures that end after a quiet time (Streak), in the cache
(Redis in production, so every web process counts together; a per-process memory cache for
`make run` and tests). A client is known by REMOTE_ADDR; the
X-Forwarded-For header is read only as far as TRUSTED_PROXY_COUNT proxies of our own set it,
because a client can send any value there.
"""

import contextlib
import hashlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _count_and_start_keys(kind: str, scope: str, ident: str) -> tuple[str, str]:
    """The cache keys of a counter and of when its run began; the ident (an address, a user name)
    is hashed, so no personal data is a key and any ident has a key of the same length."""
    digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]
    return f"{kind}:{scope}:{digest}:count", f"{kind}:{scope}:{digest}:start"


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: int
    window_seconds: int

    def _keys(self, ident: str) -> tuple[str, str]:
        return _count_and_start_keys("throttle", self.scope, ident)

    def retry_after(self, ident: str) -> int:
        """Seconds until `ident` may try again; 0 while it is under the limit."""
        count_key, start_key = self._keys(ident)
        values = cache.get_many([count_key, start_key])
        if values.get(count_key, 0) < self.limit:
            return 0
        started = values.get(start_key, time.time())
        return max(1, math.ceil(started + self.window_seconds - time.time()))

    def hit(self, ident: str, cost: int = 1) -> int:
        """Count `cost` more for `ident`; returns the count in this window."""
        count_key, start_key = self._keys(ident)
        cache.add(start_key, time.time(), timeout=self.window_seconds)
        cache.add(count_key, 0, timeout=self.window_seconds)
        try:
            return int(cache.incr(count_key, cost))
        except ValueError:  # the window ended between add() and incr()
            cache.set(count_key, cost, timeout=self.window_seconds)
            return cost

    def take(self, ident: str) -> bool:
        """Count a try before it is made; False, counting nothing, when the limit is reached.

        Counted first, so that tries sent all at once cannot all pass a check made before any of
        them was counted: the cache's increment lets exactly `limit` of them through.
        """
        if self.hit(ident) <= self.limit:
            return True
        self.give_back(ident)
        return False

    def give_back(self, ident: str) -> None:
        """Undo one take() (the try was not a failure after all)."""
        count_key, _ = self._keys(ident)
        # ValueError: the window ended meanwhile, and nothing is left to undo.
        with contextlib.suppress(ValueError):
            cache.decr(count_key)

    def reset(self, ident: str) -> None:
        cache.delete_many(list(self._keys(ident)))


@dataclass(frozen=True)
class Streak:
    """Failures in a row: the count and when the run began, forgotten after `quiet_seconds`
    without a new one (unlike a Throttle's window, which ends at a fixed time whatever happens)."""

    scope: str
    quiet_seconds: int

    def _keys(self, ident: str) -> tuple[str, str]:
        return _count_and_start_keys("streak", self.scope, ident)

    def count(self, ident: str) -> int:
        return int(cache.get(self._keys(ident)[0], 0))

    def add(self, ident: str, now: float) -> tuple[int, float]:
        """One more failure at `now`; returns the count and when this run began."""
        count_key, start_key = self._keys(ident)
        cache.add(start_key, now, timeout=self.quiet_seconds)
        cache.add(count_key, 0, timeout=self.quiet_seconds)
        try:
            count = int(cache.incr(count_key))
        except ValueError:  # the run ended between add() and incr()
            cache.set(count_key, 1, timeout=self.quiet_seconds)
            count = 1
        for key in (count_key, start_key):
            cache.touch(key, timeout=self.quiet_seconds)
        return count, float(cache.get(start_key, now))


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
