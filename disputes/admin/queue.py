"""The claims queue: admin's change list of claims, read and written out for what its rows show
and no more (the page: templates/admin/disputes/claim/change_list.html; the rows: rows.py)."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django_stubs_ext import StrOrPromise

from core.admin_actions import AdminActionsMixin
from core.admin_russian import RussianAdminMixin

from ..models import Claim
from .filters import (
    ArbitratorFilter,
    CurrencyFilter,
    DecisionStateFilter,
    KindFilter,
    ProblemFilter,
    WaitingFilter,
)
from .rows import queue_rows, row_values


class ClaimQueue(ChangeList):
    """Admin's change list whose `result_list` is the page's rows, written out."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # Narrowed only now, on the page's slice: the subqueries' join to the dispute would
        # otherwise stay in the paginator's COUNT, which then costs several times as much.
        self.result_list = queue_rows(row_values(self.result_list))
        # The table's body as the template writes it, each row on a line of its own.
        self.rows_html = mark_safe("".join(f"\n{row}" for row in self.result_list))


def sort_column(description: StrOrPromise, ordering: str | None = None) -> Any:
    """A column of admin's list_display, there for admin's ?o= sorting only: the queue's cells are
    QueueRow's texts, drawn by the template, never admin's."""
    return admin.display(description=description, ordering=ordering)(lambda model_admin, claim: "")


class ClaimQueueAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    """The queue part of the claims' admin (ClaimAdmin in decision.py adds the claim page and the
    decision)."""

    count_label = ngettext_lazy("%(count)d претензия", "%(count)d претензий", "count")
    # Nothing on a claim is edited as a form: arbitrators act through the claim page's buttons.
    closed_screens = frozenset({"add", "change", "delete"})
    order_number = sort_column(_("заказ"), "dispute__order__number")
    stage_label = sort_column(_("этап"), "stage")
    next_deadline = sort_column(_("ближайший срок"), "next_due_at")
    waiting = sort_column(_("ждёт"), "opened_at")
    kind = sort_column(_("тип"))
    problem_names = sort_column(_("причина"))
    buyer_name = sort_column(_("покупатель"), "dispute__buyer__username")
    store_name = sort_column(_("магазин"), "dispute__store__name")
    asked = sort_column(_("просит"))
    arbitrator = sort_column(_("арбитр"), "assigned_to__username")
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
    # The rows are read by ClaimQueue as values (rows.py: the dispute joined, the names as
    # subqueries), which no select_related changes: admin is told to add none.
    list_select_related = ()
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

    def object_title(self, obj: Any) -> str:
        return str(_("Претензия по заказу %(number)s") % {"number": obj.dispute.order.number})
