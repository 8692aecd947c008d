from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.admin_russian import RussianAdminMixin, field_column, titled_filter
from core.errors import ActionRefused

from . import blocking, rules
from .forms import AdminSignInForm
from .models import AccountAppeal, AccountEvent, BlockReason, OutgoingEmail, Store, User


class BlockForm(forms.Form):
    reason = forms.ChoiceField(label=_("Причина (её прочтёт пользователь)"), choices=BlockReason.choices)
    note = forms.CharField(
        label=_("Пояснение для пользователя"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Что именно нарушено: номер заказа, ссылка на товар, даты. Без внутренних заметок."),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Ответ пользователю (его прочтут на странице блокировки и в письме)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )


class AccountEventInline(admin.StackedInline):
    model = AccountEvent
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "what_changed")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

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


def _blocking_refusal(*, staff: User, user: User) -> str | None:
    """Why the button on `user`'s page (block, or unblock if blocked) would be refused."""
    action = rules.Action.UNBLOCK if user.is_blocked else rules.Action.BLOCK
    return rules.refusal(action, user, rules.staff_role(staff), timezone.now(), rules.Facts(actor=staff))


@admin.register(User)
class UserAdmin(RussianAdminMixin, DjangoUserAdmin):
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

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        staff: User = request.user  # type: ignore[assignment]
        if not staff.has_perm("accounts.block_user"):
            # Staff who may not block read the state without a button that would answer 403.
            refusal = None
        elif (refusal := _blocking_refusal(staff=staff, user=obj)) is None:
            return fieldsets
        # Nor is a button offered that the service would refuse (a staff account, for support):
        # the state, and why there is no button.
        state = {"fields": ("blocking_state",), **({"description": escape(refusal)} if refusal else {})}
        return [
            (name, {**options, **state}) if options.get("fields") == ("blocking",) else (name, options)
            for name, options in fieldsets
        ]

    @admin.display(description=_("состояние"))
    def blocking_state(self, user: User) -> str:
        if not user.pk or user.blocked_at is None:
            return str(_("Не заблокирован"))
        return format_html(
            "{}: {} ({})",
            _("Заблокирован"),
            user.get_block_reason_display(),
            date_format(timezone.localtime(user.blocked_at), "j E Y, H:i"),
        )

    @admin.display(description=_("состояние"))
    def blocking(self, user: User) -> str:
        if not user.pk:
            return "—"
        if user.is_blocked:
            link = ("accounts_user_unblock", _("Разблокировать…"))
        else:
            link = ("accounts_user_block", _("Заблокировать…"))
        return format_html(
            '{} <a class="button" href="{}">{}</a>',
            self.blocking_state(user),
            reverse(f"admin:{link[0]}", args=[user.pk]),
            link[1],
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<int:pk>/block/", self.admin_site.admin_view(self.block_view), name="accounts_user_block"),
            path("<int:pk>/unblock/", self.admin_site.admin_view(self.unblock_view), name="accounts_user_unblock"),
            *super().get_urls(),
        ]

    def _refused(self, request: HttpRequest, user: User) -> HttpResponse | None:
        """Back to the user's page, saying why, when the rules refuse this block or unblock
        whatever the form says (the page offers no button then; this is a typed address)."""
        if refusal := _blocking_refusal(staff=request.user, user=user):  # type: ignore[arg-type]
            messages.error(request, refusal)
            return redirect("admin:accounts_user_change", user.pk)
        return None

    def _form_page(self, request: HttpRequest, user: User, form: forms.Form, title: str) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "subject": user,
            "form": form,
        }
        return TemplateResponse(request, "admin/accounts/user/blocking.html", context)

    def block_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("accounts.block_user"):
            raise PermissionDenied
        user = get_object_or_404(User, pk=pk)
        if sent_back := self._refused(request, user):
            return sent_back
        form = BlockForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                blocking.account_block(
                    user=user,
                    staff=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
            except ActionRefused as refused:
                # Shown on the form, which keeps the reason and the note typed.
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("Аккаунт заблокирован; пользователю отправлено письмо с причиной."))
                return redirect("admin:accounts_user_change", user.pk)
        return self._form_page(request, user, form, str(_("Заблокировать %(user)s") % {"user": user}))

    def unblock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("accounts.block_user"):
            raise PermissionDenied
        user = get_object_or_404(User, pk=pk)
        if sent_back := self._refused(request, user):
            return sent_back
        form = AnswerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                blocking.account_unblock(
                    user=user,
                    staff=request.user,  # type: ignore[arg-type]
                    answer=form.cleaned_data["answer"],
                )
            except ActionRefused as refused:
                messages.error(request, refused.message)
            else:
                messages.success(request, _("Аккаунт разблокирован; пользователю отправлено письмо."))
            return redirect("admin:accounts_user_change", user.pk)
        return self._form_page(request, user, form, str(_("Разблокировать %(user)s") % {"user": user}))


