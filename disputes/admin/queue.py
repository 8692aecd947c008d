"""The claims queue: admin's change list of claims, read and written out for what its rows show
and no more (the page: templates/admin/disputes/claim/change_list.html).

A six-table `select_related` join (claim, dispute, order, buyer, store, arbitrator) cost most of
the page's time to plan and fetched every column of six tables; the order number and the three
names come here as scalar subqueries beside a claim+dispute join instead, with only the columns a
row shows, and written as SQL (RawSQL), which costs a fraction of the Python time the same ORM
subqueries took to build (figures: docs/performance.md). The rows' texts are then made once per
request in Python (labels translated once, one address pattern) rather than per cell in the
template, and each row's HTML is kept (core/fragments.py) under the values it shows.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.cache import caches
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.models import Store, User
from core import fragments
from core.admin_actions import AdminActionsMixin
from core.admin_russian import RussianAdminMixin
from core.money import format_money
from orders.models import Order

from .. import rules
from ..models import Claim, Dispute
from ..problems import ALL_PROBLEMS
from .filters import (
    STAFF_NAME_SQL,
    ArbitratorFilter,
    CurrencyFilter,
    DecisionStateFilter,
    KindFilter,
    ProblemFilter,
    WaitingFilter,
)
from .waited import waited_since

# What a row shows, read as plain values (no model instances): the claim's fields, its dispute's,
# and the order number and three names as subqueries beside the claim+dispute join.
ROW_COLUMNS = (
    "pk",
    "stage",
    "opened_at",
    "next_due_at",
    "flagged_at",
    "overdue_at",
    "assigned_to_id",
    "dispute__kind",
    "problems_json",
    "dispute__requested_amount",
    "dispute__currency",
    "order_number",
    "buyer_username",
    "store_name",
    "arbitrator_name",
)


def _of_claim(sql: str) -> RawSQL:
    # A scalar subquery correlated by the claim's table name, the query's base table, which Django
    # names by its table. Plain SQL: the same subqueries as ORM expressions cost the queue's rows
    # most of their Python time to build, on every page.
    return RawSQL(sql.format(claim=Claim._meta.db_table), ())


def _of_dispute(column: str, model: type[Model], field: str) -> RawSQL:
    """`field` of the row of `model` the claim's dispute names in `column`, read from the dispute
    the row's query joins already (named by its table, the first and only join to it): a subquery
    that joined the dispute again cost PostgreSQL a scan of the stores for every row."""
    table, dispute = model._meta.db_table, Dispute._meta.db_table
    return _of_claim(f"SELECT x.{field} FROM {table} x WHERE x.id = {dispute}.{column}")


def row_values(claims: QuerySet[Claim]) -> QuerySet[Claim, tuple[Any, ...]]:
    """The queue's claims as tuples of ROW_COLUMNS."""
    users = User._meta.db_table
    return claims.annotate(
        # The reasons as their JSON text: a row's key as read, decoded only for a row drawn anew.
        problems_json=RawSQL(f"CAST({Dispute._meta.db_table}.problems AS TEXT)", ()),
        order_number=_of_dispute("order_id", Order, "number"),
        buyer_username=_of_dispute("buyer_id", User, "username"),
        store_name=_of_dispute("store_id", Store, "name"),
        arbitrator_name=_of_claim(
            f"SELECT {STAFF_NAME_SQL.format(user='x')} FROM {users} x WHERE x.id = {{claim}}.assigned_to_id"
        ),
    ).values_list(*ROW_COLUMNS)


@dataclass(frozen=True, slots=True)
class QueueRow:
    pk: int
    url: str
    order_number: str
    kind: str
    stage: str
    next_due: str
    waited: str
    late: str  # "overdue", "flagged" or ""
    problems: str
    buyer: str
    store: str
    asked: str
    arbitrator: str


def local_date(moment: datetime) -> str:
    # What the template's {{ value|date:"j E Y, H:i T" }} writes: the moment in the viewer's zone, named.
    return formats.date_format(timezone.localtime(moment), "j E Y, H:i T")


def queue_row_texts(values: list[tuple[Any, ...]]) -> list[QueueRow]:
    """The rows' texts from row_values()' tuples, each followed by its "waited" text."""
    stages = {value: str(label) for value, label in Claim.Stage.choices}
    kinds = {value: str(label) for value, label in Dispute.Kind.choices}
    problem_labels = {code: str(problem.label) for code, problem in ALL_PROBLEMS.items()}
    # The change page's address for pk 0, whose last two parts are the pk's and "change/".
    head = reverse("admin:disputes_claim_change", args=[0]).removesuffix("0/change/")
    rows = []
    for value in values:
        (
            pk,
            stage,
            _opened_at,
            next_due_at,
            flagged_at,
            overdue_at,
            assigned_to_id,
            kind,
            problems,
            requested_amount,
            currency,
            order_number,
            buyer_username,
            store_name,
            arbitrator_name,
            waited,
        ) = value
        undecided = stage in rules.UNDECIDED_STAGES
        rows.append(
            QueueRow(
                pk=pk,
                url=f"{head}{pk}/change/",
                order_number=order_number,
                kind=kinds.get(kind, kind),
                stage=stages.get(stage, stage),
                next_due=local_date(next_due_at) if next_due_at else "",
                waited=waited,
                late="overdue" if overdue_at and undecided else "flagged" if flagged_at and undecided else "",
                problems="; ".join(problem_labels[code] for code in json.loads(problems) if code in problem_labels),
                buyer=buyer_username,
                store=store_name,
                asked=format_money(requested_amount, currency),
                arbitrator=arbitrator_name if assigned_to_id else "—",
            )
        )
    return rows


def queue_rows(values: Iterable[tuple[Any, ...]]) -> list[SafeString]:
    """Each row's HTML (templates/admin/disputes/claim/_queue_row.html), kept in the `fragments`
    cache under everything it shows (core/fragments.py): the values read and the "waited" text,
    which moves with the clock; only the rows not kept are written out. The page's rows are also
    kept together, under all of theirs, so that a page drawn again costs one lookup."""
    since = waited_since(timezone.now())
    keyed = [(*value, since(value[2])) for value in values]
    cache = caches[fragments.FRAGMENT_CACHE]
    page_key = f"claim-queue-rows:{fragments.digest((get_language(), timezone.get_current_timezone_name(), keyed))}"
    kept: list[str] | None = cache.get(page_key)
    if kept is None:

        def draw(missing: list[tuple[Any, ...]]) -> list[str]:
            texts = queue_row_texts(missing)
            return [render_to_string("admin/disputes/claim/_queue_row.html", {"row": row}) for row in texts]

        kept = [
            str(row) for row in fragments.rendered_rows("claim-queue-row", keyed, key=lambda value: value, render=draw)
        ]
        cache.set(page_key, kept)
    # The kept strings are HTML rendered by the template with autoescaping.
    return [mark_safe(row) for row in kept]


class ClaimQueue(ChangeList):
    """Admin's change list whose `result_list` is the page's rows, written out."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # Narrowed only now, on the page's slice: the subqueries' join to the dispute would
        # otherwise stay in the paginator's COUNT (10,000 rows: 2.5 ms became 10 ms).
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
    # The rows are read by ClaimQueue: the dispute joined, the names as subqueries.
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

    def object_title(self, obj: Any) -> str:
        return str(_("Претензия по заказу %(number)s") % {"number": obj.dispute.order.number})
