"""Evidence images cost bounded time and memory: caps checked from the header before decoding,
whatever the file's size; the pixels decoded in a child process with memory and CPU limits; big
images shrunk by a whole factor; one request's images bounded together; fewer requests decoding
at once than there are workers."""

import functools
import io
import os
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import files, image_child, uploads
from core.image_slots import ImageSlot
from disputes.models import Attachment


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


def padded(png: bytes, *, padding: int) -> bytes:
    """The PNG with a private chunk of random bytes before its end: the decoder skips it, so the
    file grows without costing anything to decode (the audit's 4470 x 4470 image carried 140 KB)."""
    body = os.urandom(padding)
    chunk = struct.pack(">I", len(body)) + b"prVt" + body + struct.pack(">I", zlib.crc32(b"prVt" + body))
    end = png.rindex(b"IEND") - 4
    return png[:end] + chunk + png[end:]


@functools.cache
def flat_png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (240, 240, 240, 255)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def padded_flat_png(size: tuple[int, int], *, padding: int = 140_000, name: str = "flat.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, padded(flat_png(size), padding=padding), content_type="image/png")


def test_the_pixel_cap_is_read_from_the_header_however_much_the_file_is_padded(monkeypatch):
    big = padded_flat_png((5000, 4100), padding=8 * 1024 * 1024)  # 20.5 MP, 8 MB of padding

    def decoding_forbidden(*args, **kwargs):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(Image.Image, "load", decoding_forbidden)
    with pytest.raises(ValidationError, match="больше 20 мегапикселей") as refused:
        uploads.reencode_image(big, max_bytes=10 * 1024 * 1024)
    assert refused.value.code == "image_too_large"


def test_the_audits_padded_png_is_decoded_in_a_child_process_and_stored_halved(monkeypatch):
    # 4470 x 4470 flat RGBA with 140 KB of padding: under the 20 MP cap, so it is accepted. Its
    # pixels are decoded by a child process: in this one, decoding would fail the test.
    attack = padded_flat_png((4470, 4470))

    def decoding_forbidden(*args, **kwargs):
        raise AssertionError("the web worker decoded the image itself")

    monkeypatch.setattr(Image.Image, "load", decoding_forbidden)
    clean = uploads.reencode_image(attack, max_bytes=10 * 1024 * 1024)
    # Halved by Image.reduce(2), not resized to 4096 by a Lanczos filter several times as costly.
    assert (clean.format, clean.width, clean.height) == ("PNG", 2235, 2235)
    monkeypatch.undo()
    with Image.open(clean.content) as stored:
        assert stored.size == (2235, 2235)


def test_an_image_that_needs_more_memory_than_the_child_may_use_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "CHILD_MEMORY_BYTES", 64 * 1024 * 1024)  # less than its pixels take
    with pytest.raises(ValidationError, match="слишком сложная") as refused:
        uploads.reencode_image(padded_flat_png((4470, 4470)), max_bytes=10 * 1024 * 1024)
    assert refused.value.code == "image_too_costly"


def test_an_image_whose_child_runs_out_of_cpu_time_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "CHILD_CPU_SECONDS", 0)  # the kernel stops it at its first tick
    with pytest.raises(ValidationError, match="слишком сложная") as refused:
        uploads.reencode_image(padded_flat_png((2000, 2000)), max_bytes=10 * 1024 * 1024)
    assert refused.value.code == "image_too_costly"


def test_a_screenshot_wider_than_the_stored_side_is_halved(monkeypatch):
    monkeypatch.setattr(uploads, "STORED_LONG_SIDE", 3072)
    screenshot = encoded(Image.new("RGB", (3840, 2160), "white"), "PNG")
    clean = uploads.reencode_image(screenshot, max_bytes=10 * 1024 * 1024)
    assert (clean.width, clean.height, clean.format) == (1920, 1080, "PNG")


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
    # What the child does, run here so that the saving can be watched.
    saved_options: list[dict] = []
    original_save = Image.Image.save

    def recording_save(self, fp, format=None, **params):
        saved_options.append(params)
        return original_save(self, fp, format=format, **params)

    monkeypatch.setattr(Image.Image, "save", recording_save)
    for image_format in ("JPEG", "PNG", "WEBP"):
        upload = encoded(Image.new("RGB", (64, 48), "red"), image_format)
        saved_options.clear()
        header, _body = image_child.reencode(upload.read(), max_jpeg=100_000, max_lossless=100_000, long_side=4096)
        assert header == {"format": image_format, "width": 64, "height": 48}
        assert saved_options and not saved_options[0].get("optimize")


