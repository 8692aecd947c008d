from decimal import Decimal

from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """An amount in its own currency, written the way the reader's language writes money."""
    return format_money(amount, currency)
