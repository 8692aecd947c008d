"""Checks for uploaded files: by content, never by name, and images re-encoded by Pillow.

An image costs the worker nothing but reading its header: its pixel count is judged from the
header alone, whatever the file's size (bytes the decoder skips cost nothing to add), and the
decoding, shrinking and re-encoding run in a child process limited in memory and CPU time
(core/image_child.py). One request's images together are bounded too: in pixels decoded, in
seconds, and in how many requests of a machine may decode at once (core/image_slots.py).
"""

import io
import json
import logging
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext as _
from PIL import Image

from . import image_child
from .image_slots import ImageSlot
from .pdfs import check_pdf

logger = logging.getLogger(__name__)

# Caps on one image, read from its header before anything is decoded. JPEG photos decode at 1/2,
# 1/4 or 1/8 scale (the JPEG "draft" mode), so a 50 MP phone photo costs what a 12 MP one does;
# PNG and WebP have no such mode and are decoded whole, so they get a lower cap that still fits a
# 5K screenshot (14.7 MP).
MAX_JPEG_PIXELS = 52_000_000
MAX_LOSSLESS_PIXELS = 20_000_000
# One request's images together: the pixels the decoders may produce (after the JPEG scale), and
# the seconds their checks may take. Eight 12 MP phone photos (96 MP, about 2 s here) fit. An
# image past the pixels is refused with "send it separately", past the time with "the server is
# busy, send it again in a minute"; the request's other files are kept or refused on their own.
MAX_REQUEST_PIXELS = 100_000_000
REQUEST_IMAGE_SECONDS = 4.0
# Evidence is read on a screen: a long side of 2049 to 4096 pixels shows a label or a serial
# number. A larger image is divided by the smallest whole factor that gets there (a 12 MP phone
# photo, 4000 x 3000, is stored at its own size).
STORED_LONG_SIDE = 4096
# The child process starts at about 26 MB of address space. Measured peaks: a 20 MP RGBA PNG
# 205 MB, a 50 MP JPEG (decoded at half scale) 87 MB, a 20 MP WebP 356 MB (Pillow decodes WebP
# through libwebp's animation decoder, which keeps two full frames).
CHILD_MEMORY_BYTES = 512 * 1024 * 1024
# Three to five times what the costliest accepted image takes here (a 20 MP WebP: 0.6 to 1 s of CPU).
CHILD_CPU_SECONDS = 3
# An image is not started with less of its request's time left than this.
MIN_CHILD_SECONDS = 0.5
# Pillow's own guard (it raises above twice this) also covers any other code path that opens images.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CHILD_SCRIPT = Path(image_child.__file__).resolve()


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    format: str  # JPEG, PNG or WEBP
    extension: str
    width: int
    height: int


class ImageBatch:
    """The images of one request: what they may still decode, until when, and the machine slot
    the request holds while it decodes them (taken at the first image, kept until close())."""

    def __init__(self) -> None:
        self.pixels_left = MAX_REQUEST_PIXELS
        self.deadline = time.monotonic() + REQUEST_IMAGE_SECONDS
        self.slot = ImageSlot()
        # Once no slot came free, the request's other images are refused without waiting again.
        self.slot_refused = False

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def close(self) -> None:
        self.slot.release()

    def __enter__(self) -> "ImageBatch":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def random_name(extension: str) -> str:
    return f"{secrets.token_hex(16)}.{extension}"


