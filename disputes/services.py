"""Every change to a dispute. Each one locks the dispute row (only that row), asks the rulebook
(disputes/rules.py) whether the action is allowed from the state the row is in now, writes,
records a DisputeEvent and queues mail after commit."""

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, NotRequired, Protocol, TypedDict, Unpack

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from accounts.emails import Mail, email_queue_all
from accounts.models import User
from core.dates import days_lazy
from core.errors import ActionRefused
from core.money import money_lazy
from core.rules import save_move
from core.tracking_numbers import tracking_number_normalise, tracking_number_problem
from orders import rules as order_rules
from orders import selectors as order_selectors
from orders.models import Order, OrderItem, Refund
from orders.payments import refund_request
from orders.services import order_lock

from . import outcomes, presenters, rules
from .links import evidence_link_clean
from .models import Attachment, Claim, Dispute, DisputeEvent, Message, Offer
from .problems import problems_refusal, tracking_refusal
from .rules import Action, Role

S = Dispute.Status
logger = logging.getLogger(__name__)


# What every dispute service reads with the locked row: the order, and both parties to address.
DISPUTE_RELATED = ("order", "item", "buyer", "store__owner")


def dispute_lock(dispute_id: int) -> Dispute:
    """The dispute row, locked for this transaction; its order, buyer and store are read with it
    but not locked (an order is locked before its dispute, never after)."""
    return Dispute.objects.select_for_update(of=("self",)).select_related(*DISPUTE_RELATED).get(pk=dispute_id)


def deadline_row(dispute_id: int | None, dispute: Dispute | None) -> Dispute:
    """The dispute a deadline service acts on: the one its sweep has locked and read, or, by id,
    locked here."""
    if dispute is not None:
        return dispute
    assert dispute_id is not None
    return dispute_lock(dispute_id)


def _pending_offer(dispute: Dispute) -> Offer | None:
    return Offer.objects.select_for_update(of=("self",)).filter(dispute=dispute, status=Offer.Status.PENDING).first()


def _locked_for(action: Action, dispute: Dispute, user: User, now: datetime) -> tuple[Dispute, Role]:
    """The dispute, locked, and the user's role in it, once the rulebook allows them `action`."""
    dispute = dispute_lock(dispute.pk)
    role = rules.role_of(dispute, user)
    rules.require(action, dispute, role, now)
    return dispute, role


def _answering_offer(
    dispute: Dispute, offer_id: int, user: User, action: Action, now: datetime
) -> tuple[Dispute, Role, Offer]:
    """The dispute, locked, the user's role in it and the pending offer `offer_id` they answer,
    once the rulebook allows `action` (accept or refuse it)."""
    dispute = dispute_lock(dispute.pk)
    role = rules.role_of(dispute, user)
    offer = _pending_offer(dispute)
    rules.require(action, dispute, role, now, rules.Facts(pending_offer=offer))
    assert offer is not None
    if offer.pk != offer_id:
        raise ActionRefused(_("Это предложение уже не действует: обновите страницу."))
    return dispute, role, offer


def record(dispute: Dispute, kind: str, actor: User | None, **details: Any) -> DisputeEvent:
    """The event for the timeline; the seller's first event in the negotiation also marks the
    dispute answered. What the seller does once the request was granted for their silence, or
    once the buyer took the dispute to a claim (an answer to the arbitrator, a return received),
    answers no longer the dispute: the store's record would count days of arbitration as the time
    the seller took to answer."""
    event = DisputeEvent.record(dispute, kind, actor, **details)
    answering = not dispute.seller_silent and dispute.escalated_at is None
    if event.actor_role == Role.SELLER and dispute.seller_answered_at is None and answering:
        dispute.seller_answered_at = event.created_at
        dispute.save(update_fields=["seller_answered_at", "updated_at"])
    return event


def _other_party(dispute: Dispute, role: Role) -> User:
    return dispute.store.owner if role == Role.BUYER else dispute.buyer


