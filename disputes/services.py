"""Every change to a dispute. Each one locks the dispute row, re-checks that the move is allowed
from the state the row is in now, writes, records a DisputeEvent and queues mail after commit."""

import logging
import secrets
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy, get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.emails import email_queue
from accounts.models import User
from helpcenter.uploads import UploadLimits, inspect_evidence
from orders.models import Order

from . import rules
from .models import Attachment, Dispute, DisputeEvent, Message, Offer, Refund
from .problems import NOT_AS_DESCRIBED_PROBLEMS, NOT_RECEIVED_PROBLEMS

NOT_RECEIVED_CODES = {problem.code for problem in NOT_RECEIVED_PROBLEMS}
NOT_AS_DESCRIBED_CODES = {problem.code for problem in NOT_AS_DESCRIBED_PROBLEMS}

S = Dispute.Status
logger = logging.getLogger(__name__)

# Which status may follow which. Anything else is refused, whoever asks.
DISPUTE_PIPELINE: dict[str, set[str]] = {
    S.AWAITING_SELLER: {S.NEGOTIATING, S.AWAITING_RETURN, S.REFUNDING, S.CLAIM, S.CANCELLED},
    S.NEGOTIATING: {S.AWAITING_RETURN, S.REFUNDING, S.CLAIM, S.CANCELLED},
    S.AWAITING_RETURN: {S.RETURN_SHIPPED, S.CLOSED},
    S.RETURN_SHIPPED: {S.REFUNDING, S.CLAIM},
    S.REFUNDING: {S.REFUNDED},
    S.CLAIM: {S.REFUNDING, S.CLOSED},
    S.REFUNDED: set(),
    S.CANCELLED: set(),
    S.CLOSED: set(),
}


