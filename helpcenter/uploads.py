"""Checks for uploaded files: by content, never by name, and images re-encoded by Pillow."""

import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

# A 40-megapixel screenshot or photo of a parcel is not real; larger ones are refused.
MAX_IMAGE_PIXELS = 40_000_000
# Pillow's own guard (it raises above twice this) also covers any other code path that opens images.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    format: str  # JPEG, PNG or WEBP
    extension: str
    width: int
    height: int


def random_name(extension: str) -> str:
    return f"{secrets.token_hex(16)}.{extension}"


def reencode_image(uploaded, *, max_bytes: int) -> CleanImage:
    """Open an upload as JPEG, PNG or WebP only, and write it again without its metadata.

    Raises ValidationError with a message for the user for anything else: another format, an
    HTML file with an image's first bytes, a truncated file, a decompression bomb, an oversized
    file.
    """
    data = _read_capped(uploaded, max_bytes=max_bytes)
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            # Pillow itself only refuses above twice its limit and merely warns below; checking
            # the header's size before decoding refuses every oversized image, in any thread.
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            source_format = image.format
            image.load()
            image = ImageOps.exif_transpose(image)
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
    output = io.BytesIO()
    # Saved without exif= or icc: GPS position and camera data do not survive.
    save_options = {"JPEG": {"quality": 88, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 85}}
    image.save(output, format=source_format, **save_options[source_format])
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
PDF_FORBIDDEN = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction")


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
        if any(marker in data for marker in PDF_FORBIDDEN):
            raise ValidationError(
                _("В PDF есть встроенные скрипты или файлы; сохраните его заново как обычный PDF."), code="active_pdf"
            )
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
        self.limit = max(settings.DISPUTE_VIDEO_MAX_BYTES, settings.FAQ_IMAGE_MAX_BYTES)
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
                self.request.skipped_uploads = skipped
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None