def notify(
    dispute: Dispute,
    users: list[User],
    headline: presenters.Headline,
    key: str,
    *,
    lines: tuple[StrOrPromise, ...] = (),
    due_at: datetime | None = None,
    due_label: StrOrPromise = "",
    **values: Any,
) -> None:
    """Queue one service e-mail per user, worded for the reader's side (disputes/presenters.py):
    `headline` has {number} for the order (and any other `values`), rendered in each recipient's
    language; `lines` follow it; `due_at` is shown in the reader's time zone after `due_label`.
    Staff (neither party) are sent to the claim's page in admin, where they act, not the parties' page."""
    mails = []
    for user in users:
        role = presenters.reader_role(dispute, user.pk)
        context = {
            "dispute": dispute,
            "staff_reader": role == Role.NONE,
            "headline": format_lazy(headline.for_role(role), number=dispute.order.number, **values),
            "lines": list(lines),
            "due_at": due_at,
            "due_label": due_label,
        }
        mails.append(Mail(user, "dispute_update", context, dedupe_key=f"dispute:{dispute.pk}:{key}:{user.pk}"))
    email_queue_all(mails)


def dispute_transition(
    dispute: Dispute,
    *,
    to: str,
    event: str,
    actor: User | None,
    changes: dict[str, Any] | None = None,
    **details: Any,
) -> Dispute:
    """Move a locked dispute to `to`: the one place a dispute's status changes.

    Call inside transaction.atomic with the row locked by dispute_lock(). Refuses a move the
    pipeline does not allow from the status the row holds now.
    """
    save_move(dispute, to, rules.transition_refusal(dispute, to), changes)
    return _moved(dispute, to=to, event=event, actor=actor, **details)


def _moved(dispute: Dispute, *, to: str, event: str, actor: User | None, **details: Any) -> Dispute:
    """What follows a dispute's move once its row is saved: the event, and the outcome if it ended."""
    record(dispute, event, actor, **details)
    if to in outcomes.ENDED:
        outcomes.dispute_closed(dispute, now=dispute.closed_at or timezone.now())
    return dispute


def claim_attachments(*, owner: User, ids: list[int], message: Message) -> int:
    """Attach the owner's unclaimed uploads to the message that carries them."""
    if len(ids) > settings.UPLOAD_MAX_FILES:
        raise ActionRefused(_("Не больше %(count)d файлов за раз.") % {"count": settings.UPLOAD_MAX_FILES})
    return Attachment.objects.filter(Attachment.unclaimed(), owner=owner, pk__in=ids).update(message=message)


def _refund_amount(amount: Decimal | None, refund_type: str, *, paid: Decimal, currency: str) -> Decimal:
    """The amount a full or partial refund stands for, checked against the one bound: what was
    paid for the dispute's item."""
    amount = paid if refund_type == Dispute.RefundType.FULL else amount
    if message := rules.refund_amount_refusal(amount, paid=paid, currency=currency, partial=refund_type != "full"):
        raise ActionRefused(message)
    assert amount is not None
    return amount


def _disputed_item(order: Order, item_id: int | None) -> tuple[OrderItem | None, Decimal, order_rules.Facts]:
    """The item of the locked order a new dispute is about, what was paid for it, and the
    rulebook's facts (which items may still get a dispute). An order of one item needs no choice;
    an order without item rows has one dispute about the whole of it."""
    items = list(OrderItem.objects.filter(order=order).select_related("dispute").order_by("pk"))
    if not items:
        return None, order.total_amount, order_rules.Facts()
    if item_id is None and len(items) == 1:
        item_id = items[0].pk
    chosen = next((item for item in items if item.pk == item_id), None)
    if chosen is None:
        raise ActionRefused(_("Выберите товар, о котором спор."))
    facts = order_rules.Facts(undisputed_items=order_selectors.undisputed_items(order, items), item_id=chosen.pk)
    return chosen, order.paid_per_item(items)[chosen.pk], facts


