"""Demo users and stores (core.demo runs this first)."""

from datetime import datetime

from django.contrib.auth.models import Group

from core.demo import DEMO_PASSWORD, demo_step

from .blocking import account_block
from .models import BlockReason, Store, User

DEMO_USERS = [
    # username, role, store, staff group, first name
    ("buyer", User.Role.BUYER, None, None, "Анна"),
    ("buyer2", User.Role.BUYER, None, None, "Игорь"),
    ("seller", User.Role.SELLER, "Shenzhen Gadgets Store", None, "Li"),
    ("seller2", User.Role.SELLER, "Moda Home Official", None, "Wang"),
    ("arbitrator", User.Role.BUYER, None, "arbitrators", "Ольга"),
    ("arbitrator2", User.Role.BUYER, None, "arbitrators", "Иван"),
    ("head", User.Role.BUYER, None, "arbitration_heads", "Марина"),
    ("support", User.Role.BUYER, None, "support", "Денис"),
    ("finance", User.Role.BUYER, None, "finance", "Сергей"),
]


# The demo's buyers and sellers are marketplace accounts too: the demo's orders arrive through the
# order feed (orders/demo.py), which finds them by these ids. They keep their local passwords.
DEMO_MARKETPLACE_IDS = {
    "buyer": "demo-buyer",
    "buyer2": "demo-buyer2",
    "seller": "demo-seller",
    "seller2": "demo-seller2",
}


def demo_store_marketplace_id(username: str) -> str:
    return f"demo-store-{username}"


@demo_step(10)
def seed_users(now: datetime) -> None:
    for username, role, store_name, group_name, first_name in DEMO_USERS:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", "role": role, "first_name": first_name}
        )
        user.set_password(DEMO_PASSWORD)
        user.marketplace_id = DEMO_MARKETPLACE_IDS.get(username)
        if group_name:
            user.is_staff = True
            user.groups.add(Group.objects.get(name=group_name))
        user.save()
        if store_name:
            store, _created = Store.objects.get_or_create(owner=user, defaults={"name": store_name})
            store.marketplace_id = demo_store_marketplace_id(username)
            if not store.return_address:
                store.return_address = DEMO_RETURN_ADDRESSES.get(username, "")
            store.save(update_fields=["return_address", "marketplace_id"])


DEMO_RETURN_ADDRESSES = {
    "seller": "Li Wei, Shenzhen Gadgets Store\nRoom 502, 18 Huaqiang North Rd, Futian District\n"
    "Shenzhen, Guangdong 518031, China\n+86 755 8888 1234",
    "seller2": "ООО «Мода Хоум», склад возвратов\nул. Складочная, 1, стр. 3\nМосква, 127018, Россия\n+7 495 123-45-67",
}


# A buyer blocked by support, to sign in as and appeal (accounts/blocking.py).
BLOCKED_USERNAME = "blocked"
BLOCKED_NOTE = (
    "За месяц открыто 9 споров «посылка пустая» по заказам, которые почта вручила с весом 0,4–1,2 кг. "
    "Пришлите видео распаковки и ответы почты по этим заказам."
)


@demo_step(11)
def seed_blocked_user(now: datetime) -> None:
    user, created = User.objects.get_or_create(
        username=BLOCKED_USERNAME,
        defaults={"email": f"{BLOCKED_USERNAME}@example.com", "role": User.Role.BUYER, "first_name": "Пётр"},
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    # Blocked once, when made: a demo visitor who unblocks it keeps it unblocked on the next run.
    if created:
        account_block(
            user=user,
            staff=User.objects.get(username="support"),
            reason=BlockReason.DISPUTE_ABUSE,
            note=BLOCKED_NOTE,
            now=now,
        )