class DisputeActionRefused(Exception):
    """The action is not allowed now; the message says why, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def role_of(dispute: Dispute, user: User) -> str | None:
    if user.pk == dispute.buyer_id:
        return Offer.Role.BUYER
    if user.pk == dispute.store.owner_id:
        return Offer.Role.SELLER
    return None


def _other_party(dispute: Dispute, role: str) -> User:
    return dispute.store.owner if role == Offer.Role.BUYER else dispute.buyer


def _lock(dispute_id: int) -> Dispute:
    return Dispute.objects.select_for_update().select_related("order", "buyer", "store__owner").get(pk=dispute_id)


def _record(dispute: Dispute, kind: str, actor: User | None, **details) -> DisputeEvent:
    return DisputeEvent.objects.create(dispute=dispute, kind=kind, actor=actor, details=details)


def _notify(dispute: Dispute, users: list[User], headline, key: str, **values) -> None:
    """Queue one service e-mail per user; `headline` is a lazy message with {number} for the order."""
    headline = format_lazy(headline, number=dispute.order.number, **values)
    for user in users:
        email_queue(
            user=user,
            template="dispute_update",
            context={"dispute": dispute, "headline": headline},
            dedupe_key=f"dispute:{dispute.pk}:{key}:{user.pk}",
        )


def dispute_transition(
    dispute: Dispute, *, to: str, event: str, actor: User | None, changes: dict | None = None, **details
) -> Dispute:
    """Move a locked dispute to `to`: the one place a dispute's status changes.

    Call inside transaction.atomic with the row locked by _lock(). Refuses a move the pipeline
    does not allow from the status the row holds now.
    """
    if to not in DISPUTE_PIPELINE[dispute.status]:
        raise DisputeActionRefused(_("Спор уже в другом состоянии: обновите страницу."))
    dispute.status = to
    for field, value in (changes or {}).items():
        setattr(dispute, field, value)
    dispute.save(update_fields=["status", "updated_at", *(changes or {})])
    _record(dispute, event, actor, **details)
    return dispute


dispute_transition.alters_data = True


# --- files ----------------------------------------------------------------------------------


def upload_limits() -> UploadLimits:
    return UploadLimits(
        image_bytes=settings.DISPUTE_IMAGE_MAX_BYTES,
        video_bytes=settings.DISPUTE_VIDEO_MAX_BYTES,
        pdf_bytes=settings.DISPUTE_PDF_MAX_BYTES,
    )


def attachment_store(*, owner: User, uploaded) -> Attachment:
    """Check an uploaded file by content and keep it for its owner until a message takes it."""
    clean = inspect_evidence(uploaded, limits=upload_limits())
    name = get_valid_filename((uploaded.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:100] or "file"
    attachment = Attachment(
        owner=owner,
        token=secrets.token_hex(16),
        kind=clean.kind,
        content_type=clean.content_type,
        extension=clean.extension,
        display_name=name,
        size=clean.size,
        width=clean.width,
        height=clean.height,
    )
    attachment.file.save(f"{attachment.token}.{clean.extension}", clean.content, save=False)
    attachment.save()
    return attachment


def _claim_attachments(*, owner: User, ids: list[int], message: Message) -> int:
    if len(ids) > settings.DISPUTE_MAX_FILES:
        raise DisputeActionRefused(_("Не больше %(count)d файлов за раз.") % {"count": settings.DISPUTE_MAX_FILES})
    return Attachment.objects.filter(owner=owner, message__isnull=True, pk__in=ids).update(message=message)


# --- opening --------------------------------------------------------------------------------


@transaction.atomic
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
    now: datetime | None = None,
) -> Dispute:
    """Open the one dispute an order may ever have."""
    now = now or timezone.now()
    # The order row is the lock two tabs or a double click queue on: the second sees the first.
    order = Order.objects.select_for_update().select_related("store__owner").get(pk=order.pk)
    if order.buyer_id != buyer.pk:
        raise DisputeActionRefused(_("Открыть спор может только покупатель заказа."))
    has_dispute = Dispute.objects.filter(order=order).exists()
    if message := rules.dispute_open_refusal(order, now, has_dispute=has_dispute):
        raise DisputeActionRefused(message)
    allowed = NOT_RECEIVED_CODES if kind == Dispute.Kind.NOT_RECEIVED else NOT_AS_DESCRIBED_CODES
    if not problems or not set(problems) <= allowed or (kind == Dispute.Kind.NOT_RECEIVED and len(problems) != 1):
        raise DisputeActionRefused(_("Выберите, что случилось, из предложенных вариантов."))
    if kind == Dispute.Kind.NOT_RECEIVED:
        refund_type, return_item = Dispute.RefundType.FULL, False
    amount = order.total_amount if refund_type == Dispute.RefundType.FULL else amount
    if amount is None or not Decimal("0.01") <= amount <= order.total_amount:
        raise DisputeActionRefused(_("Сумма возврата должна быть больше нуля и не больше оплаченной."))
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                order=order,
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
                auto_claim_at=rules.auto_claim_at(now),
            )
    except IntegrityError:
        raise DisputeActionRefused(_("По этому заказу уже открыт спор.")) from None
    order.under_dispute = True
    order.save(update_fields=["under_dispute", "updated_at"])
    message = Message.objects.create(dispute=dispute, author=buyer, kind=Message.Kind.REQUEST, text=request_text)
    _claim_attachments(owner=buyer, ids=attachment_ids or [], message=message)
    Offer.objects.create(
        dispute=dispute,
        author=buyer,
        role=Offer.Role.BUYER,
        refund_type=refund_type,
        amount=amount,
        return_required=return_item,
        note=request_text,
    )
    _record(dispute, DisputeEvent.Kind.OPENED, buyer, dispute_kind=kind, problems=problems, amount=str(amount))
    _notify(
        dispute,
        [order.store.owner],
        gettext_lazy("Покупатель открыл спор по заказу {number}. Ответьте в течение 5 дней."),
        "opened",
    )
    return dispute


# --- offers ---------------------------------------------------------------------------------


def _pending_offer(dispute: Dispute) -> Offer | None:
    return Offer.objects.select_for_update().filter(dispute=dispute, status=Offer.Status.PENDING).first()


@transaction.atomic
def offer_accept(*, dispute: Dispute, offer_id: int, user: User, now: datetime | None = None) -> Dispute:
    """Accept the other side's pending offer: the dispute is resolved on its terms."""
    now = now or timezone.now()
    dispute = _lock(dispute.pk)
    role = role_of(dispute, user)
    offer = _pending_offer(dispute)
    if offer is None or offer.pk != offer_id:
        raise DisputeActionRefused(_("Это предложение уже не действует: обновите страницу."))
    if role is None or offer.role == role:
        raise DisputeActionRefused(_("Принять предложение может только другая сторона."))
    if dispute.status not in (S.AWAITING_SELLER, S.NEGOTIATING):
        raise DisputeActionRefused(_("Спор уже в другом состоянии: обновите страницу."))
    offer.status, offer.decided_at = Offer.Status.ACCEPTED, now
    offer.save(update_fields=["status", "decided_at"])
    _record(dispute, DisputeEvent.Kind.OFFER_ACCEPTED, user, offer=offer.pk, amount=str(offer.amount))
    return _resolve(dispute, offer=offer, actor=user, now=now)


