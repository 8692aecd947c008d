import io
import struct
import zlib
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from disputes import services
from disputes.models import Dispute


def open_dispute(order, *, now=None, **overrides) -> Dispute:
    arguments = {
        "kind": Dispute.Kind.NOT_AS_DESCRIBED,
        "problems": ["not_working"],
        "refund_type": Dispute.RefundType.FULL,
        "amount": None,
        "return_item": False,
        "request_text": "Наушники не включаются, видео прилагаю. Прошу вернуть деньги.",
    }
    arguments.update(overrides)
    return services.dispute_open(order=order, buyer=order.buyer, now=now, **arguments)


def png_file(name="photo.png", size=(32, 24)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "blue").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def jpeg_with_gps(name="gps.jpg") -> SimpleUploadedFile:
    image = Image.new("RGB", (40, 30), "green")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (55.0, 45.0, 0.0), 3: "E", 4: (37.0, 37.0, 0.0)}
    exif[0x8825] = gps
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def html_as_jpeg() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "photo.jpg", b"\xff\xd8\xff<html><body><script>alert(document.cookie)</script></body></html>", "image/jpeg"
    )


def svg_file() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>', "image/svg+xml"
    )


def decompression_bomb() -> SimpleUploadedFile:
    """A tiny PNG whose header claims 60,000 x 60,000 pixels."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr_start = 8 + 8  # signature, then length and type of the IHDR chunk
    data[ihdr_start : ihdr_start + 8] = struct.pack(">II", 60_000, 60_000)
    crc = zlib.crc32(bytes(data[12 : ihdr_start + 13]))
    data[ihdr_start + 13 : ihdr_start + 17] = struct.pack(">I", crc)
    return SimpleUploadedFile("bomb.png", bytes(data), "image/png")


def truncated_jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "red").save(buffer, format="JPEG", quality=95)
    data = buffer.getvalue()
    return SimpleUploadedFile("cut.jpg", data[: len(data) // 3], "image/jpeg")


def mp4_file(name="unboxing.mp4", size=4096) -> SimpleUploadedFile:
    header = struct.pack(">I", 24) + b"ftypmp42" + b"\x00\x00\x00\x00" + b"mp42isom"
    return SimpleUploadedFile(name, header + b"\x00" * size, "video/mp4")


def pdf_file(name="act.pdf", body=b"1 0 obj << /Type /Catalog >> endobj") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + body + b"\ntrailer\n%%EOF\n", "application/pdf")


def amount(value: str) -> Decimal:
    return Decimal(value)


def seller_counter_offer(dispute: Dispute, *, amount: str = "5", now=None):
    """The seller refuses the request and offers a partial refund."""
    return services.offer_make(
        dispute=dispute,
        user=dispute.store.owner,
        refund_type="partial",
        amount=Decimal(amount),
        return_required=False,
        note=f"Предлагаем {amount}",
        now=now,
    )
