"""Claims: what arbitrators, the parties and the deadlines do to a dispute under arbitration.

Every change locks the dispute row, then its claim row (the project's lock order is order,
dispute, claim), asks the rulebook (disputes/rules.py), writes, records a DisputeEvent (staff
actions with their old and new values) and queues mail after commit.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NotRequired, TypedDict, Unpack

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.emails import email_queue
from accounts.models import User
from core.errors import ActionRefused
from core.rules import save_move

from . import outcomes, policy, presenters, rules, selectors, services
from .links import evidence_link_clean
from .models import Appeal, Claim, Decision, Dispute, DisputeEvent, EvidenceRequest, Message, PolicyRuleSwitch
from .problems import ALL_PROBLEMS, problems_refusal
from .rules import Action, Facts, Role
from .timeline import staff_name

S = Dispute.Status


def claim_lock(dispute: Dispute) -> Claim:
    """The dispute's claim, locked; call after services.dispute_lock() (dispute, then claim)."""
    claim = Claim.objects.select_for_update(of=("self",)).select_related("assigned_to").get(dispute=dispute)
    dispute.claim = claim  # the rulebook reads it from the dispute
    return claim


def claim_facts(claim: Claim, *, actor_id: int | None) -> Facts:
    """What the rulebook needs to know about a claim besides its row."""
    first = next((d for d in claim.decisions.all() if d.kind == Decision.Kind.FIRST), None)
    return Facts(
        evidence_request=claim.evidence_requests.filter(closed_at__isnull=True).first(),
        actor_id=actor_id,
        first_decider_id=first.decided_by_id if first else None,
        has_appeal=Appeal.objects.filter(claim=claim).exists(),
    )


def _locked(dispute_id: int, user: User | None, action: Action, now: datetime) -> tuple[Dispute, Claim, Facts]:
    dispute = services.dispute_lock(dispute_id)
    claim = claim_lock(dispute)
    facts = claim_facts(claim, actor_id=user.pk if user else None)
    role = rules.role_of(dispute, user) if user else Role.SYSTEM
    rules.require(action, dispute, role, now, facts)
    return dispute, claim, facts


def _move(
    claim: Claim,
    dispute: Dispute,
    *,
    to: str,
    event: str,
    actor: User | None,
    changes: dict[str, Any] | None = None,
    **details: Any,
) -> None:
    """The one place a claim's stage changes (CLAIM_PIPELINE in rules)."""
    refusal = rules.claim_transition_refusal(claim, to)
    details.setdefault("stage", {"old": claim.stage, "new": to})
    save_move(claim, to, refusal, changes, field="stage")
    services.record(dispute, event, actor, **details)


def _arbitrators() -> list[User]:
    return list(User.objects.filter(groups__permissions__codename="decide_claim", is_active=True).distinct())


# --- arbitrators -----------------------------------------------------------------------------


@transaction.atomic(durable=True)
def claim_take(*, dispute: Dispute, arbitrator: User, now: datetime | None = None) -> Claim:
    """An arbitrator takes the claim (from the queue, or over from a colleague)."""
    now = now or timezone.now()
    dispute, claim, _facts = _locked(dispute.pk, arbitrator, Action.TAKE_CLAIM, now)
    # Named as staff screens name them at the time (the full name), not by login.
    handover = {
        "old": staff_name(claim.assigned_to) if claim.assigned_to else None,
        "new": staff_name(arbitrator),
    }
    if claim.stage == Claim.Stage.PROCESSING:
        _move(
            claim,
            dispute,
            to=Claim.Stage.INVESTIGATION,
            event=DisputeEvent.Kind.CLAIM_TAKEN,
            actor=arbitrator,
            changes={"assigned_to": arbitrator, "assigned_at": now},
            arbitrator=handover,
        )
    else:
        claim.assigned_to, claim.assigned_at = arbitrator, now
        claim.save(update_fields=["assigned_to", "assigned_at", "updated_at"])
        services.record(dispute, DisputeEvent.Kind.CLAIM_TAKEN, arbitrator, arbitrator=handover)
    return claim