def _resolve(dispute: Dispute, *, offer: Offer, actor: User | None, now: datetime) -> Dispute:
    changes = {
        "resolved_amount": offer.amount,
        "return_required": offer.return_required,
        "resolved_at": now,
        "seller_answer_due_at": None,
        "auto_claim_at": None,
    }
    if offer.return_required:
        changes["return_due_at"] = rules.return_due(now)
        dispute_transition(
            dispute, to=S.AWAITING_RETURN, event=DisputeEvent.Kind.RETURN_REQUESTED, actor=actor, changes=changes
        )
        headline = gettext_lazy("Спор по заказу {number} решён: товар нужно отправить продавцу в течение 10 дней.")
    else:
        dispute_transition(
            dispute, to=S.REFUNDING, event=DisputeEvent.Kind.REFUND_STARTED, actor=actor, changes=changes
        )
        _queue_refund(dispute)
        headline = gettext_lazy("Спор по заказу {number} решён: начинается возврат денег.")
    _notify(dispute, [dispute.buyer, dispute.store.owner], headline, "resolved")
    return dispute


@transaction.atomic
def offer_make(
    *,
    dispute: Dispute,
    user: User,
    refund_type: str,
    amount: Decimal | None,
    return_required: bool,
    note: str,
    attachment_ids: list[int] | None = None,
    now: datetime | None = None,
) -> Offer:
    """Propose terms. The seller's first answer is a refusal with a counter-offer; after that
    either side may propose, and a new offer replaces the pending one."""
    now = now or timezone.now()
    dispute = _lock(dispute.pk)
    role = role_of(dispute, user)
    if role is None:
        raise DisputeActionRefused(_("Это не ваш спор."))
    if dispute.status not in (S.AWAITING_SELLER, S.NEGOTIATING):
        raise DisputeActionRefused(_("Спор уже в другом состоянии: обновите страницу."))
    if role == Offer.Role.BUYER and dispute.status == S.AWAITING_SELLER:
        raise DisputeActionRefused(_("Дождитесь ответа продавца на ваше требование."))
    total = dispute.order.total_amount
    amount = total if refund_type == Dispute.RefundType.FULL else amount
    if amount is None or not Decimal("0.01") <= amount <= total:
        raise DisputeActionRefused(_("Сумма возврата должна быть больше нуля и не больше оплаченной."))
    pending = _pending_offer(dispute)
    if pending is not None:
        pending.status = Offer.Status.REFUSED if pending.role != role else Offer.Status.SUPERSEDED
        pending.decided_at = now
        pending.save(update_fields=["status", "decided_at"])
        if pending.status == Offer.Status.REFUSED:
            _record(dispute, DisputeEvent.Kind.OFFER_REFUSED, user, offer=pending.pk)
    offer = Offer.objects.create(
        dispute=dispute,
        author=user,
        role=role,
        refund_type=refund_type,
        amount=amount,
        return_required=return_required,
        note=note.strip(),
    )
    message = Message.objects.create(dispute=dispute, author=user, kind=Message.Kind.OFFER, text=note.strip())
    _claim_attachments(owner=user, ids=attachment_ids or [], message=message)
    if dispute.status == S.AWAITING_SELLER:
        dispute_transition(
            dispute,
            to=S.NEGOTIATING,
            event=DisputeEvent.Kind.OFFER_MADE,
            actor=user,
            changes={"seller_answer_due_at": None},
            offer=offer.pk,
            amount=str(amount),
        )
    else:
        _record(dispute, DisputeEvent.Kind.OFFER_MADE, user, offer=offer.pk, amount=str(amount))
    _notify(
        dispute,
        [_other_party(dispute, role)],
        gettext_lazy("Новое предложение в споре по заказу {number}."),
        f"offer:{offer.pk}",
    )
    return offer