# --- opening --------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def dispute_open(
    *,
    order: Order,
    buyer: User,
    kind: str,
    problems: list[str],
    held_by_customs: bool = False,
    wrong_address: bool = False,
    refund_type: str = Dispute.RefundType.FULL,
    amount: Decimal | None = None,
    return_item: bool = False,
    request_text: str,
    attachment_ids: list[int] | None = None,
    link: str = "",
    item_id: int | None = None,
    now: datetime | None = None,
) -> Dispute:
    """Open the one dispute an item of the order may ever have (`item_id`; none needed for an
    order of one item)."""
    now = now or timezone.now()
    link = evidence_link_clean(link)
    # The order row is the lock two tabs or a double click queue on: the second sees the first.
    order = order_lock(order.pk)
    item, paid, facts = _disputed_item(order, item_id)
    order_rules.require(order_rules.Action.OPEN_DISPUTE, order, order_rules.role_of(order, buyer), now, facts)
    if message := problems_refusal(kind, problems) or tracking_refusal(
        problems, has_tracking=bool(order.tracking_number)
    ):
        raise ActionRefused(message)
    if kind == Dispute.Kind.NOT_RECEIVED:
        refund_type, return_item = Dispute.RefundType.FULL, False
    amount = _refund_amount(amount, refund_type, paid=paid, currency=order.currency)
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                order=order,
                item=item,
                paid_amount=paid,
                buyer=buyer,
                store=order.store,
                kind=kind,
                problems=problems,
                held_by_customs=held_by_customs,
                wrong_address=wrong_address,
                refund_type=refund_type,
                requested_amount=amount,
                currency=order.currency,
                return_item=return_item,
                request_text=request_text.strip(),
                opened_at=now,
                seller_answer_due_at=rules.seller_answer_due(now),
                escalation_opens_at=rules.escalation_opens(now),
                auto_claim_due_at=rules.auto_claim_due(now),
            )
    except IntegrityError:
        raise ActionRefused(_("По этому товару уже открыт спор.")) from None
    order.has_dispute = True
    order.save(update_fields=["has_dispute", "updated_at"])
    request_message = Message.objects.create(
        dispute=dispute, author=buyer, kind=Message.Kind.REQUEST, text=request_text, link=link
    )
    claim_attachments(owner=buyer, ids=attachment_ids or [], message=request_message)
    Offer.objects.create(
        dispute=dispute,
        author=buyer,
        role=Offer.Role.BUYER,
        refund_type=refund_type,
        amount=amount,
        return_required=return_item,
        note=request_text,
    )
    record(dispute, DisputeEvent.Kind.OPENED, buyer, dispute_kind=kind, problems=problems, amount=str(amount))
    outcomes.dispute_opened(dispute, now=now)
    notify(
        dispute,
        [order.store.owner],
        presenters.OPENED,
        "opened",
        due_at=dispute.seller_answer_due_at,
        due_label=presenters.SELLER_ANSWER_DUE_LABEL,
        days=days_lazy(settings.DISPUTE_SELLER_ANSWER_DAYS),
    )
    return dispute


# --- offers ---------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def offer_accept(*, dispute: Dispute, offer_id: int, user: User, now: datetime | None = None) -> Dispute:
    """Accept the other side's pending offer: the dispute is resolved on its terms."""
    now = now or timezone.now()
    dispute, role, offer = _answering_offer(dispute, offer_id, user, Action.ACCEPT_OFFER, now)
    if refusal := rules.return_terms_refusal(dispute, return_required=offer.return_required, role=role):
        raise ActionRefused(refusal)
    offer.status, offer.decided_at = Offer.Status.ACCEPTED, now
    offer.save(update_fields=["status", "decided_at"])
    record(dispute, DisputeEvent.Kind.OFFER_ACCEPTED, user, offer=offer.pk, amount=str(offer.amount))
    return _resolve(dispute, offer=offer, actor=user, now=now)


