"""Demo users and orders for `make run`. Dates are relative to now so every state stays real."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders.models import Order, OrderItem
from orders.rules import protection_end_after_confirmation, protection_end_after_shipment

from .models import Store, User

DEMO_PASSWORD = "protect-me"

DEMO_USERS = [
    # username, role, store, staff group, first name
    ("buyer", User.Role.BUYER, None, None, "Анна"),
    ("buyer2", User.Role.BUYER, None, None, "Игорь"),
    ("seller", User.Role.SELLER, "Shenzhen Gadgets Store", None, "Li"),
    ("seller2", User.Role.SELLER, "Moda Home Official", None, "Wang"),
    ("arbitrator", User.Role.BUYER, None, "arbitrators", "Ольга"),
    ("support", User.Role.BUYER, None, "support", "Денис"),
]

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
]


@transaction.atomic
def seed_demo_data() -> dict:
    now = timezone.now()
    users = {}
    for username, role, store_name, group_name, first_name in DEMO_USERS:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", "role": role, "first_name": first_name}
        )
        user.set_password(DEMO_PASSWORD)
        if group_name:
            user.is_staff = True
            user.groups.add(Group.objects.get(name=group_name))
        user.save()
        if store_name:
            Store.objects.get_or_create(owner=user, defaults={"name": store_name})
        users[username] = user

    for number, buyer, seller, state, days_ago, protection_days, currency, tracking, items in DEMO_ORDERS:
        if Order.objects.filter(number=number).exists():
            continue
        paid_at = now - timedelta(days=days_ago)
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
            total_amount=sum(Decimal(price) * quantity for _, _, quantity, price in items),
        )
        if state != Order.Status.AWAITING_SHIPMENT:
            order.shipped_at = paid_at + timedelta(days=2)
            order.protection_ends_at = protection_end_after_shipment(
                shipped_at=order.shipped_at, protection_days=protection_days
            )
        if state in (Order.Status.DELIVERED, Order.Status.CONFIRMED, Order.Status.COMPLETED):
            order.delivered_at = paid_at + timedelta(days=min(days_ago - 1, 20))
        if state == Order.Status.CONFIRMED:
            order.confirmed_at = now - timedelta(days=3)
            order.protection_ends_at = protection_end_after_confirmation(confirmed_at=order.confirmed_at)
        if state == Order.Status.COMPLETED:
            order.completed_at = order.protection_ends_at
        order.save()
        OrderItem.objects.bulk_create(
            OrderItem(order=order, title=title, variant=variant, quantity=quantity, unit_price=Decimal(price))
            for title, variant, quantity, price in items
        )
    _seed_disputes(users, now)
    return {"users": User.objects.count(), "orders": Order.objects.count()}


def _seed_disputes(users: dict, now) -> None:
    from disputes import services as dispute_services
    from disputes.models import Dispute, ExchangeRate

    for currency, rate in (("USD", "92.5000"), ("EUR", "100.1000")):
        ExchangeRate.objects.update_or_create(
            currency=currency, defaults={"rub_per_unit": Decimal(rate), "as_of": now.date()}
        )
    if Dispute.objects.exists():
        return
    # A not-as-described dispute waiting for the seller's answer, opened yesterday.
    bedding = Order.objects.get(number="8100000000000003")
    dispute_services.dispute_open(
        order=bedding,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["wrong_attributes", "poor_quality"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("1500.00"),
        request_text="Заказывала сатин цвета «шампань», пришёл серый поплин, швы расходятся. Прошу вернуть 1500 ₽.",
        now=now - timedelta(days=1),
    )
    # A not-received dispute in which the seller made a counter-offer four days ago.
    lamp = Order.objects.get(number="8100000000000007")
    lamp_dispute = dispute_services.dispute_open(
        order=lamp,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_RECEIVED,
        problems=["in_transit_protection_ending"],
        request_text="Трек не обновляется 12 дней, посылка застряла на сортировке. Прошу вернуть деньги.",
        now=now - timedelta(days=4),
    )
    dispute_services.offer_make(
        dispute=lamp_dispute,
        user=users["seller2"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("10.00"),
        return_required=False,
        note="Посылка в пути, скоро придёт. Можем вернуть 10 € за задержку.",
    )
    # A dispute the seller accepted: refunded.
    sneakers = Order.objects.get(number="8100000000000009")
    sneakers_dispute = dispute_services.dispute_open(
        order=sneakers,
        buyer=users["buyer2"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["damaged"],
        request_text="Подошва отклеилась при первой примерке, фото прилагаю.",
        now=now - timedelta(days=6),
    )
    offer = sneakers_dispute.offers.get()
    dispute_services.offer_accept(dispute=sneakers_dispute, offer_id=offer.pk, user=users["seller2"])
    dispute_services.refund_execute(dispute_id=sneakers_dispute.pk)
    # The services stamp rows with the real time; move each dispute's history back with it.
    for dispute in Dispute.objects.all():
        shift = now - dispute.opened_at - timedelta(hours=1)
        for related in (dispute.events, dispute.messages, dispute.offers):
            related.update(created_at=F("created_at") - shift)
