"""The one way a deadline is enforced: a short sweep over an indexed deadline column.

Every sweep of the project is registered here with its name, period and description (the apps'
`sweeps.py` modules register theirs when Django starts); the beat schedule, the `run_sweep` task
and `manage.py deadlines` all read this one registry. A deadline sweep is registered from the
app's rulebook with `register_deadlines()`: the rulebook says which rows are due (statuses and
the indexed deadline column), the registration which service takes them.

A sweep takes the due rows one at a time, earliest deadline first, each in its own transaction.
The transaction starts with one small statement that picks the earliest due row and locks it,
`SELECT <the row's own columns> ... ORDER BY <deadline> LIMIT 1 FOR UPDATE OF <table> SKIP
LOCKED`, so that several workers (or two beats by mistake) share the rows and never take the same
one. The row goes (its pk, or the row itself) to the same service a button calls. What the
service needs besides the row (`related`: a dispute's order and parties) is read without a lock
for a batch of due rows at once, in the same order, and attached to each row once it is locked:
a related row is read just as a locking query's joined rows would be (they are never locked
either), and each swept row costs one statement to lock it instead of a joined query that
PostgreSQL plans every time. The service re-checks its rule under the lock and returns something
falsy, or raises ActionRefused, when the row is no longer due (a user acted first). A row whose
service fails unexpectedly is rolled back alone, logged with its id and counted; the other rows go
on, and the next run tries it again.

A sweep locks the row it picks before the service runs, so a sweep's service must not lock a
row that user actions lock before this one (the project's lock order is: order, then dispute).
"""

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.functional import Promise

from .errors import ActionRefused
from .rules import Deadline, Rulebook

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    name: str
    changed: int = 0
    skipped: int = 0
    failed: int = 0
    failed_ids: list[Any] = field(default_factory=list)

    def __add__(self, other: "SweepResult") -> "SweepResult":
        return SweepResult(
            self.name,
            self.changed + other.changed,
            self.skipped + other.skipped,
            self.failed + other.failed,
            self.failed_ids + other.failed_ids,
        )

    @property
    def taken(self) -> int:
        return self.changed + self.skipped + self.failed

    def __str__(self) -> str:
        text = f"{self.name}: {self.changed} changed, {self.skipped} no longer due"
        return f"{text}, {self.failed} failed {self.failed_ids}" if self.failed else text


SweepFunction = Callable[[datetime], SweepResult]


@dataclass(frozen=True)
class Sweep:
    name: str
    function: SweepFunction
    description: str | Promise
    # None: every DEADLINE_SWEEP_SECONDS (a minute). An hour: once a day at that hour, UTC.
    daily_at_hour: int | None = None
    # The rulebook deadlines whose due rows it takes (registered by register_deadlines).
    deadlines: tuple[Deadline, ...] = ()

    @property
    def period(self) -> str:
        if self.daily_at_hour is not None:
            return f"daily {self.daily_at_hour:02d}:00 UTC"
        return f"every {settings.DEADLINE_SWEEP_SECONDS:g} s"


_registry: dict[str, Sweep] = {}


def register(
    name: str,
    *,
    description: str | Promise,
    daily_at_hour: int | None = None,
    deadlines: tuple[Deadline, ...] = (),
) -> Callable[[SweepFunction], SweepFunction]:
    """Decorator: `@register("search-log-retention", description=..., daily_at_hour=3)` on a
    function `(now) -> SweepResult`. Deadline sweeps are registered by register_deadlines()."""

    def decorate(function: SweepFunction) -> SweepFunction:
        if name in _registry and _registry[name].function is not function:
            raise ValueError(f"Two sweeps are called {name!r}")
        _registry[name] = Sweep(name, function, description, daily_at_hour, deadlines)
        return function

    return decorate


def registered() -> dict[str, Sweep]:
    return dict(_registry)


def run(name: str, now: datetime) -> SweepResult:
    try:
        sweep_entry = _registry[name]
    except KeyError:
        raise LookupError(f"No sweep called {name!r}; see `manage.py deadlines list`.") from None
    return sweep_entry.function(now)


# How many due rows a sweep reads the related rows of at once (`related`).
RELATED_BATCH = 200


