from django import template

from disputes.problems import ALL_PROBLEMS

register = template.Library()


@register.filter
def problem_labels(codes: list[str]) -> str:
    """A dispute's problems in words, joined: "Посылка пустая; Товар повреждён"."""
    return "; ".join(str(ALL_PROBLEMS[code].label) for code in codes if code in ALL_PROBLEMS)
