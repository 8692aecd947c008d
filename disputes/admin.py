from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .models import Attachment, Dispute, DisputeEvent, ExchangeRate, Message, Offer, Refund


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = ("created_at", "role", "author", "refund_type", "amount", "return_required", "status", "note")
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "author", "kind", "text", "files")
    readonly_fields = fields

    @admin.display(description=_("файлы"))
    def files(self, message):
        return (
            format_html_join(
                mark_safe("<br>"),
                '<a href="{}">{}</a> ({})',
                (
                    (reverse("disputes:attachment", args=[item.token]), item.display_name, item.kind)
                    for item in message.attachments.all()
                ),
            )
            or "—"
        )


class EventInline(ReadOnlyInline):
    model = DisputeEvent
    fields = ("created_at", "kind", "actor", "details")
    readonly_fields = fields


class ClaimAgeFilter(admin.SimpleListFilter):
    title = _("претензии без решения")
    parameter_name = "claim_age"

    def lookups(self, request, model_admin):
        return [("15", _("больше 15 дней")), ("60", _("больше 60 дней (просрочены)"))]

    def queryset(self, request, queryset):
        if self.value() == "15":
            return queryset.filter(status="claim", decided_at__isnull=True, claim_flagged_at__isnull=False)
        if self.value() == "60":
            return queryset.filter(status="claim", decided_at__isnull=True, claim_overdue_at__isnull=False)
        return queryset


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = (
        "order", "kind", "status", "buyer", "store", "requested_amount", "currency", "opened_at", "escalated_at",
        "claim_flagged_at", "claim_overdue_at",
    )  # fmt: skip
    list_filter = (ClaimAgeFilter, "status", "kind")
    search_fields = ("order__number", "buyer__username", "store__name")
    list_select_related = ("order", "buyer", "store")
    date_hierarchy = "opened_at"
    inlines = [OfferInline, MessageInline, EventInline]
    readonly_fields = [field.name for field in Dispute._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "rub_per_unit", "as_of")


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ("reference", "dispute", "amount", "currency", "created_at")
    readonly_fields = ("reference", "dispute", "amount", "currency", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("display_name", "kind", "size", "owner", "message", "uploaded_at")
    list_filter = ("kind",)
    readonly_fields = [field.name for field in Attachment._meta.fields]

    def has_add_permission(self, request):
        return False
