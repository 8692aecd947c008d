"""A store's dispute record over the last 30, 90 and 365 days: what arbitrators and support read
beside every claim, and what the seller reads on "Мой рейтинг споров".

Every figure is an SQL aggregate over indexed columns (orders by store and payment date, disputes
by store and opening date, refunds, decisions, reports), with the three windows as conditional
aggregates of one query, so the number of queries is fixed whatever the store's size: eight.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store
from orders.models import Order, Refund
from reports.models import Report

from .models import Claim, Decision, Dispute, Winner

WINDOWS = (30, 90, 365)


@dataclass
class WindowFigures:
    days: int
    orders: int = 0
    disputes: int = 0
    unanswered: int = 0  # requests granted because the seller did not answer in time
    # Final outcomes only (the appeal decision, or a first decision nobody appealed in time),
    # counted when they became final: a decision that may still be appealed, or is, is not yet a
    # claim won or lost, and counts in `claims_not_final` by the day it was taken.
    claims_won: int = 0
    claims_lost: int = 0
    claims_split: int = 0
    claims_not_final: int = 0
    refunds: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount the buyers received
    refunds_pending: dict[str, Decimal] = field(default_factory=dict)  # currency -> requested, not yet received
    median_answer: timedelta | None = None
    reports_upheld: int = 0

    @property
    def dispute_rate(self) -> Decimal | None:
        """Disputes per 100 orders, or None without orders."""
        if not self.orders:
            return None
        return (Decimal(self.disputes) * 100 / self.orders).quantize(Decimal("0.1"))

    @property
    def claims_decided(self) -> int:
        return self.claims_won + self.claims_lost + self.claims_split

    @property
    def median_answer_hours(self) -> Decimal | None:
        if self.median_answer is None:
            return None
        return (Decimal(self.median_answer.total_seconds()) / 3600).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class FigureRow:
    """One line of the record: the page's table and the CSV are both drawn from these."""

    label: str
    values: list[Any]
    currency: str = ""  # the values are money in this currency
    placeholder: bool = False  # "nothing refunded": a line on the page, no data for the CSV


@dataclass
class StoreRecord:
    store: Store
    as_of: datetime
    windows: list[WindowFigures]

    def window(self, days: int) -> WindowFigures:
        return next(figures for figures in self.windows if figures.days == days)

    @property
    def currencies(self) -> list[str]:
        return sorted({currency for figures in self.windows for currency in figures.refunds})

    @property
    def figure_rows(self) -> list[FigureRow]:
        """Every figure with its value in each window, in the order the page and the CSV show them."""

        def row(label: str, value: Callable[[WindowFigures], Any]) -> FigureRow:
            return FigureRow(label, [value(figures) for figures in self.windows])

        # Each label says what it counts, so that no two lines of one page seem to disagree (a
        # claim lost while its appeal runs beside nothing refunded; a long median answer time
        # beside no dispute left unanswered).
        rows = [
            row(_("Заказов (оплачены за период)"), lambda figures: figures.orders),
            row(_("Споров (открыты за период)"), lambda figures: figures.disputes),
            row(_("Споров на 100 заказов"), lambda figures: figures.dispute_rate),
            row(
                _("Споров без ответа продавца за %(days)d дн.: требование покупателя выполнено")
                % {"days": settings.DISPUTE_SELLER_ANSWER_DAYS},
                lambda figures: figures.unanswered,
            ),
            row(
                _("Медиана времени до первого ответа продавца, ч (споры, где продавец ответил до претензии)"),
                lambda figures: figures.median_answer_hours,
            ),
            row(_("Претензий выиграно (окончательные решения)"), lambda figures: figures.claims_won),
            row(_("Претензий проиграно (окончательные решения)"), lambda figures: figures.claims_lost),
            row(
                _("Претензий решено частично в пользу покупателя (окончательные решения)"),
                lambda figures: figures.claims_split,
            ),
            row(
                _("Решений по претензиям ещё не окончательных (можно обжаловать или идёт апелляция)"),
                lambda figures: figures.claims_not_final,
            ),
        ]

        def money_rows(label: str, amounts: Callable[[WindowFigures], dict[str, Decimal]]) -> list[FigureRow]:
            """One line per currency any window has an amount in; `label` names it by %(currency)s."""
            currencies = sorted({currency for figures in self.windows for currency in amounts(figures)})
            return [
                FigureRow(
                    label % {"currency": currency},
                    [amounts(figures).get(currency) for figures in self.windows],
                    currency=currency,
                )
                for currency in currencies
            ]

        rows += money_rows(
            _("Возвращено покупателям (деньги зачислены), %(currency)s"), lambda figures: figures.refunds
        ) or [
            FigureRow(
                _("Возвращено покупателям (деньги зачислены)"), [None for _figures in self.windows], placeholder=True
            )
        ]
        rows += money_rows(
            _("Возвраты в пути (запрошены, ещё не зачислены), %(currency)s"), lambda figures: figures.refunds_pending
        )
        rows.append(
            row(_("Подтверждённых жалоб на магазин (закрыты за период)"), lambda figures: figures.reports_upheld)
        )
        return rows


