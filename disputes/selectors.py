from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import User

from .models import Attachment, Dispute, DisputeEvent, ExchangeRate, Message, Offer


def disputes_visible_to(user: User) -> QuerySet[Dispute]:
    """Disputes a user may open: as the buyer, as the order's seller, or any for staff."""
    if user.is_staff:
        return Dispute.objects.all()
    condition = Q(buyer=user)
    if hasattr(user, "store"):
        condition |= Q(store=user.store)
    return Dispute.objects.filter(condition)


def dispute_get(*, user: User, pk: int) -> Dispute:
    """The dispute with everything its page shows, in a fixed number of queries; 404 for anyone
    who is not its buyer, its seller or staff."""
    try:
        return (
            disputes_visible_to(user)
            .select_related("order", "buyer", "store__owner")
            .prefetch_related(
                Prefetch("offers", queryset=Offer.objects.select_related("author")),
                Prefetch(
                    "messages",
                    queryset=Message.objects.select_related("author").prefetch_related(
                        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
                    ),
                ),
                Prefetch("events", queryset=DisputeEvent.objects.select_related("actor")),
                "order__items",
            )
            .get(pk=pk)
        )
    except Dispute.DoesNotExist:
        raise Http404 from None


def dispute_list(*, user: User, as_seller: bool = False) -> QuerySet[Dispute]:
    disputes = Dispute.objects.filter(store__owner=user) if as_seller else Dispute.objects.filter(buyer=user)
    return disputes.select_related("order", "store", "buyer").order_by("-opened_at", "-pk")


def attachment_get(*, user: User, token: str) -> Attachment:
    """A file for its dispute's buyer, seller and staff, or (before it is posted) its owner."""
    attachment = Attachment.objects.select_related("message__dispute__store").filter(token=token).first()
    if attachment is None:
        raise Http404
    if attachment.message is None:
        if attachment.owner_id != user.pk:
            raise Http404
        return attachment
    dispute = attachment.message.dispute
    if user.is_staff or user.pk in (dispute.buyer_id, dispute.store.owner_id):
        return attachment
    raise Http404


def pending_uploads(*, user: User, ids: list[int]) -> list[Attachment]:
    return list(Attachment.objects.filter(owner=user, message__isnull=True, pk__in=ids).order_by("pk"))


def rouble_equivalent(amount: Decimal | None, currency: str) -> tuple[Decimal, ExchangeRate] | None:
    """The amount in roubles at the stored rate, for showing beside it (never for paying)."""
    if amount is None or currency == "RUB":
        return None
    rate = ExchangeRate.objects.filter(currency=currency).first()
    if rate is None:
        return None
    return (amount * rate.rub_per_unit).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), rate
