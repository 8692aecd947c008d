"""Disputes and claims in Django admin. Arbitrators work from the claims queue and one claim page
that shows the whole case next to the forms that act on it; every form calls a service in
disputes/claims.py, and the page offers only what the rulebook allows the viewer now."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from accounts.models import Store, User
from core.admin_russian import RussianAdminMixin, field_column
from core.csv_export import csv_response
from core.dates import days
from core.errors import ActionRefused
from core.money import format_money

from . import claims, rules, selectors, timeline
from .admin_queue import ClaimQueue
from .admin_selectors import claim_case_get
from .models import Attachment, Claim, Decision, Dispute, DisputeEvent, ExchangeRate, Message, Offer, Winner
from .problems import ALL_PROBLEMS, PROBLEMS_BY_KIND
from .store_record import store_record, store_record_recent, store_record_rows

# --- forms on the claim page -------------------------------------------------------------------


class DecisionForm(forms.Form):
    winner = forms.ChoiceField(label=_("Решение"), choices=Winner.choices, widget=forms.RadioSelect)
    amount = forms.DecimalField(
        label=_("Сумма возврата"),
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        localize=True,
    )
    return_required = forms.BooleanField(label=_("Покупатель возвращает товар продавцу"), required=False)
    reason = forms.CharField(
        label=_("Обоснование (его прочтут обе стороны)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        min_length=settings.CLAIM_REASON_MIN_LENGTH,
        error_messages={"min_length": _("Обоснование — не короче %(limit_value)d символов: его прочтут обе стороны.")},
    )

    def __init__(self, *args: Any, dispute: Dispute, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dispute = dispute
        paid = dispute.order.total_amount
        self.fields["amount"].help_text = _(
            "В валюте заказа, не больше %(paid)s. Для решения в пользу покупателя пустое поле — вся сумма."
        ) % {"paid": format_money(paid, dispute.currency)}
        if dispute.kind == Dispute.Kind.NOT_RECEIVED:
            # A "not received" dispute never sends an item back.
            del self.fields["return_required"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        winner, amount = cleaned.get("winner"), cleaned.get("amount")
        paid = self.dispute.order.total_amount
        if winner in (Winner.BUYER, Winner.SPLIT) and "amount" not in self.errors:
            if winner == Winner.BUYER and amount is None:
                cleaned["amount"] = amount = paid
            if message := rules.refund_amount_refusal(amount, paid=paid, currency=self.dispute.currency):
                self.add_error("amount", message)
            elif winner == Winner.SPLIT and amount is not None and amount >= paid:
                self.add_error("amount", _("Частичное решение — это сумма меньше оплаченной."))
        if winner == Winner.SELLER:
            cleaned["amount"] = Decimal("0")
        if winner and (message := rules.blocked_loser_refusal(self.dispute, winner=winner)):
            self.add_error("winner", message)
        if (
            winner
            and "return_required" in self.fields
            and (
                message := rules.decision_refusal(
                    self.dispute, winner=winner, return_required=cleaned.get("return_required", False)
                )
            )
        ):
            self.add_error("return_required", message)
        return cleaned


class EvidenceRequestForm(forms.Form):
    of_buyer = forms.BooleanField(label=_("У покупателя"), required=False)
    of_seller = forms.BooleanField(label=_("У продавца"), required=False)
    text = forms.CharField(
        label=_("Что нужно прислать (увидят стороны)"), widget=forms.Textarea(attrs={"rows": 3}), min_length=20
    )
    days_given = forms.IntegerField(
        label=_("Срок ответа, дней"),
        min_value=1,
        max_value=settings.CLAIM_EVIDENCE_MAX_DAYS,
        initial=settings.CLAIM_EVIDENCE_DAYS,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("of_buyer") or cleaned.get("of_seller")):
            self.add_error("of_buyer", _("Выберите, у кого запросить доказательства."))
        return cleaned


class ReclassifyForm(forms.Form):
    problems = forms.MultipleChoiceField(label=_("Причина спора"), widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(
        label=_("Почему причина уточнена (увидят стороны)"), widget=forms.Textarea(attrs={"rows": 2}), min_length=10
    )

    def __init__(self, *args: Any, dispute: Dispute, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"problems": list(dispute.problems)})
        super().__init__(*args, **kwargs)
        field = self.fields["problems"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (code, ALL_PROBLEMS[code].label) for code in ALL_PROBLEMS if code in PROBLEMS_BY_KIND[dispute.kind]
        ]


# --- the claims queue -----------------------------------------------------------------------------


class DecisionStateFilter(admin.SimpleListFilter):
    """Decided and undecided claims are kept apart: the queue opens on the undecided ones."""

    title = _("решение")
    parameter_name = "decision"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("undecided", _("ждут решения")),
            ("decided", _("решение принято, срок обжалования")),
            ("appeal", _("апелляция на рассмотрении")),
            ("final", _("окончательные")),
            ("all", _("все")),
        ]

    def value(self) -> str:
        return super().value() or "undecided"

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        stages = {
            "undecided": rules.UNDECIDED_STAGES,
            "decided": {Claim.Stage.DECIDED},
            "appeal": {Claim.Stage.APPEAL},
            "final": {Claim.Stage.FINAL},
        }.get(self.value())
        return queryset if stages is None else queryset.filter(stage__in=stages)


class WaitingFilter(admin.SimpleListFilter):
    title = _("ждут решения дольше срока")
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("flagged", _("дольше, чем %(days)s") % {"days": days(settings.CLAIM_DECISION_FLAG_DAYS)}),
            ("overdue", _("дольше, чем %(days)s (просрочены)") % {"days": days(settings.CLAIM_DECISION_OVERDUE_DAYS)}),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        undecided = queryset.filter(stage__in=rules.UNDECIDED_STAGES)
        if self.value() == "flagged":
            return undecided.filter(flagged_at__isnull=False)
        if self.value() == "overdue":
            return undecided.filter(overdue_at__isnull=False)
        return queryset


class KindFilter(admin.SimpleListFilter):
    title = _("тип спора")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return Dispute.Kind.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        return queryset.filter(dispute__kind=self.value()) if self.value() else queryset


class ProblemFilter(admin.SimpleListFilter):
    title = _("причина")
    parameter_name = "problem"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(code, problem.label) for code, problem in ALL_PROBLEMS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        if not self.value():
            return queryset
        # The problems are a JSON list; matching its text works on PostgreSQL and SQLite alike.
        return queryset.annotate(problems_text=Cast("dispute__problems", TextField())).filter(
            problems_text__contains=f'"{self.value()}"'
        )


class ArbitratorFilter(admin.SimpleListFilter):
    title = _("арбитр")
    parameter_name = "arbitrator"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        # Four columns and a semi-join rather than whole rows under DISTINCT over a five-table
        # join: planned and read in ~0.7 ms instead of ~1.3 ms on every page of the queue.
        deciding_groups = Group.permissions.through.objects.filter(permission__codename="decide_claim")
        in_groups = User.groups.through.objects.filter(group_id__in=deciding_groups.values("group_id"))
        arbitrators = (
            User.objects.filter(pk__in=in_groups.values("user_id"))
            .order_by("username")
            .values_list("pk", "first_name", "last_name", "username")
        )
        return [("me", _("мои")), ("nobody", _("никто не взял"))] + [
            # What User.get_full_name() or get_username() give.
            (str(pk), f"{first_name} {last_name}".strip() or username)
            for pk, first_name, last_name, username in arbitrators
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        if self.value() == "me":
            return queryset.filter(assigned_to_id=request.user.pk)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        if self.value() and self.value().isdigit():  # type: ignore[union-attr]
            return queryset.filter(assigned_to_id=int(self.value()))  # type: ignore[arg-type]
        return queryset


class CurrencyFilter(admin.SimpleListFilter):
    title = _("валюта")
    parameter_name = "currency"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, code) for code in ("RUB", "USD", "EUR")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        return queryset.filter(dispute__currency=self.value()) if self.value() else queryset


@dataclass(frozen=True)
class TimelineLine:
    event: DisputeEvent
    who: str
    lines: list[str]


@admin.register(Claim)
class ClaimAdmin(RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d претензия", "%(count)d претензий", "count")
    list_display = (
        "order_number",
        "stage_label",
        "next_deadline",
        "waiting",
        "kind",
        "problem_names",
        "buyer_name",
        "store_name",
        "asked",
        "arbitrator",
    )
    list_filter = (DecisionStateFilter, WaitingFilter, KindFilter, ProblemFilter, ArbitratorFilter, CurrencyFilter)
    search_fields = (
        "dispute__order__number",
        "dispute__buyer__username",
        "dispute__buyer__email",
        "dispute__store__name",
    )
    # The rows are read by admin_queue.ClaimQueue: the dispute joined, the names as subqueries.
    list_select_related = ("dispute",)
    list_per_page = 25
    show_full_result_count = False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ClaimQueue]:
        return ClaimQueue

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Claim], search_term: str
    ) -> tuple[QuerySet[Claim], bool]:
        """Indexed lookups instead of LIKE over four joined tables: an order number (spaces
        allowed), a buyer's login or e-mail, or part of a store's name."""
        term = search_term.strip()
        if not term:
            return queryset, False
        digits = term.replace(" ", "")
        if digits.isdigit():
            return queryset.filter(dispute__order__number=digits), False
        if "@" in term:
            return queryset.filter(dispute__buyer__email__iexact=term), False
        return queryset.filter(Q(dispute__buyer__username=term) | Q(dispute__store__name__icontains=term)), False

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        # The oldest deadline first (Claim.next_due_at is the nearest date that matters now).
        return [F("next_due_at").asc(nulls_last=True), "opened_at", "pk"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing on a claim is edited as a form: arbitrators act through the claim page's buttons.
        return False

    def object_title(self, obj: Any) -> str:
        return str(_("Претензия по заказу %(number)s") % {"number": obj.dispute.order.number})

    @admin.display(description=_("заказ"), ordering="dispute__order__number")
    def order_number(self, claim: Claim) -> str:
        return claim.dispute.order.number

    @admin.display(description=_("этап"), ordering="stage")
    def stage_label(self, claim: Claim) -> str:
        return str(claim.get_stage_display())

    @admin.display(description=_("ближайший срок"), ordering="next_due_at")
    def next_deadline(self, claim: Claim) -> str:
        return formats_date(claim.next_due_at) if claim.next_due_at else "—"

    @admin.display(description=_("ждёт"), ordering="opened_at")
    def waiting(self, claim: Claim) -> str:
        waited = max((timezone.now() - claim.opened_at).days, 0)
        label = ngettext("%(count)d день", "%(count)d дней", waited) % {"count": waited}
        if claim.overdue_at and claim.stage in rules.UNDECIDED_STAGES:
            return f"{label} · {_('просрочена')}"
        if claim.flagged_at and claim.stage in rules.UNDECIDED_STAGES:
            return f"{label} · {_('долго')}"
        return label

    @admin.display(description=_("тип"))
    def kind(self, claim: Claim) -> str:
        return str(claim.dispute.get_kind_display())

    @admin.display(description=_("причина"))
    def problem_names(self, claim: Claim) -> str:
        return claims.problem_names(claim.dispute.problems)

    @admin.display(description=_("покупатель"), ordering="dispute__buyer__username")
    def buyer_name(self, claim: Claim) -> str:
        return claim.dispute.buyer.get_username()

    @admin.display(description=_("магазин"), ordering="dispute__store__name")
    def store_name(self, claim: Claim) -> str:
        return claim.dispute.store.name

    @admin.display(description=_("просит"))
    def asked(self, claim: Claim) -> str:
        return format_money(claim.dispute.requested_amount, claim.dispute.currency)

    @admin.display(description=_("арбитр"), ordering="assigned_to__username")
    def arbitrator(self, claim: Claim) -> str:
        return claim.assigned_to.get_username() if claim.assigned_to else "—"

    # --- the claim page -------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        def route(suffix: str, view: Any, name: str) -> URLPattern:
            return path(f"<int:pk>/{suffix}/", self.admin_site.admin_view(view), name=f"disputes_claim_{name}")

        return [
            route("take", self.take_view, "take"),
            route("evidence", self.evidence_view, "evidence"),
            route("reclassify", self.reclassify_view, "reclassify"),
            route("decide", self.decide_view, "decide"),
            route("decide-appeal", self.decide_appeal_view, "decide_appeal"),
            path(
                "store/<int:store_id>/record/",
                self.admin_site.admin_view(self.store_record_view),
                name="disputes_store_record",
            ),
            *super().get_urls(),
        ]

    def store_record_view(self, request: HttpRequest, store_id: int) -> HttpResponse:
        """A store's record for arbitrators and support (anyone who may read stores), as a page
        or, with ?format=csv, as a spreadsheet file."""
        if not request.user.has_perm("accounts.view_store"):
            raise PermissionDenied
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

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self._claim_page(request, int(object_id))

    def _claim_and_dispute(self, request: HttpRequest, pk: int) -> tuple[Claim, Dispute]:
        if not self.has_view_permission(request):
            raise PermissionDenied
        dispute = claim_case_get(user=request.user, claim_pk=pk)  # type: ignore[arg-type]
        claim = rules.claim_of(dispute)
        assert claim is not None
        return claim, dispute

    def _claim_page(self, request: HttpRequest, pk: int, **forms_with_errors: forms.Form) -> TemplateResponse:
        claim, dispute = self._claim_and_dispute(request, pk)
        user: User = request.user  # type: ignore[assignment]
        now = timezone.now()
        offers = list(dispute.offers.all())
        facts = selectors.page_facts(dispute, user=user, offers=offers)
        role = rules.role_of(dispute, user)
        actions = rules.allowed_actions(dispute, role, now, facts, actions=rules.CLAIM_PAGE_ACTIONS)
        thread = list(dispute.messages.all())
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
            "timeline": [
                TimelineLine(
                    event,
                    timeline.actor_label(event, dispute, for_staff=True),
                    timeline.describe(event, dispute, for_staff=True),
                )
                for event in dispute.events.all()
            ],
            "decisions": list(claim.decisions.all()),
            "evidence_requests": list(claim.evidence_requests.all()),
            "evidence_request": facts.evidence_request,
            "actions": actions,
            "decision_form": forms_with_errors.get("decision_form") or DecisionForm(dispute=dispute),
            "evidence_form": forms_with_errors.get("evidence_form") or EvidenceRequestForm(),
            "reclassify_form": forms_with_errors.get("reclassify_form") or ReclassifyForm(dispute=dispute),
            "requested_equivalent": selectors.rouble_equivalent(dispute.requested_amount, dispute.currency),
        }
        status = 400 if forms_with_errors else 200
        return TemplateResponse(request, "admin/disputes/claim/page.html", context, status=status)

    def _back(self, pk: int, anchor: str = "") -> HttpResponseRedirect:
        return redirect(reverse("admin:disputes_claim_change", args=[pk]) + anchor)

    def _act(self, request: HttpRequest, pk: int, action: Any, success: str) -> HttpResponseRedirect:
        try:
            action()
        except ActionRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, success)
        return self._back(pk)

    def take_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        _claim, dispute = self._claim_and_dispute(request, pk)
        if request.method != "POST":
            return self._back(pk)
        return self._act(
            request,
            pk,
            lambda: claims.claim_take(dispute=dispute, arbitrator=request.user),  # type: ignore[arg-type]
            str(_("Претензия у вас в работе.")),
        )

    def evidence_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        _claim, dispute = self._claim_and_dispute(request, pk)
        form = EvidenceRequestForm(request.POST or None)
        if request.method != "POST":
            return self._back(pk)
        if not form.is_valid():
            return self._claim_page(request, pk, evidence_form=form)
        data = form.cleaned_data
        return self._act(
            request,
            pk,
            lambda: claims.evidence_request(
                dispute=dispute,
                arbitrator=request.user,  # type: ignore[arg-type]
                of_buyer=data["of_buyer"],
                of_seller=data["of_seller"],
                text=data["text"],
                days_given=data["days_given"],
            ),
            str(_("Запрос отправлен сторонам.")),
        )

    def reclassify_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        _claim, dispute = self._claim_and_dispute(request, pk)
        form = ReclassifyForm(request.POST or None, dispute=dispute)
        if request.method != "POST":
            return self._back(pk)
        if not form.is_valid():
            return self._claim_page(request, pk, reclassify_form=form)
        return self._act(
            request,
            pk,
            lambda: claims.claim_reclassify(
                dispute=dispute,
                arbitrator=request.user,  # type: ignore[arg-type]
                problems=form.cleaned_data["problems"],
                note=form.cleaned_data["note"],
            ),
            str(_("Причина спора уточнена; это записано в историю.")),
        )

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._decide(request, pk, appeal=False)

    def decide_appeal_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._decide(request, pk, appeal=True)

    def _decide(self, request: HttpRequest, pk: int, *, appeal: bool) -> HttpResponse:
        """Two steps: the form, then a confirmation that shows exactly what the parties will read."""
        claim, dispute = self._claim_and_dispute(request, pk)
        if request.method != "POST":
            return self._back(pk)
        form = DecisionForm(request.POST, dispute=dispute)
        if not form.is_valid():
            return self._claim_page(request, pk, decision_form=form)
        data = form.cleaned_data
        if request.POST.get("confirmed") != "yes":
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
                "appeal": appeal,
                "appeal_days": days(settings.CLAIM_APPEAL_DAYS),
            }
            return TemplateResponse(request, "admin/disputes/claim/confirm_decision.html", context)
        service = claims.appeal_decide if appeal else claims.claim_decide
        return self._act(
            request,
            pk,
            lambda: service(
                dispute=dispute,
                arbitrator=request.user,  # type: ignore[arg-type]
                winner=data["winner"],
                amount=data["amount"],
                return_required=data.get("return_required", False),
                reason=data["reason"],
            ),
            str(
                _("Решение по апелляции записано: оно окончательное и уже исполняется.")
                if appeal
                else _("Решение записано. Стороны могут обжаловать его ещё %(days)s.")
                % {"days": days(settings.CLAIM_APPEAL_DAYS)}
            ),
        )


def formats_date(moment: Any) -> str:
    from django.utils import formats

    return formats.date_format(timezone.localtime(moment), "j E Y, H:i")


# --- disputes (every dispute, for reading) ----------------------------------------------------------


class ReadOnlyInline(admin.StackedInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OfferInline(ReadOnlyInline):
    model = Offer
    fields = ("created_at", "role", "author", "refund_type", "amount", "return_required", "status", "note")
    readonly_fields = fields


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "author", "kind", "text", "files")
    readonly_fields = fields

    @admin.display(description=_("файлы"))
    def files(self, message: Message) -> str:
        return (
            format_html_join(
                mark_safe("<br>"),
                '<a href="{}">{}</a> ({})',
                (
                    (reverse("disputes:attachment", args=[item.token]), item.display_name, item.get_kind_display())
                    for item in message.attachments.all()
                ),
            )
            or "—"
        )


class EventInline(ReadOnlyInline):
    model = DisputeEvent
    fields = ("created_at", "kind", "actor", "what_changed")
    readonly_fields = fields

    @admin.display(description=_("что изменилось"))
    def what_changed(self, event: DisputeEvent) -> str:
        return "; ".join(timeline.describe(event, event.dispute, for_staff=True)) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[DisputeEvent]:
        return super().get_queryset(request).select_related("actor", "dispute__store")


@admin.register(Dispute)
class DisputeAdmin(RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d спор", "%(count)d споров", "count")
    date_hierarchy_label = _("Фильтр по дате открытия")
    list_display = ("order", "kind", "status", "buyer", "store", "asked", "opened_at")
    list_filter = ("status", "kind", "currency")
    search_fields = ("order__number", "buyer__username", "store__name")
    list_select_related = ("order", "buyer", "store")
    date_hierarchy = "opened_at"
    inlines = [OfferInline, MessageInline, EventInline]
    # The problems are codes in a JSON list: shown by their names instead.
    readonly_fields = (
        "claim_link",
        *["problem_names" if field.name == "problems" else field.name for field in Dispute._meta.fields],
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def object_title(self, obj: Any) -> str:
        return str(_("Спор по заказу %(number)s") % {"number": obj.order.number})

    @admin.display(description=_("просит"))
    def asked(self, dispute: Dispute) -> str:
        return format_money(dispute.requested_amount, dispute.currency)

    @admin.display(description=_("проблемы"))
    def problem_names(self, dispute: Dispute) -> str:
        return claims.problem_names(dispute.problems) or "—"

    @admin.display(description=_("претензия"))
    def claim_link(self, dispute: Dispute) -> str:
        claim = rules.claim_of(dispute)
        if claim is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:disputes_claim_change", args=[claim.pk]), claim.get_stage_display()
        )


@admin.register(ExchangeRate)
class ExchangeRateAdmin(RussianAdminMixin, admin.ModelAdmin):
    add_title = _("Новый курс валюты")
    add_label = _("Добавить курс")
    count_label = ngettext_lazy("%(count)d курс", "%(count)d курсов", "count")
    list_display = ("currency", "rub_per_unit", "as_of")


@admin.register(Attachment)
class AttachmentAdmin(RussianAdminMixin, admin.ModelAdmin):
    count_label = ngettext_lazy("%(count)d файл", "%(count)d файлов", "count")
    list_display = ("display_name", "kind", "size", "owner", "message", "uploaded_at")
    list_filter = ("kind",)
    # The file through the page that checks who may open it, not the storage's own address; the
    # fields StoredFile leaves unnamed (its migrations are shared with accounts) are named here.
    content_type_column = field_column("content_type", _("тип содержимого"))
    extension_column = field_column("extension", _("расширение"))
    width_column = field_column("width", _("ширина, px"))
    height_column = field_column("height", _("высота, px"))
    readonly_fields = (
        "display_name",
        "file_link",
        "kind",
        "content_type_column",
        "extension_column",
        "size",
        "width_column",
        "height_column",
        "owner",
        "message",
        "uploaded_at",
    )
    fields = readonly_fields

    @admin.display(description=_("файл"))
    def file_link(self, attachment: Attachment) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("disputes:attachment", args=[attachment.token]), attachment.display_name
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
