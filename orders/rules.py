"""Who may do what to an order and its refunds, and when: the orders rulebook (core.rules.Rulebook),
with the buyer-protection dates. Services refuse with `require()`, the order page draws its
buttons from `allowed()`, the deadline services ask `refusal()` with Role.SYSTEM, and the sweeps
take the due rows the deadlines at the end declare; so a date a page promises is the date the
server keeps."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core.dates import days
from core.rules import Permit, Role, Rulebook, allow, is_due, party_role, refuse

from .models import Order, OrderCancellation, ProtectionExtension, Refund, TrackingEvent

__all__ = ["Permit", "Role"]

PROTECTED_STATUSES = (Order.Status.IN_TRANSIT, Order.Status.DELIVERED, Order.Status.CONFIRMED)

# Which status may follow which (transitions as data): anything else is refused.
ORDER_PIPELINE: dict[str, frozenset[str]] = {
    Order.Status.AWAITING_SHIPMENT: frozenset({Order.Status.IN_TRANSIT, Order.Status.CANCELLED}),
    Order.Status.IN_TRANSIT: frozenset({Order.Status.DELIVERED, Order.Status.CONFIRMED, Order.Status.COMPLETED}),
    Order.Status.DELIVERED: frozenset({Order.Status.CONFIRMED, Order.Status.COMPLETED}),
    Order.Status.CONFIRMED: frozenset({Order.Status.COMPLETED}),
    Order.Status.COMPLETED: frozenset(),
    Order.Status.CANCELLED: frozenset(),
}


def transition_refusal(order: Order, to_status: str) -> str | None:
    if to_status not in ORDER_PIPELINE[order.status]:
        return _("Заказ уже в другом состоянии: обновите страницу.")
    return None


def protection_end_after_shipment(*, shipped_at: datetime, protection_days: int) -> datetime:
    return shipped_at + timedelta(days=protection_days)


def protection_end_after_confirmation(*, confirmed_at: datetime) -> datetime:
    return confirmed_at + timedelta(days=settings.DISPUTE_WINDOW_AFTER_CONFIRMATION_DAYS)


def confirm_reminder_due_at(order: Order) -> datetime | None:
    if order.protection_due_at is None:
        return None
    return order.protection_due_at - timedelta(days=settings.CONFIRM_DELIVERY_REMINDER_DAYS)


def protection_is_running(order: Order, now: datetime) -> bool:
    return order.status in PROTECTED_STATUSES and order.protection_due_at is not None and now < order.protection_due_at


@dataclass(frozen=True)
class ProtectionState:
    code: str  # "not_started", "running", "ended"
    ends_at: datetime | None
    days_left: int | None

    @property
    def is_running(self) -> bool:
        return self.code == "running"

    @property
    def ending_soon(self) -> bool:
        return (
            self.is_running and self.days_left is not None and self.days_left <= settings.CONFIRM_DELIVERY_REMINDER_DAYS
        )


def protection_state(order: Order, now: datetime) -> ProtectionState:
    if order.status == Order.Status.CANCELLED:
        return ProtectionState("cancelled", None, None)
    if order.status == Order.Status.AWAITING_SHIPMENT or order.protection_due_at is None:
        return ProtectionState("not_started", None, None)
    if protection_is_running(order, now):
        days_left = math.ceil((order.protection_due_at - now) / timedelta(days=1))
        return ProtectionState("running", order.protection_due_at, days_left)
    return ProtectionState("ended", order.protection_due_at, None)


def extension_max_days(order: Order) -> int:
    """How many days the buyer may still ask for: the total never passes the maximum."""
    return max(settings.PROTECTION_MAX_DAYS - order.protection_days, 0)


def protection_at_maximum() -> str:
    return _("Защита уже длится %(days)s: это наибольший срок.") % {"days": days(settings.PROTECTION_MAX_DAYS)}


def extension_limit(most: int) -> str:
    """Why more than `most` days cannot be asked for: the form says it beside the field, and the
    service when a request passes the form."""
    return _("Можно попросить самое большее %(most)s: вся защита длится не больше чем %(max)s.") % {
        "most": days(most),
        "max": days(settings.PROTECTION_MAX_DAYS),
    }


def extension_days_refusal(order: Order, requested: int) -> str | None:
    most = extension_max_days(order)
    if not 1 <= requested <= most:
        return extension_limit(most)
    return None


# --- before shipment: the seller's shipping deadline and the buyer's cancellation ---------------


def ship_by_for(*, paid_at: datetime, handling_days: int) -> datetime:
    """The seller ships by then (the listing's handling time), or the order is cancelled and refunded."""
    return paid_at + timedelta(days=handling_days)


def cancel_respond_by(*, requested_at: datetime) -> datetime:
    return requested_at + timedelta(days=settings.ORDER_CANCEL_SELLER_DAYS)


def tracking_event_refusal(happened_at: datetime, now: datetime) -> str | None:
    """A scan cannot come from the future (an hour of clock skew is allowed)."""
    if happened_at > now + timedelta(hours=1):
        return _("Событие отслеживания не может быть в будущем.")
    return None


def tracking_stalled_since(last_event_at: datetime | None, order: Order, now: datetime) -> datetime | None:
    """When the parcel last moved, if it has not moved for TRACKING_STALL_DAYS while in transit.
    A parcel without any event is not judged: its carrier may not report to us at all."""
    if order.status != Order.Status.IN_TRANSIT or last_event_at is None:
        return None
    if now - last_event_at < timedelta(days=settings.TRACKING_STALL_DAYS):
        return None
    return last_event_at


def parcel_moving(order: Order, tracking: list[TrackingEvent], now: datetime) -> bool:
    """The parcel is on its way to the buyer: in transit, its last scan neither a delivery nor a
    return, and not stalled. Only then is waiting (or asking for more days) worth advising."""
    if order.status != Order.Status.IN_TRANSIT:
        return False
    if tracking and tracking[-1].kind in (TrackingEvent.Kind.DELIVERED, TrackingEvent.Kind.RETURNED):
        return False
    return tracking_stalled_since(tracking[-1].happened_at if tracking else None, order, now) is None


# --- the rulebook ------------------------------------------------------------------------------


class Action(StrEnum):
    CONFIRM = "confirm"
    EXTEND = "extend"
    ACCEPT_EXTENSION = "accept_extension"
    REFUSE_EXTENSION = "refuse_extension"
    OPEN_DISPUTE = "open_dispute"
    CANCEL = "cancel"
    AGREE_CANCEL = "agree_cancel"
    SHIP = "ship"
    ASK_SUPPORT = "ask_support"
    # Deadlines, taken by the sweeps.
    REMIND_CONFIRM = "remind_confirm"
    COMPLETE = "complete"
    EXPIRE_CANCELLATION = "expire_cancellation"
    EXPIRE_UNSHIPPED = "expire_unshipped"
    SEND_REFUND = "send_refund"
    FLAG_STALE_REFUND = "flag_stale_refund"


# What the order page offers its buyer and seller.
PAGE_ACTIONS = (
    Action.CONFIRM,
    Action.EXTEND,
    Action.OPEN_DISPUTE,
    Action.CANCEL,
    Action.AGREE_CANCEL,
    Action.SHIP,
)


def role_of(order: Order, user: User) -> Role:
    return party_role(
        user, buyer_id=order.buyer_id, seller_id=order.store.owner_id, staff=(("orders.view_order", Role.OBSERVER),)
    )


@dataclass(frozen=True)
class Facts:
    """What the rules need beyond the order: read under the order's lock by a service, from the
    page's reads by a view."""

    has_pending_extension: bool = False
    extension: ProtectionExtension | None = None  # the request the seller answers
    cancellation: OrderCancellation | None = None  # the buyer's request to cancel, answered or not
    # The order's items that may still get a dispute (pks; selectors.undisputed_items), and the item
    # the buyer chose. None when not read (or the order has no item rows): then an order that had a
    # dispute gets no other.
    undisputed_items: frozenset[int] | None = None
    item_id: int | None = None


book: Rulebook[Order | Refund, Facts] = Rulebook("order", no_facts=Facts(), page_actions=PAGE_ACTIONS)
permit = book.permit
refusal = book.refusal
require = book.require
allowed = book.allowed


def _stale() -> str:
    return _("Заказ уже в другом состоянии: обновите страницу.")


# Confirming receipt and extending protection need the same: no dispute, the order not yet
# confirmed, shipped (in transit or delivered), protection still running. Each action words the
# refusals its own way: (confirm, extend).
_NO_DISPUTE = (
    _lazy("По заказу есть спор: подтверждать получение не нужно, деньги ждут итога спора."),
    _lazy("По заказу есть спор: продлевать защиту не нужно, деньги ждут итога спора."),
)
_NOT_CONFIRMED = (
    _lazy("Вы уже подтвердили получение этого заказа."),
    _lazy("Вы подтвердили получение, поэтому продлевать защиту больше не нужно."),
)
_SHIPPED = (
    _lazy("Подтвердить получение можно, когда заказ отправлен и ещё не завершён."),
    _lazy("Продлить защиту можно, пока заказ в пути и срок защиты не истёк."),
)
_RUNNING = (_lazy("Срок защиты закончился, заказ завершается."), _lazy("Срок защиты уже закончился."))


def _on_protection(order: Order, now: datetime, *, extending: bool) -> Permit:
    # With a dispute the money waits for its outcome; confirming would only cut protection short.
    for kept, words in (
        (not order.has_dispute, _NO_DISPUTE),
        (order.status != Order.Status.CONFIRMED, _NOT_CONFIRMED),
        (order.status in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED), _SHIPPED),
        (protection_is_running(order, now), _RUNNING),
    ):
        if not kept:
            return refuse(str(words[extending]))
    return allow(closes_at=order.protection_due_at)


