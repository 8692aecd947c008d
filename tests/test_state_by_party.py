"""Every reachable state of a dispute, generated from the transition tables, read by each party.

The walk starts from a freshly opened dispute (with and without a return asked) and follows
`DISPUTE_PIPELINE` and `CLAIM_PIPELINE` breadth first: from each state it takes every move whose
target the tables allow from there (through the services, as the pages and sweeps do). Each state
reached is built again from nothing along its path, and for the buyer and the seller the dispute
page, the order page and every e-mail they got are read and checked for agreement (issue 23):

- no "nothing to do" while the reader has a due action on the page;
- no "the arbitrator is reviewing" once a decision exists;
- no "the money waits for the dispute" once the money is decided;
- "what was agreed" only when the parties agreed;
- a tracking number above the scans that are listed;
- each e-mail names the reader's own side, and every date in it its zone.

At the end every edge of both tables must have been walked: a new status or stage without a move
here fails the test.
"""

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import OutgoingEmail
from core.errors import ActionRefused
from disputes import claims, services
from disputes.models import Claim, Decision, Dispute, Offer
from disputes.rules import CLAIM_PIPELINE, DISPUTE_PIPELINE
from orders import payments
from orders.models import Refund, TrackingEvent

from .disputes_helpers import open_dispute
from .factories import OrderFactory, SellerFactory, UserFactory, arbitrator
from .mail_helpers import rendered

S = Dispute.Status
REASON = "Доказательства обеих сторон изучены: фотографии товара, переписка в споре и трек посылки. Решено по ним."
APPEAL_REASON = (
    "Апелляция рассмотрена другим арбитром: доводы изучены, первое решение верно по фотографиям и переписке."
)
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class World:
    dispute: Dispute
    arbitrators: tuple

    def fresh(self) -> Dispute:
        self.dispute = Dispute.objects.select_related("order", "buyer", "store__owner").get(pk=self.dispute.pk)
        return self.dispute


def _shift(traveller, to) -> None:
    if to is None:  # this state has no such deadline: the move cannot happen here
        raise ActionRefused("no deadline")
    traveller.move_to(to + timedelta(minutes=1))


# --- moves: each names the status (or claim stage) the tables must allow it to reach ---------------


def _pending(dispute: Dispute) -> Offer:
    offer = dispute.offers.filter(status=Offer.Status.PENDING).first()
    if offer is None:
        raise ActionRefused("no offer pending")
    return offer


def seller_counter_offers(world: World, traveller) -> None:
    d = world.fresh()
    services.offer_make(
        dispute=d, user=d.store.owner, refund_type="partial", amount=Decimal("5"), return_required=False, note="5 $"
    )


def seller_accepts_the_request(world: World, traveller) -> None:
    d = world.fresh()
    services.offer_accept(dispute=d, offer_id=_pending(d).pk, user=d.store.owner)


def seller_stays_silent(world: World, traveller) -> None:
    d = world.fresh()
    _shift(traveller, d.seller_answer_due_at)
    services.dispute_grant_for_seller_silence(dispute_id=d.pk)


def buyer_accepts_the_counter_offer(world: World, traveller) -> None:
    d = world.fresh()
    offer = _pending(d)
    if offer.role != Offer.Role.SELLER:
        raise ActionRefused("no seller offer pending")
    services.offer_accept(dispute=d, offer_id=offer.pk, user=d.buyer)


def they_agree_on_a_return(world: World, traveller) -> None:
    d = world.fresh()
    offer = services.offer_make(
        dispute=d, user=d.store.owner, refund_type="full", amount=None, return_required=True, note="Верните товар"
    )
    services.offer_accept(dispute=world.fresh(), offer_id=offer.pk, user=d.buyer)


def buyer_escalates(world: World, traveller) -> None:
    d = world.fresh()
    _shift(traveller, d.escalation_opens_at)
    services.dispute_escalate(dispute=world.fresh(), user=d.buyer)


def buyer_cancels(world: World, traveller) -> None:
    d = world.fresh()
    services.dispute_cancel(dispute=d, buyer=d.buyer)