def _resolve(dispute: Dispute, *, offer: Offer, actor: User | None, now: datetime) -> Dispute:
    settle(
        dispute,
        amount=offer.amount,
        return_required=offer.return_required,
        actor=actor,
        now=now,
        return_postage_limit=offer.return_postage_limit,
    )
    outcomes.refund_decided(
        dispute,
        decided_by="seller_silence" if dispute.seller_silent else "agreement",
        amount=offer.amount,
        return_required=offer.return_required,
        return_postage_limit=offer.return_postage_limit,
        now=now,
    )
    if offer.return_required:
        headline = presenters.SELLER_SILENT_WITH_RETURN if dispute.seller_silent else presenters.RESOLVED_WITH_RETURN
    else:
        headline = presenters.SELLER_SILENT_REFUND if dispute.seller_silent else presenters.RESOLVED_REFUND
    # The agreement mail repeats the return address and who pays the return postage, in each
    # party's words.
    for user, viewer in ((dispute.buyer, Role.BUYER), (dispute.store.owner, Role.SELLER)):
        lines: tuple[StrOrPromise, ...] = ()
        if offer.return_required:
            postage = dispute.return_postage_text(viewer)
            # The address is the seller's own: only the buyer, who sends the item, is told it.
            address = presenters.return_address_line(dispute.store.return_address)
            lines = (address, postage) if viewer == Role.BUYER else (postage,)
        notify(
            dispute,
            [user],
            headline,
            "resolved",
            lines=lines,
            due_at=dispute.return_due_at if offer.return_required else None,
            due_label=presenters.RETURN_DUE_LABEL if viewer == Role.BUYER else presenters.RETURN_DUE_LABEL_FOR_SELLER,
            amount=money_lazy(offer.amount, dispute.currency),
            answer_days=days_lazy(settings.DISPUTE_SELLER_ANSWER_DAYS),
            days=days_lazy(settings.DISPUTE_RETURN_SHIP_DAYS),
        )
    return dispute


def settle(
    dispute: Dispute,
    *,
    amount: Decimal,
    return_required: bool,
    actor: User | None,
    now: datetime,
    return_postage_limit: Decimal | None = None,
) -> None:
    """The outcome is agreed or decided and the buyer gets money: the item goes back first (when
    the outcome says so, with who pays its postage), or the refund starts now."""
    changes: dict[str, Any] = {
        "resolved_amount": amount,
        "return_required": return_required,
        "return_postage_limit": return_postage_limit if return_required else None,
        "resolved_at": now,
        "seller_answer_due_at": None,
        "auto_claim_due_at": None,
    }
    if return_required:
        changes["return_due_at"] = rules.return_due(now)
        dispute_transition(
            dispute, to=S.AWAITING_RETURN, event=DisputeEvent.Kind.RETURN_REQUESTED, actor=actor, changes=changes
        )
    else:
        _start_refund(dispute, actor=actor, now=now, changes=changes)