@transaction.atomic
def offer_refuse(*, dispute: Dispute, offer_id: int, user: User, now: datetime | None = None) -> Offer:
    """Refuse the other side's pending offer without proposing anything yet."""
    now = now or timezone.now()
    dispute = _lock(dispute.pk)
    role = role_of(dispute, user)
    offer = _pending_offer(dispute)
    if offer is None or offer.pk != offer_id or role is None or offer.role == role:
        raise DisputeActionRefused(_("Это предложение уже не действует: обновите страницу."))
    if role == Offer.Role.SELLER:
        raise DisputeActionRefused(_("Чтобы отказать, предложите покупателю свои условия и приложите доказательства."))
    offer.status, offer.decided_at = Offer.Status.REFUSED, now
    offer.save(update_fields=["status", "decided_at"])
    _record(dispute, DisputeEvent.Kind.OFFER_REFUSED, user, offer=offer.pk)
    _notify(
        dispute,
        [_other_party(dispute, role)],
        gettext_lazy("Ваше предложение по заказу {number} отклонено."),
        f"refused:{offer.pk}",
    )
    return offer


# --- messages -------------------------------------------------------------------------------


@transaction.atomic
def message_post(*, dispute: Dispute, user: User, text: str, attachment_ids: list[int] | None = None) -> Message:
    dispute = _lock(dispute.pk)
    role = role_of(dispute, user)
    if role is None and not user.is_staff:
        raise DisputeActionRefused(_("Это не ваш спор."))
    if dispute.status in (S.REFUNDED, S.CANCELLED, S.CLOSED):
        raise DisputeActionRefused(_("Спор закрыт, новые сообщения не принимаются."))
    if not text.strip() and not attachment_ids:
        raise DisputeActionRefused(_("Напишите сообщение или приложите файл."))
    kind = Message.Kind.EVIDENCE if attachment_ids else Message.Kind.MESSAGE
    message = Message.objects.create(dispute=dispute, author=user, kind=kind, text=text.strip())
    _claim_attachments(owner=user, ids=attachment_ids or [], message=message)
    _record(dispute, DisputeEvent.Kind.MESSAGE, user, message=message.pk)
    recipients = [dispute.buyer, dispute.store.owner] if role is None else [_other_party(dispute, role)]
    _notify(
        dispute,
        recipients,
        gettext_lazy("Новое сообщение в споре по заказу {number}."),
        f"message:{message.pk}",
    )
    return message


# --- cancelling, escalating -----------------------------------------------------------------


@transaction.atomic
def dispute_cancel(*, dispute: Dispute, buyer: User, now: datetime | None = None) -> Dispute:
    now = now or timezone.now()
    dispute = _lock(dispute.pk)
    if dispute.buyer_id != buyer.pk:
        raise DisputeActionRefused(_("Отменить спор может только покупатель."))
    Offer.objects.filter(dispute=dispute, status=Offer.Status.PENDING).update(
        status=Offer.Status.SUPERSEDED, decided_at=now
    )
    dispute_transition(
        dispute,
        to=S.CANCELLED,
        event=DisputeEvent.Kind.CANCELLED,
        actor=buyer,
        changes={"closed_at": now, "seller_answer_due_at": None, "auto_claim_at": None},
    )
    _notify(
        dispute,
        [dispute.store.owner],
        gettext_lazy("Покупатель отменил спор по заказу {number}."),
        "cancelled",
    )
    return dispute


