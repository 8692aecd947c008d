"""What the site does while Redis (sessions, counters, cached pages) cannot be reached.

Redis calls fail fast (REDIS_CACHE_TIMEOUT_SECONDS). Where the site can do without the cache it
does (the help centre renders its pages afresh, /healthz reports it); sign-in refuses with a form
error, since it cannot count failures. Anything else that needed Redis (every signed-in page
reads its session there) ends in `cache_outage_response`: a 503 page in the site's look, with
Retry-After, that never touches the session cookie, and that for a form sent offers what was typed
back in a form to send again once Redis answers. The project's handler500 (core.views.server_error)
picks it for these errors, wherever in the request they were raised.
"""

import logging
import re
from typing import Any, cast

import redis.exceptions
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.template.loader import render_to_string
from django.utils.csp import build_policy

logger = logging.getLogger(__name__)

# A stopped Redis refuses the connection (ConnectionError, BusyLoadingError while it loads its
# data after a restart); a hung one lets the socket time out (TimeoutError).
CACHE_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

# A value that reads like a token the page put in the form (an id, a choice, a button's value) is
# sent again unseen; anything else (words, an e-mail address) is what the person typed, shown in a
# box they can edit.
_TOKEN_VALUE = re.compile(r"[\w.:+-]{0,40}")


def is_cache_outage(exception: BaseException | None) -> bool:
    while exception is not None:
        if isinstance(exception, CACHE_UNREACHABLE):
            return True
        exception = exception.__cause__
    return False


def _csrf_ok(request: HttpRequest) -> bool:
    """Whether the form came from our own page: the store may have failed before Django's CSRF check
    ran, and a page offering to send a stranger's text again must not appear for a forged post."""

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    return CsrfViewMiddleware(view).process_view(request, view, (), {}) is None


def _form_to_send_again(request: HttpRequest) -> dict[str, Any] | None:
    if request.method != "POST":
        return None
    try:
        if not _csrf_ok(request):
            return None
        data, files = request.POST, request.FILES
    except Exception:  # an unreadable or oversized body: nothing to offer
        logger.warning("Could not read the form of %s during a Redis outage", request.path, exc_info=True)
        return None
    texts: list[tuple[str, str]] = []
    hidden: list[tuple[str, str]] = []
    passwords: list[str] = []
    for name, values in data.lists():
        if name == "csrfmiddlewaretoken":
            continue
        if "password" in name:
            # Never written back into a page; asked for again instead.
            passwords.append(name)
            continue
        for value in values:
            (hidden if _TOKEN_VALUE.fullmatch(value) else texts).append((name, value))
    return {
        "texts": texts,
        "hidden": hidden,
        "passwords": passwords,
        "file_fields": sorted(set(files.keys())),
    }


def cache_outage_response(request: HttpRequest) -> HttpResponse:
    """The 503 page. Rendered without the request's context processors: they read the session,
    which is what failed."""
    retry_after = settings.REDIS_OUTAGE_RETRY_AFTER_SECONDS
    context = {
        "request": request,
        "csrf_token": get_token(request),
        "again": _form_to_send_again(request),
    }
    response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    # The middleware that adds these may not have run: the error can come from before it.
    response["X-Frame-Options"] = "DENY"
    if settings.SECURE_CSP:
        response["Content-Security-Policy"] = build_policy(cast(dict[str, Any], settings.SECURE_CSP))
    return response
