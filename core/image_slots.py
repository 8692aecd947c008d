"""At most UPLOAD_IMAGE_SLOTS requests of one machine decode images at a time.

gunicorn's sync workers each serve one request at a time. Were every worker of a machine busy
checking images, nothing else would be answered there, the health check included, until one
finished. With fewer slots than workers, one worker is always free of image work: a request that
finds every slot taken waits a moment (UPLOAD_IMAGE_SLOT_WAIT_SECONDS), then its images are
refused with "try again in a minute" instead of queueing.

A slot is an exclusive flock() on one of the files slot-0 ... slot-N in UPLOAD_IMAGE_SLOT_DIR,
so every process of the machine (all gunicorn workers, all containers sharing that folder) sees
the same slots, and the kernel frees a slot when its process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import time
from pathlib import Path
from typing import IO

from django.conf import settings

POLL_SECONDS = 0.05


class ImageSlot:
    """One slot taken by this request, or none."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def take(self) -> bool:
        """Take a free slot, waiting at most UPLOAD_IMAGE_SLOT_WAIT_SECONDS; False if none came free."""
        if self._file is not None:
            return True
        folder = Path(settings.UPLOAD_IMAGE_SLOT_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + settings.UPLOAD_IMAGE_SLOT_WAIT_SECONDS
        while True:
            for number in range(max(1, settings.UPLOAD_IMAGE_SLOTS)):
                candidate = open(folder / f"slot-{number}", "ab")  # noqa: SIM115 - held until release()
                try:
                    fcntl.flock(candidate.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    candidate.close()
                    continue
                self._file = candidate
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file drops the lock
            self._file = None
