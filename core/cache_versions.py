"""Versions kept in the default cache (Redis in production, shared by every web process).

A short random token under a key names the current state of something many entries are made from
(the help centre's public pages, a person's permission set, the arbitrators' names). An entry is
kept with the token it was made at and made again when the token differs, so moving the token,
once the change has committed, drops every such entry at once without finding them.
"""

import secrets

from django.core.cache import cache


def version_read(key: str, found: str | None = None) -> str:
    """The version under `key`; `found` is it as the caller already read it (with its entry, in one
    round trip). When the cache has none, a new one is stored: of two processes starting one at
    once, both go on with the one stored first."""
    if found:
        return str(found)
    version = secrets.token_hex(6)
    if not cache.add(key, version, timeout=None):
        version = cache.get(key, version)
    return str(version)


def versions_move(*keys: str) -> None:
    """A new version under each of `keys`, in one round trip."""
    cache.set_many({key: secrets.token_hex(6) for key in keys}, timeout=None)