@transaction.atomic(durable=True)
def evidence_request(
    *,
    dispute: Dispute,
    arbitrator: User,
    of_buyer: bool,
    of_seller: bool,
    text: str,
    days_given: int,
    now: datetime | None = None,
) -> EvidenceRequest:
    """Ask one or both parties for more evidence by a deadline; the claim waits for them."""
    now = now or timezone.now()
    dispute, claim, _facts = _locked(dispute.pk, arbitrator, Action.REQUEST_EVIDENCE, now)
    if not (of_buyer or of_seller):
        raise ActionRefused(_("Выберите, у кого запросить доказательства."))
    if len(text.strip()) < 20:
        raise ActionRefused(_("Опишите, что именно нужно прислать: хотя бы 20 символов."))
    if message := rules.evidence_days_refusal(days_given):
        raise ActionRefused(message)
    due_at = now + timedelta(days=days_given)
    request = EvidenceRequest.objects.create(
        claim=claim,
        asked_by=arbitrator,
        of_buyer=of_buyer,
        of_seller=of_seller,
        text=text.strip(),
        due_at=due_at,
        created_at=now,
    )
    _move(
        claim,
        dispute,
        to=Claim.Stage.AWAITING_PARTIES,
        event=DisputeEvent.Kind.EVIDENCE_REQUESTED,
        actor=arbitrator,
        changes={"evidence_due_at": due_at},
        request=request.pk,
        of_buyer=of_buyer,
        of_seller=of_seller,
        due_at=due_at.isoformat(),
    )
    asked = [user for user, wanted in ((dispute.buyer, of_buyer), (dispute.store.owner, of_seller)) if wanted]
    services.notify(
        dispute,
        asked,
        presenters.EVIDENCE_REQUESTED,
        f"evidence-request:{request.pk}",
        lines=(presenters.evidence_asked_line(request.text),),
        due_at=due_at,
        due_label=presenters.EVIDENCE_DUE_LABEL,
    )
    return request


@transaction.atomic(durable=True)
def evidence_answer(
    *, dispute: Dispute, user: User, now: datetime | None = None, **words: Unpack[services.Words]
) -> Message:
    """A party answers the arbitrator's request with text and files; once everyone asked has
    answered, the arbitrator investigates."""
    now = now or timezone.now()
    dispute, claim, facts = _locked(dispute.pk, user, Action.ANSWER_EVIDENCE, now)
    request = facts.evidence_request
    assert request is not None  # the rule refused otherwise
    link = evidence_link_clean(words.get("link", ""))
    empty = _("Напишите ответ или приложите файлы.")
    message = services.words_message(
        dispute, user, Message.Kind.ANSWER, words, link=link, empty=empty, evidence_request=request
    )
    role = rules.role_of(dispute, user)
    if role == Role.BUYER:
        request.buyer_answered_at = now
    else:
        request.seller_answered_at = now
    everyone_answered = (not request.of_buyer or request.buyer_answered_at) and (
        not request.of_seller or request.seller_answered_at
    )
    if everyone_answered:
        request.closed_at = now
    request.save(update_fields=["buyer_answered_at", "seller_answered_at", "closed_at"])
    services.record(dispute, DisputeEvent.Kind.EVIDENCE_ANSWERED, user, request=request.pk, message=message.pk)
    if everyone_answered:
        _evidence_in(claim, dispute)
    if claim.assigned_to is not None:
        services.notify(
            dispute,
            [claim.assigned_to],
            presenters.EVIDENCE_ANSWERED,
            f"evidence-answer:{message.pk}",
            side=presenters.SIDE_NAMES[role],
        )
    return message


def _evidence_in(claim: Claim, dispute: Dispute, **details: Any) -> None:
    """The evidence request is closed (everyone asked has answered, or its deadline passed): the
    arbitrator investigates with the evidence there is."""
    _move(
        claim,
        dispute,
        to=Claim.Stage.INVESTIGATION,
        event=DisputeEvent.Kind.EVIDENCE_CLOSED,
        actor=None,
        changes={"evidence_due_at": None},
        **details,
    )


def _claim_deadline_facts(dispute: Dispute) -> Facts:
    """What a claim's deadline reads under the dispute's lock: the claim, locked next (the rulebook
    reads it from the dispute), with its open request, decisions and appeal."""
    return claim_facts(claim_lock(dispute), actor_id=None)


def _claim_locked(dispute: Dispute) -> Facts:
    claim_lock(dispute)
    return rules.NO_FACTS


