import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.storage import PrivateS3Storage


class Command(BaseCommand):
    help = "Create the uploads bucket (S3_BUCKET) unless it exists; nothing to do when uploads are on disk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--wait", type=float, default=60, help="seconds to keep trying while the server starts")

    def handle(self, *args: Any, wait: float = 60, **options: Any) -> None:
        if not isinstance(default_storage, PrivateS3Storage):
            self.stdout.write("Uploads are stored on the local disk (MEDIA_ROOT): no bucket to create.")
            return
        # A server that has just started answers its health check before its filer takes writes.
        deadline = time.monotonic() + wait
        while True:
            try:
                created = default_storage.ensure_bucket()
                break
            except (BotoCoreError, ClientError) as error:
                if time.monotonic() > deadline:
                    raise CommandError(f"Bucket {default_storage.bucket_name}: {error}") from error
                time.sleep(1)
        self.stdout.write(f"Bucket {default_storage.bucket_name}: {'created' if created else 'already there'}.")
