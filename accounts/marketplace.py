"""Accounts of the marketplace this help centre runs beside.

A buyer, seller or store that the order feed (orders/feed.py) names for the first time gets an
account here without a password: its owner signs in with the marketplace account (OpenID Connect,
accounts/oidc.py), which finds the account again by the same marketplace id. Local passwords stay
for staff and for the demo accounts (which carry marketplace ids so the demo feed links to them).
"""

import re
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

from .models import Store, User

# What a marketplace id may look like: short, printable, no spaces; it becomes part of a username.
MARKETPLACE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,63}")
USERNAME_PREFIX = "mp-"


@dataclass(frozen=True)
class Person:
    """A marketplace account as an order event names it."""

    marketplace_id: str
    email: str = ""
    name: str = ""


@dataclass(frozen=True)
class StoreIdentity:
    marketplace_id: str
    name: str
    seller: Person


@dataclass(frozen=True)
class _Known:
    pk: int
    email: str
    name: str
    role: str


class MarketplaceAccounts:
    """Finds, makes and keeps up to date the accounts the feed names.

    `remember` bounds how many people and stores it keeps in memory between events (the bulk
    import names the same buyers and stores again and again; a web request starts afresh with 0).
    Call inside the transaction that applies the event: a concurrent first sighting of the same id
    raises IntegrityError there, and the feed applies the event again, finding the account.
    """

    def __init__(self, remember: int = 0) -> None:
        self.remember = remember
        self._people: OrderedDict[str, _Known] = OrderedDict()
        self._stores: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def person_id(self, who: Person, *, role: str) -> int:
        """The account's pk; made (without a password) the first time, its address, name and, for
        a seller, role brought up to date after."""
        known = self._people.get(who.marketplace_id)
        if known is None:
            row = (
                User.objects.filter(marketplace_id=who.marketplace_id)
                .values_list("pk", "email", "first_name", "role")
                .first()
            )
            known = _Known(*row) if row else self._new_person(who, role=role)
        changes: dict[str, str] = {}
        if who.email and who.email != known.email:
            changes["email"] = who.email
        if who.name and who.name != known.name:
            changes["first_name"] = who.name
        # Someone who sells is a seller here, whatever else they buy; a seller is never made a buyer.
        if role == User.Role.SELLER and known.role != User.Role.SELLER:
            changes["role"] = User.Role.SELLER
        if changes:
            User.objects.filter(pk=known.pk).update(**changes)
            known = _Known(
                known.pk,
                changes.get("email", known.email),
                changes.get("first_name", known.name),
                changes.get("role", known.role),
            )
        self._keep(self._people, who.marketplace_id, known)
        return known.pk

    def store_ids(self, identity: StoreIdentity) -> tuple[int, int]:
        """(store pk, owner pk): the store made with its seller's account the first time."""
        owner_id = self.person_id(identity.seller, role=User.Role.SELLER)
        known = self._stores.get(identity.marketplace_id)
        if known is None:
            row = Store.objects.filter(marketplace_id=identity.marketplace_id).values_list("pk", "owner_id").first()
            if row is None:
                store = Store.objects.create(
                    owner_id=owner_id, name=_free_store_name(identity), marketplace_id=identity.marketplace_id
                )
                row = (store.pk, owner_id)
            known = (row[0], row[1])
        self._keep(self._stores, identity.marketplace_id, known)
        return known

    def prefetch(self, people: Iterable[tuple[Person, str]], stores: Iterable[StoreIdentity]) -> None:
        """Find, and make without passwords, the accounts and stores of many events with a few
        statements (the bulk import does this for each batch); person_id and store_ids then answer
        from memory, doing only what they would do anyway (an address that changed)."""
        wanted: dict[str, tuple[Person, str]] = {}
        store_list = list(stores)
        for person, role in [*people, *((store.seller, User.Role.SELLER) for store in store_list)]:
            seen = wanted.get(person.marketplace_id)
            wanted[person.marketplace_id] = (person, User.Role.SELLER if seen and seen[1] == User.Role.SELLER else role)
        unknown = [marketplace_id for marketplace_id in wanted if marketplace_id not in self._people]
        self._remember_people(unknown)
        new = sorted(
            (wanted[marketplace_id] for marketplace_id in unknown if marketplace_id not in self._people),
            key=lambda pair: pair[0].marketplace_id,
        )
        if new:
            usernames = {person.marketplace_id: _username(person.marketplace_id) for person, _role in new}
            taken = set(User.objects.filter(username__in=usernames.values()).values_list("username", flat=True))
            users = []
            for person, role in new:
                username = usernames[person.marketplace_id]
                users.append(
                    User(
                        username=_free_username(person.marketplace_id) if username in taken else username,
                        email=person.email,
                        first_name=person.name[:150],
                        role=role,
                        marketplace_id=person.marketplace_id,
                        password=unusable_password(),
                    )
                )
            # Another import (or the live feed) may make the same account meanwhile: its row wins,
            # and is read back below. Sorted by id, so two batches take their locks in one order.
            User.objects.bulk_create(users, ignore_conflicts=True)
            self._remember_people([person.marketplace_id for person, _role in new])
        for person, role in wanted.values():
            self.person_id(person, role=role)
        self._prefetch_stores(store_list)

    def _remember_people(self, marketplace_ids: list[str]) -> None:
        for marketplace_id, pk, email, first_name, role in User.objects.filter(
            marketplace_id__in=marketplace_ids
        ).values_list("marketplace_id", "pk", "email", "first_name", "role"):
            self._keep(self._people, str(marketplace_id), _Known(pk, email, first_name, role))

    def _prefetch_stores(self, stores: list[StoreIdentity]) -> None:
        unknown = {store.marketplace_id: store for store in stores if store.marketplace_id not in self._stores}
        for marketplace_id, pk, owner_id in Store.objects.filter(marketplace_id__in=list(unknown)).values_list(
            "marketplace_id", "pk", "owner_id"
        ):
            self._keep(self._stores, str(marketplace_id), (pk, owner_id))
        new = sorted(
            (store for marketplace_id, store in unknown.items() if marketplace_id not in self._stores),
            key=lambda store: store.marketplace_id,
        )
        if not new:
            return
        names = {store.marketplace_id: (store.name.strip() or store.marketplace_id)[:120] for store in new}
        taken = set(Store.objects.filter(name__in=names.values()).values_list("name", flat=True))
        rows = []
        for store in new:
            name = names[store.marketplace_id]
            if name in taken:
                name = _free_store_name(store)
            taken.add(name)
            owner_id = self.person_id(store.seller, role=User.Role.SELLER)
            rows.append(Store(owner_id=owner_id, name=name, marketplace_id=store.marketplace_id))
        Store.objects.bulk_create(rows, ignore_conflicts=True)
        for marketplace_id, pk, owner_id in Store.objects.filter(
            marketplace_id__in=[store.marketplace_id for store in new]
        ).values_list("marketplace_id", "pk", "owner_id"):
            self._keep(self._stores, str(marketplace_id), (pk, owner_id))

    def forget(self) -> None:
        """Drop what is remembered (after a rolled-back transaction, the rows may not exist)."""
        self._people.clear()
        self._stores.clear()

    def _new_person(self, who: Person, *, role: str) -> _Known:
        user = User(
            username=_free_username(who.marketplace_id),
            email=who.email,
            first_name=who.name[:150],
            role=role,
            marketplace_id=who.marketplace_id,
            password=unusable_password(),
        )
        user.save()
        return _Known(user.pk, user.email, user.first_name, user.role)

    def _keep(self, table: OrderedDict, key: str, value: object) -> None:
        if self.remember <= 0:
            return
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.remember:
            table.popitem(last=False)


def unusable_password() -> str:
    """What Django's set_unusable_password() stores ("!" and random text: no password matches it),
    made with one call to the system's random source instead of forty (the import makes many)."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _username(marketplace_id: str) -> str:
    # Usernames are public (the other party sees them): the marketplace id, not the address.
    return USERNAME_PREFIX + marketplace_id.replace(":", "-")


def _free_username(marketplace_id: str) -> str:
    base = _username(marketplace_id)
    candidate, number = base, 1
    while User.objects.filter(username=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _free_store_name(identity: StoreIdentity) -> str:
    name = (identity.name.strip() or identity.marketplace_id)[:120]
    if Store.objects.filter(name=name).exists():
        name = f"{name[: 120 - len(identity.marketplace_id) - 3]} ({identity.marketplace_id})"
    return name
