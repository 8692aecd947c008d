"""The claims queue's rows (queue.py): read with only what they show, written out once per request
and kept rendered.

A six-table `select_related` join (claim, dispute, order, buyer, store, arbitrator) cost most of
the page's time to plan and fetched every column of six tables; the order number and the three
names come here as scalar subqueries beside the claim+dispute join instead, written as SQL
(RawSQL), which costs a fraction of the Python time the same ORM subqueries take to build. What a
row shows besides its dates and its amount comes as one text (`shown`): each value as its length,
":" and the value, or "-" for none, so that any text may be in it. Every column a query selects
costs Python time to add, compile and read on every page; this text is the rows' key as read and is
taken apart only for a row drawn anew. The rows' texts are then made in Python (labels translated
once, one address pattern) rather than per cell in the template, and each row's HTML is kept
(core/fragments.py) under what it shows (figures: docs/performance.md).
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.core.cache import caches
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from accounts.models import Store, User
from core import fragments
from core.money import format_money
from orders.models import Order

from .. import rules
from ..models import Claim, Dispute
from ..problems import ALL_PROBLEMS
from .filters import STAFF_NAME_SQL
from .waited import waited_since

# What a row is read as (no model instances): the claim's key and dates, the amount asked, and
# `shown`, the text of everything else it shows (shown_sql()).
ROW_COLUMNS = ("pk", "opened_at", "next_due_at", "dispute__requested_amount", "shown")


def sized(sql: str) -> str:
    """SQL for the text of `sql` as its length, ":" and itself, or "-" when it is NULL."""
    return f"COALESCE(CAST(LENGTH({sql}) AS TEXT) || ':' || {sql}, '-')"


@cache
def shown_sql() -> str:
    """The `shown` text: the stage, whether the claim waits too long ("overdue", "flagged" or ""),
    the dispute's kind, reasons (their JSON text), currency, the order number, the buyer, the store
    and the arbitrator (none when nobody took it). The claim and the dispute are named by their
    tables: the query's base table and its first and only join to the dispute; a subquery that
    joined the dispute again costs PostgreSQL a scan of the stores for every row."""
    claim, dispute, users = Claim._meta.db_table, Dispute._meta.db_table, User._meta.db_table

    def of(table: str, value: str, key: str) -> str:
        return f"COALESCE((SELECT {sized(value)} FROM {table} x WHERE x.id = {key}), '-')"

    late = (
        f"CASE WHEN {claim}.overdue_at IS NOT NULL THEN 'overdue' "
        f"WHEN {claim}.flagged_at IS NOT NULL THEN 'flagged' ELSE '' END"
    )
    parts = [
        sized(f"{claim}.stage"),
        sized(late),
        sized(f"{dispute}.kind"),
        sized(f"CAST({dispute}.problems AS TEXT)"),
        sized(f"{dispute}.currency"),
        of(Order._meta.db_table, "x.number", f"{dispute}.order_id"),
        of(users, "x.username", f"{dispute}.buyer_id"),
        of(Store._meta.db_table, "x.name", f"{dispute}.store_id"),
        of(users, STAFF_NAME_SQL.format(user="x"), f"{claim}.assigned_to_id"),
    ]
    return " || ".join(parts)


def unpack(shown: str) -> list[str | None]:
    """The values of a `shown` text, in order."""
    values: list[str | None] = []
    at = 0
    while at < len(shown):
        if shown[at] == "-":
            values.append(None)
            at += 1
            continue
        colon = shown.index(":", at)
        end = colon + 1 + int(shown[at:colon])
        values.append(shown[colon + 1 : end])
        at = end
    return values


def row_values(claims: QuerySet[Claim]) -> QuerySet[Claim, tuple[Any, ...]]:
    """The queue's claims as tuples of ROW_COLUMNS."""
    return claims.annotate(shown=RawSQL(shown_sql(), ())).values_list(*ROW_COLUMNS)


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
    for pk, _opened_at, next_due_at, requested_amount, shown, waited in values:
        stage, late, kind, problems, currency, order_number, buyer, store, arbitrator = unpack(shown)
        assert stage is not None and kind is not None and problems is not None
        undecided = stage in rules.UNDECIDED_STAGES
        rows.append(
            QueueRow(
                pk=pk,
                url=f"{head}{pk}/change/",
                order_number=order_number or "",
                kind=kinds.get(kind, kind),
                stage=stages.get(stage, stage),
                next_due=local_date(next_due_at) if next_due_at else "",
                waited=waited,
                late=(late or "") if undecided else "",
                problems="; ".join(problem_labels[code] for code in json.loads(problems) if code in problem_labels),
                buyer=buyer or "",
                store=store or "",
                asked=format_money(requested_amount, currency or ""),
                arbitrator="—" if arbitrator is None else arbitrator,
            )
        )
    return rows


def queue_rows(values: Iterable[tuple[Any, ...]]) -> list[SafeString]:
    """Each row's HTML (templates/admin/disputes/claim/_queue_row.html), kept in the `fragments`
    cache under everything it shows (core/fragments.py): the values read and the "waited" text,
    which moves with the clock; only the rows not kept are written out. The page's rows are also
    kept together, under all of theirs, so that a page drawn again costs one lookup."""
    since = waited_since(timezone.now())
    keyed = [(*value, since(value[1])) for value in values]
    cache = caches[fragments.FRAGMENT_CACHE]
    page_key = f"claim-queue-rows:{fragments.digest((get_language(), timezone.get_current_timezone_name(), keyed))}"
    kept: list[str] | None = cache.get(page_key)
    if kept is None:

        def draw(missing: list[tuple[Any, ...]]) -> list[str]:
            texts = queue_row_texts(missing)
            return [render_to_string("admin/disputes/claim/_queue_row.html", {"row": row}) for row in texts]

        rendered = fragments.rendered_rows("claim-queue-row", keyed, key=lambda value: value, render=draw)
        kept = [str(row) for row in rendered]
        cache.set(page_key, kept)
    # The kept strings are HTML rendered by the template with autoescaping.
    return [mark_safe(row) for row in kept]
