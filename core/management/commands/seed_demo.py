from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.demo import DEMO_PASSWORD, seed_demo_data


class Command(BaseCommand):
    help = "Fill the database with demo users, orders and disputes in every state (development only; safe to re-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo data is for development: refusing to run with DEBUG off.")
        seed_demo_data()
        usernames = ", ".join(get_user_model().objects.order_by("pk").values_list("username", flat=True))
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Sign in as {usernames} with the password {DEMO_PASSWORD}.")
        )
