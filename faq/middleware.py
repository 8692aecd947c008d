"""Kept help-centre pages answered before most of the middleware runs.

A page from the page cache (faq/pagecache.py) still went through every middleware, URL resolving
and the view's decorator: a signed-in visitor's checks (the user, the sign-in device, the time
zone, the blocked account, messages) that an anonymous visitor without a session never needs. For
an anonymous GET of a help-centre page without a query string and without a session, message or
vote cookie, this middleware, placed right after CsrfViewMiddleware (so the language is chosen
and the CSRF cookie is set as for any page), answers with the kept page at the current version
if there is one; otherwise the request goes on and the view keeps the page as before. Signed-in
visitors, visitors with a message waiting or with their own vote on a page never get here.

The headers that the middleware after this one adds (X-Frame-Options, the Content-Security-Policy)
are copied from the last kept page this process served the long way, so both answers carry the
same headers; until a process has served one, it serves the long way.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from .pagecache import PERSONAL_COOKIES, kept_page_body
from .text import current_language

FAQ_PREFIXES = ("/faq/", "/en/faq/")
# The article page's own personal cookie (faq.views.VISITOR_COOKIE): a visitor's vote is on it.
VISITOR_COOKIES = ("faq_visitor",)
# Set per answer by the middleware before this one, or by this one.
_NOT_COPIED = {"content-length", "x-page-cache", "set-cookie", "vary"}


class KeptFaqPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.page_headers: list[tuple[str, str]] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._anonymous_page_request(request):
            return self.get_response(request)
        if self.page_headers is not None:
            body = kept_page_body(request, current_language(), request.path)
            if body is not None:
                response = HttpResponse(body)
                for name, value in self.page_headers:
                    response[name] = value
                # A signed-in visitor gets another page at this address.
                patch_vary_headers(response, ("Cookie",))
                response["X-Page-Cache"] = "hit"
                return response
        response = self.get_response(request)
        if response.get("X-Page-Cache") in ("hit", "miss") and not response.cookies:
            self.page_headers = [(name, value) for name, value in response.items() if name.lower() not in _NOT_COPIED]
        return response

    @staticmethod
    def _anonymous_page_request(request: HttpRequest) -> bool:
        return (
            request.method in ("GET", "HEAD")
            and request.path.startswith(FAQ_PREFIXES)
            and not request.META.get("QUERY_STRING")
            and not any(name in request.COOKIES for name in PERSONAL_COOKIES + VISITOR_COOKIES)
        )
