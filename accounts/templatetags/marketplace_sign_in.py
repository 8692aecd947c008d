from django import template
from django.conf import settings

from accounts.oidc import marketplace_sign_in_enabled

register = template.Library()


@register.simple_tag
def marketplace_sign_in() -> dict[str, str] | None:
    """The marketplace's name for the sign-in button, or None while signing in with it is off."""
    if not marketplace_sign_in_enabled():
        return None
    return {"name": settings.MARKETPLACE_NAME}
