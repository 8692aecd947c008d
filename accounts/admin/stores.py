"""Stores in admin, each with a link to its dispute record (a page of the disputes admin)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.admin_russian import RussianAdminMixin, field_column

from ..models import Store


class StoreAdmin(RussianAdminMixin, admin.ModelAdmin):
    add_title = _("Новый магазин")
    add_label = _("Добавить магазин")
    count_label = ngettext_lazy("%(count)d магазин", "%(count)d магазинов", "count")
    created = field_column("created_at", _("дата создания"))
    list_display = ("name", "owner", "created", "record_link")
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner",)
    readonly_fields = ("record_link",)

    @admin.display(description=_("Показатели споров"))
    def record_link(self, store: Store) -> str:
        # The record lives with disputes (which accounts may not import): linked by URL name.
        if store.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:disputes_store_record", args=[store.pk]), _("30, 90 и 365 дней")
        )
