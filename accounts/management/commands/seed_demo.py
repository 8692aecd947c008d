from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_PASSWORD, seed_demo_data


class Command(BaseCommand):
    help = "Fill the database with demo users and orders in every state (development only; safe to re-run)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for development: refusing to run with DEBUG off.")
        summary = seed_demo_data()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {summary['users']} users, {summary['orders']} orders. "
                f"Sign in as buyer, buyer2, seller, seller2, arbitrator or support with the password {DEMO_PASSWORD}."
            )
        )
