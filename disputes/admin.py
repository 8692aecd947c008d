from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Attachment, Dispute, DisputeEvent, ExchangeRate, Message, Offer, Refund


class ClaimDecisionForm(forms.Form):
    winner = forms.ChoiceField(
        label=_("Решение в пользу"),
        choices=[("buyer", _("покупателя")), ("seller", _("продавца"))],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(label=_("Сумма возврата"), required=False, max_digits=12, decimal_places=2, min_value=0)
    reason = forms.CharField(label=_("Обоснование (его прочтут обе стороны)"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, max_amount, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_amount = max_amount
        self.fields["amount"].help_text = _("В валюте заказа, не больше %(max)s.") % {"max": max_amount}

    def clean(self):
        cleaned = super().clean()
        amount = cleaned.get("amount")
        if cleaned.get("winner") == "buyer" and (amount is None or not 0 < amount <= self.max_amount):
            self.add_error("amount", _("Укажите сумму больше нуля и не больше %(max)s.") % {"max": self.max_amount})
        return cleaned


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
    readonly_fields = ["decide_link", *[field.name for field in Dispute._meta.fields]]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("решение по претензии"))
    def decide_link(self, dispute):
        if dispute.status != Dispute.Status.CLAIM or dispute.decided_at:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:disputes_dispute_decide", args=[dispute.pk]),
            _("Принять решение"),
        )

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="disputes_dispute_decide",
            )
        ]
        return urls + super().get_urls()

    def decide_view(self, request, pk: int):
        """An arbitrator's decision on a claim: who wins, the refund, and why."""
        if not request.user.has_perm("disputes.change_dispute"):
            raise PermissionDenied
        dispute = get_object_or_404(Dispute.objects.select_related("order"), pk=pk)
        form = ClaimDecisionForm(request.POST or None, max_amount=dispute.order.total_amount)
        if request.method == "POST" and form.is_valid():
            try:
                services.claim_decide(
                    dispute=dispute,
                    arbitrator=request.user,
                    winner=form.cleaned_data["winner"],
                    amount=form.cleaned_data.get("amount"),
                    reason=form.cleaned_data["reason"],
                )
            except services.DisputeActionRefused as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, _("Решение записано. Стороны могут обжаловать его в течение 7 дней."))
            return redirect("admin:disputes_dispute_change", dispute.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Решение по претензии"),
            "dispute": dispute,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/disputes/decide.html", context)


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
