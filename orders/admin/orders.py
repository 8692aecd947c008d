"""Orders in admin (with their items, cancellations, tracking, extensions and events), refunds and
their confirmation by hand, support requests and their answers, tracking events entered by staff."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminTextInputWidget
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.http import signed_in_user
from core.admin_actions import AdminActionsMixin, ReadOnlyInline
from core.admin_russian import RussianAdminMixin
from core.forms import MONEY_INPUT
from core.money import format_money
from core.tracking_numbers import TrackingNumberField

from .. import payments, rules, services, shipping
from ..models import (
    Order,
    OrderCancellation,
    OrderEvent,
    OrderItem,
    ProtectionExtension,
    Refund,
    SupportRequest,
    TrackingEvent,
)

MONEY_FIELDS = ("total_amount", "currency")


def may_change_money(request: HttpRequest) -> bool:
    return request.user.has_perm("orders.change_order_money")


class OrderItemInline(admin.StackedInline):
    model = OrderItem
    formfield_overrides = MONEY_INPUT
    extra = 0

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if may_change_money(request) else ("unit_price",)


class ProtectionExtensionInline(ReadOnlyInline):
    model = ProtectionExtension
    closed_screens = frozenset({"add"})
    readonly_fields = ("days", "reason", "status", "requested_at", "decided_at")


def _moment(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "j E Y, H:i T")


def _cancel_reason(code: Any) -> str:
    for choices in (OrderCancellation.Reason, Order.CancelReason):
        if code in choices.values:
            return str(choices(code).label)
    return str(code)


# An order event's details, key by key: a Russian name and how to show the value.
EVENT_DETAILS: dict[str, tuple[Any, Callable[[Any], str]]] = {
    "tracking_number": (_("трек-номер"), str),
    "reason": (_("причина"), _cancel_reason),
    "days": (_("дней"), str),
    "happened_at": (_("когда"), _moment),
    "protection_due_at": (_("защита до"), _moment),
}


def event_details_lines(details: dict[str, Any] | None) -> list[str]:
    lines = []
    for key, value in (details or {}).items():
        label, show = EVENT_DETAILS.get(key, (key.replace("_", " "), str))
        lines.append(f"{capfirst(str(label))}: {show(value)}")
    return lines


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    closed_screens = frozenset({"add"})
    fields = ("created_at", "kind", "actor", "what_changed")
    readonly_fields = fields

    @admin.display(description=_("подробности"))
    def what_changed(self, event: OrderEvent) -> str:
        lines = event_details_lines(event.details)
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"


class TrackingEventInline(ReadOnlyInline):
    model = TrackingEvent
    # Added through TrackingEventAdmin, which goes through the service.
    closed_screens = frozenset({"add"})
    readonly_fields = ("happened_at", "kind", "location", "source", "received_at")
    fields = readonly_fields


class OrderCancellationInline(ReadOnlyInline):
    model = OrderCancellation
    closed_screens = frozenset({"add"})
    readonly_fields = ("reason", "note", "status", "requested_at", "respond_by", "resolved_at")


@admin.register(Order)
class OrderAdmin(RussianAdminMixin, admin.ModelAdmin):
    add_title = _("Новый заказ")
    add_label = _("Добавить заказ")
    count_label = ngettext_lazy("%(count)d заказ", "%(count)d заказов", "count")
    date_hierarchy_label = _("Фильтр по дате оплаты")
    formfield_overrides = MONEY_INPUT
    list_display = ("number", "buyer", "store", "status", "total_amount", "currency", "protection_due_at")
    list_filter = ("status", "currency")
    search_fields = ("number", "buyer__username", "store__name", "tracking_number")
    date_hierarchy = "paid_at"
    raw_id_fields = ("buyer", "store")
    inlines = [
        OrderItemInline,
        OrderCancellationInline,
        TrackingEventInline,
        ProtectionExtensionInline,
        OrderEventInline,
    ]
    list_select_related = ("buyer", "store")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tracking_number":
            # The same check and spelling as the seller's form and the webhook that matches on it.
            return TrackingNumberField(
                label=capfirst(str(db_field.verbose_name)), required=False, widget=AdminTextInputWidget
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Amounts decide refunds: only staff with their own permission change them.
        return () if may_change_money(request) else MONEY_FIELDS


@admin.register(Refund)
class RefundAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d возврат", "%(count)d возвратов", "count")
    # Refunds are requested by the services that decide them and confirmed by the button below.
    closed_screens = frozenset({"add", "delete"})
    list_display = ("reference", "order", "purpose", "money", "status", "requested_at", "flagged_at", "completed_at")
    list_filter = ("status", "purpose", ("flagged_at", admin.EmptyFieldListFilter), "currency")
    search_fields = ("reference", "order__number", "gateway_reference")
    search_help_text = _("Номер возврата, номер заказа или номер в платёжной системе")
    list_select_related = ("order",)
    readonly_fields = [field.name for field in Refund._meta.fields]
    actions = ["confirm_by_hand"]

    def object_title(self, obj: Any) -> str:
        return str(_("Возврат %(reference)s") % {"reference": obj.reference})

    @admin.display(description=_("сумма"))
    def money(self, refund: Refund) -> str:
        return format_money(refund.amount, refund.currency)

    @admin.action(description=_("Отметить возврат выполненным (деньги ушли покупателю)"), permissions=["confirm"])
    def confirm_by_hand(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        staff = signed_in_user(request)
        self.run_on_each(
            request,
            queryset.filter(status=Refund.Status.REQUESTED),
            lambda refund: payments.refund_confirm(
                refund_id=refund.pk, confirmed_by=Refund.ConfirmedBy.STAFF, user=staff
            ),
            success=lambda count: _("Отмечено выполненными: %(count)d.") % {"count": count},
        )

    def has_confirm_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.confirm_refund")


class SupportAnswerForm(forms.ModelForm):
    class Meta:
        model = SupportRequest
        fields = ["answer"]
        widgets = {"answer": forms.Textarea(attrs={"rows": 6, "cols": 80})}

    def clean_answer(self) -> str:
        answer = self.cleaned_data["answer"].strip()
        if len(answer) < 10:
            raise forms.ValidationError(_("Напишите ответ хотя бы в 10 символов: его прочтёт покупатель."))
        return answer


@admin.register(SupportRequest)
class SupportRequestAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    """Support's inbox: open questions first; the answer is written on the request's page and sent
    through the service (it mails the buyer)."""

    form = SupportAnswerForm
    count_label = ngettext_lazy("%(count)d обращение", "%(count)d обращений", "count")
    # A request is written by its buyer on the site.
    closed_screens = frozenset({"add", "delete"})
    list_display = ("number", "author", "order", "status", "created_at", "answered_at")
    list_filter = ("status",)
    search_fields = ("=id", "author__username", "author__email", "order__number", "text")
    list_select_related = ("author", "order")
    readonly_fields = ("author", "order", "article", "text", "created_at", "status", "answered_by", "answered_at")
    fields = ("author", "order", "article", "created_at", "text", "status", "answer", "answered_by", "answered_at")
    ordering = ("-status", "created_at")

    def object_title(self, obj: Any) -> str:
        return str(obj)

    @admin.display(description=_("№"), ordering="pk")
    def number(self, item: SupportRequest) -> str:
        return str(item.pk)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.answer_supportrequest")

    def save_model(self, request: HttpRequest, obj: SupportRequest, form: Any, change: bool) -> None:
        self.run_in_save(
            request,
            lambda: services.support_request_answer(
                support_request=obj, staff=signed_in_user(request), answer=form.cleaned_data["answer"]
            ),
        )


class TrackingEventForm(forms.ModelForm):
    class Meta:
        model = TrackingEvent
        fields = ("order", "kind", "happened_at", "location")

    def clean_happened_at(self) -> Any:
        happened_at = self.cleaned_data["happened_at"]
        if message := rules.tracking_event_refusal(happened_at, timezone.now()):
            raise forms.ValidationError(message)
        return happened_at


@admin.register(TrackingEvent)
class TrackingEventAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    """A scan the carrier reported outside the webhook (by phone, by e-mail), entered by staff. It
    goes through the same service as the webhook: "delivered" starts the dispute window."""

    form = TrackingEventForm
    # A scan is a fact: record a new one instead of editing.
    closed_screens = frozenset({"change", "delete"})
    add_title = _("Новое событие отслеживания")
    add_label = _("Записать событие отслеживания")
    count_label = ngettext_lazy("%(count)d событие", "%(count)d событий", "count")
    list_display = ("order", "kind", "happened_at", "location", "source")
    list_filter = ("kind", "source")
    search_fields = ("order__number", "order__tracking_number")
    raw_id_fields = ("order",)
    list_select_related = ("order",)

    def save_model(self, request: HttpRequest, obj: TrackingEvent, form: Any, change: bool) -> None:
        recorded = self.run_in_save(
            request,
            lambda: shipping.tracking_event_record(
                order=form.cleaned_data["order"],
                kind=form.cleaned_data["kind"],
                happened_at=form.cleaned_data["happened_at"],
                location=form.cleaned_data["location"],
                source=TrackingEvent.Source.STAFF,
            ),
        )
        if recorded is not None:
            obj.pk = recorded.pk

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if obj.pk is None:  # refused: nothing was added
            return None
        return super().log_addition(request, obj, message)


@admin.register(OrderCancellation)
class OrderCancellationAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d просьба", "%(count)d просьб", "count")
    # A cancellation is asked for and answered on the site.
    closed_screens = frozenset({"add", "change", "delete"})
    list_display = ("order", "reason", "status", "requested_at", "respond_by")
    list_filter = ("status", "reason")
    search_fields = ("order__number",)
    list_select_related = ("order",)
    readonly_fields = ("order", "reason", "note", "status", "requested_at", "respond_by", "resolved_at")
