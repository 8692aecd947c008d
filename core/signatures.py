"""Signed webhooks (the payment system, the logistics system): HMAC-SHA256 over
"<timestamp>.<raw body>" in a `t=<unix time>,v1=<hex>` header, and a timestamp tolerance so a
notice captured and replayed later is refused even with its real signature."""

import hashlib
import hmac
from datetime import datetime


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


def notice_verify(*, secret: str, header: str, body: bytes, now: datetime, tolerance_seconds: int) -> None:
    """Raise NoticeRejected unless `header` signs `body` with `secret` within the tolerance."""
    if not secret:
        raise NoticeRejected(503, "webhook secret not configured")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        raise NoticeRejected(400, "signature header must be t=<unix time>,v1=<hex>") from None
    expected = notice_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise NoticeRejected(401, "bad signature")
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise NoticeRejected(401, "timestamp outside the tolerance")
