from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from core.storage import PrivateS3Storage


class Command(BaseCommand):
    help = "Create the uploads bucket (S3_BUCKET) unless it exists; nothing to do when uploads are on disk."

    def handle(self, *args: Any, **options: Any) -> None:
        if not isinstance(default_storage, PrivateS3Storage):
            self.stdout.write("Uploads are stored on the local disk (MEDIA_ROOT): no bucket to create.")
            return
        created = default_storage.ensure_bucket()
        self.stdout.write(f"Bucket {default_storage.bucket_name}: {'created' if created else 'already there'}.")
