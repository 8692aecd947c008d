"""Checks for uploaded files: by content, never by name, and images re-encoded by Pillow."""

import io
import math
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from .pdfs import check_pdf

# Limits measured by bench/uploads.py. JPEG photos decode at 1/2, 1/4 or 1/8 scale (the JPEG
# "draft" mode), so a 50 MP phone photo costs what a 12 MP one does; PNG and WebP have no such
# mode and are decoded whole, so they get a lower cap that still fits a 5K screenshot.
MAX_JPEG_PIXELS = 52_000_000
MAX_LOSSLESS_PIXELS = 20_000_000
# Real photos and screenshots carry at most a few dozen pixels per stored byte; a big image that
# compresses far better than that is a flat fill made to cost decoding time, not evidence.
MAX_PIXELS_PER_BYTE = 150
RATIO_CHECK_FROM_PIXELS = 9_000_000  # a 4K screenshot of an empty page passes
# Evidence is read on a screen: a 4096-pixel long side shows a label or a serial number, and a
# 12 MP phone photo (4000 x 3000) is stored at its own size, without a costly resize.
STORED_LONG_SIDE = 4096
# Pillow's own guard (it raises above twice this) also covers any other code path that opens images.
Image.MAX_IMAGE_PIXELS = MAX_JPEG_PIXELS
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    # No optimize=True: it doubles the encoding time for a few per cent of bytes.
    "JPEG": {"quality": 85},
    # Level 1 writes a 20 MP PNG several times faster than the default 6, for somewhat larger files.
    "PNG": {"compress_level": 1},
    "WEBP": {"quality": 85, "method": 4},
}


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    format: str  # JPEG, PNG or WEBP
    extension: str
    width: int
    height: int


def random_name(extension: str) -> str:
    return f"{secrets.token_hex(16)}.{extension}"


def image_size_refusal(*, image_format: str, width: int, height: int, file_bytes: int) -> str | None:
    """Why an image of this header size is too costly to decode, or None. Checked before decoding."""
    pixels = width * height
    limit = MAX_JPEG_PIXELS if image_format == "JPEG" else MAX_LOSSLESS_PIXELS
    if pixels > limit:
        return _("Картинка слишком большая: больше %(megapixels)d мегапикселей.") % {"megapixels": limit // 1_000_000}
    if pixels > RATIO_CHECK_FROM_PIXELS and pixels > MAX_PIXELS_PER_BYTE * max(file_bytes, 1):
        return _(
            "Картинка слишком большая в пикселях для своего размера файла. Пришлите обычное фото или снимок экрана."
        )
    return None


def reencode_image(uploaded: Any, *, max_bytes: int) -> CleanImage:
    """Open an upload as JPEG, PNG or WebP only, and write it again without its metadata.

    Raises ValidationError with a message for the user for anything else: another format, an
    HTML file with an image's first bytes, a truncated file, an image too costly to decode, an
    oversized file. Large images are stored scaled down to STORED_LONG_SIDE.
    """
    data = _read_capped(uploaded, max_bytes=max_bytes)
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as opened:
            source_format = str(opened.format)
            if refusal := image_size_refusal(
                image_format=source_format, width=opened.width, height=opened.height, file_bytes=len(data)
            ):
                raise ValidationError(refusal, code="image_too_large")
            if source_format == "JPEG":
                # Decode at the smallest JPEG scale still at least 3/4 of the stored size: a
                # 50 MP photo decodes at half size (12.5 MP) instead of whole.
                scale = 0.75 * STORED_LONG_SIDE / max(opened.width, opened.height)
                if scale < 1:
                    opened.draft("RGB", (math.ceil(opened.width * scale), math.ceil(opened.height * scale)))
            opened.load()
            image: Image.Image = ImageOps.exif_transpose(opened)
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(_("Картинка слишком большая в пикселях."), code="image_too_large") from None
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for broken or foreign files
        raise ValidationError(
            _("Это не картинка JPEG, PNG или WebP, или файл повреждён."), code="invalid_image"
        ) from None
    if source_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if source_format != "JPEG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    if max(image.size) > STORED_LONG_SIDE:
        # A palette image is resized by nearest neighbour, without a costly full-colour copy.
        image.thumbnail((STORED_LONG_SIDE, STORED_LONG_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
    output = io.BytesIO()
    # Saved without exif= or icc: GPS position and camera data do not survive.
    image.save(output, format=source_format, **SAVE_OPTIONS[source_format])
    extension = IMAGE_FORMATS[source_format]
    return CleanImage(
        content=ContentFile(output.getvalue(), name=random_name(extension)),
        format=source_format,
        extension=extension,
        width=image.width,
        height=image.height,
    )


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


def inspect_evidence(uploaded, *, limits: UploadLimits) -> CleanFile:
    """Accept an image, an MP4 or WebM video, or a PDF, judged by content; raise ValidationError."""
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
        image = reencode_image(uploaded, max_bytes=limits.image_bytes)
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
