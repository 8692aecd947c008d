"""Support's report queue and report page in admin: both sides' evidence on one page, and the
moves the rulebook allows now (ask the reported party, take it without asking, decide)."""

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib import admin
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.http import signed_in_user
from core.admin_actions import AdminActionsMixin
from core.admin_russian import RussianAdminMixin

from . import rules, selectors, services
from .forms import DecisionForm
from .models import Report, ReportFile
from .rules import Role


class AgeFilter(admin.SimpleListFilter):
    title = _("давность")
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("1", _("подана за сутки")), ("7", _("старше 7 дней")), ("30", _("старше 30 дней"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        now = timezone.now()
        if self.value() == "1":
            return queryset.filter(created_at__gte=now - timedelta(days=1))
        if self.value() in ("7", "30"):
            return queryset.filter(created_at__lt=now - timedelta(days=int(self.value() or 0)))
        return queryset


class WaitingOnFilter(admin.SimpleListFilter):
    title = _("чей ход")
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("support", _("ждёт поддержку")), ("party", _("ждёт ответа стороны"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        if self.value() == "support":
            return queryset.filter(status__in=(Report.Status.SUBMITTED, Report.Status.PROCESSING))
        if self.value() == "party":
            return queryset.filter(status=Report.Status.AWAITING_ANSWER)
        return queryset


# The one-click steps of a report's handling (POST to <pk>/<step>/): the service and what staff are told.
STEPS: dict[str, tuple[Callable[..., object], StrOrPromise]] = {
    "notify": (services.report_notify, _("Сторона уведомлена; срок ответа записан.")),
    "take": (services.report_take, _("Жалоба у вас в работе.")),
}


@admin.register(Report)
class ReportAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d жалоба", "%(count)d жалоб", "count")
    # Support acts on a report through its page's buttons, which call the services.
    closed_screens = frozenset({"add", "change", "delete"})
    list_display = ("number", "report_type", "reason", "status", "against", "created_at", "answer_due_at")
    list_display_links = ("number",)
    list_filter = (WaitingOnFilter, "status", "report_type", AgeFilter, "outcome", "sanction")
    search_fields = ("=id", "item_id", "store__name", "reported_user__username", "reporter__username")
    list_select_related = ("store", "reported_user")
    list_per_page = 50
    date_hierarchy = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        # The queue: what waits for support first, then what waits for the other party by its
        # deadline, closed reports last; the oldest first within each.
        order = Case(
            When(status=Report.Status.PROCESSING, then=Value(0)),
            When(status=Report.Status.SUBMITTED, then=Value(1)),
            When(status=Report.Status.AWAITING_ANSWER, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
        queryset = self.model._default_manager.get_queryset().annotate(queue_position=order)
        return queryset.order_by(*self.get_ordering(request))

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        return ["queue_position", "answer_due_at", "created_at", "pk"]

    def object_title(self, obj: Any) -> str:
        return str(obj)

    @admin.display(description=_("№"), ordering="pk")
    def number(self, report: Report) -> str:
        return str(report.pk)

    @admin.display(description=_("на кого"))
    def against(self, report: Report) -> str:
        if report.store:
            return report.store.name
        if report.reported_user:
            return str(_("покупатель %(name)s") % {"name": report.reported_user.get_username()})
        return str(_("продавец неизвестен"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("reports.handle_report")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reports.handle_report")

    def get_urls(self) -> list[URLPattern]:
        return [
            *(self.object_url(step, partial(self.step_view, step=step)) for step in STEPS),
            self.object_url("close", self.close_view),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self.check_permission(request)
        return self.report_page(request, int(object_id))

    def report_case(self, request: HttpRequest, pk: int) -> Report:
        get_object_or_404(Report.objects.only("pk"), pk=pk)
        return selectors.report_get(user=signed_in_user(request), pk=pk)

    def report_page(self, request: HttpRequest, pk: int, decision_form: DecisionForm | None = None) -> TemplateResponse:
        """The page; a decision sent back with errors is drawn as sent (and the page answers 400)."""
        report = self.report_case(request, pk)
        user = signed_in_user(request)
        now = timezone.now()
        all_files = list(report.files.all())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Жалоба №%(number)s") % {"number": report.pk},
            "report": report,
            "actions": rules.allowed(report, rules.staff_role(user), now),
            "notice_given": rules.notice_given(report, now),
            "reporter_files": [item for item in all_files if item.side == ReportFile.Side.REPORTER],
            "answer_files": [item for item in all_files if item.side == ReportFile.Side.REPORTED],
            "history": selectors.history_for(report, role=Role.STAFF),
            "events": list(report.events.all()),
            "decision_form": decision_form or DecisionForm(),
            "earlier_reports": Report.objects.filter(reported_user_id=report.reported_user_id)
            .exclude(pk=report.pk)
            .order_by("-created_at")[:10]
            if report.reported_user_id
            else [],
        }
        return TemplateResponse(
            request, "admin/reports/report/page.html", context, status=400 if decision_form else 200
        )

    def step_view(self, request: HttpRequest, pk: int, *, step: str) -> HttpResponse:
        """A one-click step of the handling (STEPS): the service runs for the signed-in staff member."""
        report = self.report_case(request, pk)
        service, success = STEPS[step]
        return self.run_action(
            request,
            lambda: service(report=report, staff=signed_in_user(request)),
            success=success,
            back=self.change_url(pk),
        )

    def close_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self.report_case(request, pk)
        form = DecisionForm(request.POST)
        return self.run_action(
            request,
            lambda: services.report_close(report=report, staff=signed_in_user(request), **form.cleaned_data),
            form=form,
            form_page=lambda form: self.report_page(request, pk, decision_form=form),
            refusal_on_form=True,
            success=_("Решение записано; участники получат письмо."),
            back=self.change_url(pk),
        )
