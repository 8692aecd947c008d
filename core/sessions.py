"""Sessions in the cache (Redis in production), where an unreachable Redis is an outage, not a sign-out.

Django's cache session store reads any error of the cache as "no such session": during a Redis
blip every signed-in request became anonymous, was sent to sign in, and its response deleted the
session cookie, although the session was still in Redis and would have worked a second later.
Here the error is raised instead, and the site answers with its 503 page (core.cache_outage),
which leaves the cookie alone. A session that is really missing or unreadable starts afresh
exactly as in Django.
Errors reaching Redis are core.cache_outage.CACHE_UNREACHABLE.
"""

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.core.cache import caches


class SessionStore(CacheSessionStore):
    def load(self) -> dict[str, Any]:
        # Read here rather than by Django's load(), which takes any error for a missing session;
        # an unreachable Redis raises (CACHE_UNREACHABLE) and becomes the 503 page.
        data = caches[settings.SESSION_CACHE_ALIAS].get(self.cache_key)
        if data is None:
            # Expired or never existed: Django's own handling starts a new session.
            return super().load()
        return data
