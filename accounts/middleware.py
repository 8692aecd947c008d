import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from . import auth, signin_limits


class UserTimezoneMiddleware:
    """Show every date in the signed-in user's own zone; visitors get the default zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone_name = settings.DEFAULT_USER_TIME_ZONE
        if user is not None and user.is_authenticated and user.time_zone:
            zone_name = user.time_zone
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.activate(zoneinfo.ZoneInfo(settings.DEFAULT_USER_TIME_ZONE))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# What a blocked user may still open: the page with the reason and the appeal, signing out,
# the password pages (reset works while blocked), the language switch and the health check. The
# help centre (its home page and the faq namespace) stays readable too, with its images.
OPEN_WHILE_BLOCKED = {
    "accounts:blocked",
    "accounts:blocked_file",
    "accounts:logout",
    "accounts:login",
    "accounts:password_change",
    "accounts:password_change_done",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "set_language",
    "home",
    "faq_image",
    "sitemap",
    "healthz",
    "robots_txt",
}


class BlockedAccountMiddleware:
    """A blocked user who signs in is not told "wrong password": every page leads to the one that
    says why the account is blocked and how to appeal."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_blocked:
            return None
        match = request.resolver_match
        # The help centre stays readable: it explains blocks and appeals.
        if match is None or match.view_name in OPEN_WHILE_BLOCKED or match.namespace == "faq":
            return None
        return redirect("accounts:blocked")


class SignInDeviceMiddleware:
    """After a sign-in with the right password, on any form (the site's, admin's), the browser gets
    the signed cookie that makes it a known device for that account (accounts.signin_limits)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        outcome = auth.signin_outcome(request)
        user = getattr(request, "user", None)
        # Only once actually signed in: admin's form refuses the right password of a non-staff
        # account, and that browser learns nothing from it.
        if outcome is not None and outcome.user is not None and user is not None and user.pk == outcome.user.pk:
            signin_limits.remember_device(request, response, outcome.user)
        return response
