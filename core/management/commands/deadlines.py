from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core import sweeps


class Command(BaseCommand):
    help = "Show the deadline sweeps beat runs, or run one now: `deadlines run auto-claim` (or `all`)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action")
        sub.add_parser("list", help="the schedule (default)")
        run = sub.add_parser("run", help="run one sweep by hand")
        run.add_argument("name", help="a sweep name from `deadlines list`, or `all`")
        run.add_argument("--at", help="pretend it is this moment (ISO 8601, UTC if no offset)")

    def handle(self, *args: Any, action: str | None = None, name: str = "", at: str = "", **options: Any) -> None:
        registered = sweeps.registered()
        if action != "run":
            for entry in registered.values():
                self.stdout.write(f"{entry.name:24} {entry.period:>20}  {entry.description}")
            return
        now = timezone.now()
        if at:
            now = datetime.fromisoformat(at)
            if timezone.is_naive(now):
                now = now.replace(tzinfo=UTC)
        names = (
            [entry.name for entry in registered.values() if entry.daily_at_hour is None] if name == "all" else [name]
        )
        for sweep_name in names:
            if sweep_name not in registered:
                raise CommandError(f"No sweep called {sweep_name!r}; see `manage.py deadlines list`.")
            self.stdout.write(str(sweeps.run(sweep_name, now)))
