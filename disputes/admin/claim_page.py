"""The claim page: the whole case (request, order, offers, messages and files, the store's record,
tracking, evidence requests, decisions, the timeline) beside the forms an arbitrator acts with,
offered as the rulebook allows the viewer now; and a store's record page."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.http import signed_in_user
from accounts.models import Store
from core.csv_export import csv_response
from core.fragments import digest
from core.rules import Permit

from .. import claims, policy, rules, selectors, timeline
from ..models import Claim, Dispute, DisputeEvent
from ..problems import ALL_PROBLEMS
from ..store_record import store_record, store_record_recent, store_record_rows
from . import case
from .forms import DecisionForm, EvidenceRequestForm, ReclassifyForm
from .queue import ClaimQueueAdmin


@dataclass(frozen=True)
class EvidenceGap:
    """An evidence request the policy's gaps suggest, filled in: the buyer, the text, the days."""

    missing: StrOrPromise
    wanted: StrOrPromise
    text: StrOrPromise
    days_given: int
    due_at: datetime


@dataclass(frozen=True)
class TimelineLine:
    event: DisputeEvent
    who: str
    lines: list[str]


def permits_shown(actions: dict[str, Permit]) -> list[tuple[Any, ...]]:
    """What the claim page shows of each action's permit: whether it is allowed, why not, when."""
    return [
        (name, permit.allowed, None if permit.refusal is None else str(permit.refusal), permit.opens_at)
        for name, permit in sorted(actions.items())
    ]