def buyer_ships_the_return(world: World, traveller) -> None:
    d = world.fresh()
    services.return_ship(dispute=d, buyer=d.buyer, tracking_number="RR123456789CN")


def buyer_never_ships_the_return(world: World, traveller) -> None:
    d = world.fresh()
    _shift(traveller, d.return_due_at)
    services.dispute_close_unreturned(dispute_id=d.pk)


def seller_confirms_the_return(world: World, traveller) -> None:
    d = world.fresh()
    services.return_confirm(dispute=d, seller=d.store.owner)


def seller_rejects_the_return(world: World, traveller) -> None:
    d = world.fresh()
    services.dispute_escalate(dispute=d, user=d.store.owner)


def refund_arrives(world: World, traveller) -> None:
    d = world.fresh()
    refund = Refund.objects.get(order=d.order, purpose=Refund.Purpose.DISPUTE)
    payments.refund_confirm(refund_id=refund.pk, confirmed_by=Refund.ConfirmedBy.GATEWAY)


def arbitrator_takes_the_claim(world: World, traveller) -> None:
    claims.claim_take(dispute=world.fresh(), arbitrator=world.arbitrators[0])


def arbitrator_asks_for_evidence(world: World, traveller) -> None:
    d = world.fresh()
    if d.claim.assigned_to_id is None:
        claims.claim_take(dispute=d, arbitrator=world.arbitrators[0])
    claims.evidence_request(
        dispute=world.fresh(),
        arbitrator=world.arbitrators[0],
        of_buyer=True,
        of_seller=True,
        text="Пришлите фото товара и этикетки.",
        days_given=5,
    )


def both_parties_answer(world: World, traveller) -> None:
    d = world.fresh()
    claims.evidence_answer(dispute=d, user=d.buyer, text="Фото товара прилагаю, он не работает.")
    claims.evidence_answer(dispute=world.fresh(), user=d.store.owner, text="Товар проверен перед отправкой.")


def _decide(winner: str, return_required: bool) -> Callable[[World, object], None]:
    def decide(world: World, traveller) -> None:
        d = world.fresh()
        if d.claim.assigned_to_id is None:
            claims.claim_take(dispute=d, arbitrator=world.arbitrators[0])
        claims.claim_decide(
            dispute=world.fresh(),
            arbitrator=world.arbitrators[0],
            winner=winner,
            amount=None if winner != "seller" else Decimal("0"),
            return_required=return_required,
            reason=REASON,
        )

    decide.__name__ = f"arbitrator_decides_for_{winner}{'_with_return' if return_required else ''}"
    return decide


def nobody_appeals(world: World, traveller) -> None:
    d = world.fresh()
    _shift(traveller, d.claim.appeal_due_at)
    claims.claim_finalize(dispute_id=d.pk)


def loser_appeals(world: World, traveller) -> None:
    d = world.fresh()
    first = d.claim.decisions.get(kind=Decision.Kind.FIRST)
    loser = d.buyer if first.winner == "seller" else d.store.owner
    claims.appeal_file(
        dispute=d, user=loser, reason="Не согласен с решением: арбитр не учёл мои фотографии и переписку."
    )


def another_arbitrator_decides_the_appeal(world: World, traveller) -> None:
    d = world.fresh()
    first = d.claim.decisions.get(kind=Decision.Kind.FIRST)
    claims.appeal_decide(
        dispute=d,
        arbitrator=world.arbitrators[1],
        winner=first.winner,
        amount=first.amount,
        return_required=first.return_required,
        reason=APPEAL_REASON,
    )