def test_a_rotated_phone_photo_is_stored_upright_after_shrinking(monkeypatch):
    monkeypatch.setattr(uploads, "STORED_LONG_SIDE", 200)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; shown rotated 90 degrees clockwise
    photo = encoded(Image.new("RGB", (800, 600), "grey"), "JPEG", exif=exif)
    clean = uploads.reencode_image(photo, max_bytes=10 * 1024 * 1024)
    assert (clean.width, clean.height) == (150, 200)
    with Image.open(clean.content) as stored:
        assert stored.size == (150, 200)
        assert 0x0112 not in stored.getexif()


# --- one request's images together ----------------------------------------------------------


def _named(name: str, size) -> SimpleUploadedFile:
    upload = encoded(Image.new("RGB", size, "blue"), "PNG")
    upload.name = name
    return upload


@pytest.mark.django_db
def test_one_request_decodes_at_most_its_pixel_budget_and_the_rest_is_refused_by_name(monkeypatch, buyer):
    monkeypatch.setattr(uploads, "MAX_REQUEST_PIXELS", 3 * 100 * 100)
    batch = [_named(f"{n}.png", (100, 100)) for n in range(5)]
    result = files.uploads_store(model=Attachment, owner_id=buyer.pk, files=batch)
    assert sorted(item.display_name for item in result.stored) == ["0.png", "1.png", "2.png"]
    assert result.errors == [
        f"{n}.png: Вместе с остальными картинками эта слишком большая для одной отправки. Отправьте её отдельно."
        for n in (3, 4)
    ]
    assert Attachment.objects.count() == 3


@pytest.mark.django_db
def test_eight_of_the_audits_padded_pngs_in_one_request_decode_five_at_most(monkeypatch, buyer):
    # 8 x 20 MP: five fill the 100 MP a request may decode; the other three are refused unread.
    monkeypatch.setattr(uploads, "REQUEST_IMAGE_SECONDS", 120)  # the pixels decide here, not a busy machine
    batch = [padded_flat_png((4470, 4470), name=f"flat{n}.png") for n in range(8)]
    result = files.uploads_store(model=Attachment, owner_id=buyer.pk, files=batch)
    assert len(result.stored) == 5
    assert [error.split(":")[0] for error in result.errors] == ["flat5.png", "flat6.png", "flat7.png"]


@pytest.mark.django_db
def test_images_of_a_request_past_its_time_are_refused(monkeypatch, buyer):
    monkeypatch.setattr(uploads, "REQUEST_IMAGE_SECONDS", 0)
    result = files.uploads_store(model=Attachment, owner_id=buyer.pk, files=[_named("late.png", (50, 50))])
    assert result.stored == []
    assert result.errors == [
        "late.png: Сейчас сервер проверяет много картинок сразу. Выберите файл ещё раз и отправьте через минуту."
    ]


@pytest.mark.django_db
def test_while_every_image_slot_of_the_machine_is_taken_an_image_is_refused_not_queued(settings, buyer):
    settings.UPLOAD_IMAGE_SLOTS = 2
    settings.UPLOAD_IMAGE_SLOT_WAIT_SECONDS = 0.1
    others = [ImageSlot(), ImageSlot()]  # two other requests decoding right now
    assert all(slot.take() for slot in others)
    try:
        batch = [_named("box.png", (50, 50)), _named("label.png", (50, 50))]
        result = files.uploads_store(model=Attachment, owner_id=buyer.pk, files=batch)
        assert result.errors == [
            f"{name}: Сейчас сервер проверяет много картинок сразу. Выберите файл ещё раз и отправьте через минуту."
            for name in ("box.png", "label.png")
        ]
        assert not Attachment.objects.exists()
    finally:
        others[0].release()
    # One slot free again: the same file goes through.
    result = files.uploads_store(model=Attachment, owner_id=buyer.pk, files=[_named("box.png", (50, 50))])
    assert [item.display_name for item in result.stored] == ["box.png"]
    others[1].release()