@transaction.atomic(durable=True)
def offer_make(
    *,
    dispute: Dispute,
    user: User,
    refund_type: str,
    amount: Decimal | None,
    return_required: bool,
    note: str,
    attachment_ids: list[int] | None = None,
    return_postage_limit: Decimal | None = None,
    now: datetime | None = None,
) -> Offer:
    """Propose terms. The seller's first answer is a refusal with a counter-offer; after that
    either side may propose, and a new offer replaces the pending one."""
    now = now or timezone.now()
    dispute = dispute_lock(dispute.pk)
    role = rules.role_of(dispute, user)
    pending = _pending_offer(dispute)
    rules.require(Action.MAKE_OFFER, dispute, role, now, rules.Facts(pending_offer=pending))
    if refusal := rules.return_terms_refusal(dispute, return_required=return_required, role=role):
        raise ActionRefused(refusal)
    if refusal := rules.return_postage_refusal(return_postage_limit, return_required=return_required):
        raise ActionRefused(refusal)
    amount = _refund_amount(amount, refund_type, paid=dispute.paid_amount, currency=dispute.currency)
    if pending is not None:
        pending.status = Offer.Status.REFUSED if pending.role != role else Offer.Status.SUPERSEDED
        pending.decided_at = now
        pending.save(update_fields=["status", "decided_at"])
        if pending.status == Offer.Status.REFUSED:
            record(dispute, DisputeEvent.Kind.OFFER_REFUSED, user, offer=pending.pk)
    offer = Offer.objects.create(
        dispute=dispute,
        author=user,
        role=role,
        refund_type=refund_type,
        amount=amount,
        return_required=return_required,
        return_postage_limit=return_postage_limit,
        note=note.strip(),
    )
    message = Message.objects.create(dispute=dispute, author=user, kind=Message.Kind.OFFER, text=note.strip())
    claim_attachments(owner=user, ids=attachment_ids or [], message=message)
    # The history says what was offered, the return and its postage included.
    terms: dict[str, Any] = {"offer": offer.pk, "amount": str(amount)}
    if return_required:
        terms |= {"return_required": True, "postage_limit": str(return_postage_limit or "")}
    if dispute.status == S.AWAITING_SELLER:
        dispute_transition(
            dispute,
            to=S.NEGOTIATING,
            event=DisputeEvent.Kind.OFFER_MADE,
            actor=user,
            changes={"seller_answer_due_at": None},
            **terms,
        )
    else:
        record(dispute, DisputeEvent.Kind.OFFER_MADE, user, **terms)
    headline = presenters.OFFER_BY_SELLER if role == Role.SELLER else presenters.OFFER_BY_BUYER
    reader = Role.BUYER if role == Role.SELLER else Role.SELLER
    lines: tuple[StrOrPromise, ...] = (presenters.OFFER_ITEM_LINES[(offer.return_required, reader)],)
    if offer.return_required:
        lines = (*lines, offer.return_postage_text(dispute.currency, reader))
    notify(
        dispute,
        [_other_party(dispute, role)],
        headline,
        f"offer:{offer.pk}",
        lines=lines,
        amount=money_lazy(amount, dispute.currency),
    )
    return offer


@transaction.atomic(durable=True)
def offer_refuse(*, dispute: Dispute, offer_id: int, user: User, now: datetime | None = None) -> Offer:
    """Refuse the other side's pending offer without proposing anything yet."""
    now = now or timezone.now()
    dispute, role, offer = _answering_offer(dispute, offer_id, user, Action.REFUSE_OFFER, now)
    offer.status, offer.decided_at = Offer.Status.REFUSED, now
    offer.save(update_fields=["status", "decided_at"])
    record(dispute, DisputeEvent.Kind.OFFER_REFUSED, user, offer=offer.pk)
    notify(
        dispute,
        [_other_party(dispute, role)],
        presenters.OFFER_REFUSED,
        f"refused:{offer.pk}",
    )
    return offer


# --- messages -------------------------------------------------------------------------------


class Words(TypedDict):
    """What a party writes in the thread (a message, an answer to the arbitrator): text, the ids of
    files uploaded for it and a link to a video."""

    text: str
    attachment_ids: NotRequired[list[int] | None]
    link: NotRequired[str]


def words_message(
    dispute: Dispute, user: User, kind: str, words: Words, *, link: str, empty: str, **fields: Any
) -> Message:
    """The party's words as a message with their files; `link` as evidence_link_clean() left it,
    `empty` the refusal when there is neither text nor a file nor a link."""
    text, attachment_ids = words["text"].strip(), words.get("attachment_ids") or []
    if not text and not attachment_ids and not link:
        raise ActionRefused(empty)
    message = Message.objects.create(dispute=dispute, author=user, kind=kind, text=text, link=link, **fields)
    claim_attachments(owner=user, ids=attachment_ids, message=message)
    return message


