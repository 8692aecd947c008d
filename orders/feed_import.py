"""The bulk import of the marketplace's order history (`manage.py import_orders FILE`).

The file holds one order event per line, in the shapes the feed takes (orders/feed.py). It is read
as a stream, a batch of lines at a time, each batch in one transaction, so memory stays the same
for a thousand orders or a million: a batch, a bounded memory of accounts seen, and the summary's
counters. Every event goes through `feed_event_apply` like one from the signed endpoint, without
mail (this is history), so stopping at any moment and running the file again applies nothing
twice: the batch that was under way rolls back whole, and every event already imported is known by
its id and skipped.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.marketplace import MarketplaceAccounts
from accounts.models import User
from core.signatures import NoticeRejected, notice_json

from .feed import (
    FeedInvalid,
    OrderFeedEvent,
    feed_event_apply,
    feed_event_parse,
    new_items,
    new_order,
    one_at_a_time,
)
from .models import FeedEvent, Order, OrderItem

BATCH_SIZE = 500
# People and stores kept in memory between events: enough for the buyers who come back soon.
REMEMBER_ACCOUNTS = 50_000
# The summary keeps this many different reasons, and this many line numbers of each.
MAX_REASONS = 40
EXAMPLE_LINES = 5


@dataclass
class ReasonCount:
    count: int = 0
    lines: list[int] = field(default_factory=list)


@dataclass
class ImportSummary:
    """What the import did, line by line; refused lines grouped by reason."""

    lines: int = 0
    bytes_read: int = 0
    # Every line up to this one is imported (committed): a stopped run is safe to start again.
    committed_line: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    refused: dict[str, ReasonCount] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(self.outcomes.values())

    def refuse(self, line: int, reason: str) -> None:
        # "order 81000…7 is cancelled" and "order 81000…9 is cancelled" are one reason, and so are
        # "order.items[0].price …" and "order.items[3].price …".
        key = re.sub(r"\border [A-Za-z0-9_-]+", "order N", reason)
        key = re.sub(r"\[\d+\]", "[N]", key)
        if key not in self.refused and len(self.refused) >= MAX_REASONS:
            key = "other reasons"
        entry = self.refused.setdefault(key, ReasonCount())
        entry.count += 1
        if len(entry.lines) < EXAMPLE_LINES:
            entry.lines.append(line)


Progress = Callable[[ImportSummary], None]


def _batches(stream: BinaryIO, size: int, summary: ImportSummary) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for number, line in enumerate(stream, start=1):
        summary.bytes_read += len(line)
        summary.lines = number
        if line.strip():
            batch.append((number, line))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_events(
    stream: BinaryIO,
    *,
    summary: ImportSummary | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportSummary:
    """Apply every event of `stream` (JSON lines), counting into `summary`. KeyboardInterrupt
    (Ctrl-C) stops between or inside a batch; what was committed stays (`summary.committed_line`),
    and a new run skips it."""
    summary = summary if summary is not None else ImportSummary()
    accounts = MarketplaceAccounts(remember=REMEMBER_ACCOUNTS)
    for batch in _batches(stream, batch_size, summary):
        now = timezone.now()
        readable: list[tuple[int, OrderFeedEvent]] = []
        for number, line in batch:
            try:
                readable.append((number, feed_event_parse(notice_json(line), now=now)))
            except NoticeRejected as rejected:
                summary.outcomes["invalid"] += 1
                summary.refuse(number, rejected.reason)
            except FeedInvalid as invalid:
                summary.outcomes["invalid"] += 1
                summary.refuse(number, invalid.reason)
        # Events imported by an earlier run (or twice in this file) are skipped with one query.
        known = set(
            FeedEvent.objects.filter(event_id__in=[event.event_id for _, event in readable]).values_list(
                "event_id", flat=True
            )
        )
        fresh: list[tuple[int, OrderFeedEvent]] = []
        duplicates = 0
        for number, event in readable:
            if event.event_id in known:
                duplicates += 1
            else:
                known.add(event.event_id)
                fresh.append((number, event))
        # Counted once the batch is committed: a batch stopped half-way counts nothing.
        try:
            try:
                with transaction.atomic():
                    applied, refusals = _apply_batch(fresh, accounts, now, isolated=False)
            except IntegrityError:
                # Someone else (the live feed) wrote one of these orders or accounts meanwhile: the
                # batch again, each event in its own savepoint, as the feed applies them.
                accounts.forget()
                with transaction.atomic():
                    applied, refusals = _apply_batch(fresh, accounts, now, isolated=True)
        except BaseException:
            # The batch is rolled back: accounts it made may not exist any more.
            accounts.forget()
            raise
        applied["duplicate"] += duplicates
        summary.outcomes.update(applied)
        for number, reason in refusals:
            summary.refuse(number, reason)
        summary.committed_line = batch[-1][0]
        if progress is not None:
            progress(summary)
    return summary


def _apply_batch(
    events: list[tuple[int, OrderFeedEvent]], accounts: MarketplaceAccounts, now: datetime, *, isolated: bool
) -> tuple[Counter[str], list[tuple[int, str]]]:
    """Apply one batch's new events in file order; what happened to them, and the refused lines."""
    applied: Counter[str] = Counter()
    refusals: list[tuple[int, str]] = []
    bulk = set() if isolated else _new_orders_at_once(events, accounts, now)
    applied[FeedEvent.Outcome.APPLIED] += len(bulk)
    for number, event in events:
        if event.event_id in bulk:
            continue
        answer = feed_event_apply(
            event,
            source=FeedEvent.Source.IMPORT,
            now=now,
            accounts=accounts,
            notify=False,
            complete_ended=True,
            isolated=isolated,
        )
        applied[answer.status] += 1
        if answer.status == FeedEvent.Outcome.REFUSED:
            refusals.append((number, answer.reason))
    return applied, refusals


