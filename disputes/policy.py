"""The arbitration policy as data: a table of rules, each reading a claim's facts and recommending an
outcome with a one-line reason. It never decides: the arbitrator does, beside it (docs/arbitration-policy.md).

The shape follows core.rules.Rulebook: one small function per rule, registered with
`@policy.rule(...)`, each answering `(facts) -> Verdict`: the rule fired (with the facts that made
it fire), stayed silent, or cannot judge for lack of one piece of evidence. `recommend()` reads the
table in order, leaves out the rules staff switched off, and agrees only when every fired rule
agrees on who wins. The facts come from what the claim page already read (`facts_of`), or from
`selectors.policy_case_get` under a service's row lock: no rule reads the database.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from orders.models import TrackingEvent

from .models import Attachment, Decision, Dispute, Message, Offer, Winner

T = TrackingEvent.Kind
# Scans that show the parcel reached the buyer's country (or further).
IN_COUNTRY = frozenset({T.ARRIVED, T.CUSTOMS, T.LOCAL_POST, T.DELIVERED})
ONE = Decimal("1")


class Evidence(StrEnum):
    """What a party may send that a rule weighs. Read from the buyer's files by their kind: a video
    (uploaded or linked) is the unboxing video, a picture a photo, a PDF the post office's act; the
    carrier's scans are the tracking page."""

    UNBOXING_VIDEO = "unboxing_video"
    PHOTOS = "photos"
    POST_OFFICE_ACT = "post_office_act"
    TRACKING_PAGE = "tracking_page"


EVIDENCE_LABELS: dict[Evidence, StrOrPromise] = {
    Evidence.UNBOXING_VIDEO: _("видео распаковки"),
    Evidence.PHOTOS: _("фото товара"),
    Evidence.POST_OFFICE_ACT: _("акт почты"),
    Evidence.TRACKING_PAGE: _("история отслеживания"),
}
MISSING_LABELS: dict[Evidence, StrOrPromise] = {
    Evidence.UNBOXING_VIDEO: _("нет видео распаковки"),
    Evidence.PHOTOS: _("нет фото товара"),
    Evidence.POST_OFFICE_ACT: _("нет акта почты"),
    Evidence.TRACKING_PAGE: _("нет истории отслеживания"),
}
# What an evidence request asks the buyer for (the parties read it), per missing piece.
REQUEST_TEXTS: dict[Evidence, StrOrPromise] = {
    Evidence.UNBOXING_VIDEO: _(
        "Пришлите, пожалуйста, непрерывное видео распаковки посылки: файлом или ссылкой на видео, где видны "
        "посылка с наклейкой и товар."
    ),
    Evidence.PHOTOS: _("Пришлите, пожалуйста, чёткие фото товара и его дефектов при хорошем свете, с этикеткой."),
    Evidence.POST_OFFICE_ACT: _(
        "Пришлите, пожалуйста, акт или ответ почты (PDF): о вскрытии посылки, разнице в весе или о том, кому "
        "вручена посылка."
    ),
    Evidence.TRACKING_PAGE: _("Пришлите, пожалуйста, скриншот страницы отслеживания посылки с датами."),
}


