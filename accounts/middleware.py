import zoneinfo

from django.conf import settings
from django.utils import timezone


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
