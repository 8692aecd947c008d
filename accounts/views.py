from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import auth, home, services
from .forms import (
    AccountSettingsForm,
    PasswordResetRequestForm,
    SignInForm,
    SignUpConfirmForm,
    SignUpForm,
    StoreReturnsForm,
)
from .http import AuthenticatedRequest
from .models import User


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Django's page, but the letter goes through the outbox from a job (accounts.auth), and the
    request does the same work whether or not the address has an account."""

    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form: PasswordResetRequestForm) -> HttpResponse:  # type: ignore[override]
        auth.password_reset_request(request=self.request, email=form.cleaned_data["email"])
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    # The new password starts the sign-in counts afresh (accounts.signin_limits keys them by it).
    success_url = reverse_lazy("accounts:password_reset_complete")


def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignUpForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        auth.sign_up_request(request=request, pending=form.pending(), language=get_language())
        return redirect("accounts:signup_sent")
    return render(request, "accounts/sign_up.html", {"form": form})


def sign_up_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/sign_up_sent.html")


def sign_up_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The page the sign-up letter links to: choose the password and the account exists."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    pending = auth.sign_up_pending(token)
    if pending is None:
        return render(request, "registration/sign_up_confirm.html", {"state": "expired"}, status=400)
    # Only the mailbox's owner has this link, so saying the address has an account tells no one
    # else anything: the link was used, or the address signed up another way since.
    if User._default_manager.filter(email__iexact=pending.email).exists():
        return render(request, "registration/sign_up_confirm.html", {"state": "used", "pending": pending})
    form = SignUpConfirmForm(request.POST or None, pending=pending)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(
                username=form.cleaned_data["username"],
                email=pending.email,
                password=form.cleaned_data["password1"],
                role=pending.role,
                store_name=form.cleaned_data.get("store_name", ""),
            )
        except IntegrityError:
            # Someone took the username or the store name between the check and the insert.
            form.add_error(None, _("Логин или название магазина только что заняли. Выберите другие."))
        else:
            # Named: with signing in by the marketplace account there are two backends.
            login(request, user, backend="accounts.auth.SignInBackend")
            messages.success(request, _("Добро пожаловать! Это ваш личный кабинет."))
            return redirect("accounts:home")
    return render(request, "registration/sign_up_confirm.html", {"state": "form", "pending": pending, "form": form})


@login_required
def account_home(request: HttpRequest) -> HttpResponse:
    """The personal account: each app's menu card and panels (accounts.home)."""
    user = request.user
    assert isinstance(user, User)  # login_required
    panels = [
        {"html": render_to_string(shown.template, shown.context, request), "above_menu": shown.above_menu}
        for shown in home.panels_for(user, timezone.now())
    ]
    return render(request, "accounts/home.html", {"menu": home.menu_for(user), "panels": panels})


@login_required
def account_settings(request):
    form = AccountSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_settings(user=request.user, **form.cleaned_data)
        messages.success(request, _("Настройки сохранены."))
        return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form})


@login_required
def store_returns(request: AuthenticatedRequest) -> HttpResponse:
    """The seller's return address, needed before agreeing to any resolution with a return."""
    store = getattr(request.user, "store", None)
    if store is None:
        raise Http404
    initial = {"return_address": store.return_address, "return_instructions": store.return_instructions}
    form = StoreReturnsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.store_update_returns(store=store, **form.cleaned_data)
        messages.success(request, _("Адрес для возвратов сохранён."))
        return redirect("accounts:store_returns")
    status = 400 if form.errors else 200
    return render(request, "accounts/store_returns.html", {"form": form, "store": store}, status=status)
