from django.http import HttpRequest

from .models import User


class AuthenticatedRequest(HttpRequest):
    """The request a `login_required` view gets: its user is signed in."""

    user: User
