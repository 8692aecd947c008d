"""Demo orders in every state, dated relative to now so every state stays real."""

import io
import json
import zlib
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw

from accounts.models import User
from core.demo import demo_step

from . import feed, payments, services
from .models import FeedEvent, Order, OrderItem, Refund, SupportRequest, TrackingEvent

# number, buyer, store owner, state, days since paid, protection days, currency, tracking, items
DEMO_ORDERS = [
    (
        "8100000000000001",
        "buyer",
        "seller",
        "in_transit",
        57,
        60,
        "USD",
        "LP00123456789CN",
        [("Беспроводные наушники TWS Pro", "Чёрный", 1, "24.90")],
    ),
    (
        "8100000000000002",
        "buyer",
        "seller",
        "in_transit",
        10,
        45,
        "USD",
        "",
        [("Смарт-часы с пульсометром", "42 мм", 1, "39.50"), ("Ремешок силиконовый", "Синий", 2, "3.20")],
    ),
    (
        "8100000000000003",
        "buyer",
        "seller2",
        "delivered",
        25,
        40,
        "RUB",
        "RU123456789HK",
        [("Постельное бельё сатин", "Евро", 1, "3490.00")],
    ),
    (
        "8100000000000004",
        "buyer",
        "seller2",
        "confirmed",
        30,
        50,
        "RUB",
        "RU987654321HK",
        [("Плед флисовый", "200×220", 1, "1290.00"), ("Наволочки", "50×70", 2, "350.00")],
    ),
    (
        "8100000000000005",
        "buyer",
        "seller",
        "completed",
        120,
        60,
        "USD",
        "LP00999888777CN",
        [("Power bank 20000 mAh", "", 1, "18.75")],
    ),
    (
        "8100000000000006",
        "buyer",
        "seller",
        "awaiting_shipment",
        1,
        30,
        "USD",
        "",
        [("Кабель USB-C, 2 м", "", 3, "2.10")],
    ),
    (
        "8100000000000007",
        "buyer",
        "seller2",
        "in_transit",
        20,
        75,
        "EUR",
        "UA555666777CN",
        [("Настольная лампа LED", "Белая", 1, "21.00")],
    ),
    (
        "8100000000000008",
        "buyer2",
        "seller",
        "in_transit",
        5,
        45,
        "USD",
        "LP00444555666CN",
        [("Чехол для телефона", "Прозрачный", 1, "4.99")],
    ),
    (
        "8100000000000009",
        "buyer2",
        "seller2",
        "delivered",
        15,
        30,
        "RUB",
        "RU111222333HK",
        [("Кроссовки беговые", "42", 1, "2790.00")],
    ),
    (
        "8100000000000014",
        "buyer",
        "seller",
        "awaiting_shipment",
        2,
        45,
        "USD",
        "",
        [("Рюкзак городской", "Серый", 1, "27.40")],
    ),
    # Tracking stories for the dispute wizard: a parcel going back to the seller, and one the
    # carrier scanned as delivered a few days ago.
    (
        "8100000000000016",
        "buyer",
        "seller2",
        "in_transit",
        24,
        60,
        "EUR",
        "UA123987456CN",
        [("Электрочайник стеклянный", "1,7 л", 1, "32.00")],
    ),
    (
        "8100000000000017",
        "buyer",
        "seller",
        "delivered",
        21,
        45,
        "USD",
        "LP00555444333CN",
        [("Фитнес-браслет", "Чёрный", 1, "19.90")],
    ),
    # The seller never shipped: the shipping-deadline sweep cancelled it and refunded the buyer.
    (
        "8100000000000015",
        "buyer",
        "seller2",
        "cancelled",
        12,
        40,
        "RUB",
        "",
        [("Термокружка 500 мл", "Красная", 2, "690.00")],
    ),
    # Orders whose disputes became claims (disputes/demo.py).
    (
        "8100000000000010",
        "buyer",
        "seller",
        "delivered",
        50,
        60,
        "USD",
        "LP00777888999CN",
        [('Смартфон 6.5" 128 ГБ', "Синий", 1, "189.00")],
    ),
    (
        "8100000000000011",
        "buyer",
        "seller2",
        "delivered",
        55,
        70,
        "RUB",
        "RU222333444HK",
        [("Куртка зимняя", "L", 1, "5490.00")],
    ),
    (
        "8100000000000012",
        "buyer2",
        "seller",
        "delivered",
        60,
        75,
        "USD",
        "LP00123123123CN",
        [("Умные часы Pro", "46 мм", 1, "59.90")],
    ),
    (
        "8100000000000013",
        "buyer2",
        "seller2",
        "in_transit",
        48,
        60,
        "EUR",
        "UA999888777CN",
        [("Кофемолка ручная", "", 1, "34.00")],
    ),
]