@transaction.atomic
def dispute_escalate(*, dispute: Dispute, user: User | None, now: datetime | None = None) -> Dispute:
    """Turn the dispute into a claim for an arbitrator: by the buyer from day 3, by the seller
    when a returned item came back different, or by the 15-day sweep (user None)."""
    now = now or timezone.now()
    dispute = _lock(dispute.pk)
    role = role_of(dispute, user) if user else None
    if user is not None and role is None:
        raise DisputeActionRefused(_("Это не ваш спор."))
    if role == Offer.Role.SELLER:
        if dispute.status != S.RETURN_SHIPPED:
            raise DisputeActionRefused(_("Продавец передаёт спор арбитру, только если вернувшийся товар не тот."))
    elif message := rules.escalation_refusal(dispute, now):
        raise DisputeActionRefused(message)
    return _escalate(dispute, actor=user, now=now)


def _escalate(dispute: Dispute, *, actor: User | None, now: datetime) -> Dispute:
    """Turn a locked, checked dispute into a claim."""
    Offer.objects.filter(dispute=dispute, status=Offer.Status.PENDING).update(
        status=Offer.Status.SUPERSEDED, decided_at=now
    )
    dispute_transition(
        dispute,
        to=S.CLAIM,
        event=DisputeEvent.Kind.ESCALATED,
        actor=actor,
        changes={
            "escalated_at": now,
            "seller_answer_due_at": None,
            "auto_claim_at": None,
            "claim_flag_due_at": rules.claim_flag_due(now),
            "claim_overdue_due_at": rules.claim_overdue_due(now),
        },
        automatic=actor is None,
    )
    _notify(
        dispute,
        [dispute.buyer, dispute.store.owner],
        gettext_lazy("Спор по заказу {number} передан в претензию: решение примет арбитр в течение 15–60 дней."),
        "escalated",
    )
    return dispute


# --- returns and refunds --------------------------------------------------------------------


@transaction.atomic
def return_ship(*, dispute: Dispute, buyer: User, tracking_number: str, now: datetime | None = None) -> Dispute:
    now = now or timezone.now()
    dispute = _lock(dispute.pk)
    if dispute.buyer_id != buyer.pk:
        raise DisputeActionRefused(_("Трек-номер возврата указывает покупатель."))
    if dispute.status != S.AWAITING_RETURN:
        raise DisputeActionRefused(_("Сейчас товар возвращать не нужно."))
    if dispute.status == S.AWAITING_RETURN and dispute.return_due_at and now >= dispute.return_due_at:
        raise DisputeActionRefused(_("Срок отправки товара обратно истёк."))
    dispute_transition(
        dispute,
        to=S.RETURN_SHIPPED,
        event=DisputeEvent.Kind.RETURN_SHIPPED,
        actor=buyer,
        changes={"return_tracking_number": tracking_number.strip(), "return_due_at": None},
        tracking_number=tracking_number.strip(),
    )
    _notify(
        dispute,
        [dispute.store.owner],
        gettext_lazy("Покупатель отправил товар по заказу {number}, трек {tracking}. Подтвердите получение."),
        "return_shipped",
        tracking=tracking_number.strip(),
    )
    return dispute


@transaction.atomic
def return_confirm(*, dispute: Dispute, seller: User) -> Dispute:
    dispute = _lock(dispute.pk)
    if dispute.store.owner_id != seller.pk:
        raise DisputeActionRefused(_("Получение возврата подтверждает продавец."))
    if dispute.status != S.RETURN_SHIPPED:
        raise DisputeActionRefused(_("Покупатель ещё не отправил товар обратно."))
    dispute_transition(dispute, to=S.REFUNDING, event=DisputeEvent.Kind.RETURN_RECEIVED, actor=seller)
    _record(dispute, DisputeEvent.Kind.REFUND_STARTED, None)
    _queue_refund(dispute)
    return dispute


def _queue_refund(dispute: Dispute) -> None:
    from .tasks import execute_refund

    dispute_id = dispute.pk

    def send() -> None:
        try:
            execute_refund.delay(dispute_id)
        except Exception:
            logger.warning("Broker unavailable; refund of dispute %s waits for the sweep", dispute_id, exc_info=True)

    transaction.on_commit(send)


