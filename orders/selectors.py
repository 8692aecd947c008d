from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User

from .models import Order

# The "with a dispute" choice of the orders filter, beside the order statuses.
DISPUTED = "disputed"


def order_list(
    *, user: User, as_seller: bool = False, status: str = "", query: str = "", with_items: bool = True
) -> QuerySet[Order]:
    """The buyer's orders, or the seller's store orders, newest first, filtered as asked; with
    their items, unless the caller fetches those itself (for the rows it has to draw)."""
    orders = Order.objects.as_seller(user) if as_seller else Order.objects.as_buyer(user)
    if status == DISPUTED:
        orders = orders.filter(has_dispute=True)
    elif status:
        orders = orders.filter(status=status)
    query = query.strip()
    if query:
        digits = query.replace(" ", "")
        orders = orders.filter(Q(number__icontains=digits) | Q(items__title__icontains=query)).distinct()
    # A buyer's own list names the store; only the seller's names the buyer.
    related = ("store", "buyer", "dispute") if as_seller else ("store", "dispute")
    orders = orders.select_related(*related).order_by("-paid_at", "-pk")
    return orders.prefetch_related("items") if with_items else orders


def order_get(*, user: User, number: str, with_tracking: bool = False) -> Order:
    """The order for its buyer, its seller or staff; anyone else gets 404, as for a missing one.
    `with_tracking` fetches the carrier's events too (one more query) for pages that show them."""
    prefetch = ["items", "tracking_events"] if with_tracking else ["items"]
    try:
        return (
            Order.objects.visible_to(user)
            .select_related("store__owner", "buyer", "dispute", "cancellation")
            .prefetch_related(*prefetch)
            .get(number=number)
        )
    except Order.DoesNotExist:
        raise Http404 from None
