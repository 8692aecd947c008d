"""Money as the reader reads it: an amount in its own currency, never converted on the way."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


def shares(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` split in proportion to `weights`, in cents, adding up to `total` exactly: the cent
    rounding leaves over goes to the heaviest weight (a shipping price shared by an order's lines)."""
    if not weights:
        return []
    whole = sum(weights, Decimal("0"))
    if whole <= 0:
        parts = [Decimal("0")] * len(weights)
        parts[0] = total
        return parts
    parts = [to_cents(total * weight / whole) for weight in weights]
    heaviest = max(range(len(weights)), key=lambda index: weights[index])
    parts[heaviest] += total - sum(parts, Decimal("0"))
    return parts


# Spaces people type between thousands: a plain space, a no-break space, a narrow no-break space
# (what Russian number formatting itself writes) and a thin space.
_GROUP_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")


def amount_parse(text: str) -> Decimal | None:
    """An amount as people type it: "1 000", "1 000,50", "1000.5", "24,90", "1,000.50" (thousands
    apart with any kind of space, or with the other mark; a comma or a dot before the cents); None
    for anything else. A lone comma is the decimal one, as in Russian: "1,5" is one and a half."""
    cleaned = text.strip().translate(_GROUP_SPACES)
    marks = [char for char in cleaned if char in ",."]
    if len(set(marks)) == 2 and marks.count(marks[-1]) == 1:
        # "1,000.50" or "1.000,50": the last mark is the decimal one, the other groups thousands.
        cleaned = cleaned.replace(marks[0], "")
    elif len(marks) > 1:
        return None
    cleaned = cleaned.replace(",", ".")
    if not cleaned or not all(char.isascii() and (char.isdigit() or char in ".-") for char in cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None
