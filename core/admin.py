from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from . import webhooks
from .admin_actions import AdminActionsMixin
from .admin_russian import DefaultChoiceFilter, RussianAdminMixin
from .models import OutgoingWebhook


class DeliveryFilter(DefaultChoiceFilter):
    """The list opens on the notices that keep failing: those are what staff come here for."""

    title = _("доставка")
    parameter_name = "delivery"
    default_choice = "failing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("failing", _("не доходят")),
            ("pending", _("ждут отправки")),
            ("delivered", _("доставлены")),
            ("all", _("все")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OutgoingWebhook]) -> QuerySet[OutgoingWebhook]:
        value = self.value()
        if value == "failing":
            return webhooks.failing(queryset)
        if value == "pending":
            return queryset.filter(status=OutgoingWebhook.Status.PENDING)
        if value == "delivered":
            return queryset.filter(status=OutgoingWebhook.Status.DELIVERED)
        return queryset


@admin.register(OutgoingWebhook)
class OutgoingWebhookAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    """What the help centre told the marketplace (core/webhooks.py), and "send again" for what did
    not arrive."""

    closed_screens = frozenset({"add", "change", "delete"})
    count_label = ngettext_lazy("%(count)d уведомление", "%(count)d уведомлений", "count")
    list_display = ("kind", "event_id", "status", "attempts", "next_attempt_at", "last_error", "created_at")
    list_filter = (DeliveryFilter, "kind")
    search_fields = ("=event_id", "dedupe_key")
    search_help_text = _("Номер события или ключ факта (например, dispute-opened:12)")
    readonly_fields = [field.name for field in OutgoingWebhook._meta.fields]
    actions = ["send_again"]

    def object_title(self, obj: Any) -> str:
        return str(_("Уведомление %(event)s") % {"event": obj.event_id})

    @admin.action(description=_("Отправить снова"), permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutgoingWebhook]) -> None:
        self.run_on_each(
            request,
            queryset,
            lambda webhook: webhooks.webhook_resend(webhook_id=webhook.pk, staff=request.user),
            success=lambda count: _("Отправляются снова: %(count)d.") % {"count": count},
        )

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.resend_outgoingwebhook")