@transaction.atomic(durable=True)
def message_post(*, dispute: Dispute, user: User, now: datetime | None = None, **words: Unpack[Words]) -> Message:
    now = now or timezone.now()
    link = evidence_link_clean(words.get("link", ""))
    dispute, role = _locked_for(Action.POST_MESSAGE, dispute, user, now)
    kind = Message.Kind.EVIDENCE if words.get("attachment_ids") or link else Message.Kind.MESSAGE
    empty = _("Напишите сообщение, приложите файл или ссылку на видео.")
    message = words_message(dispute, user, kind, words, link=link, empty=empty)
    record(dispute, DisputeEvent.Kind.MESSAGE, user, message=message.pk)
    recipients = [_other_party(dispute, role)] if role in rules.PARTIES else [dispute.buyer, dispute.store.owner]
    notify(
        dispute,
        recipients,
        presenters.MESSAGE,
        f"message:{message.pk}",
    )
    return message


# --- cancelling, escalating -----------------------------------------------------------------


def _end_negotiation(
    dispute: Dispute,
    *,
    to: str,
    event: str,
    actor: User | None,
    now: datetime,
    changes: dict[str, Any],
    offer_pending: bool = True,
    **details: Any,
) -> None:
    """The parties stop negotiating (the buyer cancels, or it becomes a claim): pending offers lapse
    and the negotiation's deadlines stop.

    `offer_pending=False` is a sweep's hint, read before the lock, that the dispute has no pending
    offer: the dispute's row is then saved on condition that it still has none, and the offers'
    UPDATE is left out; if one was made meanwhile, the save does nothing and the offers' UPDATE
    and the save follow as without the hint."""
    changes = {**changes, "seller_answer_due_at": None, "auto_claim_due_at": None}
    if not offer_pending and _move_unless_offer_pending(dispute, to=to, changes=changes):
        _moved(dispute, to=to, event=event, actor=actor, **details)
        return
    Offer.objects.filter(dispute=dispute, status=Offer.Status.PENDING).update(
        status=Offer.Status.LAPSED, decided_at=now
    )
    dispute_transition(dispute, to=to, event=event, actor=actor, changes=changes, **details)


# Read by the auto-claim sweep with its batch of due disputes (core.sweeps.sweep's `read_with`)
# and set on each locked dispute as this attribute: a hint that it had a pending offer then.
OFFER_PENDING_HINT = "offer_pending"
OFFER_PENDING = Exists(Offer.objects.filter(dispute=OuterRef("pk"), status=Offer.Status.PENDING))
# Built once: each row's UPDATE filters a copy by pk, and the subquery is not resolved again.
_WITHOUT_PENDING_OFFER = Dispute.objects.filter(~OFFER_PENDING)


def _move_unless_offer_pending(dispute: Dispute, *, to: str, changes: dict[str, Any]) -> bool:
    """save_move() for a locked dispute, on condition that it has no pending offer; False when it
    has one (and nothing was saved). Offers are made only under the dispute's lock, which this
    transaction holds, and the UPDATE reads the offers as committed when it starts: no offer can be
    made between that read and the end of the transaction."""
    if refusal := rules.transition_refusal(dispute, to):
        raise ActionRefused(refusal)
    fields = {"status": to, **changes, "updated_at": timezone.now()}
    if not _WITHOUT_PENDING_OFFER.filter(pk=dispute.pk).update(**fields):
        return False
    for name, value in fields.items():
        setattr(dispute, name, value)
    return True


@transaction.atomic(durable=True)
def dispute_cancel(*, dispute: Dispute, buyer: User, now: datetime | None = None) -> Dispute:
    now = now or timezone.now()
    dispute, _role = _locked_for(Action.CANCEL, dispute, buyer, now)
    closing = {"closed_at": now}
    _end_negotiation(dispute, to=S.CANCELLED, event=DisputeEvent.Kind.CANCELLED, actor=buyer, now=now, changes=closing)
    notify(
        dispute,
        [dispute.store.owner],
        presenters.CANCELLED,
        "cancelled",
    )
    return dispute