@dataclass(frozen=True)
class Outcome:
    """What a rule recommends: who wins, the refund as a share of what was paid, and whether the
    item goes back."""

    winner: str
    share: Decimal
    return_required: bool = False

    def amount(self, paid: Decimal) -> Decimal:
        return (paid * self.share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


BUYER_FULL = Outcome(Winner.BUYER, ONE)
SELLER = Outcome(Winner.SELLER, Decimal("0"))


@dataclass(frozen=True)
class Shown:
    """A fact as the claim page shows it, with the anchor of the evidence on the page."""

    text: StrOrPromise
    anchor: str


@dataclass(frozen=True)
class ClaimFacts:
    """What the rules read about a claim: the buyer's problem, the parcel's scans, the seller's
    answer and offers, the evidence the buyer sent (each with the anchor of its first message),
    whether the item went back."""

    kind: str
    problems: frozenset[str]
    refund_type: str
    paid: Decimal
    requested: Decimal
    has_tracking_number: bool
    scans: tuple[str, ...] = ()
    delivered_place: str = ""
    local_post_place: str = ""
    protection_ended: bool = False
    seller_answered: bool = False
    best_seller_offer: Decimal | None = None
    evidence: dict[Evidence, str] = field(default_factory=dict)
    item_returned: bool = False

    def has(self, evidence: Evidence) -> bool:
        return evidence in self.evidence

    def shown(self, evidence: Evidence) -> Shown:
        return Shown(EVIDENCE_LABELS[evidence], self.evidence.get(evidence, ""))

    @property
    def delivered(self) -> bool:
        return T.DELIVERED in self.scans

    def with_evidence(self, evidence: Evidence) -> "ClaimFacts":
        return replace(self, evidence={**self.evidence, evidence: ""})


class State(StrEnum):
    FIRED = "fired"
    SILENT = "silent"
    CANNOT_JUDGE = "cannot_judge"


@dataclass(frozen=True)
class Verdict:
    state: State
    because: tuple[Shown, ...] = ()
    missing: Evidence | None = None
    outcome: Outcome | None = None  # set when a rule's share depends on the case (a partial refund)


def fired(*because: Shown, outcome: Outcome | None = None) -> Verdict:
    return Verdict(State.FIRED, because, outcome=outcome)


SILENT = Verdict(State.SILENT)


def cannot_judge(missing: Evidence, *because: Shown) -> Verdict:
    return Verdict(State.CANNOT_JUDGE, because, missing=missing)


@dataclass(frozen=True)
class PolicyRule:
    code: str
    title: StrOrPromise
    outcome: Outcome | None  # None: the share comes from the case (the verdict's outcome)
    reason: StrOrPromise  # the one line the parties read when the arbitrator follows the rule
    judge: Callable[[ClaimFacts], Verdict]


@dataclass(frozen=True)
class Reading:
    """One rule's verdict on a claim."""

    rule: PolicyRule
    verdict: Verdict

    @property
    def outcome(self) -> Outcome:
        outcome = self.verdict.outcome or self.rule.outcome
        assert outcome is not None
        return outcome


@dataclass(frozen=True)
class Recommendation:
    """The policy's reading of a claim: the fired rules, those that could not judge, and the outcome
    when every fired rule agrees on who wins (`reading` is the first of them, the one quoted)."""

    fired: tuple[Reading, ...]
    cannot_judge: tuple[Reading, ...]
    switched_off: tuple[PolicyRule, ...]
    reading: Reading | None

    @property
    def outcome(self) -> Outcome | None:
        return self.reading.outcome if self.reading else None

    @property
    def conflict(self) -> bool:
        return len({reading.outcome.winner for reading in self.fired}) > 1


class Policy:
    """The table of rules, in the order they are read."""

    def __init__(self) -> None:
        self._rules: dict[str, PolicyRule] = {}

    def rule(
        self, code: str, *, title: StrOrPromise, reason: StrOrPromise, outcome: Outcome | None = None
    ) -> Callable[[Callable[[ClaimFacts], Verdict]], Callable[[ClaimFacts], Verdict]]:
        def register(judge: Callable[[ClaimFacts], Verdict]) -> Callable[[ClaimFacts], Verdict]:
            if code in self._rules:
                raise ValueError(f"The arbitration policy has two rules named {code!r}")
            self._rules[code] = PolicyRule(code, title, outcome, reason, judge)
            return judge

        return register

    @property
    def rules(self) -> tuple[PolicyRule, ...]:
        return tuple(self._rules.values())

    def get(self, code: str) -> PolicyRule | None:
        return self._rules.get(code)

    def recommend(self, facts: ClaimFacts, *, switched_off: Iterable[str] = ()) -> Recommendation:
        off = frozenset(switched_off)
        readings = [Reading(rule, rule.judge(facts)) for rule in self.rules if rule.code not in off]
        fired_ = tuple(reading for reading in readings if reading.verdict.state == State.FIRED)
        unsure = tuple(reading for reading in readings if reading.verdict.state == State.CANNOT_JUDGE)
        agreed = fired_[0] if fired_ and len({reading.outcome.winner for reading in fired_}) == 1 else None
        return Recommendation(fired_, unsure, tuple(rule for rule in self.rules if rule.code in off), agreed)


policy = Policy()
NR = Dispute.Kind.NOT_RECEIVED
NAD = Dispute.Kind.NOT_AS_DESCRIBED


def _tracking(text: StrOrPromise) -> Shown:
    return Shown(text, "tracking-heading")


def _problem(text: StrOrPromise) -> Shown:
    return Shown(text, "request-heading")


# --- not received ---------------------------------------------------------------------------------


@policy.rule(
    "never_reached_country",
    title=_("Посылка не дошла до страны покупателя, защита закончилась"),
    reason=_("Посылка так и не прибыла в страну покупателя до конца защиты заказа: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _never_reached_country(facts: ClaimFacts) -> Verdict:
    if facts.kind != NR or not facts.scans or IN_COUNTRY & set(facts.scans) or not facts.protection_ended:
        return SILENT
    return fired(_tracking(_("в треке нет прибытия в страну")), _problem(_("срок защиты закончился")))


@policy.rule(
    "no_tracking_number",
    title=_("Продавец не дал трек-номер"),
    reason=_("Продавец не указал номер отслеживания, и отправку нельзя проверить: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _no_tracking_number(facts: ClaimFacts) -> Verdict:
    if facts.kind != NR or facts.has_tracking_number:
        return SILENT
    return fired(Shown(_("в заказе нет трек-номера"), "order-heading"))


@policy.rule(
    "returned_to_sender",
    title=_("Посылка возвращается продавцу"),
    reason=_("По данным службы доставки посылка возвращается продавцу: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _returned_to_sender(facts: ClaimFacts) -> Verdict:
    if facts.kind != NR or T.RETURNED not in facts.scans:
        return SILENT
    return fired(_tracking(_("в треке «возвращается отправителю»")))


@policy.rule(
    "delivered_elsewhere",
    title=_("Вручено в другом городе"),
    reason=_("Служба доставки отметила вручение не там, куда посылка пришла на почту: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _delivered_elsewhere(facts: ClaimFacts) -> Verdict:
    # No buyer's address is kept: the place of the local post office's scan stands for the buyer's town.
    if facts.kind != NR or not facts.delivered or not facts.delivered_place or not facts.local_post_place:
        return SILENT
    if facts.delivered_place.strip().casefold() == facts.local_post_place.strip().casefold():
        return SILENT
    return fired(
        _tracking(
            _("вручено: %(delivered)s, местная почта: %(post)s")
            % {"delivered": facts.delivered_place, "post": facts.local_post_place}
        )
    )


@policy.rule(
    "post_office_denies_delivery",
    title=_("«Вручено», но почта подтверждает, что покупатель не получал"),
    reason=_("Почта письменно подтвердила, что посылку не вручили покупателю: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _post_office_denies(facts: ClaimFacts) -> Verdict:
    if facts.kind != NR or not facts.delivered:
        return SILENT
    if not facts.has(Evidence.POST_OFFICE_ACT):
        return cannot_judge(Evidence.POST_OFFICE_ACT, _tracking(_("в треке «вручено»")))
    return fired(_tracking(_("в треке «вручено»")), facts.shown(Evidence.POST_OFFICE_ACT))


@policy.rule(
    "delivered_no_other_evidence",
    title=_("«Вручено» под подпись, других доказательств нет"),
    reason=_(
        "Служба доставки подтвердила вручение, а других доказательств неполучения нет: решение в пользу продавца."
    ),
    outcome=SELLER,
)
def _delivered_no_evidence(facts: ClaimFacts) -> Verdict:
    if facts.kind != NR or not facts.delivered or facts.has(Evidence.POST_OFFICE_ACT) or facts.has(Evidence.PHOTOS):
        return SILENT
    if facts.delivered_place and facts.local_post_place and _delivered_elsewhere(facts).state == State.FIRED:
        return SILENT
    return fired(_tracking(_("в треке «вручено»")), _problem(_("ни акта почты, ни фото от покупателя")))


# --- not as described -----------------------------------------------------------------------------


def _shown_by(facts: ClaimFacts, problem: str, said: StrOrPromise, evidence: Evidence) -> Verdict:
    """A problem the buyer's evidence must show: fires with that evidence, cannot judge without it,
    silent for any other problem."""
    if facts.kind != NAD or problem not in facts.problems:
        return SILENT
    if not facts.has(evidence):
        return cannot_judge(evidence, _problem(said))
    return fired(_problem(said), facts.shown(evidence))


@policy.rule(
    "counterfeit_with_photos",
    title=_("Подделка, есть фото"),
    reason=_("Фото маркировки и упаковки показывают подделку: деньги возвращаются полностью, товар не возвращается."),
    outcome=BUYER_FULL,
)
def _counterfeit(facts: ClaimFacts) -> Verdict:
    return _shown_by(facts, "counterfeit", _("причина: подделка"), Evidence.PHOTOS)


@policy.rule(
    "damaged_with_video",
    title=_("Повреждён, есть видео распаковки"),
    reason=_("Видео распаковки показывает, что товар пришёл повреждённым: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _damaged(facts: ClaimFacts) -> Verdict:
    return _shown_by(facts, "damaged", _("причина: повреждение"), Evidence.UNBOXING_VIDEO)


@policy.rule(
    "empty_parcel_with_proof",
    title=_("Пустая посылка, есть видео вскрытия"),
    reason=_("Непрерывное видео вскрытия показывает пустую посылку: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _empty_parcel(facts: ClaimFacts) -> Verdict:
    return _shown_by(facts, "empty_parcel", _("причина: пустая посылка"), Evidence.UNBOXING_VIDEO)


@policy.rule(
    "not_working_with_video",
    title=_("Не работает, есть видео"),
    reason=_("Видео показывает, что товар не работает: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _not_working(facts: ClaimFacts) -> Verdict:
    return _shown_by(facts, "not_working", _("причина: не работает"), Evidence.UNBOXING_VIDEO)


@policy.rule(
    "different_item_with_video",
    title=_("Пришёл другой товар, есть видео распаковки"),
    reason=_("Видео распаковки показывает, что пришёл не тот товар, что описан: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _different_item(facts: ClaimFacts) -> Verdict:
    if facts.refund_type != Dispute.RefundType.FULL:
        return SILENT
    return _shown_by(facts, "wrong_attributes", _("причина: другой товар"), Evidence.UNBOXING_VIDEO)


# A partial refund fits what can still be used: the wrong size or colour, poor finish, a piece
# missing, a scratch.
PARTLY = frozenset({"wrong_attributes", "poor_quality", "fewer_items", "damaged"})


@policy.rule(
    "partly_as_described",
    title=_("Частично соответствует описанию, есть фото"),
    reason=_("Товар частично соответствует описанию, что видно на фото: возвращается часть суммы, товар остаётся."),
)
def _partly(facts: ClaimFacts) -> Verdict:
    if facts.kind != NAD or facts.refund_type != Dispute.RefundType.PARTIAL or not facts.problems <= PARTLY:
        return SILENT
    asked = _problem(_("покупатель просит часть суммы"))
    if not facts.has(Evidence.PHOTOS):
        return cannot_judge(Evidence.PHOTOS, asked)
    share = min(facts.requested / facts.paid, ONE) if facts.paid else ONE
    return fired(asked, facts.shown(Evidence.PHOTOS), outcome=Outcome(Winner.SPLIT, share))


@policy.rule(
    "item_sent_back",
    title=_("Товар отправлен продавцу обратно"),
    reason=_("Покупатель уже отправил товар продавцу: деньги возвращаются полностью."),
    outcome=BUYER_FULL,
)
def _item_sent_back(facts: ClaimFacts) -> Verdict:
    if facts.kind != NAD or not facts.item_returned:
        return SILENT
    return fired(Shown(_("трек-номер возврата указан"), "timeline-heading"))


# --- either kind ----------------------------------------------------------------------------------


@policy.rule(
    "seller_offered_what_was_asked",
    title=_("Продавец сам предлагал не меньше запрошенного"),
    reason=_("Продавец сам предлагал вернуть не меньше, чем просил покупатель: возвращается запрошенная сумма."),
)
def _seller_offered(facts: ClaimFacts) -> Verdict:
    if facts.best_seller_offer is None or facts.best_seller_offer < facts.requested or not facts.paid:
        return SILENT
    share = min(facts.requested / facts.paid, ONE)
    winner = Winner.BUYER if share >= ONE else Winner.SPLIT
    return fired(Shown(_("предложение продавца"), "offers-heading"), outcome=Outcome(winner, share))


# --- reading a case -------------------------------------------------------------------------------

VIDEO, IMAGE, PDF = "video", "image", "pdf"


def facts_of(dispute: Dispute, *, now: datetime) -> ClaimFacts:
    """The facts of a dispute read with the page's prefetches (selectors.dispute_page_queryset or
    selectors.policy_case_get): no query of its own."""
    order = dispute.order
    scans = list(order.tracking_events.all())
    evidence: dict[Evidence, str] = {}
    if scans:
        evidence[Evidence.TRACKING_PAGE] = "tracking-heading"
    for message in dispute.messages.all():
        if message.author_id != dispute.buyer_id:
            continue
        anchor = f"message-{message.pk}"
        kinds = {file.kind for file in _files(message)}
        if VIDEO in kinds or message.link:
            evidence.setdefault(Evidence.UNBOXING_VIDEO, anchor)
        if IMAGE in kinds:
            evidence.setdefault(Evidence.PHOTOS, anchor)
        if PDF in kinds:
            evidence.setdefault(Evidence.POST_OFFICE_ACT, anchor)
    seller_offers = [offer.amount for offer in dispute.offers.all() if offer.role == Offer.Role.SELLER]
    places = {scan.kind: scan.location for scan in scans}  # the last of each kind
    return ClaimFacts(
        kind=dispute.kind,
        problems=frozenset(dispute.problems),
        refund_type=dispute.refund_type,
        paid=dispute.paid_amount,
        requested=dispute.requested_amount,
        has_tracking_number=bool(order.tracking_number),
        scans=tuple(scan.kind for scan in scans),
        delivered_place=places.get(T.DELIVERED, ""),
        local_post_place=places.get(T.LOCAL_POST, ""),
        protection_ended=order.protection_due_at is not None and order.protection_due_at <= now,
        seller_answered=dispute.seller_answered_at is not None,
        best_seller_offer=max(seller_offers) if seller_offers else None,
        evidence=evidence,
        item_returned=bool(dispute.return_tracking_number),
    )


def _files(message: Message) -> list[Attachment]:
    files: list[Attachment] | None = getattr(message, "attached_files", None)
    return list(files) if files is not None else list(message.attachments.all())


def gaps(facts: ClaimFacts, recommendation: Recommendation, *, switched_off: Iterable[str] = ()) -> list[Evidence]:
    """The missing evidence that would change the recommendation if it came: what an evidence
    request should ask for, each once, in the table's order."""
    missing: list[Evidence] = []
    for reading in recommendation.cannot_judge:
        evidence = reading.verdict.missing
        if evidence is None or evidence in missing:
            continue
        after = policy.recommend(facts.with_evidence(evidence), switched_off=switched_off)
        if after.outcome != recommendation.outcome:
            missing.append(evidence)
    return missing


# --- the decision beside it -----------------------------------------------------------------------


def follows(outcome: Outcome, *, winner: str, return_required: bool) -> bool:
    """A decision follows a recommendation when it gives the same side the win and sends the item
    back (or not) the same; the amount of a split stays the arbitrator's."""
    return winner == outcome.winner and return_required == outcome.return_required


def deviation_refusal(
    recommendation: Recommendation, *, winner: str, return_required: bool, deviation_reason: str
) -> str | None:
    """Deciding against the recommendation asks why (kept with the decision, never shown to the parties)."""
    outcome = recommendation.outcome
    if outcome is None or follows(outcome, winner=winner, return_required=return_required):
        return None
    if len(deviation_reason.strip()) < DEVIATION_MIN_LENGTH:
        return str(
            _("Решение расходится с рекомендацией правил: объясните почему (хотя бы %(count)d символов).")
            % {"count": DEVIATION_MIN_LENGTH}
        )
    return None


DEVIATION_MIN_LENGTH = 15


def quoted_reason_for(recommendation: Recommendation, *, winner: str, return_required: bool) -> str | None:
    """The reason a decision about to be taken would quote (the confirmation page shows it)."""
    reading = recommendation.reading
    if reading is None or not follows(reading.outcome, winner=winner, return_required=return_required):
        return None
    return str(reading.rule.reason)


def quoted_reason(decision: Decision) -> str | None:
    """The rule's reason the parties read with a decision that followed it (None otherwise)."""
    if not decision.followed_recommendation:
        return None
    rule = policy.get(decision.recommended_rule)
    return str(rule.reason) if rule else None
