"""The arbitration policy in templates: its words on the claim page, and the rule's reason the
parties read with a decision that followed it (disputes/policy.py)."""

from decimal import Decimal

from django import template

from disputes import policy
from disputes.models import Decision, Winner

register = template.Library()


@register.filter
def winner_label(winner: str) -> str:
    return str(Winner(winner).label) if winner in Winner.values else winner


@register.filter
def outcome_amount(outcome: policy.Outcome, paid: Decimal) -> Decimal:
    return outcome.amount(paid)


@register.filter
def missing_label(evidence: policy.Evidence | None) -> str:
    return str(policy.MISSING_LABELS[evidence]) if evidence is not None else ""


@register.simple_tag
def policy_reason(decision: Decision) -> str:
    """The rule's reason to quote with `decision`, or "" (the parties never read more of the policy)."""
    return policy.quoted_reason(decision) or ""