@transaction.atomic(durable=True)
def dispute_escalate(*, dispute: Dispute, user: User, now: datetime | None = None) -> Dispute:
    """Turn the dispute into a claim for an arbitrator: by the buyer from day 3, or by the seller
    when a returned item came back different."""
    now = now or timezone.now()
    dispute = dispute_lock(dispute.pk)
    role = rules.role_of(dispute, user)
    rules.require(Action.REJECT_RETURN if role == Role.SELLER else Action.ESCALATE, dispute, role, now)
    return _escalate(dispute, actor=user, now=now)


def _escalate(dispute: Dispute, *, actor: User | None, now: datetime, offer_pending: bool = True) -> Dispute:
    """Turn a locked, checked dispute into a claim (`offer_pending`: see _end_negotiation)."""
    _end_negotiation(
        dispute,
        to=S.CLAIM,
        event=DisputeEvent.Kind.ESCALATED,
        actor=actor,
        now=now,
        changes={"escalated_at": now},
        offer_pending=offer_pending,
        automatic=actor is None,
    )
    Claim.objects.create(
        dispute=dispute,
        opened_at=now,
        flag_due_at=rules.claim_flag_due(now),
        overdue_due_at=rules.claim_overdue_due(now),
    )
    notify(
        dispute,
        [dispute.buyer, dispute.store.owner],
        presenters.ESCALATED,
        "escalated",
        fastest=settings.CLAIM_DECISION_FLAG_DAYS,
        latest=days_lazy(settings.CLAIM_DECISION_OVERDUE_DAYS),
    )
    return dispute


# --- returns and refunds --------------------------------------------------------------------


@transaction.atomic(durable=True)
def return_ship(*, dispute: Dispute, buyer: User, tracking_number: str, now: datetime | None = None) -> Dispute:
    now = now or timezone.now()
    dispute, _role = _locked_for(Action.SHIP_RETURN, dispute, buyer, now)
    tracking_number = tracking_number_normalise(tracking_number)
    if message := tracking_number_problem(tracking_number):
        raise ActionRefused(message)
    dispute_transition(
        dispute,
        to=S.RETURN_SHIPPED,
        event=DisputeEvent.Kind.RETURN_SHIPPED,
        actor=buyer,
        changes={"return_tracking_number": tracking_number, "return_due_at": None},
        tracking_number=tracking_number,
    )
    notify(
        dispute,
        [dispute.store.owner],
        presenters.RETURN_SHIPPED,
        "return_shipped",
        tracking=tracking_number,
    )
    return dispute


@transaction.atomic(durable=True)
def return_confirm(*, dispute: Dispute, seller: User, now: datetime | None = None) -> Dispute:
    now = now or timezone.now()
    dispute, _role = _locked_for(Action.CONFIRM_RETURN, dispute, seller, now)
    record(dispute, DisputeEvent.Kind.RETURN_RECEIVED, seller)
    _start_refund(dispute, actor=None, now=now, changes={})
    return dispute


def _start_refund(dispute: Dispute, *, actor: User | None, now: datetime, changes: dict[str, Any]) -> None:
    """ "Preparing refund": the dispute waits for the payment system to confirm the money is back."""
    dispute_transition(dispute, to=S.REFUNDING, event=DisputeEvent.Kind.REFUND_STARTED, actor=actor, changes=changes)
    assert dispute.resolved_amount is not None  # every path into "preparing refund" sets it
    refund_request(
        order=dispute.order,
        item=dispute.item,
        purpose=Refund.Purpose.DISPUTE,
        amount=dispute.resolved_amount,
        currency=dispute.currency,
        now=now,
    )


# --- deadlines, called by the beat sweeps ----------------------------------------------------------


class DeadlineService[T](Protocol):
    def __call__(
        self, *, dispute_id: int | None = None, dispute: Dispute | None = None, now: datetime | None = None
    ) -> T | None: ...


def _no_facts(dispute: Dispute) -> rules.Facts:
    return rules.NO_FACTS