@demo_step(20)
def seed_orders(now: datetime) -> None:
    """The demo's orders arrive as the marketplace's order events, through the feed itself
    (orders/feed.py); what the help centre does afterwards (a confirmation, the end of protection,
    the shipping-deadline sweep's cancellation) is then told as it happens here."""
    users = {
        user.username: user
        for user in User.objects.filter(
            username__in={row[1] for row in DEMO_ORDERS} | {row[2] for row in DEMO_ORDERS}
        ).select_related("store")
    }
    for row in DEMO_ORDERS:
        number, state = row[0], row[3]
        if Order.objects.filter(number=number).exists():
            continue
        for event in demo_order_events(row, users, now):
            answer = feed.feed_body_apply(
                json.dumps(event, ensure_ascii=False).encode(), source=FeedEvent.Source.DEMO, now=now, notify=False
            )
            assert answer.status == FeedEvent.Outcome.APPLIED, (event["id"], answer)
        _after_the_feed(Order.objects.select_related("buyer").get(number=number), state, now)
    seed_tracking(now)
    # A question to support waiting for its answer (the support demo login answers it in admin).
    no_tracking = Order.objects.filter(number="8100000000000002").first()
    if no_tracking is not None and not SupportRequest.objects.filter(order=no_tracking).exists():
        SupportRequest.objects.create(
            author=no_tracking.buyer,
            order=no_tracking,
            text="Продавец отправил заказ, но так и не дал трек-номер. Как узнать, где посылка?",
            created_at=now - timedelta(hours=5),
        )
    # Databases seeded before items had product ids or pictures.
    for item in OrderItem.objects.filter(order__number__in=[row[0] for row in DEMO_ORDERS]):
        if not item.item_id:
            item.item_id = demo_item_id(item.title)
            item.save(update_fields=["item_id"])
        if not item.image:
            item.image.save(f"{item.item_id}.png", ContentFile(demo_picture(item.title)), save=True)


def demo_order_events(row: tuple, users: dict[str, User], now: datetime) -> list[dict[str, Any]]:
    """The marketplace's events for one demo order, as JSON-ready dicts (docs/deploy.md shows the shapes)."""
    number, buyer, seller, state, days_ago, protection_days, currency, tracking, items = row
    paid_at = now - timedelta(days=days_ago)
    store_owner = users[seller]
    snapshot = {
        "number": number,
        "currency": currency,
        "buyer": _person(users[buyer]),
        "store": {
            "id": store_owner.store.marketplace_id,
            "name": store_owner.store.name,
            "seller": _person(store_owner),
        },
        "items": [
            {
                "title": title,
                "variant": variant,
                "quantity": quantity,
                "price": price,
                "product_id": demo_item_id(title),
            }
            for title, variant, quantity, price in items
        ],
        "shipping": {
            "method": "AliExpress Standard Shipping" if currency != "RUB" else "Почта России",
            "price": "0.00",
        },
        "protection_days": protection_days,
        "handling_days": 3 + int(number) % 5,  # listings promise 3 to 7 days
    }
    events: list[dict[str, Any]] = [
        _event(number, "placed", paid_at - timedelta(minutes=10), order=snapshot),
        _event(number, "paid", paid_at, order=snapshot),
    ]
    if state in (Order.Status.AWAITING_SHIPMENT, Order.Status.CANCELLED):
        return events
    carrier = "Почта России" if currency == "RUB" else "Cainiao"
    events.append(
        _event(
            number,
            "shipped",
            paid_at + timedelta(days=2),
            shipment={"carrier": carrier, "tracking_number": tracking},
        )
    )
    if state in (Order.Status.DELIVERED, Order.Status.CONFIRMED, Order.Status.COMPLETED):
        delivered_at = paid_at + timedelta(days=min(days_ago - 1, 20))
        events.append(_event(number, "delivered", delivered_at, delivery={"location": DELIVERY_PLACE}))
    return events


def _person(user: User) -> dict[str, str]:
    return {"id": user.marketplace_id or "", "email": user.email, "name": user.first_name}


def _event(number: str, kind: str, occurred_at: datetime, **body: Any) -> dict[str, Any]:
    order = body.pop("order", {"number": number})
    return {
        "id": f"demo-{number}-{kind}",
        "type": f"order.{kind}",
        "occurred_at": occurred_at.isoformat(),
        "order": order,
        **body,
    }


