from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .errors import ActionRefused


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


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


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
