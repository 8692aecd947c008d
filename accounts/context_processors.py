from django.utils import timezone

from .models import TIME_ZONE_CHOICES

_ZONE_LABELS = dict(TIME_ZONE_CHOICES)


def time_zone_label(request) -> dict:
    """The zone every date is shown in, named as the settings page names it ("Москва (UTC+3)")."""
    zone = timezone.get_current_timezone_name()
    return {"time_zone_label": _ZONE_LABELS.get(zone, zone)}


def account_menu(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_seller": user.is_seller}
