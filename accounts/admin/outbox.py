"""The e-mail outbox in admin, for reading: what was queued, sent, retried or failed, and why."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.admin_actions import AdminActionsMixin
from core.admin_russian import RussianAdminMixin, field_column, titled_filter


class OutgoingEmailAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d письмо", "%(count)d писем", "count")
    # Mail is queued by the services that send it, never written by hand.
    closed_screens = frozenset({"add"})
    # The model's fields have no Russian names (and accounts' migrations are busy): named here.
    recipient_column = field_column("recipient", _("получатель"))
    to_address_column = field_column("to_address", _("адрес"))
    template_column = field_column("template", _("шаблон"))
    language_column = field_column("language", _("язык"))
    subject_column = field_column("subject", _("тема"))
    body_column = field_column("body", _("текст письма"))
    kind_column = field_column("kind", _("вид письма"))
    dedupe_key_column = field_column("dedupe_key", _("ключ от повторной отправки"))
    status_column = field_column("status", _("состояние отправки"))
    attempts_column = field_column("attempts", _("попыток"))
    next_attempt_at_column = field_column("next_attempt_at", _("следующая попытка"))
    lease_expires_at_column = field_column("lease_expires_at", _("отправляется, повтор не раньше"))
    last_error_column = field_column("last_error", _("последняя ошибка"))
    created_at_column = field_column("created_at", _("поставлено в очередь"))
    sent_at_column = field_column("sent_at", _("отправлено"))
    list_display = (
        "to_address_column",
        "template_column",
        "subject_column",
        "kind_column",
        "status_column",
        "attempts_column",
        "next_attempt_at_column",
        "sent_at_column",
    )
    list_filter = (
        ("status", titled_filter(_("состояние отправки"), admin.ChoicesFieldListFilter)),
        ("kind", titled_filter(_("вид письма"), admin.ChoicesFieldListFilter)),
        ("template", titled_filter(_("шаблон"), admin.AllValuesFieldListFilter)),
    )
    search_fields = ("to_address", "subject", "dedupe_key")
    fields = (
        "recipient_column",
        "to_address_column",
        "template_column",
        "language_column",
        "subject_column",
        "body_column",
        "kind_column",
        "dedupe_key_column",
        "status_column",
        "attempts_column",
        "next_attempt_at_column",
        "lease_expires_at_column",
        "last_error_column",
        "created_at_column",
        "sent_at_column",
    )
    readonly_fields = fields
