from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from orders import rules
from orders.models import Order, ProtectionExtension

from . import services
from .forms import AccountSettingsForm, SignUpForm


def sign_up(request):
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_sign_up(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            role=form.cleaned_data["role"],
            store_name=form.cleaned_data.get("store_name", ""),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Добро пожаловать! Это ваш личный кабинет."))
        return redirect("accounts:home")
    return render(request, "accounts/sign_up.html", {"form": form})


@login_required
def account_home(request):
    user = request.user
    now = timezone.now()
    recent_orders = list(Order.objects.filter(buyer=user).select_related("store").order_by("-paid_at", "-pk")[:3])
    ending_soon = [
        order
        for order in Order.objects.filter(
            buyer=user, status__in=rules.PROTECTED_STATUSES, protection_ends_at__gt=now
        ).order_by("protection_ends_at")[:5]
        if rules.protection_state(order, now).ending_soon
    ]
    store = getattr(user, "store", None)
    pending_extensions = (
        ProtectionExtension.objects.filter(order__store=store, status=ProtectionExtension.Status.PENDING)
        .select_related("order")
        .order_by("requested_at")
        if store
        else ProtectionExtension.objects.none()
    )
    return render(
        request,
        "accounts/home.html",
        {
            "recent_orders": [(order, rules.protection_state(order, now)) for order in recent_orders],
            "ending_soon": ending_soon,
            "store": store,
            "pending_extensions": pending_extensions,
        },
    )


@login_required
def account_settings(request):
    form = AccountSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_settings(user=request.user, **form.cleaned_data)
        messages.success(request, _("Настройки сохранены."))
        return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form})