def sweep(
    name: str,
    due: Callable[[datetime], QuerySet[Any]],
    action: Callable[[Any, datetime], object],
    *,
    now: datetime,
    order_by: str,
    limit: int | None = None,
    related: tuple[str, ...] | None = None,
    read_with: Mapping[str, Any] | None = None,
    fields: tuple[str, ...] | None = None,
) -> SweepResult:
    """Call `action(pk, now)` for each row of `due(now)`, earliest `order_by` first, one
    transaction per row. `limit` bounds one run (the rest waits for the next one).

    With `related` (select_related paths, e.g. `("order", "store__owner")`, or `()`), the action
    gets the locked row itself instead of its pk, with those relations attached: they are read for
    a batch of due rows at once, without a lock (as a locking query's joined rows are read), so
    that each row costs one small statement that locks it and reads its own columns.

    `read_with` (with `related`): annotations the batch read adds to each row (`{"name":
    expression}`), set on the locked row as attributes. They were read before the lock, so they
    are hints a service may use to skip a statement, never facts it may decide on: the row's
    service must check them under the lock (see disputes.services.dispute_auto_claim).

    `fields` (with `related`): the locked row's fields the action reads; the locking statement
    reads only those (and the pk), the others are deferred (`QuerySet.only()`)."""
    result = SweepResult(name)
    passed_over: set[Any] = set()
    rows = due(now)
    if read_with and related is None:
        raise ValueError("read_with annotates the locked row itself: give `related` too, () for none")
    with_related = Related(rows, order_by, related or (), read_with) if related or read_with else None

    # The locking query is built once per run, and again only when a row is passed over (it failed,
    # or was no longer due); each row takes a copy. No tie-break on pk: with one, PostgreSQL reads
    # and sorts every row that shares the earliest deadline before it locks the first (an
    # incremental sort), and a batch that fell due at the same moment took quadratic time.
    def picking_query(passed_over: set[Any]) -> QuerySet[Any]:
        locking = rows.order_by(order_by).select_for_update(skip_locked=True, of=("self",))
        if fields is not None:
            locking = locking.only(*fields)
        if passed_over:
            locking = locking.exclude(pk__in=passed_over)
        return locking.values_list("pk", flat=True)[:1] if related is None else locking[:1]

    picking = picking_query(passed_over)
    while limit is None or result.taken < limit:
        pk = None
        try:
            # The row's transaction is the durable one: the services a sweep calls for a row
            # are the inner kind (plain atomic), and no caller may hold a transaction here.
            with transaction.atomic(durable=True):
                target = next(iter(picking.all()), None)
                if target is None:
                    break
                pk = target if related is None else target.pk
                if with_related is not None:
                    with_related.attach(target, passed_over)
                changed = action(target, now)
        except ActionRefused:
            changed = None
        except Exception:
            if pk is None:
                raise
            logger.exception("Sweep %s: row %s failed; the other rows go on", name, pk)
            result.failed += 1
            result.failed_ids.append(pk)
            passed_over.add(pk)
            picking = picking_query(passed_over)
            continue
        if changed:
            result.changed += 1
        else:
            result.skipped += 1
            passed_over.add(pk)
            picking = picking_query(passed_over)
    if result.changed or result.skipped or result.failed:
        logger.info("%s", result)
    return result


class Related:
    """The related rows of the due rows (`paths`, as select_related names them) and the
    annotations `read_with`, read RELATED_BATCH rows at a time in the sweep's order, and attached
    to each row once it is locked."""

    def __init__(
        self, rows: QuerySet[Any], order_by: str, paths: tuple[str, ...], read_with: Mapping[str, Any] | None = None
    ) -> None:
        self.rows, self.order_by, self.paths, self.read_with = rows, order_by, paths, read_with or {}
        meta = rows.model._meta
        self.relations = [meta.get_field(path.split("__")[0]) for path in paths]
        # The row's own columns come from the statement that locks it: here only its keys are read.
        self.deferred = [
            field.name for field in meta.concrete_fields if not field.is_relation and not field.primary_key
        ]
        self.read: dict[Any, Any] = {}

    def attach(self, target: Any, passed_over: set[Any]) -> None:
        source = self.read.pop(target.pk, None)
        if source is None:
            # The next due rows from this one on (another worker may be taking some of them).
            self.read = {row.pk: row for row in self.batch(self.rows.exclude(pk__in=passed_over))}
            source = self.read.pop(target.pk, None)
        if source is None:  # not among them (it fell due since): read alone
            [source] = self.batch(self.rows.model._default_manager.filter(pk=target.pk))
        for relation in self.relations:
            # The same related row the locked one points to (a foreign key a sweep does not change).
            if getattr(source, relation.attname) == getattr(target, relation.attname):
                setattr(target, relation.name, getattr(source, relation.name))
        for name in self.read_with:
            setattr(target, name, getattr(source, name))

    def batch(self, rows: QuerySet[Any]) -> list[Any]:
        related = rows.order_by(self.order_by).select_related(*self.paths).defer(*self.deferred)
        if self.read_with:
            related = related.annotate(**self.read_with)
        return list(related[:RELATED_BATCH])


