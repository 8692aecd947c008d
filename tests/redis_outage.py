"""The cache and session settings production derives from REDIS_CACHE_URL, for tests that point
them at a Redis that is stopped, hung, or one of their own."""

import os
import runpy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

SETTINGS_FILE = Path(settings.BASE_DIR) / "helpcenter" / "settings.py"
# Nothing listens on port 1: a Redis there refuses at once, as a stopped one does.
STOPPED_REDIS = "redis://127.0.0.1:1/0"


def local_port(offset: int) -> int:
    """A port for a server a test starts: TEST_PORT_BASE + offset where the machine reserves a range
    for this run (shared development machines), else 0 (the system picks a free one)."""
    base = os.environ.get("TEST_PORT_BASE")
    return int(base) + offset if base else 0


def production_cache_settings(redis_url: str) -> dict[str, Any]:
    """CACHES, SESSION_ENGINE and SESSION_CACHE_ALIAS exactly as helpcenter/settings.py makes them
    in production (DJANGO_DEBUG off) for this REDIS_CACHE_URL."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REDIS_CACHE_URL", redis_url)
        patch.delenv("DJANGO_DEBUG", raising=False)
        values = runpy.run_path(str(SETTINGS_FILE))
    return {name: values[name] for name in ("CACHES", "SESSION_ENGINE", "SESSION_CACHE_ALIAS")}


def working_caches_like(production: dict[str, Any]) -> dict[str, Any]:
    """The same cache aliases, each kept in this process's memory: a Redis that answers."""
    return {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"redis-up-{alias}"}
        for alias in production["CACHES"]
    }


@contextmanager
def hung_redis() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers (a paused process)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", local_port(0)))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
