import logging
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views import defaults, i18n

from .cache_outage import CACHE_UNREACHABLE, cache_outage_response, is_cache_outage
from .errors import ActionRefused
from .redis_cache import RedisCache

logger = logging.getLogger(__name__)


def run_action(request: HttpRequest, action: Callable[[], Any], *, success: str) -> bool:
    """Call a service for a button: its success message, or the reason it was refused, is shown
    on the page the user comes back to. Returns whether the action went through."""
    try:
        action()
    except ActionRefused as refused:
        messages.error(request, refused.message)
        return False
    messages.success(request, success)
    return True


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, run in the language of the page it was pressed on: the switch's
    own address has no language prefix, so Django would read the page's address in Russian, fail
    to match an /en/ address and send the reader back to the English page."""
    page_language = translation.get_language_from_path(request.POST.get("next", ""))
    with translation.override(page_language or settings.LANGUAGE_CODE):
        return i18n.set_language(request)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def server_error(request: HttpRequest) -> HttpResponse:
    """The project's handler500: Django's page, except that an error reaching Redis is an outage
    the person can wait out (core.cache_outage), answered 503 with the cookie and the text kept."""
    if is_cache_outage(sys.exception()):
        return cache_outage_response(request)
    return defaults.server_error(request)


def _caches_to_check() -> dict[str, str]:
    """One cache alias per server (the sessions share Redis with the rest), named as operators know
    it. A cache in the process's own memory (the kept list rows, core/fragments.py) has no server
    that could be down."""
    checks: dict[str, str] = {}
    locations: set[str] = set()
    for alias, config in settings.CACHES.items():
        if isinstance(caches[alias], LocMemCache) and alias != DEFAULT_CACHE_ALIAS:
            continue
        location = str(config.get("LOCATION", ""))
        if location not in locations:
            locations.add(location)
            checks[alias] = "redis" if isinstance(caches[alias], RedisCache) else f"cache {alias}"
    return checks


def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database and the cache both answer; else 503 naming each and whether it
    answered. Redis gives up after REDIS_CACHE_TIMEOUT_SECONDS, so a hung one fails this fast."""
    answers: dict[str, bool] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        answers[connection.vendor] = True
    except DatabaseError:
        logger.warning("Health check: the database did not answer", exc_info=True)
        answers[connection.vendor] = False
    for alias, name in _caches_to_check().items():
        try:
            caches[alias].get("healthz")
            answers[name] = True
        except CACHE_UNREACHABLE:
            logger.warning("Health check: %s did not answer", name, exc_info=True)
            answers[name] = False
    if all(answers.values()):
        return HttpResponse("ok", content_type="text/plain")
    lines = [f"{name}: {'ok' if answered else 'unavailable'}" for name, answered in answers.items()]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain", status=503)


def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /account/",
        "Disallow: /en/account/",
        "Disallow: /admin/",
        # Search pages and their result links are for people: a crawler would count as searches.
        "Disallow: /faq/search/",
        "Disallow: /en/faq/search/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
