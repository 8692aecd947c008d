"""The decision on a claim, and on its appeal, in two steps: the form on the claim page, then a
confirmation page that shows exactly what the parties will read; the confirmed form goes to the
service (claims.claim_decide or claims.appeal_decide)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.http import signed_in_user
from core.dates import days

from .. import claims, policy, selectors
from ..models import Claim, Decision, Dispute
from .claim_page import ClaimPageAdmin
from .forms import DecisionForm


class ClaimAdmin(ClaimPageAdmin):
    """Claims in admin: the queue (queue.py), the claim page (claim_page.py) and the decision."""

    def get_urls(self) -> list[URLPattern]:
        return [
            self.object_url("decide", self.decide_view),
            self.object_url("decide-appeal", self.decide_appeal_view),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.decide(request, pk, appeal=False)

    def decide_appeal_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.decide(request, pk, appeal=True)

    def decide(self, request: HttpRequest, pk: int, *, appeal: bool) -> HttpResponse:
        claim, dispute = self.claim_case(request, pk)
        panel = selectors.policy_panel(dispute, now=timezone.now())
        form = DecisionForm(request.POST, dispute=dispute, recommendation=panel.recommendation)
        if request.method == "POST" and form.is_valid() and request.POST.get("confirmed") != "yes":
            return self.confirmation_page(request, claim, dispute, form, appeal=appeal, panel=panel)
        service = claims.appeal_decide if appeal else claims.claim_decide
        return self.run_action(
            request,
            lambda: service(
                dispute=dispute,
                arbitrator=signed_in_user(request),
                winner=form.cleaned_data["winner"],
                amount=form.cleaned_data["amount"],
                return_required=form.cleaned_data.get("return_required", False),
                reason=form.cleaned_data["reason"],
                deviation_reason=form.cleaned_data.get("deviation_reason", ""),
            ),
            form=form,
            form_page=lambda form: self.claim_page(request, pk, decision_form=form),
            success=_("Решение по апелляции записано: оно окончательное и уже исполняется.")
            if appeal
            else _("Решение записано. Стороны могут обжаловать его ещё %(days)s.")
            % {"days": days(settings.CLAIM_APPEAL_DAYS)},
            back=self.change_url(pk),
        )

    def confirmation_page(
        self,
        request: HttpRequest,
        claim: Claim,
        dispute: Dispute,
        form: DecisionForm,
        *,
        appeal: bool,
        panel: selectors.PolicyPanel,
    ) -> TemplateResponse:
        """The decision as the parties will read it, with the form's values kept in hidden inputs
        and "Подтвердить решение", which sends them again with confirmed=yes."""
        data = form.cleaned_data
        preview = Decision(
            claim=claim,
            kind=Decision.Kind.APPEAL if appeal else Decision.Kind.FIRST,
            winner=data["winner"],
            amount=data["amount"],
            currency=dispute.currency,
            return_required=data.get("return_required", False),
            reason=data["reason"].strip(),
            decided_at=timezone.now(),
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Проверьте решение перед отправкой"),
            "claim": claim,
            "dispute": dispute,
            "decision": preview,
            "decision_equivalent": selectors.rouble_equivalent(preview.amount, preview.currency)
            if preview.amount
            else None,
            "form": form,
            "quoted_reason": policy.quoted_reason_for(
                panel.recommendation, winner=preview.winner, return_required=preview.return_required
            ),
            "appeal": appeal,
            "appeal_days": days(settings.CLAIM_APPEAL_DAYS),
        }
        return TemplateResponse(request, "admin/disputes/claim/confirm_decision.html", context)
