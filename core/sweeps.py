"""The one way a deadline is enforced: a short sweep over an indexed deadline column.

Every sweep of the project is registered here with its name, period and description (the apps'
`sweeps.py` modules register theirs when Django starts); the beat schedule, the `run_sweep` task
and `manage.py deadlines` all read this one registry.

A sweep takes the due rows one at a time, each in its own transaction: the row is picked with
`FOR UPDATE SKIP LOCKED OF <table>`, so that several workers (or two beats by mistake) share the
rows and never take the same one, and handed (its pk, or the row itself read with what the
service needs) to the same service a button calls. The service
re-checks its rule under the lock and returns something falsy, or raises ActionRefused, when the
row is no longer due (a user acted first). A row whose service fails unexpectedly is rolled back
alone, logged with its id and counted; the other rows go on, and the next run tries it again.

A sweep locks the row it picks before the service runs, so a sweep's service must not lock a
row that user actions lock before this one (the project's lock order is: order, then dispute).
"""

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections, transaction
from django.db.models import QuerySet
from django.utils.functional import Promise

from .errors import ActionRefused

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

    @property
    def period(self) -> str:
        if self.daily_at_hour is not None:
            return f"daily {self.daily_at_hour:02d}:00 UTC"
        return f"every {settings.DEADLINE_SWEEP_SECONDS:g} s"


_registry: dict[str, Sweep] = {}


def register(
    name: str, *, description: str | Promise, daily_at_hour: int | None = None
) -> Callable[[SweepFunction], SweepFunction]:
    """Decorator: `@register("auto-claim", description=...)` on a function `(now) -> SweepResult`."""

    def decorate(function: SweepFunction) -> SweepFunction:
        if name in _registry and _registry[name].function is not function:
            raise ValueError(f"Two sweeps are called {name!r}")
        _registry[name] = Sweep(name, function, description, daily_at_hour)
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


def sweep(
    name: str,
    due: Callable[[datetime], QuerySet[Any]],
    action: Callable[[Any, datetime], object],
    *,
    now: datetime,
    order_by: str,
    limit: int | None = None,
    row: Callable[[QuerySet[Any]], QuerySet[Any]] | None = None,
) -> SweepResult:
    """Call `action(pk, now)` for each row of `due(now)`, earliest `order_by` first, one
    transaction per row. `limit` bounds one run (the rest waits for the next one).

    With `row` (e.g. `lambda rows: rows.select_related("order")`), the action gets the row itself,
    read with what `row` adds by the same statement that locks it, instead of its pk: the service
    then need not lock and read it a second time."""
    result = SweepResult(name)
    passed_over: set[Any] = set()

    def next_due(skip: frozenset[Any]) -> QuerySet[Any]:
        # No tie-break on pk: with one, PostgreSQL reads and sorts every row that shares the
        # earliest deadline before it locks the first (an incremental sort), and a batch that
        # fell due at the same moment took quadratic time.
        return due(now).exclude(pk__in=skip).order_by(order_by).select_for_update(skip_locked=True, of=("self",))

    picker = _Picker(next_due, row)
    durable_commits = _commit_without_waiting_for_disk(due(now).db)
    try:
        while limit is None or result.changed + result.skipped + result.failed < limit:
            pk = None
            try:
                # The row's transaction is the durable one: the services a sweep calls for a row
                # are the inner kind (plain atomic), and no caller may hold a transaction here.
                with transaction.atomic(durable=True):
                    target = picker.first(frozenset(passed_over))
                    if target is None:
                        break
                    pk = target if row is None else target.pk
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
                continue
            if changed:
                result.changed += 1
            else:
                result.skipped += 1
                passed_over.add(pk)
    finally:
        picker.close()
        durable_commits()
    if result.changed or result.skipped or result.failed:
        logger.info("%s", result)
    return result


