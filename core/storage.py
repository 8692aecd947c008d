"""Where uploaded files live: the local disk by default, or a private S3-compatible bucket.

Either way nobody fetches a file from the storage directly: the views that check access read
it and stream it to the user (core.files.stored_file_response).
"""

from __future__ import annotations

from typing import IO, Any

from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import SuspiciousOperation
from django.db.models.fields.files import FieldFile
from storages.backends.s3 import S3Storage
from storages.utils import clean_name, safe_join

# What a storage call raises when the storage does not answer, or answers with an error: the
# bucket's (botocore's connection errors and timeouts, S3 error replies, boto3's failed
# transfers) or the disk's (full, not writable).
STORAGE_ERRORS: tuple[type[BaseException], ...] = (BotoCoreError, ClientError, Boto3Error, OSError)


class StorageUnavailable(Exception):
    """The upload storage failed to store a file: nothing the user did, and worth trying later."""


class PrivateS3Storage(S3Storage):
    """An S3 bucket that holds private objects only.

    Objects get no ACL of their own (the bucket's default, private, applies), names are never
    reused, and any URL the storage makes is signed and short-lived: only Django admin's
    "currently" links ask for one; the site streams files through its views instead.
    """

    client_config: Config  # set by S3Storage from its settings

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        # boto3's own defaults (60 s to connect, 60 s per read, up to 5 attempts) outlast
        # gunicorn's 30 s worker timeout: a frozen server cost the person their form and a bare
        # 500. Bounded, two attempts of one call end within 2 x read_timeout plus a backoff of at
        # most a second, so the form answers within 15 s that files are not being saved.
        self.client_config = self.client_config.merge(
            Config(
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            )
        )

    def get_default_settings(self) -> dict[str, Any]:
        defaults = super().get_default_settings()
        defaults.update(
            default_acl=None,
            querystring_auth=True,
            file_overwrite=False,
            querystring_expire=120,
            signature_version="s3v4",
            # Seconds; a frozen server accepts the connection and then says nothing, so the read
            # timeout is what ends the wait. Attempts count the first one.
            connect_timeout=3,
            read_timeout=6,
            max_attempts=2,
        )
        return defaults

    def open_stream(self, name: str) -> tuple[IO[bytes], int]:
        """The object's body as a stream straight from the bucket, and its length.

        S3Storage.open() downloads the whole object into a spooled temporary file before the first
        byte can be read (in memory, unless AWS_S3_MAX_MEMORY_SIZE is set): a 100 MB video would
        sit in a web worker's memory. The GetObject body is read chunk by chunk as it is sent.
        """
        try:
            # What S3Storage does with a name before it reads the object: joined to the bucket's
            # LOCATION, and never a path out of it.
            key = safe_join(self.location, clean_name(name))
        except ValueError:
            raise SuspiciousOperation(f"Attempted access to {name!r} denied.") from None
        try:
            answer = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(name) from None
            raise
        return answer["Body"], int(answer["ContentLength"])

    def ensure_bucket(self) -> bool:
        """Create the bucket unless it exists; True when it was created."""
        client = self.connection.meta.client
        try:
            client.head_bucket(Bucket=self.bucket_name)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                raise
            client.create_bucket(Bucket=self.bucket_name)
            return True
        return False


def open_for_streaming(stored: FieldFile) -> tuple[IO[bytes], int | None]:
    """A stored file opened for a FileResponse, and its length when the storage knows it cheaply."""
    storage = stored.storage
    if isinstance(storage, PrivateS3Storage):  # default_storage is a lazy proxy; isinstance sees through it
        return storage.open_stream(stored.name or "")
    # A file on disk is read in blocks by FileResponse, which finds the length itself.
    return stored.open("rb"), None
