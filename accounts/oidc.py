"""Signing in with the marketplace account: OpenID Connect through mozilla-django-oidc.

Configured by environment variables (settings.py, MARKETPLACE_OIDC_*); off while no client id is
set, and then the pages show no button and the two URLs answer 404. The account is found by the
provider's `sub` claim, which is the marketplace id the order feed gave the account
(accounts.marketplace); someone the feed has not named yet gets a buyer's account, without a
password, on first sign-in. Staff never sign in this way: their accounts keep local passwords.
"""

import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .marketplace import MARKETPLACE_ID, MarketplaceAccounts, Person
from .models import User

logger = logging.getLogger(__name__)


def marketplace_sign_in_enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID and settings.OIDC_OP_AUTHORIZATION_ENDPOINT)


class MarketplaceSignInBackend(OIDCAuthenticationBackend):
    """The code flow's last step: the provider's tokens, checked, name one marketplace account.

    It answers only the OpenID callback (which passes a nonce); a password sign-in never reaches
    the provider. Permissions are left to accounts.auth.SignInBackend (cached there): this backend
    grants none of its own, so a "no" costs no second lookup.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django makes every backend anew for each permission check (auth.get_backends()), which
        # this one never answers: the provider's settings are read only when it signs someone in.
        self.UserModel = User

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        if not marketplace_sign_in_enabled() or "nonce" not in kwargs or "password" in kwargs:
            return None
        super().__init__()  # the provider's endpoints, client and keys, as the library reads them
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException:
            # The provider is down or refused the code: the sign-in page says so, nothing breaks.
            logger.warning("Signing in with the marketplace account failed", exc_info=True)
            return None

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return isinstance(claims.get("sub"), str) and bool(MARKETPLACE_ID.fullmatch(claims["sub"]))

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        user_info = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: the UserInfo answer is about the ID token's subject, or unusable.
        if user_info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("UserInfo sub differs from the ID token's sub")
        if not self.verify_claims(user_info):
            raise SuspiciousOperation("The provider's sub is not a marketplace id")
        user = self.filter_users_by_claims(user_info).first()
        if user is not None:
            if user.is_staff or user.is_superuser:
                raise SuspiciousOperation("Staff sign in with their local password")
            return user
        return self.create_user(user_info)

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[User]:
        return User.objects.filter(marketplace_id=claims.get("sub"))

    def create_user(self, claims: dict[str, Any]) -> User:
        email = claims.get("email") if claims.get("email_verified", True) else ""
        name = claims.get("given_name") or claims.get("name") or ""
        person = Person(
            marketplace_id=claims["sub"],
            email=email if isinstance(email, str) and len(email) <= 254 else "",
            name=name[:150] if isinstance(name, str) else "",
        )
        try:
            with transaction.atomic():
                pk = MarketplaceAccounts().person_id(person, role=User.Role.BUYER)
        except IntegrityError:  # the feed made the account a moment ago
            pk = MarketplaceAccounts().person_id(person, role=User.Role.BUYER)
        return User.objects.get(pk=pk)

    # Permissions come from SignInBackend alone.
    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return False


class MarketplaceSignInStart(OIDCAuthenticationRequestView):
    """Sends the browser to the marketplace's sign-in page (404 while sign-in is not configured)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not marketplace_sign_in_enabled():
            raise Http404
        return super().get(request)


class MarketplaceSignInCallback(OIDCAuthenticationCallbackView):
    """Where the marketplace sends the browser back: signed in, or the sign-in page saying why not."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not marketplace_sign_in_enabled():
            raise Http404
        return super().get(request)

    def login_failure(self) -> HttpResponse:
        messages.error(
            self.request,
            _("Не получилось войти через аккаунт площадки. Попробуйте ещё раз или войдите по паролю."),
        )
        return redirect("accounts:login")


urlpatterns = [
    path("authenticate/", MarketplaceSignInStart.as_view(), name="oidc_authentication_init"),
    path("callback/", MarketplaceSignInCallback.as_view(), name="oidc_authentication_callback"),
]
