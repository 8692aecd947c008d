"""The one way a deadline is enforced: a short sweep over an indexed deadline column.

A sweep takes the rows that are due in batches, locked with SKIP LOCKED so that two sweeps (two
beats by mistake, or a slow run overlapping the next) never take the same row, and calls the
same service the buttons call for each. The service re-checks the rule under its own lock and
returns None when the row is no longer due (a user acted first); such rows are not taken again
in this run.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class SweepResult:
    name: str
    changed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"{self.name}: {self.changed} changed, {self.skipped} no longer due"


def sweep(
    name: str,
    due: Callable[[datetime], QuerySet],
    action: Callable[..., object],
    *,
    now: datetime,
    order_by: str,
    batch_size: int = BATCH_SIZE,
    refused: tuple[type[Exception], ...] = (),
) -> SweepResult:
    result = SweepResult(name)
    passed_over: set[int] = set()
    while True:
        with transaction.atomic():
            ids = list(
                due(now)
                .exclude(pk__in=passed_over)
                .order_by(order_by, "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            for pk in ids:
                try:
                    with transaction.atomic():
                        changed = action(pk, now)
                except refused:
                    changed = None
                if changed:
                    result.changed += 1
                else:
                    result.skipped += 1
                    passed_over.add(pk)
        if len(ids) < batch_size:
            break
    if result.changed or result.skipped:
        logger.info("%s", result)
    return result