# (move, the status or stage it leads to in the tables)
DISPUTE_MOVES: list[tuple[Callable, frozenset[str]]] = [
    (seller_counter_offers, frozenset({S.NEGOTIATING})),
    (seller_accepts_the_request, frozenset({S.REFUNDING, S.AWAITING_RETURN})),
    (seller_stays_silent, frozenset({S.REFUNDING, S.AWAITING_RETURN})),
    (buyer_accepts_the_counter_offer, frozenset({S.REFUNDING})),
    (they_agree_on_a_return, frozenset({S.AWAITING_RETURN})),
    (buyer_escalates, frozenset({S.CLAIM})),
    (buyer_cancels, frozenset({S.CANCELLED})),
    (buyer_ships_the_return, frozenset({S.RETURN_SHIPPED})),
    (buyer_never_ships_the_return, frozenset({S.CLOSED})),
    (seller_confirms_the_return, frozenset({S.REFUNDING})),
    (seller_rejects_the_return, frozenset({S.CLAIM})),
    (refund_arrives, frozenset({S.REFUNDED})),
]
CLAIM_MOVES: list[tuple[Callable, frozenset[str]]] = [
    (arbitrator_takes_the_claim, frozenset({Claim.Stage.INVESTIGATION})),
    (arbitrator_asks_for_evidence, frozenset({Claim.Stage.AWAITING_PARTIES})),
    (both_parties_answer, frozenset({Claim.Stage.INVESTIGATION})),
    (_decide("buyer", False), frozenset({Claim.Stage.DECIDED})),
    (_decide("buyer", True), frozenset({Claim.Stage.DECIDED})),
    (_decide("seller", False), frozenset({Claim.Stage.DECIDED})),
    (loser_appeals, frozenset({Claim.Stage.APPEAL})),
    (nobody_appeals, frozenset({Claim.Stage.FINAL})),
    (another_arbitrator_decides_the_appeal, frozenset({Claim.Stage.FINAL})),
]


def _key(dispute: Dispute) -> tuple:
    claim = Claim.objects.filter(dispute=dispute).first()
    stage = claim.stage if claim else None
    decision = claim.decisions.order_by("-decided_at").first() if claim else None
    outcome = (decision.winner, decision.return_required) if decision else None
    return (dispute.status, stage, outcome, dispute.return_item if dispute.status == S.AWAITING_SELLER else None)


def _applicable(key: tuple) -> list[tuple[Callable, frozenset[str]]]:
    status, stage = key[0], key[1]
    moves = [(move, to) for move, to in DISPUTE_MOVES if to & DISPUTE_PIPELINE[status]]
    if status == S.CLAIM and stage is not None:
        moves += [(move, to) for move, to in CLAIM_MOVES if to & CLAIM_PIPELINE[stage]]
    return moves


def _build(path: tuple[str, ...], with_return: bool, traveller) -> World:
    traveller.move_to(START)
    seller = SellerFactory()
    order = OrderFactory(buyer=UserFactory(), store=seller.store)
    for index, kind in enumerate((TrackingEvent.Kind.ACCEPTED, TrackingEvent.Kind.IN_TRANSIT)):
        TrackingEvent.objects.create(
            order=order,
            kind=kind,
            happened_at=order.shipped_at + timedelta(days=index),
            source=TrackingEvent.Source.CARRIER,
            external_id=f"scan-{order.number}-{index}",
            received_at=order.shipped_at + timedelta(days=index),
        )
    dispute = open_dispute(order, return_item=with_return)
    world = World(dispute, ARBITRATORS)
    moves = {move.__name__: move for move, _to in DISPUTE_MOVES + CLAIM_MOVES}
    for name in path:
        moves[name](world, traveller)
    world.fresh()
    return world


ARBITRATORS: tuple = ()
REVIEWING = ("Претензию рассматривает арбитр", "Решение будет принято не позже", "Решение принимается за")
MONEY_WAITS = "не уйдут продавцу, пока спор не закончится"
DATE_TIME = re.compile(
    r"\d{1,2} (?:января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
    r"(?: \d{4})?,? \d{1,2}:\d{2}(?P<after>[^\n]{0,16})"
)
NOT_TO_THE_BUYER = ("отправлены покупателю", "Покупателю возвращается", "он просил", "покупатель отправит вам")
NOT_TO_THE_SELLER = ("отправьте товар продавцу", "товар нужно отправить продавцу", "Вам возвращается", "вы просили")


