"""What the marketplace learns about its orders' disputes, through signed notices (core/webhooks.py).

Each function is called once, by the service that records the fact, inside its transaction:

- `dispute_opened`: a buyer opened a dispute about an item; the marketplace holds the seller's payout
  for the order.

Every notice names the dispute's item (`item_id`, the marketplace's product id, and `order_item_id`).
- `refund_decided`: the money is settled (an accepted offer, the seller's silence, or a final
  arbitration decision): how much goes back to the buyer, in which currency, and who pays it.
- `claim_closed`: a claim's decision became final (appeal window over, or the appeal decided).
- `dispute_closed`: the case ended (money back to the buyer, cancelled by the buyer, or closed
  without a refund); the marketplace releases or settles the payout it held.

Nothing is queued when no marketplace is configured (MARKETPLACE_WEBHOOK_URL).
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from core.webhooks import webhook_queue

from .models import Decision, Dispute, Winner

ENDED: dict[str, str] = {
    Dispute.Status.REFUNDED: "refunded",
    Dispute.Status.CANCELLED: "cancelled_by_buyer",
    Dispute.Status.CLOSED: "closed_without_refund",
}


def _case(dispute: Dispute) -> dict[str, Any]:
    item = dispute.item
    return {
        "order_number": dispute.order.number,
        # The item the dispute is about (each item of an order may have its own): the marketplace's
        # product id, and our line's id to tell two lines of the same product apart. Null for an
        # order without item rows (the dispute is about all of it).
        "item_id": item.item_id if item is not None else None,
        "order_item_id": item.pk if item is not None else None,
        "dispute_id": dispute.pk,
        "buyer_id": dispute.buyer.marketplace_id,
        "store_id": dispute.store.marketplace_id,
    }


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


def dispute_opened(dispute: Dispute, *, now: datetime) -> None:
    webhook_queue(
        kind="dispute.opened",
        dedupe_key=f"dispute-opened:{dispute.pk}",
        data={
            **_case(dispute),
            "kind": dispute.kind,
            "requested": _money(dispute.requested_amount, dispute.currency),
            "order_total": _money(dispute.order.total_amount, dispute.order.currency),
            # What was paid for the item (its share of shipping included): the most this dispute refunds.
            "item_paid": _money(dispute.paid_amount, dispute.currency),
            "hold_payout": True,
        },
        now=now,
    )


def refund_decided(
    dispute: Dispute,
    *,
    decided_by: str,
    amount: Decimal,
    return_required: bool,
    now: datetime,
    return_postage_limit: Decimal | None = None,
) -> None:
    """`decided_by`: "agreement" (an accepted offer), "seller_silence" (the seller did not answer in
    time) or "arbitration" (a final claim decision). `return_postage_limit`: the seller refunds the
    buyer's return postage up to it (None: the buyer pays it)."""
    webhook_queue(
        kind="dispute.refund_decided",
        dedupe_key=f"refund-decided:{dispute.pk}",
        data={
            **_case(dispute),
            "refund": _money(amount, dispute.currency),
            # The refund comes out of the seller's payout for the order; none when nothing is refunded.
            "paid_by": "seller" if amount > 0 else None,
            "return_required": return_required,
            "return_postage_paid_by_seller_up_to": (
                _money(return_postage_limit, dispute.currency) if return_required and return_postage_limit else None
            ),
            "decided_by": decided_by,
        },
        now=now,
    )


def claim_closed(dispute: Dispute, decision: Decision, *, now: datetime) -> None:
    """A claim's decision is final: the claim ends, and with it the money is decided."""
    webhook_queue(
        kind="claim.closed",
        dedupe_key=f"claim-closed:{dispute.pk}",
        data={
            **_case(dispute),
            "winner": decision.winner,
            "on_appeal": decision.kind == Decision.Kind.APPEAL,
            "refund": _money(decision.amount, decision.currency),
            "return_required": decision.return_required,
            "decided_at": decision.decided_at.isoformat(),
        },
        now=now,
    )
    refund_decided(
        dispute,
        decided_by="arbitration",
        amount=decision.amount if decision.winner != Winner.SELLER else Decimal("0"),
        return_required=decision.return_required,
        now=now,
    )


def dispute_closed(dispute: Dispute, *, now: datetime) -> None:
    refunded = dispute.status == Dispute.Status.REFUNDED and dispute.resolved_amount is not None
    webhook_queue(
        kind="dispute.closed",
        dedupe_key=f"dispute-closed:{dispute.pk}",
        data={
            **_case(dispute),
            "outcome": ENDED[dispute.status],
            "refunded": _money(dispute.resolved_amount if refunded else Decimal("0"), dispute.currency),  # type: ignore[arg-type]
            "was_claim": dispute.escalated_at is not None,
            "release_payout": True,
        },
        now=now,
    )