@dataclass(frozen=True)
class DeadlineSweep:
    """A sweep over the due rows of one or more of a rulebook's deadlines (core.rules.Deadline).

    Each row goes to `service(**{takes: row}, now=now)`: its pk, or with `related` (select_related
    paths, e.g. `("order", "store__owner")`, or `()`) the locked row itself with those relations
    attached (core.sweeps.sweep). `limit` bounds one run. `locked=False` is for a service that
    claims its row itself and must run with no transaction open (the outbox sends mail): the sweep
    then only lists the due pks, without a lock or a transaction."""

    name: str
    action: str | tuple[str, ...]
    service: Callable[..., object]
    takes: str
    description: str | Promise
    related: tuple[str, ...] | None = None
    limit: int | None = None
    locked: bool = True
    # Annotations read with the related rows (core.sweeps.sweep's `read_with`): hints only.
    read_with: Mapping[str, Any] | None = None
    # The locked row's fields the service reads (None: all of them). The others are deferred, and
    # a service that reads one costs a statement more a row (the sweep's statement count shows it).
    fields: tuple[str, ...] | None = None

    @property
    def actions(self) -> tuple[str, ...]:
        return (self.action,) if isinstance(self.action, str) else self.action


Handoff = Callable[[], AbstractContextManager[object]]


def register_deadlines(book: Rulebook[Any, Any], *entries: DeadlineSweep, handoff: Handoff | None = None) -> None:
    """Register a sweep for each entry over the deadlines `book` declares. `handoff` wraps each
    run: the outbox's batched hand-off of mail to workers (accounts.emails.handoff_batched),
    which core cannot import."""
    for entry in entries:
        deadlines = tuple(book.deadline_of(action) for action in entry.actions)
        run_entry = partial(_run_deadlines, entry, deadlines, handoff)
        register(entry.name, description=entry.description, deadlines=deadlines)(run_entry)


def _run_deadlines(
    entry: DeadlineSweep, deadlines: tuple[Deadline, ...], handoff: Handoff | None, now: datetime
) -> SweepResult:
    def call(target: Any, at: datetime) -> object:
        return entry.service(**{entry.takes: target}, now=at)

    result = SweepResult(entry.name)
    with handoff() if handoff is not None else nullcontext():
        for deadline in deadlines:
            for rows in deadline.due_each(now):
                left = None if entry.limit is None else entry.limit - result.taken
                if left is not None and left <= 0:
                    return result
                if entry.locked:
                    result += sweep(
                        entry.name,
                        partial(_rows_at, rows),
                        call,
                        now=now,
                        order_by=deadline.column,
                        limit=left,
                        related=entry.related,
                        read_with=entry.read_with,
                        fields=entry.fields,
                    )
                else:
                    result += _each_unlocked(entry.name, rows, call, now=now, order_by=deadline.column, limit=left)
    return result


def _rows_at(rows: QuerySet[Any], now: datetime) -> QuerySet[Any]:
    return rows


def _each_unlocked(
    name: str,
    rows: QuerySet[Any],
    call: Callable[[Any, datetime], object],
    *,
    now: datetime,
    order_by: str,
    limit: int | None,
) -> SweepResult:
    """Hand each due pk to a service that claims the row itself, with no transaction open."""
    result = SweepResult(name)
    for pk in list(rows.order_by(order_by).values_list("pk", flat=True)[:limit]):
        try:
            changed = call(pk, now)
        except ActionRefused:
            changed = None
        except Exception:
            logger.exception("Sweep %s: row %s failed; the other rows go on", name, pk)
            result.failed += 1
            result.failed_ids.append(pk)
            continue
        if changed:
            result.changed += 1
        else:
            result.skipped += 1
    if result.changed or result.skipped or result.failed:
        logger.info("%s", result)
    return result
