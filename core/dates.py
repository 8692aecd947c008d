"""Lengths of time and deadlines as people read them."""

from django.utils.functional import lazy
from django.utils.translation import ngettext


def days(count: int) -> str:
    """`5 дней`, `3 дня`, `1 день` (the nominative, which is also the accusative: "за 5 дней",
    "ещё 3 дня"); phrase messages so that the number stands in one of those cases."""
    return ngettext("%(count)d день", "%(count)d дней", count) % {"count": count}


# For messages rendered later in the reader's language (e-mails).
days_lazy = lazy(days, str)
