"""Money as the reader reads it: an amount in its own currency, never converted on the way."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import get_language

CURRENCY_SYMBOLS = {"USD": "$", "RUB": "₽", "EUR": "€"}
CENT = Decimal("0.01")


def format_money(amount: Decimal | None, currency: str) -> str:
    """`1 500,00 ₽` in Russian, `$24.90` in English; an unknown currency keeps its code."""
    if amount is None:
        return ""
    number = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if (get_language() or "ru").startswith("ru"):
        return f"{number}\u00a0{symbol}"
    return f"{symbol}{number}" if symbol != currency else f"{number}\u00a0{currency}"


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# For messages rendered later in the reader's language (e-mails).
money_lazy = lazy(format_money, str)
