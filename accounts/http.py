from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import User


class AuthenticatedRequest(HttpRequest):
    """The request a `login_required` view gets: its user is signed in."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The signed-in user of a request only signed-in users reach (an admin view, which admin's
    sign-in guards, or a method a ModelAdmin runs for one), typed as this project's User; 403 for
    an anonymous visitor, who never gets there."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