def _commit_without_waiting_for_disk(alias: str) -> Callable[[], None]:
    """On PostgreSQL, let this run's row transactions commit without waiting for their WAL to reach
    the disk (synchronous_commit off, this session only); returns what puts it back.

    A sweep's commit then costs no flush. What a crash could lose is the last fraction of a second
    of sweep work, whole transactions only (the row's change, its event and its outbox mails
    together), and only rows still due: the next run does them again. Nothing else can depend on
    a lost one, because any later commit that waits for the disk (every user action, the mail
    worker marking a mail sent) flushes the log up to itself, this run's commits included.
    """
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")

    def restore() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:  # the connection went away, and the setting with it
            logger.debug("Could not restore synchronous_commit", exc_info=True)

    return restore


_statement_numbers = itertools.count(1)


class _Picker:
    """The statement that locks a sweep's next row: built and compiled once per run and, on
    PostgreSQL, prepared on the connection, then sent once per row.

    Building it anew for every row cost more than the row's own writes: Django compiles a
    select_related query again each time (a millisecond for a dispute with its order and both
    parties) and PostgreSQL plans the five-table join again (another). It is built again when the
    rows passed over change (a row that failed or was no longer due), which is rare.
    """

    def __init__(
        self,
        due: Callable[[frozenset[Any]], QuerySet[Any]],
        row: Callable[[QuerySet[Any]], QuerySet[Any]] | None,
    ) -> None:
        self._due = due
        self._row = row
        self._built_for: frozenset[Any] | None = None
        self._queryset: QuerySet[Any] | None = None
        self._prepared: tuple[Any, str] | None = None

    def _build(self, passed_over: frozenset[Any]) -> QuerySet[Any]:
        picked = self._due(passed_over)
        return picked.values_list("pk", flat=True) if self._row is None else self._row(picked)

    def first(self, passed_over: frozenset[Any]) -> Any:
        """The next row (or pk), locked; call inside the row's transaction."""
        if self._built_for is None:
            # The first row of a run is picked by its pk alone: most runs find nothing due, and
            # the joined statement would cost them more to build and plan than it saves.
            self._built_for = passed_over
            pk = self._due(passed_over).values_list("pk", flat=True).first()
            if pk is None or self._row is None:
                return pk
            model = self._due(passed_over).model
            return self._row(model._default_manager.select_for_update(of=("self",)).filter(pk=pk)).get()
        if self._queryset is None or passed_over != self._built_for:
            self._compile(passed_over)
        assert self._queryset is not None
        return next(iter(self._queryset.all()), None)

    def _compile(self, passed_over: frozenset[Any]) -> None:
        self.close()
        queryset = self._build(passed_over)[:1]
        connection = connections[queryset.db]
        compiler = queryset.query.get_compiler(queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            self._queryset, self._built_for = queryset, passed_over
            return
        if connection.vendor == "postgresql":
            # Prepared statements outlive the transaction they were made in, rollbacks included.
            name = f"sweep_pick_{next(_statement_numbers)}"
            numbered = sql % tuple(f"${number}" for number in range(1, len(params) + 1))
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"PREPARE {name} AS {numbered}")
            except DatabaseError:  # e.g. a parameter whose type PostgreSQL cannot infer
                logger.warning("Sweep pick not prepared; sent as it is", exc_info=True)
            else:
                self._prepared = (connection, name)
                sql = f"EXECUTE {name}" + (f"({', '.join(['%s'] * len(params))})" if params else "")
        compiled = (sql, tuple(params))
        # The queryset's copies (.all()) keep answering with this compiler: the ORM still reads
        # the rows into instances, with what select_related joined, as it always does.
        compiler.as_sql = lambda *args, **kwargs: compiled
        queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
        self._queryset, self._built_for = queryset, passed_over

    def close(self) -> None:
        if self._prepared is None:
            return
        connection, name = self._prepared
        self._prepared = None
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DEALLOCATE {name}")
        except DatabaseError:  # the connection went away, and the statement with it
            logger.debug("Could not deallocate %s", name, exc_info=True)
