"""Demo orders in every state, dated relative to now so every state stays real."""

import io
import zlib
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from accounts.models import User
from core.demo import demo_step

from .models import Order, OrderItem, Refund, SupportRequest, TrackingEvent
from .rules import protection_end_after_confirmation, protection_end_after_shipment

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
    users = {
        user.username: user
        for user in User.objects.filter(
            username__in={row[1] for row in DEMO_ORDERS} | {row[2] for row in DEMO_ORDERS}
        ).select_related("store")
    }
    for number, buyer, seller, state, days_ago, protection_days, currency, tracking, items in DEMO_ORDERS:
        if Order.objects.filter(number=number).exists():
            continue
        paid_at = now - timedelta(days=days_ago)
        handling_days = 3 + int(number) % 5  # listings promise 3 to 7 days
        order = Order(
            number=number,
            buyer=users[buyer],
            store=users[seller].store,
            status=state,
            currency=currency,
            shipping_method="AliExpress Standard Shipping" if currency != "RUB" else "Почта России",
            tracking_number=tracking,
            protection_days=protection_days,
            paid_at=paid_at,
            handling_days=handling_days,
            ship_by=paid_at + timedelta(days=handling_days) if state == Order.Status.AWAITING_SHIPMENT else None,
            total_amount=sum(Decimal(price) * quantity for _, _, quantity, price in items),
        )
        if state == Order.Status.CANCELLED:
            order.cancelled_at = paid_at + timedelta(days=handling_days)
            order.cancel_reason = Order.CancelReason.NOT_SHIPPED
        elif state != Order.Status.AWAITING_SHIPMENT:
            order.shipped_at = paid_at + timedelta(days=2)
            order.protection_due_at = protection_end_after_shipment(
                shipped_at=order.shipped_at, protection_days=protection_days
            )
        if state in (Order.Status.DELIVERED, Order.Status.CONFIRMED, Order.Status.COMPLETED):
            order.delivered_at = paid_at + timedelta(days=min(days_ago - 1, 20))
        if state == Order.Status.DELIVERED and order.delivered_at is not None:
            # The delivery scan starts the 15-day dispute window, as a confirmation does.
            order.protection_due_at = protection_end_after_confirmation(confirmed_at=order.delivered_at)
        if state == Order.Status.CONFIRMED:
            order.confirmed_at = now - timedelta(days=3)
            order.protection_due_at = protection_end_after_confirmation(confirmed_at=order.confirmed_at)
        if state == Order.Status.COMPLETED:
            order.completed_at = order.protection_due_at
        order.save()
        if order.cancelled_at:
            Refund.objects.create(
                order=order,
                purpose=Refund.Purpose.CANCELLATION,
                amount=order.total_amount,
                currency=order.currency,
                reference=f"RF-{order.number}-DEMO",
                status=Refund.Status.COMPLETED,
                requested_at=order.cancelled_at,
                sent_at=order.cancelled_at,
                completed_at=order.cancelled_at + timedelta(hours=2),
                confirmed_by=Refund.ConfirmedBy.GATEWAY,
            )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                title=title,
                variant=variant,
                quantity=quantity,
                unit_price=Decimal(price),
                item_id=demo_item_id(title),
            )
            for title, variant, quantity, price in items
        )
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
    orders = Order.objects.filter(number__in=[row[0] for row in DEMO_ORDERS]).exclude(shipped_at=None)
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
        if order.delivered_at:
            steps.append((order.delivered_at, TrackingEvent.Kind.DELIVERED, "Отделение почты 101000"))
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
