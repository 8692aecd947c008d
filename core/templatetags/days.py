from django import template
from django.conf import settings

from core.dates import days

register = template.Library()


@register.simple_tag
def days_setting(name: str) -> str:
    """A rule's length from settings, as people read it: `{% days_setting "CLAIM_APPEAL_DAYS" as appeal %}`
    gives "7 дней", so no day count is typed into a text."""
    return days(getattr(settings, name))


@register.simple_tag
def number_setting(name: str) -> int:
    return int(getattr(settings, name))
