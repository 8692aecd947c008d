"""Who may do what to a dispute, and when: the one rulebook.

Services refuse with `refusal()` (through `require()`), the dispute page draws its buttons from
`allowed_actions()`, and the sweeps ask the same `refusal()` with the SYSTEM role, so a button,
the server's answer and a deadline can never disagree. The dates are the ones the timers keep.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import ActionRefused
from core.money import format_money

from .models import Claim, Dispute, EvidenceRequest, Offer

S = Dispute.Status

OPEN_STATUSES = frozenset({S.AWAITING_SELLER, S.NEGOTIATING})
FINAL_STATUSES = frozenset({S.REFUNDED, S.CANCELLED, S.CLOSED})

# Which status may follow which (transitions as data). Any other move is refused, whoever asks.
DISPUTE_PIPELINE: dict[str, frozenset[str]] = {
    S.AWAITING_SELLER: frozenset({S.NEGOTIATING, S.AWAITING_RETURN, S.REFUNDING, S.CLAIM, S.CANCELLED}),
    S.NEGOTIATING: frozenset({S.AWAITING_RETURN, S.REFUNDING, S.CLAIM, S.CANCELLED}),
    S.AWAITING_RETURN: frozenset({S.RETURN_SHIPPED, S.CLOSED}),
    S.RETURN_SHIPPED: frozenset({S.REFUNDING, S.CLAIM}),
    S.REFUNDING: frozenset({S.REFUNDED}),
    S.CLAIM: frozenset({S.REFUNDING, S.AWAITING_RETURN, S.CLOSED}),
    S.REFUNDED: frozenset(),
    S.CANCELLED: frozenset(),
    S.CLOSED: frozenset(),
}


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    ARBITRATOR = "arbitrator"  # staff who decide claims and appeals (and write into disputes)
    STAFF = "staff"  # staff who may write into disputes but not decide
    OBSERVER = "observer"  # staff who may only read disputes
    SYSTEM = "system"  # the deadline sweeps
    NONE = "none"


PARTIES = (Role.BUYER, Role.SELLER)


class Action(StrEnum):
    ACCEPT_OFFER = "accept_offer"
    REFUSE_OFFER = "refuse_offer"
    MAKE_OFFER = "make_offer"
    POST_MESSAGE = "post_message"
    CANCEL = "cancel"
    ESCALATE = "escalate"
    SHIP_RETURN = "ship_return"
    CONFIRM_RETURN = "confirm_return"
    REJECT_RETURN = "reject_return"
    # Claims.
    ANSWER_EVIDENCE = "answer_evidence"
    APPEAL = "appeal"
    TAKE_CLAIM = "take_claim"
    REQUEST_EVIDENCE = "request_evidence"
    RECLASSIFY = "reclassify"
    DECIDE_CLAIM = "decide_claim"
    DECIDE_APPEAL = "decide_appeal"
    # Deadlines, taken by the sweeps.
    GRANT_FOR_SILENCE = "grant_for_silence"
    AUTO_CLAIM = "auto_claim"
    CLOSE_UNRETURNED = "close_unreturned"
    FLAG_CLAIM = "flag_claim"
    MARK_CLAIM_OVERDUE = "mark_claim_overdue"
    CLOSE_EVIDENCE_REQUEST = "close_evidence_request"
    FINALIZE_DECISION = "finalize_decision"


# The actions a party may be offered on the dispute page.
PAGE_ACTIONS = (
    Action.ACCEPT_OFFER,
    Action.REFUSE_OFFER,
    Action.MAKE_OFFER,
    Action.POST_MESSAGE,
    Action.CANCEL,
    Action.ESCALATE,
    Action.SHIP_RETURN,
    Action.CONFIRM_RETURN,
    Action.REJECT_RETURN,
    Action.ANSWER_EVIDENCE,
    Action.APPEAL,
)
# The actions an arbitrator may be offered on the claim page in admin.
CLAIM_PAGE_ACTIONS = (
    Action.TAKE_CLAIM,
    Action.REQUEST_EVIDENCE,
    Action.RECLASSIFY,
    Action.DECIDE_CLAIM,
    Action.DECIDE_APPEAL,
)

UNDECIDED_STAGES = frozenset({Claim.Stage.PROCESSING, Claim.Stage.AWAITING_PARTIES, Claim.Stage.INVESTIGATION})

# Which claim stage may follow which (transitions as data).
CLAIM_PIPELINE: dict[str, frozenset[str]] = {
    Claim.Stage.PROCESSING: frozenset({Claim.Stage.AWAITING_PARTIES, Claim.Stage.INVESTIGATION, Claim.Stage.DECIDED}),
    Claim.Stage.AWAITING_PARTIES: frozenset({Claim.Stage.INVESTIGATION}),
    Claim.Stage.INVESTIGATION: frozenset({Claim.Stage.AWAITING_PARTIES, Claim.Stage.DECIDED}),
    Claim.Stage.DECIDED: frozenset({Claim.Stage.APPEAL, Claim.Stage.FINAL}),
    Claim.Stage.APPEAL: frozenset({Claim.Stage.FINAL}),
    Claim.Stage.FINAL: frozenset(),
}


def role_of(dispute: Dispute, user: User) -> Role:
    if user.pk == dispute.buyer_id:
        return Role.BUYER
    if user.pk == dispute.store.owner_id:
        return Role.SELLER
    if user.has_perm("disputes.decide_claim"):
        return Role.ARBITRATOR
    if user.has_perm("disputes.add_message"):
        return Role.STAFF
    if user.has_perm("disputes.view_dispute"):
        return Role.OBSERVER
    return Role.NONE


@dataclass(frozen=True)
class Facts:
    """What the rules need beyond the dispute and its claim: read by the caller (under the row
    lock when it is about to act, with the page's prefetches when it draws buttons)."""

    pending_offer: Offer | None = None
    evidence_request: EvidenceRequest | None = None  # the claim's open request, if any
    actor_id: int | None = None
    first_decider_id: int | None = None
    has_appeal: bool = False


# --- dates ------------------------------------------------------------------------------------


def seller_answer_due(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.DISPUTE_SELLER_ANSWER_DAYS)


def escalation_opens(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.DISPUTE_ESCALATION_AFTER_DAYS)


def auto_claim_due(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=settings.DISPUTE_AUTO_CLAIM_AFTER_DAYS)


def return_due(resolved_at: datetime) -> datetime:
    return resolved_at + timedelta(days=settings.DISPUTE_RETURN_SHIP_DAYS)


def refund_due(started_at: datetime) -> datetime:
    return started_at + timedelta(seconds=settings.REFUND_RETRY_AFTER_SECONDS)


def claim_flag_due(escalated_at: datetime) -> datetime:
    return escalated_at + timedelta(days=settings.CLAIM_DECISION_FLAG_DAYS)


def claim_overdue_due(escalated_at: datetime) -> datetime:
    return escalated_at + timedelta(days=settings.CLAIM_DECISION_OVERDUE_DAYS)


def appeal_due(decided_at: datetime) -> datetime:
    return decided_at + timedelta(days=settings.CLAIM_APPEAL_DAYS)


def is_due(deadline: datetime | None, now: datetime) -> bool:
    """A deadline has passed: the same comparison for the pages and the sweeps."""
    return deadline is not None and deadline <= now


def local_date(moment: datetime) -> str:
    """A deadline as the user reads it: in their time zone, to the minute."""
    return formats.date_format(timezone.localtime(moment), "j E, H:i")


# --- amounts ----------------------------------------------------------------------------------


def refund_amount_refusal(amount: Decimal | None, *, paid: Decimal, currency: str) -> str | None:
    """The one bound on every refund amount (request, offer, decision): above zero, at most what
    was paid."""
    if amount is None:
        return _("Укажите сумму возврата.")
    if amount <= 0:
        return _("Сумма должна быть больше нуля.")
    if amount > paid:
        return _("Нельзя вернуть больше, чем заплачено: %(max)s.") % {"max": format_money(paid, currency)}
    return None


# --- the rulebook ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Permit:
    """Whether an action is allowed now, and the dates its window opens and closes."""

    allowed: bool
    refusal: str | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def opens_later(self) -> bool:
        """Not yet allowed, but will be at `opens_at` (the page shows the button disabled, with its date)."""
        return not self.allowed and self.opens_at is not None


NO_FACTS = Facts()


def _stale() -> str:
    return _("Спор уже в другом состоянии: обновите страницу.")


def _not_yours() -> str:
    return _("Это не ваш спор.")


def claim_of(dispute: Dispute) -> Claim | None:
    """The dispute's claim, if it became one (read with the dispute by the selectors)."""
    try:
        return dispute.claim
    except Claim.DoesNotExist:
        return None


def permit(action: Action, dispute: Dispute, role: Role, now: datetime, facts: Facts = NO_FACTS) -> Permit:
    """May `role` take `action` on this dispute now?"""
    if action in CLAIM_ACTIONS:
        return _claim_permit(action, dispute, role, now, facts)
    status = dispute.status
    party = role in PARTIES
    pending_offer = facts.pending_offer

    if action == Action.ACCEPT_OFFER:
        if not party:
            return Permit(False, _not_yours())
        if status not in OPEN_STATUSES or pending_offer is None:
            return Permit(False, _("Это предложение уже не действует: обновите страницу."))
        if pending_offer.role == role:
            return Permit(False, _("Принять предложение может только другая сторона."))
        return Permit(True, closes_at=dispute.auto_claim_due_at)

    if action == Action.REFUSE_OFFER:
        if role == Role.SELLER:
            return Permit(False, _("Чтобы отказать, предложите покупателю свои условия и приложите доказательства."))
        if role != Role.BUYER:
            return Permit(False, _not_yours())
        if status not in OPEN_STATUSES or pending_offer is None or pending_offer.role == role:
            return Permit(False, _("Это предложение уже не действует: обновите страницу."))
        return Permit(True, closes_at=dispute.auto_claim_due_at)

    if action == Action.MAKE_OFFER:
        if not party:
            return Permit(False, _not_yours())
        if status not in OPEN_STATUSES:
            return Permit(False, _stale())
        if role == Role.BUYER and status == S.AWAITING_SELLER:
            return Permit(False, _("Дождитесь ответа продавца на ваше требование."))
        closes_at = dispute.seller_answer_due_at if status == S.AWAITING_SELLER else dispute.auto_claim_due_at
        return Permit(True, closes_at=closes_at)

    if action == Action.POST_MESSAGE:
        if not party and role not in (Role.ARBITRATOR, Role.STAFF):
            return Permit(False, _not_yours())
        if status in FINAL_STATUSES:
            return Permit(False, _("Спор закрыт, новые сообщения не принимаются."))
        return Permit(True)

    if action == Action.CANCEL:
        if role != Role.BUYER:
            return Permit(False, _("Отменить спор может только покупатель."))
        if status not in OPEN_STATUSES:
            return Permit(False, _stale())
        return Permit(True, closes_at=dispute.auto_claim_due_at)

    if action == Action.ESCALATE:
        if role != Role.BUYER:
            return Permit(False, _("Передать спор в претензию может покупатель."))
        if status not in OPEN_STATUSES:
            return Permit(False, _("Этот спор уже нельзя передать в претензию."))
        if now < dispute.escalation_opens_at:
            return Permit(
                False,
                _("Передать спор в претензию можно с %(date)s.") % {"date": local_date(dispute.escalation_opens_at)},
                opens_at=dispute.escalation_opens_at,
            )
        return Permit(True, opens_at=dispute.escalation_opens_at, closes_at=dispute.auto_claim_due_at)

    if action == Action.SHIP_RETURN:
        if role != Role.BUYER:
            return Permit(False, _("Трек-номер возврата указывает покупатель."))
        if status != S.AWAITING_RETURN:
            return Permit(False, _("Сейчас товар возвращать не нужно."))
        if is_due(dispute.return_due_at, now):
            return Permit(False, _("Срок отправки товара обратно истёк."))
        return Permit(True, closes_at=dispute.return_due_at)

    if action in (Action.CONFIRM_RETURN, Action.REJECT_RETURN):
        if role != Role.SELLER:
            return Permit(False, _("Получение возврата подтверждает продавец."))
        if status != S.RETURN_SHIPPED:
            return Permit(False, _("Покупатель ещё не отправил товар обратно."))
        return Permit(True)

    return _deadline_permit(action, dispute, role, now, facts)


CLAIM_ACTIONS = frozenset(
    {
        Action.ANSWER_EVIDENCE,
        Action.APPEAL,
        Action.TAKE_CLAIM,
        Action.REQUEST_EVIDENCE,
        Action.RECLASSIFY,
        Action.DECIDE_CLAIM,
        Action.DECIDE_APPEAL,
    }
)


def _claim_permit(action: Action, dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    claim = claim_of(dispute)
    if claim is None or dispute.status != S.CLAIM:
        return Permit(False, _("Спор не у арбитра."))
    stage = claim.stage
    request = facts.evidence_request

    if action == Action.ANSWER_EVIDENCE:
        if role not in PARTIES:
            return Permit(False, _not_yours())
        if stage != Claim.Stage.AWAITING_PARTIES or request is None:
            return Permit(False, _("Арбитр сейчас ничего у вас не запрашивает."))
        asked = request.of_buyer if role == Role.BUYER else request.of_seller
        answered = request.buyer_answered_at if role == Role.BUYER else request.seller_answered_at
        if not asked:
            return Permit(False, _("Арбитр запросил доказательства у другой стороны."))
        if answered:
            return Permit(False, _("Вы уже ответили на запрос арбитра."))
        if is_due(request.due_at, now):
            return Permit(False, _("Срок ответа на запрос арбитра прошёл."))
        return Permit(True, closes_at=request.due_at)

    if action == Action.APPEAL:
        if role not in PARTIES:
            return Permit(False, _not_yours())
        if facts.has_appeal or stage == Claim.Stage.APPEAL:
            return Permit(False, _("Решение уже обжаловано: обжаловать его можно только один раз."))
        if stage != Claim.Stage.DECIDED:
            return Permit(False, _("Обжаловать можно только принятое решение, пока не прошёл срок апелляции."))
        if is_due(claim.appeal_due_at, now):
            return Permit(False, _("Срок обжалования прошёл: решение окончательное."))
        return Permit(True, closes_at=claim.appeal_due_at)

    # Staff actions on the claim page.
    if role != Role.ARBITRATOR:
        return Permit(False, _("Это может сделать только арбитр."))
    mine = claim.assigned_to_id is not None and claim.assigned_to_id == facts.actor_id

    if action == Action.TAKE_CLAIM:
        if stage not in UNDECIDED_STAGES:
            return Permit(False, _("По претензии уже принято решение."))
        if mine:
            return Permit(False, _("Претензия уже у вас."))
        return Permit(True)

    if action in (Action.REQUEST_EVIDENCE, Action.RECLASSIFY, Action.DECIDE_CLAIM):
        if stage not in UNDECIDED_STAGES:
            return Permit(False, _("По претензии уже принято решение."))
        if not mine:
            return Permit(False, _("Сначала возьмите претензию в работу."))
        if action == Action.REQUEST_EVIDENCE and request is not None:
            return Permit(False, _("Предыдущий запрос доказательств ещё открыт."))
        if action == Action.DECIDE_CLAIM and stage == Claim.Stage.AWAITING_PARTIES and request is not None:
            return Permit(
                False,
                _("Стороны отвечают на ваш запрос до %(date)s: решение можно принять после их ответов или этого срока.")
                % {"date": local_date(request.due_at)},
                opens_at=request.due_at,
            )
        return Permit(True, closes_at=claim.overdue_due_at)

    if action == Action.DECIDE_APPEAL:
        if stage != Claim.Stage.APPEAL:
            return Permit(False, _("Апелляции на рассмотрении нет."))
        if facts.actor_id is not None and facts.actor_id == facts.first_decider_id:
            return Permit(False, _("Апелляцию рассматривает другой арбитр, не тот, кто принял первое решение."))
        return Permit(True)

    return Permit(False, _stale())


def _deadline_permit(action: Action, dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    """The deadlines: only the sweeps take these, and only once the deadline has passed."""
    if role != Role.SYSTEM:
        return Permit(False, _("Это действие выполняется автоматически."))
    status = dispute.status
    # Only a dispute in "claim" has one that matters: the others need not read it.
    claim = claim_of(dispute) if status == S.CLAIM else None
    claim_stage = claim.stage if claim is not None else None
    undecided = claim_stage in UNDECIDED_STAGES
    due: dict[Action, tuple[bool, datetime | None]] = {
        Action.GRANT_FOR_SILENCE: (
            status == S.AWAITING_SELLER and facts.pending_offer is not None and facts.pending_offer.role == Role.BUYER,
            dispute.seller_answer_due_at,
        ),
        Action.AUTO_CLAIM: (status in OPEN_STATUSES, dispute.auto_claim_due_at),
        Action.CLOSE_UNRETURNED: (status == S.AWAITING_RETURN, dispute.return_due_at),
        Action.FLAG_CLAIM: (undecided, claim.flag_due_at if claim else None),
        Action.MARK_CLAIM_OVERDUE: (undecided, claim.overdue_due_at if claim else None),
        Action.CLOSE_EVIDENCE_REQUEST: (
            claim_stage == Claim.Stage.AWAITING_PARTIES and facts.evidence_request is not None,
            facts.evidence_request.due_at if facts.evidence_request else None,
        ),
        Action.FINALIZE_DECISION: (claim_stage == Claim.Stage.DECIDED, claim.appeal_due_at if claim else None),
    }
    state_fits, deadline = due[action]
    if not state_fits:
        return Permit(False, _stale())
    # A deadline that decides against a party waits while that party is blocked.
    winner = {Action.GRANT_FOR_SILENCE: "buyer", Action.CLOSE_UNRETURNED: "seller"}.get(action)
    if winner and (message := blocked_loser_refusal(dispute, winner=winner)):
        return Permit(False, message)
    if not is_due(deadline, now):
        return Permit(False, _("Срок ещё не наступил."), opens_at=deadline)
    return Permit(True)


def refusal(action: Action, dispute: Dispute, role: Role, now: datetime, facts: Facts = NO_FACTS) -> str | None:
    """Why `role` may not take `action` now, or None when it may."""
    return permit(action, dispute, role, now, facts).refusal


def require(action: Action, dispute: Dispute, role: Role, now: datetime, facts: Facts = NO_FACTS) -> None:
    """Raise ActionRefused with the rule's reason unless the action is allowed now."""
    if message := refusal(action, dispute, role, now, facts):
        raise ActionRefused(message)


def allowed_actions(
    dispute: Dispute, role: Role, now: datetime, facts: Facts, *, actions: tuple[Action, ...] = PAGE_ACTIONS
) -> dict[str, Permit]:
    """Every page action for this viewer, keyed by its name (`actions.escalate` in a template)."""
    return {str(action): permit(action, dispute, role, now, facts) for action in actions}


def transition_refusal(dispute: Dispute, to_status: str) -> str | None:
    if to_status not in DISPUTE_PIPELINE[dispute.status]:
        return _stale()
    return None


def claim_transition_refusal(claim: Claim, to_stage: str) -> str | None:
    if to_stage not in CLAIM_PIPELINE[claim.stage]:
        return _("Претензия уже на другом этапе: обновите страницу.")
    return None


def blocked_loser_refusal(dispute: Dispute, *, winner: str) -> str | None:
    """A blocked party cannot act on its dispute, so nothing is decided against it until it is
    unblocked (a decision for it may still be taken)."""
    if winner == "seller" and dispute.buyer.is_blocked:
        return _("Аккаунт покупателя заблокирован: решение против него можно принять после разблокировки.")
    if winner in ("buyer", "split") and dispute.store.owner.is_blocked:
        return _("Аккаунт продавца заблокирован: решение против него можно принять после разблокировки.")
    return None


def return_terms_refusal(dispute: Dispute, *, return_required: bool, role: str) -> str | None:
    """A resolution that sends the item back: never for an item that did not arrive, and only to a
    store that says where returns go (the seller must give the address before agreeing to one)."""
    if not return_required:
        return None
    if dispute.kind == Dispute.Kind.NOT_RECEIVED:
        return _("Товар не получен, поэтому возвращать нечего: выберите вариант без возврата товара.")
    if role == Role.SELLER and not dispute.store.return_address.strip():
        return _(
            "Сначала укажите адрес для возвратов в личном кабинете («Адрес для возвратов»): без него покупатель "
            "не узнает, куда отправить товар."
        )
    return None


def decision_refusal(dispute: Dispute, *, winner: str, return_required: bool) -> str | None:
    """What a decision may say about the item: a "not received" dispute never sends an item back,
    and the seller never gets an item back without the buyer getting money."""
    if return_required and dispute.kind == Dispute.Kind.NOT_RECEIVED:
        return _("По спору «товар не получен» возвращать нечего: возврат товара не назначается.")
    if return_required and winner == "seller":
        return _("Если решение в пользу продавца, покупатель оставляет товар: возврат товара не назначается.")
    if return_required and not dispute.store.return_address.strip():
        return _(
            "У магазина нет адреса для возвратов: решите без возврата товара или попросите продавца указать адрес."
        )
    return None
