"""Evidence images cost bounded time and memory: caps checked before decoding, big photos scaled."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import uploads


def encoded(image: Image.Image, image_format: str, **options) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    extension = uploads.IMAGE_FORMATS[image_format]
    return SimpleUploadedFile(f"photo.{extension}", buffer.getvalue(), content_type=f"image/{extension}")


def test_a_flat_png_of_forty_megapixels_is_refused_before_it_is_decoded(monkeypatch):
    flat = encoded(Image.new("RGB", (8000, 5000), "white"), "PNG", optimize=True)

    def decoding_forbidden(*args, **kwargs):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(Image.Image, "load", decoding_forbidden)
    with pytest.raises(ValidationError, match="больше 20 мегапикселей"):
        uploads.reencode_image(flat, max_bytes=10 * 1024 * 1024)


def test_a_big_image_that_compresses_like_a_flat_fill_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "RATIO_CHECK_FROM_PIXELS", 10_000)
    flat = encoded(Image.new("RGB", (1200, 1000), "white"), "PNG")
    assert uploads.MAX_PIXELS_PER_BYTE * len(flat.read()) < 1200 * 1000
    with pytest.raises(ValidationError, match="для своего размера файла"):
        uploads.reencode_image(flat, max_bytes=10 * 1024 * 1024)


def test_a_4k_screenshot_of_an_empty_page_is_still_accepted_and_scaled(monkeypatch):
    monkeypatch.setattr(uploads, "STORED_LONG_SIDE", 3072)
    screenshot = encoded(Image.new("RGB", (3840, 2160), "white"), "PNG")
    clean = uploads.reencode_image(screenshot, max_bytes=10 * 1024 * 1024)
    assert (clean.width, clean.height, clean.format) == (3072, 1728, "PNG")


def test_a_large_phone_photo_is_accepted_and_stored_scaled_down(monkeypatch):
    monkeypatch.setattr(uploads, "STORED_LONG_SIDE", 400)
    photo = encoded(Image.effect_noise((1600, 1200), 60).convert("RGB"), "JPEG", quality=90)
    clean = uploads.reencode_image(photo, max_bytes=10 * 1024 * 1024)
    assert (clean.width, clean.height) == (400, 300)
    with Image.open(clean.content) as stored:
        assert stored.size == (400, 300)


def test_a_jpeg_over_the_photo_cap_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_JPEG_PIXELS", 100 * 100 - 1)
    photo = encoded(Image.new("RGB", (100, 100), "grey"), "JPEG")
    with pytest.raises(ValidationError, match="Картинка слишком большая"):
        uploads.reencode_image(photo, max_bytes=10 * 1024 * 1024)


def test_images_are_saved_without_the_slow_optimize_pass(monkeypatch):
    saved_options: list[dict] = []
    original_save = Image.Image.save

    def recording_save(self, fp, format=None, **params):
        saved_options.append(params)
        return original_save(self, fp, format=format, **params)

    monkeypatch.setattr(Image.Image, "save", recording_save)
    for image_format in ("JPEG", "PNG", "WEBP"):
        upload = encoded(Image.new("RGB", (64, 48), "red"), image_format)
        saved_options.clear()
        uploads.reencode_image(upload, max_bytes=1024 * 1024)
        assert saved_options and not saved_options[0].get("optimize")
