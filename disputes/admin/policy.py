"""The arbitration policy in admin: its rules with their state and who switched them off and why
(the head of arbitration switches them), and the consistency figures per arbitrator and per problem
kind, as a page or a CSV file."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.http import signed_in_user
from core.admin_actions import AdminActionsMixin
from core.admin_russian import RussianAdminMixin
from core.csv_export import csv_response

from .. import claims, policy, selectors
from ..models import PolicyRuleSwitch


class RuleSwitchForm(forms.Form):
    rule = forms.ChoiceField(label=_("Правило"))
    enabled = forms.BooleanField(label=_("Включить"), required=False)
    reason = forms.CharField(label=_("Почему"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["rule"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(rule.code, rule.title) for rule in policy.policy.rules]


class PolicyRuleSwitchAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    closed_screens = frozenset({"add", "change", "delete"})
    count_label = ngettext_lazy("%(count)d переключение", "%(count)d переключений", "count")

    def get_urls(self) -> list[URLPattern]:
        return [
            self.staff_url(
                "switch/",
                self.switch_view,
                name="disputes_policyruleswitch_switch",
                permission="disputes.switch_policy_rule",
            ),
            self.staff_url(
                "report/",
                self.report_view,
                name="disputes_policyruleswitch_report",
                permission="disputes.view_decision",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        self.check_permission(request)
        return self.rules_page(request)

    def rules_page(self, request: HttpRequest, form: RuleSwitchForm | None = None) -> TemplateResponse:
        """Every rule (facts → outcome → reason) with its state, and the history of switches."""
        off = selectors.switched_off_rules()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Правила рекомендаций"),
            "rules": [(rule, rule.code not in off) for rule in policy.policy.rules],
            "history": list(PolicyRuleSwitch.objects.select_related("switched_by")[:100]),
            "may_switch": request.user.has_perm("disputes.switch_policy_rule"),
            "form": form or RuleSwitchForm(),
        }
        return TemplateResponse(
            request, "admin/disputes/policyruleswitch/rules.html", context, status=400 if form else 200
        )

    def switch_view(self, request: HttpRequest) -> HttpResponse:
        form = RuleSwitchForm(request.POST or None)
        return self.run_action(
            request,
            lambda: claims.policy_rule_switch(staff=signed_in_user(request), **form.cleaned_data),
            form=form,
            form_page=lambda form: self.rules_page(request, form),
            success=_("Записано: кто, когда и почему переключил правило."),
            back=reverse("admin:disputes_policyruleswitch_changelist"),
        )

    def report_view(self, request: HttpRequest) -> HttpResponse:
        """Per arbitrator and per problem kind: decisions, the share that followed the
        recommendation, the share an appeal overturned, the median days to decide."""
        by_arbitrator, by_kind = selectors.consistency_report()
        if request.GET.get("format") == "csv":
            return csv_response("arbitration-consistency.csv", consistency_rows(by_arbitrator + by_kind))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Согласованность решений"),
            "by_arbitrator": by_arbitrator,
            "by_kind": by_kind,
        }
        return TemplateResponse(request, "admin/disputes/policyruleswitch/report.html", context)


def consistency_rows(rows: list[selectors.ConsistencyRow]) -> list[list[object]]:
    groups = {"arbitrator": _("арбитр"), "kind": _("тип спора")}
    header: list[object] = [
        _("группа"),
        _("кто или что"),
        _("решений"),
        _("с рекомендацией"),
        _("по рекомендации, %"),
        _("отменено по апелляции, %"),
        _("медиана дней до решения"),
    ]
    lines: list[list[object]] = [
        [
            str(groups[row.group]),
            row.name,
            row.decisions,
            row.with_recommendation,
            row.followed_percent if row.followed_percent is not None else "",
            row.overturned_percent,
            row.median_days,
        ]
        for row in rows
    ]
    return [[str(text) for text in header], *lines]