def _main(page: str) -> str:
    return page.split("<main", 1)[-1].split("</main>", 1)[0]


def _check_state(world: World, client, key: tuple) -> None:
    dispute = world.dispute
    claim = Claim.objects.filter(dispute=dispute).first()
    decided = claim is not None and claim.decisions.exists()
    money_decided = dispute.status in (S.REFUNDING, S.REFUNDED, S.CLOSED, S.CANCELLED)
    agreed = dispute.resolved_amount is not None and not decided and not dispute.seller_silent
    due_forms = [
        reverse(name, args=[dispute.pk])
        for name in (
            "disputes:offer_accept",
            "disputes:return_ship",
            "disputes:return_confirm",
            "disputes:evidence_answer",
        )
    ]
    for user in (dispute.buyer, dispute.store.owner):
        client.force_login(user)
        page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
        order_page = _main(client.get(reverse("orders:detail", args=[dispute.order.number])).content.decode())
        where = f"{key} as {user.username}"
        if "Сейчас действий не требуется" in page:
            assert not any(f'action="{url}"' in page for url in due_forms), where
        if decided:
            assert not any(text in page for text in REVIEWING), where
        if money_decided:
            assert MONEY_WAITS not in page and MONEY_WAITS not in order_page, where
        assert ("О чём договорились" in page) == agreed, where
        assert "Отслеживание посылки" in order_page and dispute.order.tracking_number in order_page, where
        assert "не указал трек-номер" not in order_page, where
    for email in OutgoingEmail.objects.filter(recipient__in=[dispute.buyer, dispute.store.owner]):
        mail = rendered(email)
        text = f"{mail.subject}\n{mail.body}"
        wrong = NOT_TO_THE_BUYER if email.recipient_id == dispute.buyer_id else NOT_TO_THE_SELLER
        assert not [phrase for phrase in wrong if phrase in text], (key, email.template, text)
        for match in DATE_TIME.finditer(text):
            assert re.match(r"^ ?(?:[A-Z]{2,5}|[+-]\d{2}|[A-Za-z]+/[A-Za-z_]+)", match.group("after")), (key, text)


@pytest.mark.django_db
def test_every_reachable_dispute_state_reads_as_one_story_for_each_party(client):
    global ARBITRATORS
    ARBITRATORS = (arbitrator(username="arb-first"), arbitrator(username="arb-second"))
    seen: dict[tuple, tuple] = {}
    walked: set[tuple[str, str, str]] = set()
    queue: deque[tuple[tuple[str, ...], bool, tuple]] = deque()
    with time_machine.travel(START, tick=False) as traveller:
        for with_return in (False, True):
            world = _build((), with_return, traveller)
            key = _key(world.dispute)
            seen[key] = ()
            _check_state(world, client, key)
            queue.append(((), with_return, key))
        while queue:
            path, with_return, key = queue.popleft()
            for move, _to in _applicable(key):
                child = (*path, move.__name__)
                try:
                    reached = _build(child, with_return, traveller)
                except ActionRefused:
                    continue  # the rulebook refuses this move in this state: not a reachable edge
                child_key = _key(reached.dispute)
                if child_key[0] != key[0]:
                    assert child_key[0] in DISPUTE_PIPELINE[key[0]], (key, move.__name__, child_key)
                    walked.add(("dispute", key[0], child_key[0]))
                if key[1] is not None and child_key[1] != key[1]:
                    assert child_key[1] in CLAIM_PIPELINE[key[1]], (key, move.__name__, child_key)
                    walked.add(("claim", key[1], child_key[1]))
                if child_key not in seen:
                    seen[child_key] = child
                    _check_state(reached, client, child_key)
                    queue.append((child, with_return, child_key))
    tables = {("dispute", a, b) for a, targets in DISPUTE_PIPELINE.items() for b in targets} | {
        ("claim", a, b) for a, targets in CLAIM_PIPELINE.items() for b in targets
    }
    assert tables - walked == set(), "edges of the transition tables no move here reaches"
    assert len(seen) >= 20
