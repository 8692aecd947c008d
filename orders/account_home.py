from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.home import add_card, has_store, panel
from accounts.models import User

from . import rules
from .models import Order, ProtectionExtension

add_card(
    "orders:list",
    10,
    gettext_lazy("Мои заказы"),
    gettext_lazy("Все покупки, сроки защиты, подтверждение получения и продление защиты."),
)
add_card(
    "orders:store_list",
    20,
    lambda user: _("Заказы магазина «%(store)s»") % {"store": user.store.name},
    gettext_lazy("Заказы покупателей: отправка с трек-номером, просьбы отменить заказ и продлить защиту."),
    shown_to=has_store,
)


@panel(10, "orders/_home_ending_soon.html", above_menu=True)
def ending_soon(user: User, now: datetime) -> dict[str, Any] | None:
    orders = [
        order
        for order in Order.objects.filter(
            buyer=user, status__in=rules.PROTECTED_STATUSES, protection_due_at__gt=now
        ).order_by("protection_due_at")[:5]
        if rules.protection_state(order, now).ending_soon
    ]
    return {"ending_soon": orders} if orders else None


@panel(60, "orders/_home_pending_extensions.html")
def pending_extensions(user: User, now: datetime) -> dict[str, Any] | None:
    if not has_store(user):
        return None
    extensions = list(
        ProtectionExtension.objects.filter(order__store=user.store, status=ProtectionExtension.Status.PENDING)
        .select_related("order")
        .order_by("requested_at")
    )
    return {"pending_extensions": extensions} if extensions else None


@panel(55, "orders/_home_to_ship.html")
def orders_to_ship(user: User, now: datetime) -> dict[str, Any] | None:
    """The seller's unshipped orders, the nearest deadline first: a cancellation the buyer asked
    for, or the shipping deadline after which the order is cancelled and refunded."""
    if not has_store(user):
        return None
    orders = list(
        Order.objects.filter(store=user.store, status=Order.Status.AWAITING_SHIPMENT)
        .select_related("cancellation")
        .order_by("ship_by", "pk")[:10]
    )
    return {"orders_to_ship": orders} if orders else None


@panel(70, "orders/_home_recent_orders.html")
def recent_orders(user: User, now: datetime) -> dict[str, Any] | None:
    orders = list(Order.objects.as_buyer(user).select_related("store").order_by("-paid_at", "-pk")[:3])
    if not orders:
        return None
    return {"recent_orders": [(order, rules.protection_state(order, now)) for order in orders]}


add_card(
    "orders:support",
    60,
    gettext_lazy("Обращения в поддержку"),
    gettext_lazy("Вопросы поддержке по заказам и спорам и ответы на них."),
)