@transaction.atomic(savepoint=False)
@services.deadline_service(Action.CLOSE_EVIDENCE_REQUEST, facts=_claim_deadline_facts)
def evidence_request_close(dispute: Dispute, facts: Facts, now: datetime) -> Claim:
    """The answer deadline passed: the arbitrator goes on with the evidence there is."""
    claim = dispute.claim
    request = facts.evidence_request
    assert request is not None
    request.closed_at = now
    request.save(update_fields=["closed_at"])
    _evidence_in(claim, dispute, request=request.pk, deadline_passed=True)
    recipients = [user for user in (claim.assigned_to,) if user is not None]
    services.notify(
        dispute,
        recipients,
        presenters.EVIDENCE_CLOSED,
        f"evidence-closed:{request.pk}",
    )
    return claim


@transaction.atomic(durable=True)
def claim_reclassify(
    *, dispute: Dispute, arbitrator: User, problems: list[str], note: str, now: datetime | None = None
) -> Dispute:
    """Correct a wrongly chosen problem before deciding (a cheap item instead of a phone is "a
    different item", not "an empty parcel"); the timeline keeps what the buyer chose."""
    now = now or timezone.now()
    dispute, _claim, _facts = _locked(dispute.pk, arbitrator, Action.RECLASSIFY, now)
    if message := problems_refusal(dispute.kind, problems):
        raise ActionRefused(message)
    if sorted(problems) == sorted(dispute.problems):
        raise ActionRefused(_("Причина не изменилась."))
    if len(note.strip()) < 10:
        raise ActionRefused(_("Напишите, почему причина уточнена: это увидят обе стороны."))
    old = list(dispute.problems)
    dispute.problems = problems
    dispute.save(update_fields=["problems", "updated_at"])
    services.record(
        dispute,
        DisputeEvent.Kind.RECLASSIFIED,
        arbitrator,
        problems={"old": old, "new": problems},
        note=note.strip(),
    )
    # Both parties learn what changed and why: the buyer's first words stay in the history.
    services.notify(
        dispute,
        [dispute.buyer, dispute.store.owner],
        presenters.RECLASSIFIED,
        f"reclassified:{dispute.pk}:{now.isoformat()}",
        lines=(presenters.reason_line(note.strip()),),
        old=problem_names(old),
        new=problem_names(problems),
    )
    return dispute


def problem_names(codes: list[str]) -> str:
    return ", ".join(str(ALL_PROBLEMS[code].label) for code in codes if code in ALL_PROBLEMS)


def _notify_decision(dispute: Dispute, claim: Claim, decision: Decision, *, final: bool = False) -> None:
    """Both parties read the decision; `final` when nobody appealed in time and it is carried out."""
    for user in (dispute.buyer, dispute.store.owner):
        email_queue(
            user=user,
            template="claim_final" if final else "claim_decision",
            context={
                "dispute": dispute,
                "claim": claim,
                "decision": decision,
                # As it stood when the decision was made: an appeal filed before the mail goes out
                # empties the claim's column, and the mail must not then call the decision final.
                "appeal_due_at": claim.appeal_due_at if decision.kind == Decision.Kind.FIRST else None,
                "lines": presenters.decision_mail_lines(
                    dispute, decision, presenters.reader_role(dispute, user.pk), final=final
                ),
            },
            dedupe_key=f"claim-final:{claim.pk}:{user.pk}" if final else f"claim-decision:{decision.pk}:{user.pk}",
        )


class DecisionFields(TypedDict):
    """What the arbitrator decides, first or on appeal (the decision form's fields)."""

    winner: str
    amount: Decimal | None
    return_required: bool
    reason: str
    deviation_reason: NotRequired[str]  # why the policy's recommendation was not followed


@transaction.atomic(durable=True)
def claim_decide(
    *, dispute: Dispute, arbitrator: User, now: datetime | None = None, **fields: Unpack[DecisionFields]
) -> Decision:
    """The arbitrator's decision. Either party may appeal it once within CLAIM_APPEAL_DAYS; after
    that it is carried out."""
    return _decide(dispute, arbitrator, Decision.Kind.FIRST, fields, now or timezone.now())


