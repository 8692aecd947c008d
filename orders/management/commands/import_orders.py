import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.feed_import import BATCH_SIZE, ImportSummary, import_events, still_held


class ProgressBar:
    """One line on a terminal, redrawn in place: share done, events per second, time left (from the
    bytes left and the bytes per second so far). Elsewhere (a log) a line every ten seconds."""

    def __init__(self, write: Callable[[str], None], total_bytes: int, *, interactive: bool) -> None:
        self.write, self.total, self.interactive = write, max(total_bytes, 1), interactive
        self.started = self.last = time.monotonic()

    def __call__(self, summary: ImportSummary, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < (0.5 if self.interactive else 10):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        share = min(summary.bytes_read / self.total, 1.0)
        bytes_rate = summary.bytes_read / elapsed
        left = (self.total - summary.bytes_read) / bytes_rate if bytes_rate else 0.0
        done = int(share * 30)
        text = (
            f"[{'#' * done}{'.' * (30 - done)}] {share:6.1%}  {summary.lines:,} lines  "
            f"{summary.events / elapsed:,.0f} events/s  {_duration(left)} left"
        )
        if self.interactive:
            self.write("\r" + text + ("\n" if final else ""))
        else:
            self.write(text + "\n")


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 60}m{whole % 60:02d}s"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Import the marketplace's order history: a file of JSON lines, one order event per line, in "
        "the shapes the order feed takes (docs/deploy.md). Safe to stop (Ctrl-C) and to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSON lines: one order event per line")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="events per transaction")

    def handle(self, *args: Any, file: str, batch_size: int = BATCH_SIZE, **options: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        bar = ProgressBar(
            lambda text: self.stderr.write(text, ending=""), path.stat().st_size, interactive=self.stderr.isatty()
        )
        summary = ImportSummary()
        stopped = False
        # `kill` stops the import as Ctrl-C does: the batch under way rolls back, the rest stays.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            with path.open("rb") as lines:
                import_events(lines, summary=summary, batch_size=batch_size, progress=bar)
        except KeyboardInterrupt:
            stopped = True
        finally:
            signal.signal(signal.SIGTERM, previous)
        bar(summary, final=True)
        self._report(summary, stopped=stopped)

    def _report(self, summary: ImportSummary, *, stopped: bool) -> None:
        write = self.stdout.write
        if stopped:
            write(
                self.style.WARNING(
                    f"Stopped. Lines 1 to {summary.committed_line:,} are imported; run the same command "
                    "again to go on (what is imported is skipped)."
                )
            )
        count = summary.outcomes
        write(
            f"{summary.committed_line:,} lines: {count['applied']:,} applied, {count['duplicate']:,} already "
            f"imported, {count['stale']:,} not newer than what the order holds (ignored), {count['held']:,} "
            f"waiting for their order.paid, {count['refused']:,} refused by the order's state, "
            f"{count['invalid']:,} unreadable."
        )
        if summary.refused:
            write("Refused lines by reason (the first line numbers of each):")
            for reason, entry in sorted(summary.refused.items(), key=lambda item: -item[1].count):
                more = ", ..." if entry.count > len(entry.lines) else ""
                write(f"  {entry.count:>9,}  {reason}  (lines {', '.join(map(str, entry.lines))}{more})")
        if held := still_held():
            write(f"{held:,} events wait for their order's order.paid (admin: События площадки).")
        if not stopped:
            write(self.style.SUCCESS("Done."))
