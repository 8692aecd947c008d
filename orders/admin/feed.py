"""Events the marketplace sent through the order feed (orders/feed.py), for staff to read when a
buyer says an order is missing: applied, held, stale or refused, each with its reason."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.admin_actions import AdminActionsMixin
from core.admin_russian import DefaultChoiceFilter, RussianAdminMixin

from ..models import FeedEvent


class FeedOutcomeFilter(DefaultChoiceFilter):
    """Opens on what was not applied: the events staff look at when a buyer says an order is missing."""

    title = _("итог")
    parameter_name = "outcome"
    default_choice = "not_applied"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("not_applied", _("не применены")), *FeedEvent.Outcome.choices, ("all", _("все"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[FeedEvent]) -> QuerySet[FeedEvent]:
        value = self.value()
        if value == "not_applied":
            return queryset.exclude(outcome=FeedEvent.Outcome.APPLIED)
        if value in FeedEvent.Outcome.values:
            return queryset.filter(outcome=value)
        return queryset


@admin.register(FeedEvent)
class FeedEventAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    """What the marketplace sent (orders/feed.py): read only, the record of each event once."""

    closed_screens = frozenset({"add", "change", "delete"})
    count_label = ngettext_lazy("%(count)d событие", "%(count)d событий", "count")
    list_display = ("event_id", "kind", "order_number", "outcome", "reason", "occurred_at", "received_at", "source")
    list_filter = (FeedOutcomeFilter, "kind", "source")
    search_fields = ("=event_id", "=order_number")
    search_help_text = _("Номер события или номер заказа, целиком")
    readonly_fields = [field.name for field in FeedEvent._meta.fields]
    show_full_result_count = False

    def object_title(self, obj: Any) -> str:
        return str(_("Событие площадки %(event)s") % {"event": obj.event_id})
