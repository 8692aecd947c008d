"""Account appeals in admin: a blocked user's appeal with its evidence, and the answer under it
(unblock, or keep the block), for staff with accounts.block_user."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Case, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.admin_actions import AdminActionsMixin
from core.admin_russian import RussianAdminMixin
from core.admin_widgets import file_links

from .. import blocking, rules
from ..http import signed_in_user
from ..models import AccountAppeal
from .blocking import AnswerForm


class AccountAppealAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d обжалование", "%(count)d обжалований", "count")
    # An appeal is filed by its user on the block page and answered with the buttons under it.
    closed_screens = frozenset({"add", "change"})
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

    @admin.display(description=_("причина блокировки"))
    def reason(self, appeal: AccountAppeal) -> str:
        return str(appeal.user.get_block_reason_display() or "—")

    @admin.display(description=_("пояснение при блокировке"))
    def note(self, appeal: AccountAppeal) -> str:
        return appeal.user.block_note or "—"

    @admin.display(description=_("доказательства"))
    def evidence(self, appeal: AccountAppeal) -> str:
        return file_links(appeal.files.all(), "accounts:blocked_file")

    def get_urls(self) -> list[URLPattern]:
        return [self.object_url("answer", self.answer_view, permission="accounts.block_user"), *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        appeal = self.get_object(request, unquote(object_id))
        staff = signed_in_user(request)
        may_answer = (
            appeal is not None
            and rules.permit(
                rules.Action.ANSWER_APPEAL, appeal, rules.staff_role(staff), timezone.now(), rules.Facts(actor=staff)
            ).allowed
        )
        extra = {"answer_form": AnswerForm() if may_answer else None, "appeal": appeal, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def answer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The two buttons under the appeal: "decision" says which, and the answer may be empty."""
        form = AnswerForm(request.POST)
        form.is_valid()
        answer = form.cleaned_data.get("answer", "")
        service: Callable[..., object]
        if request.POST.get("decision") == "unblock":
            service = blocking.account_appeal_unblock
            success = _("Аккаунт разблокирован; пользователю отправлено письмо.")
        else:
            service = blocking.account_appeal_reject
            success = _("Блокировка оставлена; пользователь увидит ответ.")
        return self.run_action(
            request,
            lambda: service(
                appeal=get_object_or_404(AccountAppeal, pk=pk), staff=signed_in_user(request), answer=answer
            ),
            success=success,
            back=self.change_url(pk),
        )
