from django import template

register = template.Library()


@register.filter
def first_clause(text: object) -> str:
    """A headline's first clause, for an e-mail subject: "Спор по заказу 1 передан в претензию: …"
    becomes "Спор по заказу 1 передан в претензию"."""
    value = str(text).strip()
    cut = min((index for index in (value.find(": "), value.find(". ")) if index > 0), default=len(value))
    return value[:cut].rstrip(".")
