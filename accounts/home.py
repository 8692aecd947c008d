"""The personal account's home page, assembled from what each app contributes.

Apps register menu cards and panels in their own `account_home.py` (discovered when Django
starts), so accounts, the base app every other app imports, imports none of them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise

from .models import User


def _always(user: User) -> bool:
    return True


def has_store(user: User) -> bool:
    return hasattr(user, "store")


@dataclass(frozen=True)
class MenuCard:
    position: int
    title: Callable[[User], str] | Promise
    description: Promise
    url_name: str
    shown_to: Callable[[User], bool] = _always


@dataclass(frozen=True)
class Panel:
    """A part of the home page: a template and the context it needs, or None to leave it out."""

    position: int
    template: str
    context: Callable[[User, datetime], dict[str, Any] | None]
    above_menu: bool = False


_cards: dict[str, MenuCard] = {}
_panels: dict[str, Panel] = {}


def add_card(
    url_name: str,
    position: int,
    title: Callable[[User], str] | Promise,
    description: Promise,
    *,
    shown_to: Callable[[User], bool] = _always,
) -> None:
    """A card of the home page's menu, leading to `url_name`; cards are ordered by `position`."""
    _cards[url_name] = MenuCard(position, title, description, url_name, shown_to)


def panel(position: int, template: str, *, above_menu: bool = False) -> Callable[..., Any]:
    """Decorator on `context(user, now)`: registers a panel of the home page."""

    def decorate(context: Callable[[User, datetime], dict[str, Any] | None]) -> Callable[..., Any]:
        _panels[template] = Panel(position, template, context, above_menu)
        return context

    return decorate


@dataclass(frozen=True)
class ShownCard:
    title: str
    description: str
    url: str


@dataclass(frozen=True)
class ShownPanel:
    template: str
    context: dict[str, Any]
    above_menu: bool


def menu_for(user: User) -> list[ShownCard]:
    cards = sorted(_cards.values(), key=lambda card: card.position)
    return [
        ShownCard(
            title=str(card.title(user) if callable(card.title) else card.title),
            description=str(card.description),
            url=reverse(card.url_name),
        )
        for card in cards
        if card.shown_to(user)
    ]


def panels_for(user: User, now: datetime) -> list[ShownPanel]:
    shown = []
    for entry in sorted(_panels.values(), key=lambda entry: entry.position):
        context = entry.context(user, now)
        if context is not None:
            shown.append(ShownPanel(entry.template, context, entry.above_menu))
    return shown
