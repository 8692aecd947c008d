"""Who may do what to a dispute and its claim, and when: the one rulebook (core.rules.Rulebook).

Services refuse with `require()`, the dispute page and the claim page draw their buttons from
`allowed()`, and the deadline services ask `refusal()` with Role.SYSTEM, so a button, the server's
answer and a deadline can never disagree. The dates are the ones the timers keep; the deadlines
at the end give the sweeps their due rows.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core.dates import days
from core.money import format_money
from core.rules import PARTIES, Permit, Role, Rulebook, allow, is_due, party_role, refuse

from .models import Claim, Dispute, EvidenceRequest, Offer, Winner

__all__ = ["PARTIES", "Permit", "Role", "is_due"]

S = Dispute.Status

OPEN = (S.AWAITING_SELLER, S.NEGOTIATING)
OPEN_STATUSES = frozenset(OPEN)
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

UNDECIDED = (Claim.Stage.PROCESSING, Claim.Stage.AWAITING_PARTIES, Claim.Stage.INVESTIGATION)
UNDECIDED_STAGES = frozenset(UNDECIDED)

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
    return party_role(
        user,
        buyer_id=dispute.buyer_id,
        seller_id=dispute.store.owner_id,
        staff=(
            ("disputes.decide_claim", Role.ARBITRATOR),  # decide claims and appeals, and write into disputes
            ("disputes.add_message", Role.STAFF),  # write into disputes
            ("disputes.view_dispute", Role.OBSERVER),  # only read them
        ),
    )


@dataclass(frozen=True)
class Facts:
    """What the rules need beyond the dispute and its claim: read by the caller (under the row
    lock when it is about to act, with the page's prefetches when it draws buttons)."""

    pending_offer: Offer | None = None
    evidence_request: EvidenceRequest | None = None  # the claim's open request, if any
    actor_id: int | None = None
    first_decider_id: int | None = None
    has_appeal: bool = False


NO_FACTS = Facts()

book: Rulebook[Dispute, Facts] = Rulebook("dispute", no_facts=NO_FACTS, page_actions=PAGE_ACTIONS)
permit = book.permit
refusal = book.refusal
require = book.require
allowed = book.allowed


# --- dates ------------------------------------------------------------------------------------


def _after(setting: str, unit: str = "days") -> Callable[[datetime], datetime]:
    """A deadline `setting` (days, or seconds) after a moment, read from the settings when asked."""

    def deadline(start: datetime) -> datetime:
        return start + timedelta(**{unit: getattr(settings, setting)})

    return deadline


seller_answer_due = _after("DISPUTE_SELLER_ANSWER_DAYS")  # from opening
escalation_opens = _after("DISPUTE_ESCALATION_AFTER_DAYS")  # from opening
auto_claim_due = _after("DISPUTE_AUTO_CLAIM_AFTER_DAYS")  # from opening
return_due = _after("DISPUTE_RETURN_SHIP_DAYS")  # from the resolution
claim_flag_due = _after("CLAIM_DECISION_FLAG_DAYS")  # from the escalation
claim_overdue_due = _after("CLAIM_DECISION_OVERDUE_DAYS")  # from the escalation
appeal_due = _after("CLAIM_APPEAL_DAYS")  # from the decision


def local_date(moment: datetime) -> str:
    """A deadline as the user reads it: in their time zone, to the minute."""
    return formats.date_format(timezone.localtime(moment), "j E, H:i T")


def claim_of(dispute: Dispute) -> Claim | None:
    """The dispute's claim, if it became one (read with the dispute by the selectors). A claim is
    opened only with the escalation (services._escalate), so a dispute never escalated is not
    asked for one: the page's statement, which caches no "no claim", then reads none."""
    if "escalated_at" not in dispute.get_deferred_fields() and dispute.escalated_at is None:
        return None
    try:
        return dispute.claim
    except Claim.DoesNotExist:
        return None


def _stale() -> str:
    return _("Спор уже в другом состоянии: обновите страницу.")


NOT_YOURS = _lazy("Это не ваш спор.")


def _offer_gone() -> str:
    return _("Это предложение уже не действует: обновите страницу.")


# --- the parties' actions ----------------------------------------------------------------------


@book.rule(Action.ACCEPT_OFFER, by=PARTIES, otherwise=NOT_YOURS)
def _accept_offer(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if dispute.status not in OPEN_STATUSES or facts.pending_offer is None:
        return refuse(_offer_gone())
    if facts.pending_offer.role == role:
        return refuse(_("Принять предложение может только другая сторона."))
    return allow(closes_at=dispute.auto_claim_due_at)


@book.rule(Action.REFUSE_OFFER)
def _refuse_offer(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if role == Role.SELLER:
        return refuse(_("Чтобы отказать, предложите покупателю свои условия и приложите доказательства."))
    if role != Role.BUYER:
        return refuse(str(NOT_YOURS))
    offer = facts.pending_offer
    if dispute.status not in OPEN_STATUSES or offer is None or offer.role == role:
        return refuse(_offer_gone())
    return allow(closes_at=dispute.auto_claim_due_at)


@book.rule(Action.MAKE_OFFER, by=PARTIES, otherwise=NOT_YOURS)
def _make_offer(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if dispute.status not in OPEN_STATUSES:
        return refuse(_stale())
    if dispute.status == S.AWAITING_SELLER:
        if role == Role.BUYER:
            return refuse(_("Дождитесь ответа продавца на ваше требование."))
        return allow(closes_at=dispute.seller_answer_due_at)
    return allow(closes_at=dispute.auto_claim_due_at)


@book.rule(Action.POST_MESSAGE, by=PARTIES | {Role.ARBITRATOR, Role.STAFF}, otherwise=NOT_YOURS)
def _post_message(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if dispute.status in FINAL_STATUSES:
        return refuse(_("Спор закрыт, новые сообщения не принимаются."))
    return allow()


@book.rule(Action.CANCEL, by=Role.BUYER, otherwise=_lazy("Отменить спор может только покупатель."))
def _cancel(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if dispute.status not in OPEN_STATUSES:
        return refuse(_stale())
    return allow(closes_at=dispute.auto_claim_due_at)


@book.rule(Action.ESCALATE, by=Role.BUYER, otherwise=_lazy("Передать спор в претензию может покупатель."))
def _escalate(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if dispute.status not in OPEN_STATUSES:
        return refuse(_("Этот спор уже нельзя передать в претензию."))
    opens_at = dispute.escalation_opens_at
    if now < opens_at:
        return refuse(
            _("Передать спор в претензию можно с %(date)s.") % {"date": local_date(opens_at)}, opens_at=opens_at
        )
    return allow(opens_at=opens_at, closes_at=dispute.auto_claim_due_at)


@book.rule(Action.SHIP_RETURN, by=Role.BUYER, otherwise=_lazy("Трек-номер возврата указывает покупатель."))
def _ship_return(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if dispute.status != S.AWAITING_RETURN:
        return refuse(_("Сейчас товар возвращать не нужно."))
    if is_due(dispute.return_due_at, now):
        return refuse(_("Срок отправки товара обратно истёк."))
    return allow(closes_at=dispute.return_due_at)


@book.rule(Action.CONFIRM_RETURN, by=Role.SELLER, otherwise=_lazy("Получение возврата подтверждает продавец."))
def _answer_return(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if dispute.status != S.RETURN_SHIPPED:
        return refuse(_("Покупатель ещё не отправил товар обратно."))
    return allow()


@book.rule(Action.REJECT_RETURN, by=Role.SELLER, otherwise=_lazy("Получение возврата подтверждает продавец."))
def _reject_return(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    if dispute.status != S.RETURN_SHIPPED:
        return refuse(_("Покупатель ещё не отправил товар обратно."))
    # A dispute has one claim: after an arbitrator's final decision the return cannot go to a second one.
    if dispute.escalated_at is not None:
        return refuse(
            _(
                "По этому спору уже есть окончательное решение арбитра. "
                "Если вернулся не тот товар, напишите в поддержку."
            )
        )
    return allow()


# --- claims ------------------------------------------------------------------------------------


ClaimRule = Callable[[Dispute, Claim, Role, datetime, Facts], Permit]


def _claim_rule(action: Action, *, staff: bool = False, working: bool = False) -> Callable[[ClaimRule], ClaimRule]:
    """Register a claim action's rule. It is asked, with the claim, only while the dispute is at
    arbitration and of the role the action is for: a party's, or with `staff` an arbitrator's;
    with `working`, only for the arbitrator who has taken the undecided claim."""

    def register(function: ClaimRule) -> ClaimRule:
        @book.rule(action)
        def rule(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
            claim = claim_of(dispute)
            if claim is None or dispute.status != S.CLAIM:
                return refuse(_("Спор не у арбитра."))
            if not staff and role not in PARTIES:
                return refuse(str(NOT_YOURS))
            if staff and role != Role.ARBITRATOR:
                return refuse(_("Это может сделать только арбитр."))
            if working and claim.stage not in UNDECIDED_STAGES:
                return refuse(_("По претензии уже принято решение."))
            if working and not _is_mine(claim, facts):
                return refuse(_("Сначала возьмите претензию в работу."))
            return function(dispute, claim, role, now, facts)

        return function

    return register


def _is_mine(claim: Claim, facts: Facts) -> bool:
    return claim.assigned_to_id is not None and claim.assigned_to_id == facts.actor_id


@_claim_rule(Action.ANSWER_EVIDENCE)
def _answer_evidence(dispute: Dispute, claim: Claim, role: Role, now: datetime, facts: Facts) -> Permit:
    request = facts.evidence_request
    if claim.stage != Claim.Stage.AWAITING_PARTIES or request is None:
        return refuse(_("Арбитр сейчас ничего у вас не запрашивает."))
    if not (request.of_buyer if role == Role.BUYER else request.of_seller):
        return refuse(_("Арбитр запросил доказательства у другой стороны."))
    if request.buyer_answered_at if role == Role.BUYER else request.seller_answered_at:
        return refuse(_("Вы уже ответили на запрос арбитра."))
    if is_due(request.due_at, now):
        return refuse(_("Срок ответа на запрос арбитра прошёл."))
    return allow(closes_at=request.due_at)


@_claim_rule(Action.APPEAL)
def _appeal(dispute: Dispute, claim: Claim, role: Role, now: datetime, facts: Facts) -> Permit:
    if facts.has_appeal or claim.stage == Claim.Stage.APPEAL:
        return refuse(_("Решение уже обжаловано: обжаловать его можно только один раз."))
    if claim.stage != Claim.Stage.DECIDED:
        return refuse(_("Обжаловать можно только принятое решение, пока не прошёл срок апелляции."))
    if is_due(claim.appeal_due_at, now):
        return refuse(_("Срок обжалования прошёл: решение окончательное."))
    return allow(closes_at=claim.appeal_due_at)


@_claim_rule(Action.TAKE_CLAIM, staff=True)
def _take_claim(dispute: Dispute, claim: Claim, role: Role, now: datetime, facts: Facts) -> Permit:
    if claim.stage not in UNDECIDED_STAGES:
        return refuse(_("По претензии уже принято решение."))
    if _is_mine(claim, facts):
        return refuse(_("Претензия уже у вас."))
    return allow()


@_claim_rule(Action.REQUEST_EVIDENCE, staff=True, working=True)
def _request_evidence(dispute: Dispute, claim: Claim, role: Role, now: datetime, facts: Facts) -> Permit:
    if facts.evidence_request is not None:
        return refuse(_("Предыдущий запрос доказательств ещё открыт."))
    return allow(closes_at=claim.overdue_due_at)


@_claim_rule(Action.RECLASSIFY, staff=True, working=True)
def _reclassify(dispute: Dispute, claim: Claim, role: Role, now: datetime, facts: Facts) -> Permit:
    return allow(closes_at=claim.overdue_due_at)


@_claim_rule(Action.DECIDE_CLAIM, staff=True, working=True)
def _decide_claim(dispute: Dispute, claim: Claim, role: Role, now: datetime, facts: Facts) -> Permit:
    request = facts.evidence_request
    if claim.stage == Claim.Stage.AWAITING_PARTIES and request is not None:
        return refuse(
            _("Стороны отвечают на ваш запрос до %(date)s: решение можно принять после их ответов или этого срока.")
            % {"date": local_date(request.due_at)},
            opens_at=request.due_at,
        )
    return allow(closes_at=claim.overdue_due_at)


@_claim_rule(Action.DECIDE_APPEAL, staff=True)
def _decide_appeal(dispute: Dispute, claim: Claim, role: Role, now: datetime, facts: Facts) -> Permit:
    if claim.stage != Claim.Stage.APPEAL:
        return refuse(_("Апелляции на рассмотрении нет."))
    if facts.actor_id is not None and facts.actor_id == facts.first_decider_id:
        return refuse(_("Апелляцию рассматривает другой арбитр, не тот, кто принял первое решение."))
    return allow()


def _zoned(moment: datetime) -> str:
    """A moment on a staff screen: in the staff member's zone, the zone named."""
    return formats.date_format(timezone.localtime(moment), "j E Y, H:i T")


def claim_page_idle_reason(dispute: Dispute, role: Role, facts: Facts) -> str:
    """Why the claim page in admin offers this staff member no form now (it is asked only then):
    the claim is closed, they may only read, they decided it and the appeal goes to another
    arbitrator, or it waits for the parties."""
    claim = claim_of(dispute)
    if claim is None or claim.stage == Claim.Stage.FINAL or dispute.status != S.CLAIM:
        return _("Претензия закрыта: решение окончательное, действий по ней больше нет.")
    if role != Role.ARBITRATOR:
        return _(
            "Решения по претензиям принимают арбитры, а у вас нет права «Может принимать решения по претензиям и "
            "апелляциям»: страница открыта только для чтения."
        )
    decided_by_you = facts.actor_id is not None and facts.actor_id == facts.first_decider_id
    if claim.stage == Claim.Stage.DECIDED and claim.appeal_due_at is not None:
        if decided_by_you:
            return _(
                "Решение по претензии приняли вы. Стороны могут обжаловать его до %(date)s; апелляцию рассмотрит "
                "другой арбитр."
            ) % {"date": _zoned(claim.appeal_due_at)}
        return _(
            "Решение уже принято. Стороны могут обжаловать его до %(date)s; апелляцию рассмотрит арбитр, который "
            "не принимал первое решение."
        ) % {"date": _zoned(claim.appeal_due_at)}
    if claim.stage == Claim.Stage.APPEAL and decided_by_you:
        return _("Первое решение приняли вы, поэтому апелляцию рассматривает другой арбитр.")
    return _("Сейчас действий не требуется.")


# --- deadlines: only the sweeps take these, and only once the deadline has passed --------------


def _when_due(dispute: Dispute, now: datetime, *, fits: bool, deadline: datetime | None, winner: str = "") -> Permit:
    """A deadline action on a dispute in the state it applies to (`fits`), once `deadline` has
    passed. One that decides against a party (for `winner`) waits while that party is blocked."""
    if not fits:
        return refuse(_stale())
    if winner and (message := blocked_loser_refusal(dispute, winner=winner)):
        return refuse(message)
    if not is_due(deadline, now):
        return refuse(_("Срок ещё не наступил."), opens_at=deadline)
    return allow()


def _claim_in(dispute: Dispute, stages: frozenset[str]) -> Claim | None:
    # Only a dispute in "claim" has one that matters: the others need not read it.
    claim = claim_of(dispute) if dispute.status == S.CLAIM else None
    return claim if claim is not None and claim.stage in stages else None


@book.rule(Action.GRANT_FOR_SILENCE, by=Role.SYSTEM)
def _grant_for_silence(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    offer = facts.pending_offer
    fits = dispute.status == S.AWAITING_SELLER and offer is not None and offer.role == Role.BUYER
    return _when_due(dispute, now, fits=fits, deadline=dispute.seller_answer_due_at, winner=Winner.BUYER)


@book.rule(Action.AUTO_CLAIM, by=Role.SYSTEM)
def _auto_claim(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    return _when_due(dispute, now, fits=dispute.status in OPEN_STATUSES, deadline=dispute.auto_claim_due_at)


@book.rule(Action.CLOSE_UNRETURNED, by=Role.SYSTEM)
def _close_unreturned(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    fits = dispute.status == S.AWAITING_RETURN
    return _when_due(dispute, now, fits=fits, deadline=dispute.return_due_at, winner=Winner.SELLER)


@book.rule(Action.FLAG_CLAIM, by=Role.SYSTEM)
def _flag_claim(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    claim = _claim_in(dispute, UNDECIDED_STAGES)
    return _when_due(dispute, now, fits=claim is not None, deadline=claim.flag_due_at if claim else None)


@book.rule(Action.MARK_CLAIM_OVERDUE, by=Role.SYSTEM)
def _mark_claim_overdue(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    claim = _claim_in(dispute, UNDECIDED_STAGES)
    return _when_due(dispute, now, fits=claim is not None, deadline=claim.overdue_due_at if claim else None)


@book.rule(Action.CLOSE_EVIDENCE_REQUEST, by=Role.SYSTEM)
def _close_evidence_request(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    request = facts.evidence_request
    fits = _claim_in(dispute, frozenset({Claim.Stage.AWAITING_PARTIES})) is not None and request is not None
    return _when_due(dispute, now, fits=fits, deadline=request.due_at if request else None)


@book.rule(Action.FINALIZE_DECISION, by=Role.SYSTEM)
def _finalize_decision(dispute: Dispute, role: Role, now: datetime, facts: Facts) -> Permit:
    claim = _claim_in(dispute, frozenset({Claim.Stage.DECIDED}))
    return _when_due(dispute, now, fits=claim is not None, deadline=claim.appeal_due_at if claim else None)


# The rows each deadline is due on: the statuses above, and the indexed deadline column.
book.deadline(
    Action.GRANT_FOR_SILENCE, "seller_answer_due_at", lambda: Dispute.objects.filter(status=S.AWAITING_SELLER)
)
book.deadline(Action.AUTO_CLAIM, "auto_claim_due_at", lambda: Dispute.objects.filter(status__in=OPEN))
book.deadline(Action.CLOSE_UNRETURNED, "return_due_at", lambda: Dispute.objects.filter(status=S.AWAITING_RETURN))
book.deadline(
    Action.CLOSE_EVIDENCE_REQUEST,
    "claim__evidence_due_at",
    lambda: Dispute.objects.filter(status=S.CLAIM, claim__stage=Claim.Stage.AWAITING_PARTIES),
)
book.deadline(
    Action.FLAG_CLAIM, "claim__flag_due_at", lambda: Dispute.objects.filter(status=S.CLAIM, claim__stage__in=UNDECIDED)
)
book.deadline(
    Action.MARK_CLAIM_OVERDUE,
    "claim__overdue_due_at",
    lambda: Dispute.objects.filter(status=S.CLAIM, claim__stage__in=UNDECIDED),
)
book.deadline(
    Action.FINALIZE_DECISION,
    "claim__appeal_due_at",
    lambda: Dispute.objects.filter(status=S.CLAIM, claim__stage=Claim.Stage.DECIDED),
)


def flagged_claims() -> QuerySet[Dispute]:
    """Undecided claims the flag deadline has marked (the arbitrators' daily digest)."""
    return Dispute.objects.filter(status=S.CLAIM, claim__stage__in=UNDECIDED, claim__flagged_at__isnull=False)


# --- moves, amounts and decisions ----------------------------------------------------------------


def transition_refusal(dispute: Dispute, to_status: str) -> str | None:
    if to_status not in DISPUTE_PIPELINE[dispute.status]:
        return _stale()
    return None


def claim_transition_refusal(claim: Claim, to_stage: str) -> str | None:
    if to_stage not in CLAIM_PIPELINE[claim.stage]:
        return _("Претензия уже на другом этапе: обновите страницу.")
    return None


def refund_amount_refusal(amount: Decimal | None, *, paid: Decimal, currency: str, partial: bool = False) -> str | None:
    """The one bound on every refund amount (request, offer, decision): above zero, at most what
    was paid for the dispute's item (`paid`, its share of shipping included); a partial refund is
    less than that, or it would be the full one under another name."""
    if amount is None:
        return _("Укажите сумму возврата.")
    if amount <= 0:
        return _("Сумма должна быть больше нуля.")
    if amount > paid:
        return _("Нельзя вернуть больше, чем заплачено за товар: %(max)s.") % {"max": format_money(paid, currency)}
    if partial and amount >= paid:
        return _(
            "Частичный возврат — меньше, чем заплачено за товар (%(max)s). Чтобы вернуть всё, выберите полный возврат."
        ) % {"max": format_money(paid, currency)}
    return None


def return_postage_refusal(limit: Decimal | None, *, return_required: bool) -> str | None:
    """The seller may offer to refund the buyer's return postage up to an amount: only when the
    item goes back, and an amount above zero."""
    if limit is None:
        return None
    if not return_required:
        return _("Возместить пересылку можно, только если товар возвращается продавцу.")
    if limit <= 0:
        return _("Сумма возмещения пересылки должна быть больше нуля.")
    return None


def blocked_loser_refusal(dispute: Dispute, *, winner: str) -> str | None:
    """A blocked party cannot act on its dispute, so nothing is decided against it until it is
    unblocked (a decision for it may still be taken)."""
    if winner == Winner.SELLER and dispute.buyer.is_blocked:
        return _("Аккаунт покупателя заблокирован: решение против него можно принять после разблокировки.")
    if winner in (Winner.BUYER, Winner.SPLIT) and dispute.store.owner.is_blocked:
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


def evidence_days_refusal(days_given: int) -> str | None:
    """How long an arbitrator may give the parties to answer a request for evidence."""
    if not 1 <= days_given <= settings.CLAIM_EVIDENCE_MAX_DAYS:
        return _("Срок ответа — от 1 дня до %(max)s.") % {"max": days(settings.CLAIM_EVIDENCE_MAX_DAYS)}
    return None


@dataclass(frozen=True)
class DecisionCheck:
    """A decision checked against the rules every decision keeps: the amount it stands for, and
    what is wrong with it, by the field of the decision form it concerns, in the order the
    service refuses."""

    amount: Decimal | None
    problems: list[tuple[str, str]]


def decision_check(
    dispute: Dispute, *, winner: str, amount: Decimal | None, return_required: bool, reason: str
) -> DecisionCheck:
    """The one check of a decision (first or on appeal), for the admin form and the service.

    A "not received" dispute never sends an item back, the seller never gets an item back without
    the buyer getting money, nothing is decided against a blocked party, the reason is long enough
    for both parties, and the amount is within what was paid: all of it for the buyer when left
    empty, less than all for a split, nothing for the seller."""
    problems: list[tuple[str, str]] = []
    if winner not in Winner.values:
        return DecisionCheck(amount, [("winner", _("Выберите, в чью пользу решение."))])
    if message := blocked_loser_refusal(dispute, winner=winner):
        problems.append(("winner", message))
    if message := _decision_return_refusal(dispute, winner=winner, return_required=return_required):
        problems.append(("return_required", message))
    if len(reason.strip()) < settings.CLAIM_REASON_MIN_LENGTH:
        problems.append(
            (
                "reason",
                _("Обоснование — не короче %(count)d символов: его прочтут обе стороны.")
                % {"count": settings.CLAIM_REASON_MIN_LENGTH},
            )
        )
    if winner == Winner.SELLER:
        return DecisionCheck(Decimal("0"), problems)
    paid = dispute.paid_amount
    if winner == Winner.BUYER and amount is None:
        amount = paid
    if message := refund_amount_refusal(amount, paid=paid, currency=dispute.currency):
        problems.append(("amount", message))
    elif winner == Winner.SPLIT and amount is not None and amount >= paid:
        problems.append(("amount", _("Частичное решение — это сумма меньше оплаченной за товар.")))
    return DecisionCheck(amount, problems)


def _decision_return_refusal(dispute: Dispute, *, winner: str, return_required: bool) -> str | None:
    if not return_required:
        return None
    if dispute.kind == Dispute.Kind.NOT_RECEIVED:
        return _("По спору «товар не получен» возвращать нечего: возврат товара не назначается.")
    if winner == Winner.SELLER:
        return _("Если решение в пользу продавца, покупатель оставляет товар: возврат товара не назначается.")
    if not dispute.store.return_address.strip():
        return _(
            "У магазина нет адреса для возвратов: решите без возврата товара или попросите продавца указать адрес."
        )
    return None
