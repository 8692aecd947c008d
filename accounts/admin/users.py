"""Users in admin: the list, a user's page with their account events, and blocking (blocking.py)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.admin_actions import ReadOnlyInline
from core.admin_russian import RussianAdminMixin

from ..models import AccountEvent, BlockReason
from .blocking import BlockingScreens


class AccountEventInline(ReadOnlyInline):
    model = AccountEvent
    fk_name = "user"
    fields = ("created_at", "kind", "actor", "what_changed")
    readonly_fields = fields

    @admin.display(description=_("подробности"))
    def what_changed(self, event: AccountEvent) -> str:
        details = event.details or {}
        parts = []
        reason = details.get("reason")
        if isinstance(reason, dict):
            old, new = reason.get("old"), reason.get("new")
            parts.append(
                _("причина: было «%(old)s», стало «%(new)s»")
                % {
                    "old": BlockReason(old).label if old in BlockReason.values else "—",
                    "new": BlockReason(new).label if new in BlockReason.values else "—",
                }
            )
        for key in ("note", "answer"):
            if details.get(key):
                parts.append(str(details[key]))
        return "; ".join(parts) or "—"


class UserAdmin(BlockingScreens, RussianAdminMixin, DjangoUserAdmin):
    add_title = _("Новый пользователь")
    add_label = _("Добавить пользователя")
    count_label = ngettext_lazy("%(count)d пользователь", "%(count)d пользователей", "count")
    list_display = ("username", "email", "role", "is_staff", "blocked_at", "date_joined")
    list_filter = ("role", "is_staff", ("blocked_at", admin.EmptyFieldListFilter), "groups")
    readonly_fields = ("blocking", "blocking_state")
    inlines = [AccountEventInline]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Покупатель и продавец"), {"fields": ("role", "time_zone", "preferred_language", "marketing_emails")}),
        (_("Блокировка"), {"fields": ("blocking",)}),
    )