@transaction.atomic
def refund_execute(*, dispute_id: int, now: datetime | None = None) -> Dispute | None:
    """Send the agreed money back and mark the refund completed. Safe to run twice: the second
    run finds the dispute already refunded and does nothing."""
    now = now or timezone.now()
    dispute = _lock(dispute_id)
    if dispute.status != S.REFUNDING:
        return None
    # The payment provider's call belongs here; this project records the refund in its ledger.
    Refund.objects.create(
        dispute=dispute,
        amount=dispute.resolved_amount,
        currency=dispute.currency,
        reference=f"RF-{dispute.pk}-{secrets.token_hex(4).upper()}",
    )
    dispute_transition(
        dispute,
        to=S.REFUNDED,
        event=DisputeEvent.Kind.REFUND_COMPLETED,
        actor=None,
        changes={"refund_completed_at": now, "closed_at": now},
        amount=str(dispute.resolved_amount),
    )
    _notify(
        dispute,
        [dispute.buyer],
        gettext_lazy("Возврат по заказу {number} завершён: деньги отправлены на ваш счёт."),
        "refunded",
    )
    return dispute


def attachment_validation_messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


# --- deadlines, called by the beat sweeps with the dispute's id ---------------------------------
# Each returns what it changed, or None when the dispute is no longer due (someone acted first).


@transaction.atomic
def dispute_grant_for_seller_silence(*, dispute_id: int, now: datetime | None = None) -> Dispute | None:
    """Five days without an answer: the buyer's request is granted as if the seller accepted it."""
    now = now or timezone.now()
    dispute = _lock(dispute_id)
    if dispute.status != S.AWAITING_SELLER or not rules.is_due(dispute.seller_answer_due_at, now):
        return None
    offer = _pending_offer(dispute)
    if offer is None or offer.role != Offer.Role.BUYER:
        return None
    offer.status, offer.decided_at = Offer.Status.ACCEPTED, now
    offer.save(update_fields=["status", "decided_at"])
    _record(dispute, DisputeEvent.Kind.SELLER_SILENT, None, offer=offer.pk, amount=str(offer.amount))
    return _resolve(dispute, offer=offer, actor=None, now=now)


@transaction.atomic
def dispute_auto_claim(*, dispute_id: int, now: datetime | None = None) -> Dispute | None:
    """Fifteen days unresolved: the dispute becomes a claim by itself."""
    now = now or timezone.now()
    dispute = _lock(dispute_id)
    if dispute.status not in (S.AWAITING_SELLER, S.NEGOTIATING) or not rules.is_due(dispute.auto_claim_at, now):
        return None
    return _escalate(dispute, actor=None, now=now)


@transaction.atomic
def dispute_close_unreturned(*, dispute_id: int, now: datetime | None = None) -> Dispute | None:
    """The agreed return was not shipped within 10 days: the buyer gave up the refund."""
    now = now or timezone.now()
    dispute = _lock(dispute_id)
    if dispute.status != S.AWAITING_RETURN or not rules.is_due(dispute.return_due_at, now):
        return None
    dispute_transition(
        dispute,
        to=S.CLOSED,
        event=DisputeEvent.Kind.RETURN_NOT_SHIPPED,
        actor=None,
        changes={"closed_at": now, "return_due_at": None},
    )
    _notify(
        dispute,
        [dispute.buyer, dispute.store.owner],
        gettext_lazy("Товар по заказу {number} не отправлен за 10 дней: спор закрыт без возврата денег."),
        "unreturned",
    )
    return dispute


@transaction.atomic
def claim_flag_undecided(*, dispute_id: int, now: datetime | None = None) -> Dispute | None:
    """Fifteen days as a claim without a decision: flagged for arbitrators (list filter, digest)."""
    now = now or timezone.now()
    dispute = _lock(dispute_id)
    if dispute.status != S.CLAIM or dispute.decided_at or not rules.is_due(dispute.claim_flag_due_at, now):
        return None
    dispute.claim_flagged_at, dispute.claim_flag_due_at = now, None
    dispute.save(update_fields=["claim_flagged_at", "claim_flag_due_at", "updated_at"])
    _record(dispute, DisputeEvent.Kind.CLAIM_FLAGGED, None)
    return dispute