@transaction.atomic(durable=True)
def appeal_file(
    *, dispute: Dispute, user: User, reason: str, attachment_ids: list[int] | None = None, now: datetime | None = None
) -> Message:
    """A party appeals the decision, once, with a reason and new files; another arbitrator decides."""
    now = now or timezone.now()
    dispute, claim, _facts = _locked(dispute.pk, user, Action.APPEAL, now)
    if len(reason.strip()) < settings.APPEAL_REASON_MIN_LENGTH:
        raise ActionRefused(
            _("Объясните, с чем вы не согласны: хотя бы %(count)d символов.")
            % {"count": settings.APPEAL_REASON_MIN_LENGTH}
        )
    role = rules.role_of(dispute, user)
    message = Message.objects.create(dispute=dispute, author=user, kind=Message.Kind.APPEAL, text=reason.strip())
    services.claim_attachments(owner=user, ids=attachment_ids or [], message=message)
    Appeal.objects.create(claim=claim, appellant=user, role=str(role), message=message, filed_at=now)
    _move(
        claim,
        dispute,
        to=Claim.Stage.APPEAL,
        event=DisputeEvent.Kind.APPEALED,
        actor=user,
        changes={"appeal_due_at": None},
        message=message.pk,
    )
    services.notify(
        dispute,
        [dispute.buyer, dispute.store.owner],
        presenters.APPEALED_BY[role],
        "appealed",
    )
    first_decider = claim.decisions.get(kind=Decision.Kind.FIRST).decided_by_id
    services.notify(
        dispute,
        [arbitrator for arbitrator in _arbitrators() if arbitrator.pk != first_decider],
        presenters.APPEAL_FOR_STAFF,
        "appeal-for-staff",
    )
    return message


@transaction.atomic(durable=True)
def appeal_decide(
    *, dispute: Dispute, arbitrator: User, now: datetime | None = None, **fields: Unpack[DecisionFields]
) -> Decision:
    """A second arbitrator decides the appeal: the decision is final and carried out at once."""
    return _decide(dispute, arbitrator, Decision.Kind.APPEAL, fields, now or timezone.now())


def _decide(dispute: Dispute, arbitrator: User, kind: str, fields: DecisionFields, now: datetime) -> Decision:
    """Check a decision (first or on appeal) against the rules, store it with the policy's
    recommendation (and why the arbitrator went against it), move the claim and tell the parties."""
    appeal = kind == Decision.Kind.APPEAL
    dispute, claim, _facts = _locked(
        dispute.pk, arbitrator, Action.DECIDE_APPEAL if appeal else Action.DECIDE_CLAIM, now
    )
    winner, return_required, reason = fields["winner"], fields["return_required"], fields["reason"]
    deviation_reason = fields.get("deviation_reason", "")
    check = rules.decision_check(
        dispute, winner=winner, amount=fields["amount"], return_required=return_required, reason=reason
    )
    if check.problems:
        raise ActionRefused(check.problems[0][1])
    amount = check.amount
    recommendation = policy.policy.recommend(
        policy.facts_of(selectors.policy_case_get(dispute.pk), now=now), switched_off=selectors.switched_off_rules()
    )
    if message := policy.deviation_refusal(
        recommendation, winner=winner, return_required=return_required, deviation_reason=deviation_reason
    ):
        raise ActionRefused(message)
    recommended = recommendation.reading
    followed = (
        policy.follows(recommended.outcome, winner=winner, return_required=return_required) if recommended else None
    )
    assert amount is not None  # no problems: the amount is within what was paid
    decision = Decision.objects.create(
        claim=claim,
        kind=kind,
        winner=winner,
        amount=amount,
        currency=dispute.currency,
        return_required=return_required,
        reason=reason.strip(),
        decided_by=arbitrator,
        decided_at=now,
        recommended_rule=recommended.rule.code if recommended else "",
        followed_recommendation=followed,
        deviation_reason="" if followed is not False else deviation_reason.strip(),
    )
    changes: dict[str, Any]
    if appeal:
        to, event, changes = Claim.Stage.FINAL, DisputeEvent.Kind.APPEAL_DECIDED, {"final_at": now}
    else:
        to, event = Claim.Stage.DECIDED, DisputeEvent.Kind.DECIDED
        changes = {"appeal_due_at": rules.appeal_due(now), "flag_due_at": None, "overdue_due_at": None}
    _move(
        claim,
        dispute,
        to=to,
        event=event,
        actor=arbitrator,
        changes=changes,
        decision=decision.pk,
        winner=winner,
        amount=str(amount),
        return_required=return_required,
        recommended_rule=decision.recommended_rule,
        followed_recommendation=followed,
        **({"deviation_reason": decision.deviation_reason} if decision.deviation_reason else {}),
    )
    if appeal:
        _carry_out(dispute, decision, now=now)
    _notify_decision(dispute, claim, decision)
    return decision


