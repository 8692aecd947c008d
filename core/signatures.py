"""Signed webhooks (the payment system, the logistics system): HMAC-SHA256 over
"<timestamp>.<raw body>" in a `t=<unix time>,v1=<64 hex digits>` header, and a timestamp tolerance
so a notice captured and replayed later is refused even with its real signature.

Whatever arrives is refused with a status and a reason, never with a 500: the header's format is
checked before the comparison (hmac.compare_digest raises TypeError on non-ASCII text, and
anyone could fill the error log with that, unsigned), the digests are compared as bytes, and a
signed body is read by `notice_json`, which refuses what PostgreSQL could not store. Each webhook
then checks its fields' types and lengths in one function (`notice_text` here does one field)
before it looks anything up.
"""

import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings

MAX_HEADER_LENGTH = 500
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() also reads other scripts' digits
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
HEADER_FORMAT = "signature header must be t=<unix time>,v1=<64 hex digits>"


class NoticeRejected(Exception):
    """A webhook request refused before it changed anything: `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def notice_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 over "<timestamp>.<body>" that the sender puts in v1=."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={notice_signature(secret=secret, timestamp=timestamp, body=body)}"


def _header_parts(header: str) -> tuple[int, str]:
    """The timestamp and the signature of a well-formed header; NoticeRejected(400) otherwise."""
    if len(header) > MAX_HEADER_LENGTH or not header.isascii():
        raise NoticeRejected(400, HEADER_FORMAT)
    parts: dict[str, str] = {}
    for part in header.split(","):
        key, equals, value = part.strip().partition("=")
        if not equals or key in parts:
            raise NoticeRejected(400, HEADER_FORMAT)
        parts[key] = value
    timestamp, signature = parts.get("t", ""), parts.get("v1", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        raise NoticeRejected(400, HEADER_FORMAT)
    return int(timestamp), signature.lower()


def notice_verify(*, secret: str, header: str, body: bytes, now: datetime, tolerance_seconds: int) -> None:
    """Raise NoticeRejected unless `header` signs `body` with `secret` within the tolerance."""
    if not secret:
        raise NoticeRejected(503, "webhook secret not configured")
    timestamp, signature = _header_parts(header)
    expected = notice_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
        raise NoticeRejected(401, "bad signature")
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise NoticeRejected(401, "timestamp outside the tolerance")


def notice_verify_from(sender: str, *, header: str, body: bytes, now: datetime) -> None:
    """notice_verify with the secret and tolerance the settings give `sender`: `<sender>_SECRET` and
    `<sender>_TOLERANCE_SECONDS` (PAYMENT_WEBHOOK, TRACKING_WEBHOOK, MARKETPLACE_FEED)."""
    notice_verify(
        secret=getattr(settings, f"{sender}_SECRET"),
        header=header,
        body=body,
        now=now,
        tolerance_seconds=getattr(settings, f"{sender}_TOLERANCE_SECONDS"),
    )


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as infinity, which jsonb cannot hold
        raise ValueError(text)
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON, and jsonb refuses them


def _storable_text(text: str) -> bool:
    # PostgreSQL keeps no NUL in text or jsonb, and a lone surrogate (JSON's "\ud800") cannot be
    # written as UTF-8: either would fail only when the row is saved.
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


def notice_json(body: bytes | str) -> dict[str, Any]:
    """A signed body (or one line of an import) as a JSON object whose every text PostgreSQL can
    store; NoticeRejected(400)."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise NoticeRejected(400, "body must be a JSON object in UTF-8") from None
    if not isinstance(payload, dict):
        raise NoticeRejected(400, "body must be a JSON object, not a list or a single value")
    waiting: list[Any] = [payload]
    while waiting:
        value = waiting.pop()
        if isinstance(value, dict):
            waiting.extend(value.keys())
            waiting.extend(value.values())
        elif isinstance(value, list):
            waiting.extend(value)
        elif isinstance(value, str) and not _storable_text(value):
            raise NoticeRejected(400, "text in the body must not hold NUL characters or lone surrogates")
    return payload


def notice_object(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An optional nested object (absent or null reads as empty)."""
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NoticeRejected(400, f"{key} must be an object")
    return value


def notice_text(
    payload: Mapping[str, Any], key: str, *, max_length: int, required: bool = True, where: str = ""
) -> str:
    """One text field of a notice, 1 to `max_length` characters (or absent/empty when not
    required); NoticeRejected(400) naming the field otherwise."""
    name = f"{where}.{key}" if where else key
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise NoticeRejected(400, f"{name} must be a text of 1 to {max_length} characters")
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise NoticeRejected(400, f"{name} must be a text of {'1' if required else '0'} to {max_length} characters")
    return value