class ClaimPageAdmin(ClaimQueueAdmin):
    """The claim page and its buttons (take, ask for evidence, correct the reason); the decision's
    views are in decision.py."""

    def get_urls(self) -> list[URLPattern]:
        return [
            self.object_url("take", self.take_view),
            self.object_url("evidence", self.evidence_view),
            self.object_url("reclassify", self.reclassify_view),
            self.staff_url(
                "store/<int:store_id>/record/",
                self.store_record_view,
                name="disputes_store_record",
                permission="accounts.view_store",
            ),
            *super().get_urls(),
        ]

    def claim_case(self, request: HttpRequest, pk: int) -> tuple[Claim, Dispute]:
        """The claim and its dispute with all the page shows; 404 for a claim the user may not read."""
        dispute = selectors.claim_case_get(user=signed_in_user(request), claim_pk=pk)
        claim = rules.claim_of(dispute)
        assert claim is not None
        return claim, dispute

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self.check_permission(request)
        return self.claim_page(request, int(object_id))

    def claim_page(self, request: HttpRequest, pk: int, **forms_with_errors: forms.Form) -> TemplateResponse:
        """The page; a form sent back with errors is drawn as sent (and the page answers 400).
        The case comes from this process's cache while its version holds (case.py); the forms'
        views act on a case read afresh (claim_case())."""
        user = signed_in_user(request)
        dispute, case_key = case.case_get(user=user, claim_pk=pk)
        claim = rules.claim_of(dispute)
        assert claim is not None
        now = timezone.now()
        offers = list(dispute.offers.all())
        facts = selectors.page_facts(dispute, user=user, offers=offers)
        role = rules.role_of(dispute, user)
        actions = rules.allowed(dispute, role, now, facts, actions=rules.CLAIM_PAGE_ACTIONS)
        thread = list(dispute.messages.all())
        panel = selectors.policy_panel(dispute, now=now)
        why_no_forms = rules.claim_page_idle_reason(dispute, role, facts)
        answer_by = now + timedelta(days=settings.CLAIM_EVIDENCE_DAYS)
        asks_deviation = DecisionForm.asks_deviation(panel.recommendation)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Претензия по заказу %(number)s") % {"number": dispute.order.number},
            "claim": claim,
            "dispute": dispute,
            "order": dispute.order,
            "items": list(dispute.order.items.all()),
            "problems": [ALL_PROBLEMS[code] for code in dispute.problems if code in ALL_PROBLEMS],
            "offers": offers,
            "thread": thread,
            "tracking": list(dispute.order.tracking_events.all()),
            "record": store_record_recent(store=dispute.store),
            "show_as_of": True,
            "may_open_files": user.has_perm("disputes.view_attachment"),
            # Drawn only when the case's kept HTML is missing (the template calls it then).
            "timeline": lambda: [
                TimelineLine(
                    event,
                    timeline.actor_label(event, dispute, for_staff=True),
                    timeline.describe(event, dispute, for_staff=True),
                )
                for event in dispute.events.all()
            ],
            "case_key": case_key,
            "decisions": list(claim.decisions.all()),
            "evidence_requests": list(claim.evidence_requests.all()),
            "evidence_request": facts.evidence_request,
            "actions": actions,
            "why_no_forms": why_no_forms,
            # The forms, made only when drawn: their fields are kept rendered unless sent back; the
            # decision form's depend on whether it asks why the decision deviates.
            "sent": frozenset(forms_with_errors),
            "decision_form": forms_with_errors.get("decision_form")
            or SimpleLazyObject(lambda: DecisionForm(dispute=dispute, recommendation=panel.recommendation)),
            "aside_key": digest(
                (case_key, sorted(forms_with_errors), str(why_no_forms), asks_deviation, *permits_shown(actions))
            ),
            "policy": panel,
            # The gaps' forms, kept rendered under the panel and the date a buyer would answer by.
            "gaps_key": digest((panel.key, claim.pk, timezone.localdate(answer_by).isoformat())),
            "evidence_gaps": [
                EvidenceGap(
                    policy.MISSING_LABELS[missing],
                    policy.EVIDENCE_LABELS[missing],
                    policy.REQUEST_TEXTS[missing],
                    settings.CLAIM_EVIDENCE_DAYS,
                    answer_by,
                )
                for missing in panel.gaps
            ],
            "evidence_form": forms_with_errors.get("evidence_form") or SimpleLazyObject(EvidenceRequestForm),
            "reclassify_form": forms_with_errors.get("reclassify_form")
            or SimpleLazyObject(lambda: ReclassifyForm(dispute=dispute)),
            "requested_equivalent": selectors.rouble_equivalent_of(dispute, dispute.requested_amount),
        }
        status = 400 if forms_with_errors else 200
        return TemplateResponse(request, "admin/disputes/claim/page.html", context, status=status)

    def take_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        _claim, dispute = self.claim_case(request, pk)
        return self.run_action(
            request,
            lambda: claims.claim_take(dispute=dispute, arbitrator=signed_in_user(request)),
            success=_("Претензия у вас в работе."),
            back=self.change_url(pk),
        )

    def evidence_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        _claim, dispute = self.claim_case(request, pk)
        form = EvidenceRequestForm(request.POST or None)
        return self.run_action(
            request,
            lambda: claims.evidence_request(dispute=dispute, arbitrator=signed_in_user(request), **form.cleaned_data),
            form=form,
            form_page=lambda form: self.claim_page(request, pk, evidence_form=form),
            success=_("Запрос отправлен сторонам."),
            back=self.change_url(pk),
        )

    def reclassify_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        _claim, dispute = self.claim_case(request, pk)
        form = ReclassifyForm(request.POST or None, dispute=dispute)
        return self.run_action(
            request,
            lambda: claims.claim_reclassify(dispute=dispute, arbitrator=signed_in_user(request), **form.cleaned_data),
            form=form,
            form_page=lambda form: self.claim_page(request, pk, reclassify_form=form),
            success=_("Причина спора уточнена; это записано в историю."),
            back=self.change_url(pk),
        )

    def store_record_view(self, request: HttpRequest, store_id: int) -> HttpResponse:
        """A store's record for arbitrators and support (anyone who may read stores), as a page
        or, with ?format=csv, as a spreadsheet file."""
        store = get_object_or_404(Store, pk=store_id)
        record = store_record(store=store)
        if request.GET.get("format") == "csv":
            return csv_response(f"store-record-{store.pk}.csv", store_record_rows(record))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Показатели магазина «%(store)s»") % {"store": store.name},
            "record": record,
        }
        return TemplateResponse(request, "admin/disputes/store_record.html", context)