def image_size_refusal(*, image_format: str, width: int, height: int) -> str | None:
    """Why an image of this header size is too costly to decode, or None. Checked before decoding."""
    limit = MAX_JPEG_PIXELS if image_format == "JPEG" else MAX_LOSSLESS_PIXELS
    if width * height > limit:
        return _("Картинка слишком большая: больше %(megapixels)d мегапикселей.") % {"megapixels": limit // 1_000_000}
    return None


def _invalid_image() -> ValidationError:
    return ValidationError(_("Это не картинка JPEG, PNG или WebP, или файл повреждён."), code="invalid_image")


def reencode_image(uploaded: Any, *, max_bytes: int, batch: ImageBatch | None = None) -> CleanImage:
    """Open an upload as JPEG, PNG or WebP only, and write it again without its metadata.

    Raises ValidationError with a message for the user for anything else: another format, an
    HTML file with an image's first bytes, a truncated file, an image too costly to decode, an
    oversized file, an image past what its request may still decode. Large images are stored
    shrunk to STORED_LONG_SIDE or less. Without a batch the image is a request of its own.
    """
    if batch is None:
        with ImageBatch() as own:
            return reencode_image(uploaded, max_bytes=max_bytes, batch=own)
    data = _read_capped(uploaded, max_bytes=max_bytes)
    try:
        # Reads the header only: the pixels are decoded in the child.
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as opened:
            image_format = str(opened.format)
            if refusal := image_size_refusal(image_format=image_format, width=opened.width, height=opened.height):
                raise ValidationError(refusal, code="image_too_large")
            plan = image_child.plan_decode(opened, long_side=STORED_LONG_SIDE)
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(_("Картинка слишком большая в пикселях."), code="image_too_large") from None
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for broken or foreign files
        raise _invalid_image() from None
    if plan.decoded_pixels > batch.pixels_left:
        raise ValidationError(
            _("Вместе с остальными картинками эта слишком большая для одной отправки. Отправьте её отдельно."),
            code="request_images_exhausted",
        )
    # Out of time (a busy machine) or of slots (other requests decoding): nothing wrong with the
    # file, so the person is asked to send it again in a minute.
    if batch.seconds_left() < MIN_CHILD_SECONDS:
        raise _server_busy()
    if not batch.slot.held and (batch.slot_refused or not batch.slot.take()):
        batch.slot_refused = True
        raise _server_busy()
    batch.pixels_left -= plan.decoded_pixels
    # The child's own limit, or what is left of the request's time if that is less.
    own_limit = CHILD_CPU_SECONDS + 1
    seconds = min(batch.seconds_left(), own_limit)
    try:
        header, body = _reencode_in_child(data, seconds=seconds)
    except subprocess.TimeoutExpired:
        raise (_server_busy() if seconds < own_limit else _too_costly()) from None
    extension = IMAGE_FORMATS[header["format"]]
    return CleanImage(
        content=ContentFile(body, name=random_name(extension)),
        format=header["format"],
        extension=extension,
        width=header["width"],
        height=header["height"],
    )


def _server_busy() -> ValidationError:
    return ValidationError(
        _("Сейчас сервер проверяет много картинок сразу. Выберите файл ещё раз и отправьте через минуту."),
        code="images_busy",
    )


def _too_costly() -> ValidationError:
    return ValidationError(
        _("Картинку не удалось обработать: она слишком сложная. Сохраните её как JPEG и загрузите снова."),
        code="image_too_costly",
    )


def _reencode_in_child(data: bytes, *, seconds: float) -> tuple[dict[str, Any], bytes]:
    """core/image_child.py on the image: its answer, or ValidationError when it refuses the file,
    runs out of memory or CPU time, or cannot start; subprocess.TimeoutExpired after `seconds`."""
    limits = (MAX_JPEG_PIXELS, MAX_LOSSLESS_PIXELS, STORED_LONG_SIDE, CHILD_MEMORY_BYTES, CHILD_CPU_SECONDS)
    try:
        child = subprocess.run(  # our own interpreter running that file, no shell
            # -I: no environment variables, user site or current directory decide what is imported.
            [sys.executable, "-I", str(CHILD_SCRIPT), *(str(limit) for limit in limits)],
            input=data,
            capture_output=True,
            timeout=max(seconds, 0.1),
            env={},  # a decoder of hostile input gets no secrets from the settings' environment
            check=False,
        )
    except OSError:  # no interpreter to start: every image would be refused, so say so loudly
        logger.exception("image child could not start")
        raise _too_costly() from None
    if child.returncode == image_child.EXIT_INVALID:
        raise _invalid_image()
    if child.returncode == image_child.EXIT_TOO_LARGE:
        raise ValidationError(_("Картинка слишком большая в пикселях."), code="image_too_large")
    if child.returncode in (image_child.EXIT_OUT_OF_MEMORY, -signal.SIGXCPU, -signal.SIGKILL):
        logger.info("image child stopped by its limits (%s)", child.returncode)
        raise _too_costly()
    header_line, _newline, body = child.stdout.partition(b"\n")
    if child.returncode != 0 or not body:
        # A bug in the child, or a crash of a decoder: logged, as the former would refuse every image.
        logger.warning(
            "image child ended with %s: %s", child.returncode, child.stderr.decode("utf-8", "replace")[-500:]
        )
        raise _too_costly()
    return json.loads(header_line), body


def _read_capped(uploaded, *, max_bytes: int) -> bytes:
    """Read at most max_bytes; stop reading a larger file instead of trusting its declared size."""
    if getattr(uploaded, "size", None) and uploaded.size > max_bytes:
        raise ValidationError(
            _("Файл больше %(limit)s МБ.") % {"limit": max_bytes // (1024 * 1024)}, code="file_too_large"
        )
    uploaded.seek(0)
    chunks, total = [], 0
    for chunk in uploaded.chunks() if hasattr(uploaded, "chunks") else iter(lambda: uploaded.read(65536), b""):
        total += len(chunk)
        if total > max_bytes:
            raise ValidationError(
                _("Файл больше %(limit)s МБ.") % {"limit": max_bytes // (1024 * 1024)}, code="file_too_large"
            )
        chunks.append(chunk)
    return b"".join(chunks)


# --- evidence files: images, video, PDF -----------------------------------------------------

MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"qt  "}


@dataclass(frozen=True)
class CleanFile:
    kind: str  # image, video, pdf
    content: object  # a File-like object to store
    extension: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class UploadLimits:
    image_bytes: int
    video_bytes: int
    pdf_bytes: int


def sniff(head: bytes) -> str | None:
    """What a file is by its first bytes, whatever its name says."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return "webm"
    return None


def inspect_evidence(uploaded, *, limits: UploadLimits, images: ImageBatch | None = None) -> CleanFile:
    """Accept an image, an MP4 or WebM video, or a PDF, judged by content; raise ValidationError.
    `images` is what the request's images may still cost (without it, the file is on its own)."""
    uploaded.seek(0)
    head = uploaded.read(64)
    uploaded.seek(0)
    kind = sniff(head)
    if kind is None:
        raise ValidationError(
            _("Такой файл не подходит: нужны фото (JPEG, PNG, WebP), видео (MP4, WebM) или PDF."),
            code="unsupported_type",
        )
    if kind == "image":
        image = reencode_image(uploaded, max_bytes=limits.image_bytes, batch=images)
        return CleanFile(
            "image", image.content, image.extension, f"image/{image.extension.replace('jpg', 'jpeg')}",
            image.content.size, image.width, image.height,
        )  # fmt: skip
    limit = limits.pdf_bytes if kind == "pdf" else limits.video_bytes
    size = uploaded.size
    if size > limit:
        raise ValidationError(_("Файл больше %(limit)s МБ.") % {"limit": limit // (1024 * 1024)}, code="file_too_large")
    if kind == "pdf":
        data = _read_capped(uploaded, max_bytes=limit)
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(_("PDF-файл повреждён или обрезан."), code="invalid_pdf")
        check_pdf(data)  # parsed, not searched: escaped names and object streams hide from a byte search
        return CleanFile("pdf", ContentFile(data), "pdf", "application/pdf", len(data))
    uploaded.seek(0)
    extension = "mp4" if kind == "mp4" else "webm"
    return CleanFile("video", uploaded, extension, f"video/{extension}", size)


class CappedUploadHandler(FileUploadHandler):
    """First upload handler: stops receiving a file once it passes the largest allowed size.

    The file is skipped (the rest of the form still arrives) and its name is remembered on the
    request, so the view can say which file was too large.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max(settings.UPLOAD_VIDEO_MAX_BYTES, settings.FAQ_IMAGE_MAX_BYTES)
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                skipped = getattr(self.request, "skipped_uploads", [])
                skipped.append(self.file_name)
                setattr(self.request, "skipped_uploads", skipped)  # noqa: B010 - HttpRequest declares no such attribute
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None
