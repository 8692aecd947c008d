"""What a dispute does when its refund is confirmed by the payment system or by staff."""

from datetime import datetime

from core.money import money_lazy
from orders.models import Refund
from orders.payments import on_refund_completed

from . import presenters, services
from .models import Dispute, DisputeEvent


@on_refund_completed(Refund.Purpose.DISPUTE)
def dispute_refund_completed(refund: Refund, now: datetime) -> None:
    # A refund of a dispute about an item names the item; one about an order without item rows does not.
    which = {"item_id": refund.item_id} if refund.item_id else {"order_id": refund.order_id, "item__isnull": True}
    dispute = services.dispute_lock(Dispute.objects.only("pk").get(**which).pk)
    if dispute.status != Dispute.Status.REFUNDING:
        return
    services.dispute_transition(
        dispute,
        to=Dispute.Status.REFUNDED,
        event=DisputeEvent.Kind.REFUND_COMPLETED,
        actor=refund.confirmed_by_user,
        changes={"refund_completed_at": now, "closed_at": now},
        amount=str(refund.amount),
        reference=refund.reference,
        confirmed_by=refund.confirmed_by,
    )
    services.notify(
        dispute,
        [dispute.buyer, dispute.store.owner],
        presenters.REFUNDED,
        "refunded",
        amount=money_lazy(refund.amount, refund.currency),
    )
