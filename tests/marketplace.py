"""Order events as the marketplace sends them, and the signed POST that carries them."""

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.signatures import signed_header

NUMBER = "8200000000000001"


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


def snapshot(
    number: str = NUMBER,
    *,
    buyer_id: str = "mp-buyer-1",
    buyer_email: str = "anna@example.com",
    store_id: str = "mp-store-1",
    seller_id: str = "mp-seller-1",
    currency: str = "USD",
    protection_days: int = 60,
    handling_days: int = 5,
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "number": number,
        "currency": currency,
        "buyer": {"id": buyer_id, "email": buyer_email, "name": "Анна"},
        "store": {
            "id": store_id,
            "name": f"Store {store_id}",
            "seller": {"id": seller_id, "email": f"{seller_id}@example.com", "name": "Li"},
        },
        "items": items
        or [
            {
                "title": "Беспроводные наушники",
                "variant": "Чёрный",
                "quantity": 2,
                "price": "12.45",
                "image_url": "https://img.marketplace.example/1005001.jpg",
                "product_id": "1005001234567890",
            }
        ],
        "shipping": {"method": "AliExpress Standard Shipping", "price": "1.10"},
        "protection_days": protection_days,
        "handling_days": handling_days,
    }


def event(kind: str, number: str = NUMBER, *, at: datetime | None = None, event_id: str | None = None, **body: Any):
    """One event; "placed" and "paid" carry the order's snapshot (pass `order=` to change it)."""
    order = body.pop("order", None) or (snapshot(number) if kind in ("placed", "paid") else {"number": number})
    at = at or timezone.now()
    return {
        "id": event_id or f"evt-{number}-{kind}",
        "type": f"order.{kind}",
        "occurred_at": at.isoformat(),
        "order": order,
        **body,
    }


def shipped(number: str = NUMBER, *, at: datetime | None = None, tracking: str = "LP00123456789CN", **kwargs: Any):
    return event("shipped", number, at=at, shipment={"carrier": "Cainiao", "tracking_number": tracking}, **kwargs)


def refunded(number: str = NUMBER, *, amount: str, currency: str = "USD", at: datetime | None = None, **extra: Any):
    refund = {"amount": amount, "currency": currency, **extra.pop("refund_extra", {})}
    return event("refunded", number, at=at, refund=refund, **extra)


def post_event(client, body: dict[str, Any] | bytes, *, secret: str | None = None, header: str | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    if header is None:
        header = signed_header(
            secret=settings.MARKETPLACE_FEED_SECRET if secret is None else secret,
            timestamp=int(timezone.now().timestamp()),
            body=raw,
        )
    return client.post(
        reverse("marketplace_order_feed"),
        data=raw,
        content_type="application/json",
        headers={"X-Marketplace-Signature": header} if header else {},
    )
