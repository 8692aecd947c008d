import io
import posixpath
import struct
import zlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import files
from disputes import services
from disputes.models import Attachment, Dispute


def open_dispute(order, *, now=None, **overrides) -> Dispute:
    arguments: dict[str, Any] = {
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


def raw_pdf(*, catalog: bytes = b"", page: bytes = b"", extra: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF written byte by byte, with a correct cross-reference table, so a test can
    put in exactly the bytes it means (escaped names, objects nothing refers to). `catalog` and
    `page` are added to those dictionaries; `extra` objects are numbered from 4."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> " + page + b" >>",
        *extra,
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_file(name="act.pdf", catalog=b"") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, raw_pdf(catalog=catalog), "application/pdf")


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


def store_upload(owner, upload) -> Attachment:
    """Check and keep one file as a dispute form does; a refused file raises with its message."""
    result = files.uploads_store(model=Attachment, owner_id=owner.pk, files=[upload])
    if result.errors:
        raise ValueError("; ".join(result.errors))
    return result.stored[0]


def stored_files(folder: str = "") -> list[str]:
    """Every file name the upload storage holds (on disk or in the bucket), to compare with the rows
    that own them."""
    from django.core.files.storage import default_storage

    try:
        folders, names = default_storage.listdir(folder)
    except FileNotFoundError:  # a folder on disk nothing was stored in yet
        return []
    found = [posixpath.join(folder, name) for name in names]
    for inner in folders:
        found += stored_files(posixpath.join(folder, inner))
    return sorted(found)


REASON = (
    "Видео распаковки показывает, что наушники не включаются с первого дня; продавец не прислал доказательств, "
    "что товар был исправен при отправке."
)


def escalate(dispute: Dispute, *, now=None) -> Dispute:
    """The buyer turns the dispute into a claim as soon as that is allowed."""
    import time_machine

    with time_machine.travel(now or dispute.escalation_opens_at + timedelta(minutes=1)):
        services.dispute_escalate(dispute=dispute, user=dispute.buyer)
    dispute.refresh_from_db()
    return dispute


def decide(
    dispute: Dispute, *, arbitrator=None, winner="buyer", amount=None, return_required=False, reason=REASON, now=None
):
    """An arbitrator takes the claim and decides it."""
    from disputes import claims

    from .factories import arbitrator as new_arbitrator

    arbitrator = arbitrator or new_arbitrator()
    if dispute.claim.assigned_to_id != arbitrator.pk:
        claims.claim_take(dispute=dispute, arbitrator=arbitrator, now=now)
    return claims.claim_decide(
        dispute=dispute,
        arbitrator=arbitrator,
        winner=winner,
        amount=None if amount is None else Decimal(str(amount)),
        return_required=return_required,
        reason=reason,
        now=now,
    )