@admin.register(AccountAppeal)
class AccountAppealAdmin(RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d обжалование", "%(count)d обжалований", "count")
    list_display = ("user", "status", "filed_at", "reason")
    list_filter = ("status",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "reason", "note", "status", "filed_at", "text", "evidence", "answer", "decided_at")
    fields = readonly_fields

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        # Appeals waiting for an answer first, oldest first.
        waiting_first = Case(When(status=AccountAppeal.Status.PENDING, then=Value(0)), default=Value(1))
        return [waiting_first, "filed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("причина блокировки"))
    def reason(self, appeal: AccountAppeal) -> str:
        return str(appeal.user.get_block_reason_display() or "—")

    @admin.display(description=_("пояснение при блокировке"))
    def note(self, appeal: AccountAppeal) -> str:
        return appeal.user.block_note or "—"

    @admin.display(description=_("доказательства"))
    def evidence(self, appeal: AccountAppeal) -> str:
        return (
            format_html_join(
                mark_safe("<br>"),
                '<a href="{}">{}</a> ({})',
                (
                    (reverse("accounts:blocked_file", args=[item.token]), item.display_name, item.get_kind_display())
                    for item in appeal.files.all()
                ),
            )
            or "—"
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/answer/", self.admin_site.admin_view(self.answer_view), name="accounts_accountappeal_answer"
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        appeal = self.get_object(request, unquote(object_id))
        may_answer = (
            appeal is not None
            and rules.permit(
                rules.Action.ANSWER_APPEAL,
                appeal,
                rules.staff_role(request.user),  # type: ignore[arg-type]
                timezone.now(),
                rules.Facts(actor=request.user),  # type: ignore[arg-type]
            ).allowed
        )
        extra = {"answer_form": AnswerForm() if may_answer else None, "appeal": appeal, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("accounts.block_user"):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:accounts_accountappeal_change", pk)
        appeal = get_object_or_404(AccountAppeal, pk=pk)
        form = AnswerForm(request.POST)
        form.is_valid()
        answer = form.cleaned_data.get("answer", "")
        staff: User = request.user  # type: ignore[assignment]
        try:
            if request.POST.get("decision") == "unblock":
                blocking.account_appeal_unblock(appeal=appeal, staff=staff, answer=answer)
                messages.success(request, _("Аккаунт разблокирован; пользователю отправлено письмо."))
            else:
                blocking.account_appeal_reject(appeal=appeal, staff=staff, answer=answer)
                messages.success(request, _("Блокировка оставлена; пользователь увидит ответ."))
        except ActionRefused as refused:
            messages.error(request, refused.message)
        return redirect("admin:accounts_accountappeal_change", pk)


@admin.register(Store)
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


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d письмо", "%(count)d писем", "count")
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Admin's sign-in says "too many attempts" and how long to wait, as the site's does.
admin.site.login_form = AdminSignInForm

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(RussianAdminMixin, DjangoGroupAdmin):
    add_title = _("Новая группа сотрудников")
    add_label = _("Добавить группу")
    count_label = ngettext_lazy("%(count)d группа", "%(count)d групп", "count")
