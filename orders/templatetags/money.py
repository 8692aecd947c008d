from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "RUB": "₽", "EUR": "€"}


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """An amount in its own currency, written the way the reader's language writes money."""
    if amount is None:
        return ""
    number = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if (get_language() or "ru").startswith("ru"):
        return f"{number}\u00a0{symbol}"
    return f"{symbol}{number}" if symbol != currency else f"{number}\u00a0{currency}"
