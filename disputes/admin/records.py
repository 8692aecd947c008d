"""Plain model admins of disputes, for reading: every dispute with its offers, messages and
events; the exchange rates (finance changes them); the evidence files."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.admin_actions import AdminActionsMixin, ReadOnlyInline
from core.admin_russian import RussianAdminMixin, field_column
from core.admin_widgets import file_links
from core.money import format_money

from .. import claims, rules, timeline
from ..models import Attachment, Dispute, DisputeEvent, Message, Offer


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = ("created_at", "role", "author", "refund_type", "amount", "return_required", "status", "note")
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "author", "kind", "text", "files")
    readonly_fields = fields

    @admin.display(description=_("файлы"))
    def files(self, message: Message) -> str:
        return file_links(message.attachments.all(), "disputes:attachment")


class EventInline(ReadOnlyInline):
    model = DisputeEvent
    fields = ("created_at", "kind", "actor", "what_changed")
    readonly_fields = fields

    @admin.display(description=_("что изменилось"))
    def what_changed(self, event: DisputeEvent) -> str:
        return "; ".join(timeline.describe(event, event.dispute, for_staff=True)) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[DisputeEvent]:
        return super().get_queryset(request).select_related("actor", "dispute__store")


class DisputeAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    closed_screens = frozenset({"add", "change"})
    count_label = ngettext_lazy("%(count)d спор", "%(count)d споров", "count")
    date_hierarchy_label = _("Фильтр по дате открытия")
    list_display = ("order", "kind", "status", "buyer", "store", "asked", "opened_at")
    list_filter = ("status", "kind", "currency")
    search_fields = ("order__number", "buyer__username", "store__name")
    list_select_related = ("order", "buyer", "store")
    date_hierarchy = "opened_at"
    inlines = [OfferInline, MessageInline, EventInline]
    # The problems are codes in a JSON list: shown by their names instead.
    readonly_fields = (
        "claim_link",
        *["problem_names" if field.name == "problems" else field.name for field in Dispute._meta.fields],
    )
    fields = readonly_fields

    def object_title(self, obj: Any) -> str:
        return str(_("Спор по заказу %(number)s") % {"number": obj.order.number})

    @admin.display(description=_("просит"))
    def asked(self, dispute: Dispute) -> str:
        return format_money(dispute.requested_amount, dispute.currency)

    @admin.display(description=_("проблемы"))
    def problem_names(self, dispute: Dispute) -> str:
        return claims.problem_names(dispute.problems) or "—"

    @admin.display(description=_("претензия"))
    def claim_link(self, dispute: Dispute) -> str:
        claim = rules.claim_of(dispute)
        if claim is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:disputes_claim_change", args=[claim.pk]), claim.get_stage_display()
        )


class ExchangeRateAdmin(RussianAdminMixin, admin.ModelAdmin):
    add_title = _("Новый курс валюты")
    add_label = _("Добавить курс")
    count_label = ngettext_lazy("%(count)d курс", "%(count)d курсов", "count")
    list_display = ("currency", "rub_per_unit", "as_of")


class AttachmentAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    closed_screens = frozenset({"add", "change"})
    count_label = ngettext_lazy("%(count)d файл", "%(count)d файлов", "count")
    list_display = ("display_name", "kind", "size", "owner", "message", "uploaded_at")
    list_filter = ("kind",)
    # The file through the page that checks who may open it, not the storage's own address; the
    # fields StoredFile leaves unnamed (its migrations are shared with accounts) are named here.
    content_type_column = field_column("content_type", _("тип содержимого"))
    extension_column = field_column("extension", _("расширение"))
    width_column = field_column("width", _("ширина, px"))
    height_column = field_column("height", _("высота, px"))
    readonly_fields = (
        "display_name",
        "file_link",
        "kind",
        "content_type_column",
        "extension_column",
        "size",
        "width_column",
        "height_column",
        "owner",
        "message",
        "uploaded_at",
    )
    fields = readonly_fields

    @admin.display(description=_("файл"))
    def file_link(self, attachment: Attachment) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("disputes:attachment", args=[attachment.token]), attachment.display_name
        )