def _after_the_feed(order: Order, state: str, now: datetime) -> None:
    """What the help centre itself did to a demo order after the marketplace's events."""
    if state == Order.Status.CONFIRMED:
        services.order_confirm_receipt(order=order, buyer=order.buyer, now=now - timedelta(days=3))
    elif state == Order.Status.COMPLETED:
        assert order.protection_due_at is not None
        services.order_complete_expired(order_id=order.pk, now=order.protection_due_at, notify=False)
    elif state == Order.Status.CANCELLED:
        # The seller never shipped: the shipping-deadline sweep cancelled it, and the payment system
        # confirmed the refund two hours later.
        assert order.ship_by is not None
        cancelled_at = order.ship_by
        # order_transition is the inner kind (a sweep's row transaction holds it): the demo, an
        # entry point, opens that transaction itself.
        with transaction.atomic(durable=True):
            services.order_transition(
                order_id=order.pk,
                to_status=Order.Status.CANCELLED,
                actor=None,
                now=cancelled_at,
                changes={"cancelled_at": cancelled_at, "cancel_reason": Order.CancelReason.NOT_SHIPPED},
                details={"reason": Order.CancelReason.NOT_SHIPPED},
            )
        payments.refund_already_completed(
            order,
            amount=order.total_amount,
            currency=order.currency,
            reference=f"RF-{order.number}-DEMO",
            requested_at=cancelled_at,
            completed_at=cancelled_at + timedelta(hours=2),
            confirmed_by=Refund.ConfirmedBy.GATEWAY,
        )


DELIVERY_PLACE = "Отделение почты 101000"


# Tracking histories: (days after shipment, event, place). An order's history stops at its state:
# in transit orders stop before delivery, and some tell a story (stalled, returned to sender).
ROUTE = [
    (0.2, TrackingEvent.Kind.ACCEPTED, "Шэньчжэнь, Китай"),
    (1.5, TrackingEvent.Kind.IN_TRANSIT, "Сортировочный центр, Гуанчжоу"),
    (6.0, TrackingEvent.Kind.IN_TRANSIT, "Покинуло страну отправления"),
    (11.0, TrackingEvent.Kind.ARRIVED, "Москва, ММПО"),
    (12.0, TrackingEvent.Kind.CUSTOMS, "Москва, таможенный пост"),
    (14.0, TrackingEvent.Kind.LOCAL_POST, "Сортировочный центр, Подольск"),
    (17.0, TrackingEvent.Kind.LOCAL_POST, "Отделение почты 101000"),
]
RETURNED_ROUTE = [*ROUTE[:5], (16.0, TrackingEvent.Kind.RETURNED, "Москва, таможенный пост")]
# The first demo order stalls: nothing new after it reached customs.
STALLED = {"8100000000000001": 5}


def seed_tracking(now: datetime) -> None:
    # A carrier scans a parcel by its tracking number: an order shipped without one has no scans.
    orders = (
        Order.objects.filter(number__in=[row[0] for row in DEMO_ORDERS])
        .exclude(shipped_at=None)
        .exclude(tracking_number="")
    )
    for order in orders:
        assert order.shipped_at is not None
        route = RETURNED_ROUTE if order.number == "8100000000000016" else ROUTE
        if STALLED.get(order.number):
            route = route[: STALLED[order.number]]
        steps = [
            (order.shipped_at + timedelta(days=after), kind, place)
            for after, kind, place in route
            if order.shipped_at + timedelta(days=after) < min(now, order.delivered_at or now)
        ]
        # The delivery scan itself came with the marketplace's "delivered" event.
        for index, (happened_at, kind, place) in enumerate(steps):
            TrackingEvent.objects.get_or_create(
                external_id=f"demo-{order.number}-{index}",
                defaults={
                    "order": order,
                    "kind": kind,
                    "happened_at": happened_at,
                    "location": place,
                    "source": TrackingEvent.Source.DEMO,
                    "received_at": happened_at,
                },
            )


def demo_picture(title: str) -> bytes:
    """A small product picture for a demo item: a shape in colours derived from its title."""
    seed = zlib.crc32(title.encode())
    background = (230 + seed % 20, 232 + seed // 7 % 20, 236 + seed // 11 % 18)
    colour = (40 + seed % 160, 60 + seed // 13 % 150, 90 + seed // 17 % 140)
    picture = Image.new("RGB", (240, 240), background)
    draw = ImageDraw.Draw(picture)
    if seed % 3 == 0:
        draw.rounded_rectangle((60, 40, 180, 200), radius=24, fill=colour)
    elif seed % 3 == 1:
        draw.ellipse((50, 50, 190, 190), fill=colour)
    else:
        draw.polygon([(120, 40), (200, 190), (40, 190)], fill=colour)
    draw.rectangle((20, 210, 220, 220), fill=colour)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def demo_item_id(title: str) -> str:
    """A stable, real-looking marketplace product id for a demo item (the same title, the same id)."""
    return f"100500{zlib.crc32(title.encode()) % 10**10:010d}"