@book.rule(Action.CONFIRM, by=Role.BUYER, otherwise=_lazy("Подтвердить получение может только покупатель."))
def _confirm(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    return _on_protection(order, now, extending=False)


@book.rule(Action.EXTEND, by=Role.BUYER, otherwise=_lazy("Продлить защиту может попросить только покупатель."))
def _extend(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    if not (running := _on_protection(order, now, extending=True)):
        return running
    if facts.has_pending_extension:
        return refuse(_("Продавец ещё не ответил на вашу прошлую просьбу."))
    if extension_max_days(order) <= 0:
        return refuse(protection_at_maximum())
    return running


ANSWER_EXTENSION_BY_SELLER = _lazy("Ответить на просьбу может только продавец этого заказа.")


def _answering_extension(facts: Facts) -> Permit:
    if facts.extension is None or facts.extension.status != ProtectionExtension.Status.PENDING:
        return refuse(_("Вы уже ответили на эту просьбу."))
    return allow()


@book.rule(Action.REFUSE_EXTENSION, by=Role.SELLER, otherwise=ANSWER_EXTENSION_BY_SELLER)
def _refuse_extension(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    return _answering_extension(facts)


@book.rule(Action.ACCEPT_EXTENSION, by=Role.SELLER, otherwise=ANSWER_EXTENSION_BY_SELLER)
def _accept_extension(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    if not (answering := _answering_extension(facts)):
        return answering
    if not protection_is_running(order, now) or order.status == Order.Status.CONFIRMED:
        return refuse(_("Защита по заказу уже закончилась, продлить её нельзя."))
    # Another extension may have been granted since the buyer asked: keep within the maximum.
    if extension_max_days(order) <= 0:
        return refuse(protection_at_maximum())
    return allow(closes_at=order.protection_due_at)


@book.rule(Action.OPEN_DISPUTE, by=Role.BUYER, otherwise=_lazy("Открыть спор может только покупатель заказа."))
def _open_dispute(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    if facts.undisputed_items is None:
        if order.has_dispute:
            return refuse(_("По этому заказу уже открывали спор. Спор по заказу открывается только один раз."))
    elif not facts.undisputed_items:
        return refuse(
            _("По каждому товару этого заказа уже открывали спор. По товару спор открывается только один раз.")
        )
    elif facts.item_id is not None and facts.item_id not in facts.undisputed_items:
        return refuse(_("По этому товару уже открывали спор. По каждому товару спор открывается только один раз."))
    if order.status == Order.Status.CANCELLED:
        return refuse(_("Заказ отменён, деньги возвращаются: спор не нужен."))
    if order.status == Order.Status.AWAITING_SHIPMENT:
        return refuse(_("Спор можно открыть, когда продавец отправит заказ."))
    if order.status == Order.Status.COMPLETED or not protection_is_running(order, now):
        return refuse(_("Срок защиты заказа закончился, поэтому открыть спор уже нельзя."))
    return allow(closes_at=order.protection_due_at)


@book.rule(Action.CANCEL, by=Role.BUYER, otherwise=_lazy("Отменить заказ может только его покупатель."))
def _cancel(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    if order.status != Order.Status.AWAITING_SHIPMENT:
        return refuse(_("Отменить можно только заказ, который ещё не отправлен."))
    if facts.cancellation is not None:
        return refuse(_("Вы уже попросили отменить этот заказ: продавец отвечает."))
    return allow()


def _pending(cancellation: OrderCancellation | None) -> OrderCancellation | None:
    if cancellation is None or cancellation.status != OrderCancellation.Status.PENDING:
        return None
    return cancellation


def _still_unshipped(order: Order) -> Permit:
    if order.status != Order.Status.AWAITING_SHIPMENT:
        return refuse(_("Заказ уже отправлен или отменён: обновите страницу."))
    return allow()


@book.rule(
    Action.AGREE_CANCEL, by=Role.SELLER, otherwise=_lazy("Согласиться на отмену может только продавец этого заказа.")
)
def _agree_cancel(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    if (cancellation := _pending(facts.cancellation)) is None:
        return refuse(_("Просьбы отменить этот заказ нет или на неё уже ответили: обновите страницу."))
    if not (unshipped := _still_unshipped(order)):
        return unshipped
    return allow(closes_at=cancellation.respond_by)


@book.rule(Action.SHIP, by=Role.SELLER, otherwise=_lazy("Отметить отправку может только продавец этого заказа."))
def _ship(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    # A cancelled order stays cancelled.
    if order.status == Order.Status.CANCELLED:
        return refuse(_("Заказ уже отменён, деньги возвращаются покупателю: отправлять его нельзя."))
    if order.status != Order.Status.AWAITING_SHIPMENT:
        return refuse(_("Заказ уже отправлен."))
    return allow(closes_at=order.ship_by)


@book.rule(Action.ASK_SUPPORT, by=Role.BUYER, otherwise=_lazy("Написать о заказе может только его покупатель."))
def _ask_support(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    """A question to support about the order, also after its dispute closed."""
    return allow()


# --- deadlines: only the sweeps take these ------------------------------------------------------


def _not_yet(deadline: datetime | None) -> Permit:
    return refuse(_("Срок ещё не наступил."), opens_at=deadline)


def _passed(deadline: datetime | None, now: datetime, not_yet: str) -> Permit:
    return allow() if is_due(deadline, now) else refuse(not_yet, opens_at=deadline)


@book.rule(Action.REMIND_CONFIRM, by=Role.SYSTEM)
def _remind_confirm(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    """The "please confirm delivery" e-mail: once, a few days before protection ends, while the
    parcel is still unconfirmed and no dispute is open."""
    if (
        order.status not in (Order.Status.IN_TRANSIT, Order.Status.DELIVERED)
        or order.has_dispute
        or order.confirm_reminder_sent_at is not None
        or not protection_is_running(order, now)
    ):
        return refuse(_stale())
    due_at = confirm_reminder_due_at(order)
    return allow() if is_due(due_at, now) else _not_yet(due_at)


@book.rule(Action.COMPLETE, by=Role.SYSTEM)
def _complete(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    """Protection is over and nothing holds the order."""
    if order.has_dispute:
        return refuse(_("По заказу открыт спор."))
    return _passed(order.protection_due_at, now, _("Защита заказа ещё действует."))


@book.rule(Action.EXPIRE_CANCELLATION, by=Role.SYSTEM)
def _expire_cancellation(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    """The seller neither agreed to the buyer's cancellation nor shipped by the deadline."""
    if (cancellation := _pending(facts.cancellation)) is None:
        return refuse(_("Просьбы отменить этот заказ нет или на неё уже ответили: обновите страницу."))
    if not is_due(cancellation.respond_by, now):
        return _not_yet(cancellation.respond_by)
    return _still_unshipped(order)


@book.rule(Action.EXPIRE_UNSHIPPED, by=Role.SYSTEM)
def _expire_unshipped(order: Order, role: Role, now: datetime, facts: Facts) -> Permit:
    """The shipping deadline passed on an order still awaiting shipment."""
    if order.status != Order.Status.AWAITING_SHIPMENT:
        return refuse(_("Заказ уже отправлен или отменён."))
    return _passed(order.ship_by, now, _("Срок отправки ещё не прошёл."))


@book.rule(Action.SEND_REFUND, by=Role.SYSTEM)
def _send_refund(refund: Refund, role: Role, now: datetime, facts: Facts) -> Permit:
    """A refund the payment system has not been given yet (after commit, or again by the sweep)."""
    if refund.status != Refund.Status.REQUESTED or refund.sent_at is not None:
        return refuse(_stale())
    return allow()


@book.rule(Action.FLAG_STALE_REFUND, by=Role.SYSTEM)
def _flag_stale_refund(refund: Refund, role: Role, now: datetime, facts: Facts) -> Permit:
    """A refund unconfirmed for too long: flagged for staff."""
    if refund.status != Refund.Status.REQUESTED or refund.stale_due_at is None:
        return refuse(_stale())
    return allow() if is_due(refund.stale_due_at, now) else _not_yet(refund.stale_due_at)


def _waiting_on_protection() -> QuerySet[Order]:
    # Matches the partial index order_protection_due_idx.
    return Order.objects.filter(status__in=PROTECTED_STATUSES, has_dispute=False)


book.deadline(
    Action.REMIND_CONFIRM,
    "protection_due_at",
    lambda: (
        _waiting_on_protection().filter(confirm_reminder_sent_at__isnull=True).exclude(status=Order.Status.CONFIRMED)
    ),
    after=lambda: -timedelta(days=settings.CONFIRM_DELIVERY_REMINDER_DAYS),
    ahead=True,
)
book.deadline(Action.COMPLETE, "protection_due_at", _waiting_on_protection)
# Reads the partial index cancellation_due_idx (pending requests by their deadline).
book.deadline(
    Action.EXPIRE_CANCELLATION,
    "cancellation__respond_by",
    lambda: Order.objects.filter(
        status=Order.Status.AWAITING_SHIPMENT, cancellation__status=OrderCancellation.Status.PENDING
    ),
)
# Reads the partial index order_ship_by_idx.
book.deadline(Action.EXPIRE_UNSHIPPED, "ship_by", lambda: Order.objects.filter(status=Order.Status.AWAITING_SHIPMENT))
book.deadline(Action.SEND_REFUND, "send_due_at", lambda: Refund.objects.filter(status=Refund.Status.REQUESTED))
book.deadline(Action.FLAG_STALE_REFUND, "stale_due_at", lambda: Refund.objects.filter(status=Refund.Status.REQUESTED))
