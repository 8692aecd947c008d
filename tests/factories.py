from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Store, User
from orders.models import Order, OrderItem
from orders.rules import protection_end_after_confirmation, protection_end_after_shipment

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"buyer{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    role = User.Role.BUYER
    time_zone = "Europe/Moscow"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SellerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"seller{n}")
    role = User.Role.SELLER
    store = factory.RelatedFactory("tests.factories.StoreFactory", factory_related_name="owner")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    owner = factory.SubFactory(
        UserFactory, role=User.Role.SELLER, username=factory.Sequence(lambda n: f"store-owner{n}")
    )
    name = factory.Sequence(lambda n: f"Store {n}")
    return_address = "Li Wei, Room 502, 18 Huaqiang Rd, Futian, Shenzhen 518000, China, +86 755 1234 5678"


class StaffFactory(UserFactory):
    """Staff with admin access; what they may do comes from `groups` (accounts/roles.py)."""

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True

    @factory.post_generation
    def groups(obj, create, extracted, **kwargs):
        if create and extracted:
            from django.contrib.auth.models import Group

            obj.groups.add(*Group.objects.filter(name__in=extracted))


def arbitrator(**kwargs) -> User:
    return StaffFactory(groups=["arbitrators"], **kwargs)


def support_agent(**kwargs) -> User:
    return StaffFactory(groups=["support"], **kwargs)


@dataclass
class Readers:
    """Every kind of account a visibility rule must tell apart, around one buyer and one seller:
    `all` of them, and the strangers a test gives orders and disputes of their own."""

    all: list[User]
    other_buyer: User
    other_seller: User
    # A buyer's account that owns a store (data an admin could make): not that store's seller.
    buyer_with_store: User


def readers_of_every_kind(buyer: User, seller: User) -> Readers:
    other_buyer, other_seller, buyer_with_store = UserFactory(), SellerFactory(), UserFactory()
    everyone: list[User] = [
        buyer,
        seller,
        other_buyer,
        other_seller,
        SellerFactory(store=None),  # a seller account without a store
        buyer_with_store,
        StaffFactory(),  # admin access, no permission on orders or disputes
        arbitrator(),
        support_agent(),
    ]
    return Readers(everyone, other_buyer, other_seller, buyer_with_store)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order in transit, shipped two days after payment, protection running."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    class Params:
        days_since_shipment = 10

    number = factory.Sequence(lambda n: f"{9000000000000000 + n}")
    buyer = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    status = Order.Status.IN_TRANSIT
    currency = "USD"
    total_amount = Decimal("25.00")
    shipping_method = "AliExpress Standard Shipping"
    tracking_number = factory.Sequence(lambda n: f"LP{n:011d}CN")
    protection_days = 60
    shipped_at = factory.LazyAttribute(lambda o: timezone.now() - timedelta(days=o.days_since_shipment))
    paid_at = factory.LazyAttribute(lambda o: o.shipped_at - timedelta(days=2))
    protection_due_at = factory.LazyAttribute(
        lambda o: protection_end_after_shipment(shipped_at=o.shipped_at, protection_days=o.protection_days)
    )
    item = factory.RelatedFactory(
        "tests.factories.OrderItemFactory", factory_related_name="order", unit_price=Decimal("25.00")
    )

    @classmethod
    def awaiting_shipment(cls, *, paid_at=None, handling_days=5, **kwargs) -> Order:
        paid_at = paid_at or timezone.now() - timedelta(days=1)
        return cls(
            status=Order.Status.AWAITING_SHIPMENT,
            shipped_at=None,
            protection_due_at=None,
            tracking_number="",
            paid_at=paid_at,
            handling_days=handling_days,
            ship_by=paid_at + timedelta(days=handling_days),
            **kwargs,
        )

    @classmethod
    def confirmed(cls, *, confirmed_at=None, **kwargs) -> Order:
        confirmed_at = confirmed_at or timezone.now() - timedelta(days=1)
        return cls(
            status=Order.Status.CONFIRMED,
            confirmed_at=confirmed_at,
            protection_due_at=protection_end_after_confirmation(confirmed_at=confirmed_at),
            **kwargs,
        )


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory, item=None)
    title = factory.Sequence(lambda n: f"Товар {n}")
    item_id = factory.Sequence(lambda n: f"{1005007000000000 + n}")
    quantity = 1
    unit_price = Decimal("10.00")