def _new_orders_at_once(
    events: list[tuple[int, OrderFeedEvent]], accounts: MarketplaceAccounts, now: datetime
) -> set[str]:
    """The commonest line of a history, an order.paid for an order not here yet and with no other
    event in this batch or waiting for it, made with a few statements per batch instead of a few
    per order: the same order, items, accounts and FeedEvent row feed_event_apply would write
    (orders.feed.new_order, new_items). Returns the event ids done."""
    per_order = Counter(event.order_number for _, event in events)
    candidates = {
        event.order_number: event
        for _, event in events
        if event.kind == FeedEvent.Kind.PAID and per_order[event.order_number] == 1 and event.snapshot is not None
    }
    if not candidates:
        return set()
    one_at_a_time(candidates)
    here = set(Order.objects.filter(number__in=list(candidates)).values_list("number", flat=True))
    waiting = set(
        FeedEvent.objects.filter(order_number__in=list(candidates), outcome=FeedEvent.Outcome.HELD).values_list(
            "order_number", flat=True
        )
    )
    chosen = [event for number, event in candidates.items() if number not in here and number not in waiting]
    if not chosen:
        return set()
    snapshots = [event.snapshot for event in chosen if event.snapshot is not None]
    accounts.prefetch(
        [(snapshot.buyer, User.Role.BUYER) for snapshot in snapshots], [snapshot.store for snapshot in snapshots]
    )
    orders = []
    for event in chosen:
        assert event.snapshot is not None
        store_id, _owner_id = accounts.store_ids(event.snapshot.store)
        buyer_id = accounts.person_id(event.snapshot.buyer, role=User.Role.BUYER)
        orders.append(new_order(event, event.snapshot, buyer_id=buyer_id, store_id=store_id))
    Order.objects.bulk_create(orders)
    items = []
    for order, event in zip(orders, chosen, strict=True):
        assert event.snapshot is not None
        items.extend(new_items(order, event.snapshot))
    OrderItem.objects.bulk_create(items)
    FeedEvent.objects.bulk_create(
        FeedEvent(
            event_id=event.event_id,
            kind=event.kind,
            order_number=event.order_number,
            order=order,
            occurred_at=event.occurred_at,
            received_at=now,
            source=FeedEvent.Source.IMPORT,
            outcome=FeedEvent.Outcome.APPLIED,
        )
        for order, event in zip(orders, chosen, strict=True)
    )
    return {event.event_id for event in chosen}


def still_held() -> int:
    """Events still waiting for their order's "paid" (from this import or before)."""
    return FeedEvent.objects.filter(outcome=FeedEvent.Outcome.HELD).count()