def _since(now: datetime) -> dict[int, datetime]:
    return {days: now - timedelta(days=days) for days in WINDOWS}


def _counts(queryset: QuerySet, column: str, since: dict[int, datetime], **conditions: Q) -> dict[str, int]:
    """One query: for each window and each named condition, how many rows fall in it."""
    aggregates = {}
    for days, start in since.items():
        in_window = Q(**{f"{column}__gte": start})
        for name, condition in conditions.items():
            aggregates[f"{name}_{days}"] = Count("pk", filter=in_window & condition)
    return queryset.aggregate(**aggregates)


def _median(queryset: QuerySet, count: int) -> timedelta | None:
    """The median of `answer_time` in SQL: the middle one or two rows of the sorted column, so no
    more than two values leave the database (PostgreSQL and SQLite alike)."""
    if count == 0:
        return None
    middle = list(
        queryset.order_by("answer_time").values_list("answer_time", flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    if not middle:
        return None
    return sum(middle, timedelta()) / len(middle)


def store_record(*, store: Store, now: datetime | None = None) -> StoreRecord:
    now = now or timezone.now()
    since = _since(now)
    oldest = since[max(WINDOWS)]
    windows = {days: WindowFigures(days=days) for days in WINDOWS}

    orders = _counts(
        Order.objects.filter(store=store, paid_at__gte=oldest), "paid_at", since, orders=Q()
    )  # index (store, -paid_at)
    disputes = _counts(
        Dispute.objects.filter(store=store, opened_at__gte=oldest),
        "opened_at",
        since,
        disputes=Q(),
        unanswered=Q(seller_silent=True),
        answered=Q(seller_answered_at__isnull=False),
    )  # index (store, -opened_at)
    # A claim's outcome is its appeal decision when there is one, else its first decision: the
    # decisions that count are the appeal ones and the first ones no appeal decision replaced,
    # and only once the claim is final (by the day it became final). A first decision still open
    # to appeal, or under appeal, counts apart by the day it was taken. One query.
    replaced = Decision.objects.filter(claim=OuterRef("claim"), kind=Decision.Kind.APPEAL)
    effective = Q(claim__stage=Claim.Stage.FINAL) & (Q(kind=Decision.Kind.APPEAL) | ~Exists(replaced))
    not_final = Q(kind=Decision.Kind.FIRST, claim__stage__in=[Claim.Stage.DECIDED, Claim.Stage.APPEAL])
    outcome_counts: dict[str, Any] = {}
    for days, start in since.items():
        final_in_window = effective & Q(claim__final_at__gte=start)
        for name, winner in (("won", Winner.SELLER), ("lost", Winner.BUYER), ("split", Winner.SPLIT)):
            outcome_counts[f"{name}_{days}"] = Count("pk", filter=final_in_window & Q(winner=winner))
        outcome_counts[f"not_final_{days}"] = Count("pk", filter=not_final & Q(decided_at__gte=start))
    outcomes = Decision.objects.filter(
        Q(claim__final_at__gte=oldest) | Q(decided_at__gte=oldest), claim__dispute__store=store
    ).aggregate(**outcome_counts)
    reports = _counts(
        Report.objects.filter(Q(store=store) | Q(reported_user_id=store.owner_id), closed_at__gte=oldest),
        "closed_at",
        since,
        upheld=Q(outcome=Report.Outcome.UPHELD),
    )
    # Money the buyers received, by the day it arrived, and money on its way, by the day it was
    # requested: a claim lost beside "nothing refunded" reads as the refund still travelling.
    received = Q(status=Refund.Status.COMPLETED)
    travelling = Q(status=Refund.Status.REQUESTED)
    refunds = (
        Refund.objects.filter(
            Q(received, completed_at__gte=oldest) | Q(travelling, requested_at__gte=oldest), order__store=store
        )
        .values("currency")
        .annotate(
            **{
                f"paid_{days}": Sum("amount", filter=received & Q(completed_at__gte=start), default=Decimal("0"))
                for days, start in since.items()
            },
            **{
                f"pending_{days}": Sum("amount", filter=travelling & Q(requested_at__gte=start), default=Decimal("0"))
                for days, start in since.items()
            },
        )
        .order_by("currency")
    )
    for row in refunds:
        amounts: dict[str, Any] = dict(row)
        for days in WINDOWS:
            if amounts[f"paid_{days}"]:
                windows[days].refunds[amounts["currency"]] = amounts[f"paid_{days}"]
            if amounts[f"pending_{days}"]:
                windows[days].refunds_pending[amounts["currency"]] = amounts[f"pending_{days}"]

    answer_times = Dispute.objects.filter(store=store, seller_answered_at__isnull=False).annotate(
        answer_time=ExpressionWrapper(F("seller_answered_at") - F("opened_at"), output_field=DurationField())
    )
    for days, figures in windows.items():
        figures.orders = orders[f"orders_{days}"]
        figures.disputes = disputes[f"disputes_{days}"]
        figures.unanswered = disputes[f"unanswered_{days}"]
        figures.claims_won = outcomes[f"won_{days}"]
        figures.claims_lost = outcomes[f"lost_{days}"]
        figures.claims_split = outcomes[f"split_{days}"]
        figures.claims_not_final = outcomes[f"not_final_{days}"]
        figures.reports_upheld = reports[f"upheld_{days}"]
        figures.median_answer = _median(answer_times.filter(opened_at__gte=since[days]), disputes[f"answered_{days}"])
    return StoreRecord(store=store, as_of=now, windows=[windows[days] for days in WINDOWS])


def store_record_recent(*, store: Store) -> StoreRecord:
    """The record as computed at most `STORE_RECORD_CACHE_SECONDS` ago, for the pages that show
    it beside something else (every claim page, the store page in admin). Its eight aggregates
    over a year of a big store cost more than the rest of a claim page; figures over 30 to 365
    days barely move in minutes, and the table says when they were counted. The record's own
    page, its CSV and the seller's page count afresh."""
    key = f"store-record:{store.pk}"
    record = cache.get(key)
    if record is None:
        record = store_record(store=store)
        cache.set(key, record, timeout=settings.STORE_RECORD_CACHE_SECONDS)
    return record


def store_record_rows(record: StoreRecord) -> list[list[object]]:
    """The record as a table for CSV: a title, a header row, then one row per figure."""
    return [
        [_("Магазин «%(store)s», на %(date)s") % {"store": record.store.name, "date": record.as_of.date().isoformat()}],
        [_("Показатель"), *[_("%(days)d дн.") % {"days": figures.days} for figures in record.windows]],
        *[[row.label, *row.values] for row in record.figure_rows if not row.placeholder],
    ]
