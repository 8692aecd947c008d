"""Blocking and unblocking an account from its admin page: a small form each (the reason the user
will read, or the answer), for staff with accounts.block_user, calling accounts/blocking.py."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.admin_actions import AdminActionsMixin

from .. import blocking, rules
from ..http import signed_in_user
from ..models import BlockReason, User


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


@dataclass(frozen=True)
class Step:
    """Blocking or unblocking: its form, the page's title (of %(user)s), the service and what staff
    are told once it is done."""

    form: type[forms.Form]
    title: StrOrPromise
    service: Callable[..., object]
    success: StrOrPromise
    refusal_on_form: bool = False  # the refusal shown on the form, which keeps what was typed


STEPS = {
    "block": Step(
        BlockForm,
        _("Заблокировать %(user)s"),
        blocking.account_block,
        _("Аккаунт заблокирован; пользователю отправлено письмо с причиной."),
        refusal_on_form=True,
    ),
    "unblock": Step(
        AnswerForm,
        _("Разблокировать %(user)s"),
        blocking.account_unblock,
        _("Аккаунт разблокирован; пользователю отправлено письмо."),
    ),
}


def blocking_refusal(*, staff: User, user: User) -> str | None:
    """Why the button on `user`'s page (block, or unblock if blocked) would be refused."""
    action = rules.Action.UNBLOCK if user.is_blocked else rules.Action.BLOCK
    return rules.refusal(action, user, rules.staff_role(staff), timezone.now(), rules.Facts(actor=staff))


class BlockingScreens(AdminActionsMixin):
    """Blocking on the users' admin (UserAdmin in users.py): the state and its button on a user's
    page, and the block and unblock screens the button opens."""

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        staff = signed_in_user(request)
        if not staff.has_perm("accounts.block_user"):
            # Staff who may not block read the state without a button that would answer 403.
            refusal = None
        elif (refusal := blocking_refusal(staff=staff, user=obj)) is None:
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
            date_format(timezone.localtime(user.blocked_at), "j E Y, H:i T"),
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
            *(
                self.object_url(step, partial(self.step_view, step=step), permission="accounts.block_user")
                for step in STEPS
            ),
            *super().get_urls(),
        ]

    def subject(self, request: HttpRequest, pk: int) -> User | HttpResponse:
        """The user to block or unblock; or back to their page, saying why, when the rules refuse it
        whatever the form says (the page offers no button then; this is a typed address)."""
        user = get_object_or_404(User, pk=pk)
        if refusal := blocking_refusal(staff=signed_in_user(request), user=user):
            messages.error(request, refusal)
            return redirect("admin:accounts_user_change", user.pk)
        return user

    def form_page(self, request: HttpRequest, user: User, form: forms.Form, title: str) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "subject": user,
            "form": form,
        }
        return TemplateResponse(request, "admin/accounts/user/blocking.html", context)

    def step_view(self, request: HttpRequest, pk: int, *, step: str) -> HttpResponse:
        """The step's form (GET, or POST with errors) or its service run for the signed-in staff member."""
        user = self.subject(request, pk)
        if isinstance(user, HttpResponse):
            return user
        chosen = STEPS[step]
        form = chosen.form(request.POST or None)
        title = str(chosen.title % {"user": user})
        if request.method != "POST":
            return self.form_page(request, user, form, title)
        return self.run_action(
            request,
            lambda: chosen.service(user=user, staff=signed_in_user(request), **form.cleaned_data),
            form=form,
            form_page=lambda form: self.form_page(request, user, form, title),
            refusal_on_form=chosen.refusal_on_form,
            success=chosen.success,
            back=self.change_url(user.pk),
        )
