"""One rulebook shape in every app (core.rules): every action has its rule, every deadline a sweep,
a role an action is not for is refused in the rule's words, and the decision rules the admin form
and the claims service share are one."""

from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from django.utils import timezone

from accounts import rules as account_rules
from core import sweeps
from core.errors import ActionRefused
from core.files import uploads
from core.rules import Role, Rulebook, refuse
from core.webhooks import notices
from disputes import claims
from disputes import rules as dispute_rules
from disputes.admin.forms import DecisionForm
from orders import rules as order_rules
from reports import rules as report_rules

from .disputes_helpers import REASON, escalate, open_dispute
from .factories import arbitrator

BOOKS: list[tuple[Rulebook[Any, Any], type[StrEnum]]] = [
    (dispute_rules.book, dispute_rules.Action),
    (order_rules.book, order_rules.Action),
    (report_rules.book, report_rules.Action),
    (account_rules.book, account_rules.Action),
]


@pytest.mark.parametrize(("book", "actions"), BOOKS, ids=lambda value: getattr(value, "subject", ""))
def test_every_action_of_every_rulebook_has_its_rule(book, actions):
    assert book.actions == set(actions)


def test_every_deadline_a_rulebook_declares_is_taken_by_a_sweep_and_every_sweep_reads_one():
    declared = {
        id(deadline)
        for book in [*(book for book, _actions in BOOKS), account_rules.outbox, uploads, notices]
        for deadline in book.deadlines.values()
    }
    swept = {id(deadline) for entry in sweeps.registered().values() for deadline in entry.deadlines}
    assert swept == declared
    plain = {name for name, entry in sweeps.registered().items() if not entry.deadlines}
    assert plain == {"arbitration-digest", "search-log-retention"}  # daily, over no deadline column


@pytest.mark.parametrize(
    ("book", "action", "role", "words"),
    [
        (dispute_rules.book, dispute_rules.Action.ESCALATE, Role.SELLER, "Передать спор в претензию может покупатель."),
        (dispute_rules.book, dispute_rules.Action.AUTO_CLAIM, Role.BUYER, "Это действие выполняется автоматически."),
        (
            order_rules.book,
            order_rules.Action.SHIP,
            Role.BUYER,
            "Отметить отправку может только продавец этого заказа.",
        ),
        (order_rules.book, order_rules.Action.COMPLETE, Role.SELLER, "Это действие выполняется автоматически."),
        (report_rules.book, report_rules.Action.TAKE, Role.REPORTER, "Рассматривать жалобы может только сотрудник"),
        (account_rules.book, account_rules.Action.BLOCK, Role.NONE, "Блокировать аккаунты может только сотрудник"),
    ],
)
def test_a_role_an_action_is_not_for_is_refused_in_the_words_of_its_rule(book, action, role, words):
    # The subject is not read: the role is refused before the rule's function is asked.
    permit = book.permit(action, object(), role, timezone.now())
    assert not permit and words in str(permit.refusal)


def test_a_rulebook_takes_one_rule_per_action_and_says_why_it_refuses_other_roles():
    book: Rulebook[object, None] = Rulebook("test", no_facts=None)
    book.rule("act")(lambda subject, role, now, facts: refuse("no"))
    with pytest.raises(ValueError, match="two rules"):
        book.rule("act")(lambda subject, role, now, facts: refuse("no"))
    with pytest.raises(ValueError, match="Say why"):
        book.rule("other", by=Role.BUYER)
    with pytest.raises(LookupError):
        book.permit("missing", object(), Role.BUYER, timezone.now())


@pytest.mark.django_db
def test_the_decision_form_and_the_claims_service_refuse_a_split_of_the_whole_sum_in_the_same_words(order):
    dispute = escalate(open_dispute(order))
    olga = arbitrator(username="olga")
    claims.claim_take(dispute=dispute, arbitrator=olga)
    paid = dispute.order.total_amount
    form = DecisionForm({"winner": "split", "amount": str(paid), "reason": REASON}, dispute=dispute)
    assert not form.is_valid()
    [form_words] = form.errors["amount"]
    with pytest.raises(ActionRefused) as refused:
        claims.claim_decide(
            dispute=dispute, arbitrator=olga, winner="split", amount=paid, return_required=False, reason=REASON
        )
    assert refused.value.message == form_words == "Частичное решение — это сумма меньше оплаченной за товар."


@pytest.mark.django_db
def test_the_decision_form_and_the_claims_service_take_the_same_amount_for_the_buyer(order):
    dispute = escalate(open_dispute(order))
    olga = arbitrator(username="olga")
    claims.claim_take(dispute=dispute, arbitrator=olga)
    form = DecisionForm({"winner": "buyer", "amount": "", "reason": REASON}, dispute=dispute)
    assert form.is_valid(), form.errors
    decision = claims.claim_decide(
        dispute=dispute,
        arbitrator=olga,
        winner="buyer",
        amount=None,
        return_required=False,
        reason=REASON,
        now=timezone.now() + timedelta(minutes=1),
    )
    assert form.cleaned_data["amount"] == decision.amount == dispute.order.total_amount > Decimal("0")
