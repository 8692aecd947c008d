"""Checks for uploaded files: by content, never by name, and images re-encoded by Pillow."""

import io
import secrets
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

# Below Pillow's own limit, and a warning is an error: a 40-megapixel screenshot is not real.
MAX_IMAGE_PIXELS = 40_000_000
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
    previous_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
                source_format = image.format
                image.load()
                image = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_("Картинка слишком большая в пикселях."), code="image_too_large") from None
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for broken or foreign files
        raise ValidationError(
            _("Это не картинка JPEG, PNG или WebP, или файл повреждён."), code="invalid_image"
        ) from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit
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