def _carry_out(dispute: Dispute, decision: Decision, *, now: datetime) -> None:
    """A final decision: money back (after the item, when it must go back) or the case closes."""
    outcomes.claim_closed(dispute, decision, now=now)
    if decision.amount > 0:
        services.settle(dispute, amount=decision.amount, return_required=decision.return_required, actor=None, now=now)
    else:
        services.dispute_transition(
            dispute, to=S.CLOSED, event=DisputeEvent.Kind.CLOSED, actor=None, changes={"closed_at": now}
        )


# --- deadlines, called by the beat sweeps -------------------------------------------------------


@transaction.atomic(savepoint=False)
@services.deadline_service(Action.FINALIZE_DECISION, facts=_claim_deadline_facts)
def claim_finalize(dispute: Dispute, facts: Facts, now: datetime) -> Claim | None:
    """Nobody appealed in time: the decision becomes final and is carried out."""
    claim = dispute.claim
    decision = claim.decisions.get(kind=Decision.Kind.FIRST)
    if rules.blocked_loser_refusal(dispute, winner=decision.winner):
        return None  # carried out once the losing party is unblocked
    _move(
        claim,
        dispute,
        to=Claim.Stage.FINAL,
        event=DisputeEvent.Kind.DECISION_FINAL,
        actor=None,
        changes={"appeal_due_at": None, "final_at": now},
    )
    _carry_out(dispute, decision, now=now)
    _notify_decision(dispute, claim, decision, final=True)
    return claim


@transaction.atomic(savepoint=False)
@services.deadline_service(Action.FLAG_CLAIM, facts=_claim_locked)
def claim_flag_undecided(dispute: Dispute, facts: Facts, now: datetime) -> Claim:
    """A claim waiting too long for a decision: flagged for arbitrators (list filter, digest)."""
    return _deadline_passed(dispute, DisputeEvent.Kind.CLAIM_FLAGGED, now, at="flagged_at", due="flag_due_at")


@transaction.atomic(savepoint=False)
@services.deadline_service(Action.MARK_CLAIM_OVERDUE, facts=_claim_locked)
def claim_mark_overdue(dispute: Dispute, facts: Facts, now: datetime) -> Claim:
    """A claim past the longest time for a decision: overdue, and the head of arbitration is told."""
    claim = _deadline_passed(dispute, DisputeEvent.Kind.CLAIM_OVERDUE, now, at="overdue_at", due="overdue_due_at")
    for head in arbitration_heads():
        email_queue(
            user=head,
            template="claim_overdue",
            context={"dispute": dispute, "claim": claim},
            dedupe_key=f"claim-overdue:{dispute.pk}:{head.pk}",
        )
    return claim


def _deadline_passed(dispute: Dispute, event: str, now: datetime, *, at: str, due: str) -> Claim:
    """A claim's deadline passed: when is kept in `at`, the deadline in `due` is cleared."""
    claim = dispute.claim
    setattr(claim, at, now)
    setattr(claim, due, None)
    claim.save(update_fields=[at, due, "updated_at"])
    services.record(dispute, event, None)
    return claim


def arbitration_heads() -> list[User]:
    heads = list(User.objects.filter(groups__name="arbitration_heads", is_active=True))
    return heads or list(User.objects.filter(is_superuser=True, is_active=True))


# --- the arbitration policy's switches ------------------------------------------------------------


@transaction.atomic(durable=True)
def policy_rule_switch(
    *, rule: str, enabled: bool, reason: str, staff: User, now: datetime | None = None
) -> PolicyRuleSwitch:
    """Switch a rule of the arbitration policy off (or back on), recording who, when and why. The
    permission is checked by the admin address (disputes.switch_policy_rule)."""
    now = now or timezone.now()
    if policy.policy.get(rule) is None:
        raise ActionRefused(_("Такого правила нет."))
    if len(reason.strip()) < POLICY_SWITCH_REASON_MIN_LENGTH:
        raise ActionRefused(
            _("Объясните, почему: хотя бы %(count)d символов.") % {"count": POLICY_SWITCH_REASON_MIN_LENGTH}
        )
    # Switches of one rule are serialised on its latest row; the first switch of a rule has none.
    latest = PolicyRuleSwitch.objects.select_for_update().filter(rule=rule).order_by("-switched_at", "-pk").first()
    if (latest.enabled if latest else True) == enabled:
        raise ActionRefused(_("Правило уже включено.") if enabled else _("Правило уже выключено."))
    return PolicyRuleSwitch.objects.create(
        rule=rule, enabled=enabled, reason=reason.strip(), switched_by=staff, switched_at=now
    )


POLICY_SWITCH_REASON_MIN_LENGTH = 10