@transaction.atomic
def claim_mark_overdue(*, dispute_id: int, now: datetime | None = None) -> Dispute | None:
    """Sixty days without a decision: overdue, and the head of arbitration is told."""
    now = now or timezone.now()
    dispute = _lock(dispute_id)
    if dispute.status != S.CLAIM or dispute.decided_at or not rules.is_due(dispute.claim_overdue_due_at, now):
        return None
    dispute.claim_overdue_at, dispute.claim_overdue_due_at = now, None
    dispute.save(update_fields=["claim_overdue_at", "claim_overdue_due_at", "updated_at"])
    _record(dispute, DisputeEvent.Kind.CLAIM_OVERDUE, None)
    for head in arbitration_heads():
        email_queue(
            user=head,
            template="claim_overdue",
            context={"dispute": dispute},
            dedupe_key=f"claim-overdue:{dispute.pk}:{head.pk}",
        )
    return dispute


def arbitration_heads() -> list[User]:
    heads = list(User.objects.filter(groups__name="arbitration_heads", is_active=True))
    return heads or list(User.objects.filter(is_superuser=True, is_active=True))


@transaction.atomic
def claim_decide(
    *,
    dispute: Dispute,
    arbitrator: User,
    winner: str,
    amount: Decimal | None,
    reason: str,
    now: datetime | None = None,
) -> Dispute:
    """Record an arbitrator's decision; it becomes final when the 7-day appeal window passes."""
    now = now or timezone.now()
    dispute = _lock(dispute.pk)
    if dispute.status != S.CLAIM or dispute.decided_at:
        raise DisputeActionRefused(_("По этой претензии решение уже принято или она не у арбитра."))
    if winner == "buyer" and (amount is None or not Decimal("0.01") <= amount <= dispute.order.total_amount):
        raise DisputeActionRefused(_("Сумма возврата должна быть больше нуля и не больше оплаченной."))
    dispute.decision_winner = winner
    dispute.decision_amount = amount if winner == "buyer" else Decimal("0")
    dispute.decision_reason = reason.strip()
    dispute.decided_at, dispute.decided_by = now, arbitrator
    dispute.appeal_deadline_at = rules.appeal_deadline(now)
    dispute.claim_flag_due_at = dispute.claim_overdue_due_at = None
    dispute.save(
        update_fields=[
            "decision_winner", "decision_amount", "decision_reason", "decided_at", "decided_by",
            "appeal_deadline_at", "claim_flag_due_at", "claim_overdue_due_at", "updated_at",
        ]
    )  # fmt: skip
    _record(dispute, DisputeEvent.Kind.DECIDED, arbitrator, winner=winner, amount=str(dispute.decision_amount))
    _notify(
        dispute,
        [dispute.buyer, dispute.store.owner],
        gettext_lazy("По претензии по заказу {number} принято решение. Обжаловать его можно в течение 7 дней."),
        "decided",
    )
    return dispute


@transaction.atomic
def claim_finalize(*, dispute_id: int, now: datetime | None = None) -> Dispute | None:
    """The appeal window passed: the decision is carried out (refund) or the case closes."""
    now = now or timezone.now()
    dispute = _lock(dispute_id)
    if dispute.status != S.CLAIM or not dispute.decided_at or not rules.is_due(dispute.appeal_deadline_at, now):
        return None
    _record(dispute, DisputeEvent.Kind.DECISION_FINAL, None)
    if dispute.decision_winner == "buyer" and dispute.decision_amount:
        dispute_transition(
            dispute,
            to=S.REFUNDING,
            event=DisputeEvent.Kind.REFUND_STARTED,
            actor=None,
            changes={"resolved_amount": dispute.decision_amount, "resolved_at": now, "appeal_deadline_at": None},
        )
        _queue_refund(dispute)
    else:
        dispute_transition(
            dispute,
            to=S.CLOSED,
            event=DisputeEvent.Kind.CLOSED,
            actor=None,
            changes={"closed_at": now, "appeal_deadline_at": None},
        )
    return dispute