def deadline_service[T](
    action: Action, *, facts: Callable[[Dispute], rules.Facts] = _no_facts
) -> Callable[[Callable[[Dispute, rules.Facts, datetime], T]], DeadlineService[T]]:
    """The one way a deadline's service starts: on the dispute its sweep has locked and read
    (`dispute`), or, by `dispute_id`, locked here; with `facts(dispute)` read under that lock, the
    rulebook asked for `action` with Role.SYSTEM. The service returns what it changed, or None
    when the deadline is no longer due (someone acted first) and nothing changed.

    Put `transaction.atomic(savepoint=False)` above it: a sweep runs each row in a transaction of
    its own and rolls all of it back on an error, and a savepoint per row would cost two round
    trips for nothing."""

    def wrap(function: Callable[[Dispute, rules.Facts, datetime], T]) -> DeadlineService[T]:
        @functools.wraps(function)
        def service(
            *, dispute_id: int | None = None, dispute: Dispute | None = None, now: datetime | None = None
        ) -> T | None:
            now = now or timezone.now()
            dispute = deadline_row(dispute_id, dispute)
            known = facts(dispute)
            if rules.refusal(action, dispute, Role.SYSTEM, now, known):
                return None
            return function(dispute, known, now)

        return service

    return wrap


def _seller_silence_facts(dispute: Dispute) -> rules.Facts:
    return rules.Facts(pending_offer=_pending_offer(dispute))


@transaction.atomic(savepoint=False)
@deadline_service(Action.GRANT_FOR_SILENCE, facts=_seller_silence_facts)
def dispute_grant_for_seller_silence(dispute: Dispute, facts: rules.Facts, now: datetime) -> Dispute:
    """The seller did not answer in time: the buyer's request is granted as if the seller accepted it."""
    offer = facts.pending_offer
    assert offer is not None
    offer.status, offer.decided_at = Offer.Status.ACCEPTED, now
    offer.save(update_fields=["status", "decided_at"])
    dispute.seller_silent = True
    dispute.save(update_fields=["seller_silent", "updated_at"])
    record(dispute, DisputeEvent.Kind.SELLER_SILENT, None, offer=offer.pk, amount=str(offer.amount))
    if offer.return_required and not dispute.store.return_address.strip():
        # A silent seller who never said where returns go cannot make the buyer wait for one.
        offer.return_required = False
        offer.save(update_fields=["return_required"])
    return _resolve(dispute, offer=offer, actor=None, now=now)


# What escalating by the deadline reads of the locked dispute (its sweep reads no other column):
# the rule (status, the deadline), the event (seller_silent, escalated_at) and the parties' keys.
AUTO_CLAIM_READS = (
    "status",
    "auto_claim_due_at",
    "seller_silent",
    "escalated_at",
    "seller_answered_at",
    "order",
    "buyer",
    "store",
)


@transaction.atomic(savepoint=False)
@deadline_service(Action.AUTO_CLAIM)
def dispute_auto_claim(dispute: Dispute, facts: rules.Facts, now: datetime) -> Dispute:
    """Unresolved for too long: the dispute becomes a claim by itself. Its sweep reads with each
    batch whether a dispute had a pending offer (`offer_pending`, OFFER_PENDING): one without
    skips the offers' UPDATE, safely (_end_negotiation)."""
    return _escalate(dispute, actor=None, now=now, offer_pending=getattr(dispute, OFFER_PENDING_HINT, True))


@transaction.atomic(savepoint=False)
@deadline_service(Action.CLOSE_UNRETURNED)
def dispute_close_unreturned(dispute: Dispute, facts: rules.Facts, now: datetime) -> Dispute:
    """The agreed return was not shipped in time: the buyer gave up the refund."""
    dispute_transition(
        dispute,
        to=S.CLOSED,
        event=DisputeEvent.Kind.RETURN_NOT_SHIPPED,
        actor=None,
        changes={"closed_at": now, "return_due_at": None},
    )
    notify(
        dispute,
        [dispute.buyer, dispute.store.owner],
        presenters.UNRETURNED,
        "unreturned",
        days=days_lazy(settings.DISPUTE_RETURN_SHIP_DAYS),
    )
    return dispute
