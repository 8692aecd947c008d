"""Whole public help-centre pages from the cache, per language, for visitors who are not signed in.

Most readers of the help centre arrive from a search engine, read one article and leave: the same
few pages in two languages. Such a page is rendered once and kept (`FAQ_PAGE_CACHE_SECONDS`)
with the help centre's version it was rendered at. The services that change what a visitor can
read (publishing, editing, unpublishing, deleting, reordering, loading the shipped articles)
start a new version once their transaction commits, and a page kept at another version than the
current one is rendered again: the next visitor after a change gets the new text. The version
lives in the same cache (Redis in production), so every web process sees the change at once.

Two parts of a page differ per request and are not kept: the CSRF token of its forms (the vote
and the language switch) goes in fresh on every answer, as Django would render it (so a cached
page may carry the token only through `{% csrf_token %}`, never `{{ csrf_token }}` elsewhere:
tests/test_faq_page_cache.py checks the kept copy holds no token); the rest of
what is personal (a vote already given, a message after an action, a signed-in header) is
rendered normally by bypassing the cache for visitors with such cookies.
"""

import hashlib
import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

from core.cache_outage import CACHE_UNREACHABLE
from core.cache_versions import version_read, versions_move

from .text import current_language

logger = logging.getLogger(__name__)

CSRF_PLACEHOLDER = b"@@faq-page-csrf-token@@"
_CSRF_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{32,64}(")')
# Cookies that make a page personal: a signed-in session, a flash message, a visitor's earlier vote.
PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


def _version_key(language: str) -> str:
    return f"faq:pages:version:{language}"


def _read_at_version(language: str, key: str) -> tuple[str, Any]:
    """In one round trip: the help centre's current version in `language`, and what is kept under
    `key` with the version it was made at (None). Raises CACHE_UNREACHABLE."""
    found = cache.get_many([_version_key(language), key])
    return version_read(_version_key(language), found.get(_version_key(language))), found.get(key)


def _keep(key: str, version: str, value: Any, *, what: str) -> bool:
    """Keep `value` made at `version`; False (logged) when Redis is down."""
    try:
        cache.set(key, (version, value), timeout=settings.FAQ_PAGE_CACHE_SECONDS)
    except CACHE_UNREACHABLE as error:
        logger.warning("Cache unreachable (%s): %s not kept", error, what)
        return False
    return True


def faq_pages_invalidate() -> None:
    """Start a new version of every public page in every language, once the caller commits (an
    earlier bump would let a request between it and the commit keep the old text as new)."""
    transaction.on_commit(_start_new_versions, robust=True)


def _start_new_versions() -> None:
    versions_move(*(_version_key(language) for language in LANGUAGES))


def _cacheable(request: HttpRequest, personal_cookies: tuple[str, ...], *, query: tuple[str, ...] = ()) -> bool:
    """Nothing personal on the page: GET, none of these cookies, no query string but `query`'s."""
    return (
        settings.FAQ_PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and (set(request.GET) <= set(query) if query else not request.META.get("QUERY_STRING"))
        and not any(name in request.COOKIES for name in personal_cookies)
    )


def _page_key(language: str, name: str) -> str:
    return f"faq:page:{language}:{name}"


def _with_csrf_token(request: HttpRequest, body: bytes) -> bytes:
    return body.replace(CSRF_PLACEHOLDER, get_token(request).encode())


def kept_page_body(request: HttpRequest, language: str, name: str) -> bytes | None:
    """The page kept at the current version under `name` in `language`, with this visitor's CSRF
    token, or None (not kept, kept at another version, the cache off or unreachable)."""
    if settings.FAQ_PAGE_CACHE_SECONDS <= 0:
        return None
    try:
        found = cache.get_many([_version_key(language), _page_key(language, name)])
    except CACHE_UNREACHABLE:
        return None  # the view's own path logs it and renders the page
    kept = found.get(_page_key(language, name))
    if not (isinstance(kept, tuple) and len(kept) == 3 and kept[0] == found.get(_version_key(language))):
        return None
    return _with_csrf_token(request, kept[1])


def kept_public_page(
    request: HttpRequest, name: str, render: Callable[[], tuple[HttpResponse, Any]]
) -> tuple[HttpResponse, Any]:
    """The page `render()` makes, from the cache when it was kept at the current version in this
    language, with what `render()` said about it (kept beside it: a search keeps its number of
    results). The caller has checked the page is the same for every visitor; `name` says which
    page it is (its path, or the search and its query)."""
    language = current_language()
    page_key = _page_key(language, name)
    try:
        version, kept = _read_at_version(language, page_key)
    except CACHE_UNREACHABLE as error:
        # The page is read from the database as if it had never been kept: slower, but the
        # help centre stays readable while Redis is down (and its one call has timed out).
        logger.warning("Cache unreachable (%s): %s rendered without it", error, request.path)
        return render()
    # (version, body, about); an entry of another shape (an earlier release's) is made again.
    if isinstance(kept, tuple) and len(kept) == 3 and kept[0] == version:
        response = HttpResponse(_with_csrf_token(request, kept[1]))
        response["X-Page-Cache"] = "hit"
        return response, kept[2]
    response, about = render()
    if response.status_code != 200 or response.cookies:
        return response, about
    body = _CSRF_FIELD.sub(rb"\1" + CSRF_PLACEHOLDER + rb"\2", response.content)
    try:
        cache.set(page_key, (version, body, about), timeout=settings.FAQ_PAGE_CACHE_SECONDS)
    except CACHE_UNREACHABLE as error:
        logger.warning("Cache unreachable (%s): %s not kept", error, request.path)
        return response, about
    response["X-Page-Cache"] = "miss"
    return response, about


def cached_public_page(
    *, personal_cookies: tuple[str, ...] = ()
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorator for a public page view: serve it whole from the cache when nothing on it is
    personal. `personal_cookies` adds the view's own (the article's vote cookie)."""
    bypass = PERSONAL_COOKIES + personal_cookies

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _cacheable(request, bypass):
                return view(request, *args, **kwargs)
            return kept_public_page(request, request.path, lambda: (view(request, *args, **kwargs), None))[0]

        return wrapper

    return decorate


def kept_search_page(
    request: HttpRequest, query: str, render: Callable[[], tuple[HttpResponse, Any]]
) -> tuple[HttpResponse, Any]:
    """A search results page (`?q=` and nothing else), kept whole per query, language and version
    for visitors with nothing personal on the page, like the other pages; else `render()`."""
    if not _cacheable(request, PERSONAL_COOKIES, query=("q",)):
        return render()
    return kept_public_page(request, "search?" + hashlib.sha256(query.encode()).hexdigest(), render)


def kept_at_version(name: str, compute: Callable[[], Any]) -> Any:
    """`compute()`'s answer, kept like a page at the help centre's version in the current language
    (a change to what visitors can read makes it be computed again); `name` says what it is the
    answer to. For what is the same for every reader, such as the results of a search."""
    if settings.FAQ_PAGE_CACHE_SECONDS <= 0:
        return compute()
    language = current_language()
    key = f"faq:kept:{language}:{hashlib.sha256(name.encode()).hexdigest()}"
    try:
        version, kept = _read_at_version(language, key)
    except CACHE_UNREACHABLE as error:
        # As for a page: computed as if it had never been kept while Redis is down.
        logger.warning("Cache unreachable (%s): %s computed without it", error, name)
        return compute()
    if kept is not None and kept[0] == version:
        return kept[1]
    answer = compute()
    _keep(key, version, answer, what=name)
    return answer
