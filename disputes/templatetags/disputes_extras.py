from django import template
from django_stubs_ext import StrOrPromise

from disputes.models import Dispute, Offer
from disputes.problems import ALL_PROBLEMS

register = template.Library()


@register.filter
def problem_labels(codes: list[str]) -> str:
    """A dispute's problems in words, joined: "Посылка пустая; Товар повреждён"."""
    return "; ".join(str(ALL_PROBLEMS[code].label) for code in codes if code in ALL_PROBLEMS)


@register.simple_tag
def return_postage(subject: Dispute | Offer, currency: str, viewer: str) -> StrOrPromise:
    """Who pays for sending the item back under the agreed outcome or an offer, in `viewer`'s words
    (empty when the item stays with the buyer)."""
    if isinstance(subject, Offer):
        return subject.return_postage_text(currency, viewer)
    return subject.return_postage_text(viewer)
