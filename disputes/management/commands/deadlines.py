from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from helpcenter import deadlines


class Command(BaseCommand):
    help = "Show the beat schedule of deadline sweeps, or run one sweep now: `deadlines run auto-claim`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action")
        sub.add_parser("list", help="the schedule (default)")
        run = sub.add_parser("run", help="run one sweep by hand")
        run.add_argument("name", help="a sweep name from `deadlines list`, or `all`")
        run.add_argument("--at", help="pretend it is this moment (ISO 8601, UTC if no offset)")

    def handle(self, *args, action=None, name=None, at=None, **options):
        if action == "run":
            now = timezone.now()
            if at:
                now = datetime.fromisoformat(at)
                if timezone.is_naive(now):
                    now = timezone.make_aware(now, timezone.UTC)
            names = list(deadlines.sweeps()) if name == "all" else [name]
            for sweep_name in names:
                if sweep_name not in deadlines.sweeps() and sweep_name not in deadlines.DAILY:
                    raise CommandError(f"No sweep called {sweep_name!r}; see `manage.py deadlines list`.")
                self.stdout.write(str(deadlines.run(sweep_name, now)))
            return
        for entry, spec in deadlines.beat_schedule().items():
            sweep_name = spec["args"][0]
            what = deadlines.sweeps().get(sweep_name, (None, deadlines.DAILY.get(sweep_name, "")))[1]
            self.stdout.write(f"{entry:32} every {spec['schedule']!s:>10}  {what}")
