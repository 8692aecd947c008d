"""Claims: every stage change allowed and refused, evidence requests, decisions, appeals by a
different arbitrator, the appeal window, what the parties see and the audit record."""

import zoneinfo
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import formats, timezone

from accounts.models import OutgoingEmail
from core import sweeps
from core.errors import ActionRefused
from disputes import claims
from disputes.models import Appeal, Claim, Decision, Dispute, DisputeEvent
from orders.models import Refund

from .disputes_helpers import REASON, decide, escalate, open_dispute, png_file, store_upload
from .factories import arbitrator, support_agent
from .mail_helpers import rendered

pytestmark = pytest.mark.django_db
S = Dispute.Status
MINUTE = timedelta(minutes=1)


@pytest.fixture
def olga(db):
    return arbitrator(username="olga", first_name="Ольга", last_name="Смирнова")


@pytest.fixture
def ivan(db):
    return arbitrator(username="ivan", first_name="Иван", last_name="Петров")


def stage(dispute) -> str:
    return Claim.objects.get(dispute=dispute).stage


def events(dispute) -> list[str]:
    return list(dispute.events.values_list("kind", flat=True))


# --- opening and taking ---------------------------------------------------------------------


def test_an_escalated_dispute_opens_a_claim_waiting_for_an_arbitrator(claim_dispute):
    claim = claim_dispute.claim
    assert (claim_dispute.status, claim.stage, claim.assigned_to) == (S.CLAIM, Claim.Stage.PROCESSING, None)
    assert claim.flag_due_at == claim.opened_at + timedelta(days=15)
    assert claim.overdue_due_at == claim.opened_at + timedelta(days=60)


def test_an_arbitrator_takes_a_claim_and_it_moves_to_investigation(claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    claim = Claim.objects.get(dispute=claim_dispute)
    assert (claim.stage, claim.assigned_to) == (Claim.Stage.INVESTIGATION, olga)
    taken = claim_dispute.events.get(kind=DisputeEvent.Kind.CLAIM_TAKEN)
    assert taken.actor == olga
    assert taken.details["arbitrator"] == {"old": None, "new": "Ольга Смирнова"}
    assert taken.details["stage"] == {"old": "processing", "new": "investigation"}


def test_another_arbitrator_takes_a_claim_over_and_the_handover_is_recorded(claim_dispute, olga, ivan):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    claims.claim_take(dispute=claim_dispute, arbitrator=ivan)
    last = claim_dispute.events.filter(kind=DisputeEvent.Kind.CLAIM_TAKEN).last()
    assert last.details["arbitrator"] == {"old": "Ольга Смирнова", "new": "Иван Петров"}
    with pytest.raises(ActionRefused, match="уже у вас"):
        claims.claim_take(dispute=claim_dispute, arbitrator=ivan)


@pytest.mark.parametrize("who", ["support", "buyer", "seller"])
def test_only_arbitrators_take_and_decide_claims(claim_dispute, who):
    person = {"support": support_agent(), "buyer": claim_dispute.buyer, "seller": claim_dispute.store.owner}[who]
    with pytest.raises(ActionRefused, match="только арбитр"):
        claims.claim_take(dispute=claim_dispute, arbitrator=person)
    with pytest.raises(ActionRefused, match="только арбитр"):
        claims.claim_decide(
            dispute=claim_dispute, arbitrator=person, winner="seller", amount=None, return_required=False, reason=REASON
        )
    assert not Decision.objects.exists()


def test_an_arbitrator_must_take_the_claim_before_deciding(claim_dispute, olga):
    with pytest.raises(ActionRefused, match="Сначала возьмите претензию"):
        claims.claim_decide(
            dispute=claim_dispute, arbitrator=olga, winner="seller", amount=None, return_required=False, reason=REASON
        )


# --- evidence requests --------------------------------------------------------------------------


def test_evidence_request_waits_for_both_parties_and_then_the_claim_is_investigated(
    claim_dispute, olga, django_capture_on_commit_callbacks
):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = claims.evidence_request(
            dispute=claim_dispute,
            arbitrator=olga,
            of_buyer=True,
            of_seller=True,
            text="Пришлите видео распаковки и фото этикетки с весом.",
            days_given=5,
        )
    assert stage(claim_dispute) == Claim.Stage.AWAITING_PARTIES
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [claim_dispute.buyer.email, claim_dispute.store.owner.email]
    )
    assert "Ответить арбитру нужно до" in mail.outbox[0].body and "MSK" in mail.outbox[0].body
    assert "Что просит арбитр: Пришлите видео распаковки и фото этикетки с весом." in mail.outbox[0].body
    photo = store_upload(claim_dispute.buyer, png_file())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        claims.evidence_answer(dispute=claim_dispute, user=claim_dispute.buyer, text="Видео", attachment_ids=[photo.pk])
    assert [(message.to[0], message.subject) for message in mail.outbox] == [
        (
            olga.email,
            f"Покупатель ответил на ваш запрос доказательств по претензии по заказу {claim_dispute.order.number}",
        )
    ]
    assert stage(claim_dispute) == Claim.Stage.AWAITING_PARTIES  # the seller has not answered yet
    with pytest.raises(ActionRefused, match="уже ответили"):
        claims.evidence_answer(dispute=claim_dispute, user=claim_dispute.buyer, text="Ещё")
    claims.evidence_answer(dispute=claim_dispute, user=claim_dispute.store.owner, text="Наш акт отправки")
    request.refresh_from_db()
    assert request.closed_at and request.buyer_answered_at and request.seller_answered_at
    assert stage(claim_dispute) == Claim.Stage.INVESTIGATION
    assert request.answers.get(author=claim_dispute.buyer).attachments.get() == photo


def test_only_the_party_asked_may_answer(claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=False,
        of_seller=True,
        text="Пришлите трек отправки.",
        days_given=3,
    )
    with pytest.raises(ActionRefused, match="у другой стороны"):
        claims.evidence_answer(dispute=claim_dispute, user=claim_dispute.buyer, text="Я тоже хочу")


def test_the_evidence_deadline_moves_the_claim_on_a_minute_after_it_passes(claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    request = claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите видео распаковки.",
        days_given=2,
    )
    assert sweeps.run("evidence-deadlines", request.due_at - MINUTE).changed == 0
    assert stage(claim_dispute) == Claim.Stage.AWAITING_PARTIES
    assert sweeps.run("evidence-deadlines", request.due_at + MINUTE).changed == 1
    assert stage(claim_dispute) == Claim.Stage.INVESTIGATION
    with (
        time_machine.travel(request.due_at + 2 * MINUTE),
        pytest.raises(ActionRefused, match="ничего у вас не запрашивает"),
    ):
        claims.evidence_answer(dispute=claim_dispute, user=claim_dispute.buyer, text="Поздно")


def test_a_decision_waits_for_an_open_evidence_request(claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите видео распаковки.",
        days_given=2,
    )
    with pytest.raises(ActionRefused, match="Стороны отвечают на ваш запрос до"):
        claims.claim_decide(
            dispute=claim_dispute, arbitrator=olga, winner="buyer", amount=None, return_required=False, reason=REASON
        )
    with pytest.raises(ActionRefused, match="ещё открыт"):
        claims.evidence_request(
            dispute=claim_dispute,
            arbitrator=olga,
            of_buyer=True,
            of_seller=True,
            text="И ещё кое-что прислать.",
            days_given=2,
        )


# --- reclassifying ----------------------------------------------------------------------------


def test_an_arbitrator_corrects_a_wrongly_chosen_problem_and_the_timeline_keeps_both(order, olga):
    dispute = escalate(open_dispute(order, problems=["empty_parcel"]))
    claims.claim_take(dispute=dispute, arbitrator=olga)
    claims.claim_reclassify(
        dispute=dispute, arbitrator=olga, problems=["wrong_attributes"], note="В посылке был гель для душа, не пусто."
    )
    dispute.refresh_from_db()
    assert dispute.problems == ["wrong_attributes"]
    event = dispute.events.get(kind=DisputeEvent.Kind.RECLASSIFIED)
    assert event.details["problems"] == {"old": ["empty_parcel"], "new": ["wrong_attributes"]}
    with pytest.raises(ActionRefused, match="предложенных"):
        claims.claim_reclassify(dispute=dispute, arbitrator=olga, problems=["no_tracking"], note="Другой тип спора")


# --- decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("winner", "amount", "message"),
    [
        ("split", "25.00", "меньше оплаченной"),
        ("split", "0", "больше нуля"),
        ("buyer", "25.01", "Нельзя вернуть больше"),
        ("nobody", None, "в чью пользу"),
    ],
)
def test_a_decision_amount_is_bounded_by_what_was_paid(claim_dispute, olga, winner, amount, message):
    with pytest.raises(ActionRefused, match=message):
        decide(claim_dispute, arbitrator=olga, winner=winner, amount=amount)
    assert not Decision.objects.exists()


def test_a_decision_needs_a_reason_of_real_length(claim_dispute, olga):
    with pytest.raises(ActionRefused, match="не короче 80 символов"):
        decide(claim_dispute, arbitrator=olga, winner="seller", reason="Отказано.")


def test_a_not_received_claim_never_sends_an_item_back(order, olga):
    dispute = escalate(open_dispute(order, kind="not_received", problems=["returned_to_seller"]))
    with pytest.raises(ActionRefused, match="возвращать нечего"):
        decide(dispute, arbitrator=olga, winner="buyer", return_required=True)


def test_the_seller_never_gets_an_item_back_without_the_buyer_getting_money(claim_dispute, olga):
    with pytest.raises(ActionRefused, match="покупатель оставляет товар"):
        decide(claim_dispute, arbitrator=olga, winner="seller", return_required=True)


def test_a_decision_opens_the_appeal_window_and_mails_both_parties_whoever_won(
    claim_dispute, olga, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide(claim_dispute, arbitrator=olga, winner="seller")
    claim = Claim.objects.get(dispute=claim_dispute)
    assert claim.stage == Claim.Stage.DECIDED
    assert claim.appeal_due_at == decision.decided_at + timedelta(days=7)
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [claim_dispute.buyer.email, claim_dispute.store.owner.email]
    )
    subject, body = mail.outbox[0].subject, mail.outbox[0].body
    assert "в пользу продавца" in subject
    assert REASON in body and "обжалуйте решение до" in body
    assert "olga" not in body and "Ольга" not in body  # the parties see the arbitrator's role, not the name


def test_a_decision_mail_sent_after_an_appeal_was_filed_still_gives_the_appeal_date(claim_dispute, olga):
    """The mail says what stood when the decision was made, however late the outbox sends it."""
    decide(claim_dispute, arbitrator=olga, winner="seller")
    claims.appeal_file(dispute=claim_dispute, user=claim_dispute.buyer, reason="Я не согласна: видео не учли вовсе.")
    decision_mail = OutgoingEmail.objects.filter(template="claim_decision", recipient=claim_dispute.buyer).get()
    body = rendered(decision_mail).body
    assert "обжалуйте решение до" in body
    assert "Решение окончательное" not in body


def test_a_decision_is_never_edited_a_second_first_decision_is_refused(claim_dispute, olga):
    decide(claim_dispute, arbitrator=olga, winner="seller")
    with pytest.raises(ActionRefused, match="уже принято решение"):
        decide(claim_dispute, arbitrator=olga, winner="buyer")
    assert Decision.objects.get().winner == "seller"


# --- the appeal window, appeals -----------------------------------------------------------------


def test_the_appeal_window_a_minute_before_and_after(claim_dispute, olga):
    decide(claim_dispute, arbitrator=olga, winner="seller")
    due = Claim.objects.get(dispute=claim_dispute).appeal_due_at
    assert due is not None
    with time_machine.travel(due + MINUTE), pytest.raises(ActionRefused, match="Срок обжалования прошёл"):
        claims.appeal_file(
            dispute=claim_dispute, user=claim_dispute.buyer, reason="Я не согласна: видео не учли вовсе."
        )
    with time_machine.travel(due - MINUTE):
        claims.appeal_file(
            dispute=claim_dispute, user=claim_dispute.buyer, reason="Я не согласна: видео не учли вовсе."
        )
    assert stage(claim_dispute) == Claim.Stage.APPEAL
    assert Appeal.objects.get().role == "buyer"


def test_a_decision_becomes_final_when_nobody_appeals_in_time(claim_dispute, olga, django_capture_on_commit_callbacks):
    decide(claim_dispute, arbitrator=olga, winner="buyer", amount="20")
    due = Claim.objects.get(dispute=claim_dispute).appeal_due_at
    assert due is not None
    assert sweeps.run("appeal-windows", due - MINUTE).changed == 0
    mail.outbox.clear()
    with time_machine.travel(due + MINUTE, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert sweeps.run("appeal-windows", timezone.now()).changed == 1
    claim_dispute.refresh_from_db()
    assert stage(claim_dispute) == Claim.Stage.FINAL
    assert claim_dispute.status == S.REFUNDED  # the simulated payment system pays at once
    assert Refund.objects.get(order=claim_dispute.order).amount == Decimal("20.00")
    finals = [message for message in mail.outbox if "вступило в силу" in message.subject]
    assert len(finals) == 2


def _claim_card(client, dispute):
    html = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    card = html[html.index('id="claim-heading">') :]
    return card[: card.index("</p>", card.index('data-testid="claim-state"'))]


@pytest.mark.parametrize(
    ("winner", "amount", "heading_and_state"),
    [
        ("buyer", "20", ("Претензия рассмотрена", "Решение исполнено: деньги возвращены покупателю.")),
        ("seller", None, ("Претензия рассмотрена", "Спор закрыт без возврата денег.")),
    ],
)
def test_once_final_the_claim_card_says_how_the_decision_was_carried_out(
    claim_dispute, olga, client, login, winner, amount, heading_and_state, django_capture_on_commit_callbacks
):
    login(claim_dispute.buyer)
    assert "Претензия у арбитра</h2>" in _claim_card(client, claim_dispute)
    decide(claim_dispute, arbitrator=olga, winner=winner, amount=amount)
    due = Claim.objects.get(dispute=claim_dispute).appeal_due_at
    assert due is not None
    with time_machine.travel(due + MINUTE, tick=False):
        with django_capture_on_commit_callbacks(execute=True):  # the simulated payment system pays at once
            sweeps.run("appeal-windows", timezone.now())
        for reader in (claim_dispute.buyer, claim_dispute.store.owner):
            client.logout()
            login(reader)
            card = _claim_card(client, claim_dispute)
            assert f"{heading_and_state[0]}</h2>" in card and card.endswith(heading_and_state[1])
            assert "исполняется" not in card


def test_an_appeal_is_filed_once(claim_dispute, olga):
    decide(claim_dispute, arbitrator=olga, winner="buyer", amount="20")
    claims.appeal_file(dispute=claim_dispute, user=claim_dispute.store.owner, reason="Покупатель прислал чужое видео.")
    with pytest.raises(ActionRefused, match="только один раз"):
        claims.appeal_file(dispute=claim_dispute, user=claim_dispute.buyer, reason="А я тоже хочу обжаловать.")


@pytest.mark.parametrize(
    ("appellant", "to_appellant", "to_other_side"),
    [
        ("buyer", "Вы обжаловали решение", "Покупатель обжаловал решение"),
        ("seller", "Вы обжаловали решение", "Продавец обжаловал решение"),
    ],
)
def test_the_appeal_mail_tells_each_party_who_appealed(
    claim_dispute, olga, appellant, to_appellant, to_other_side, django_capture_on_commit_callbacks
):
    decide(claim_dispute, arbitrator=olga, winner="split", amount="10")
    parties = {"buyer": claim_dispute.buyer, "seller": claim_dispute.store.owner}
    other = parties["seller" if appellant == "buyer" else "buyer"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        claims.appeal_file(
            dispute=claim_dispute, user=parties[appellant], reason="Арбитр не посмотрел видео распаковки."
        )
    sent = {message.to[0]: message for message in mail.outbox}
    for reader, opening in ((parties[appellant], to_appellant), (other, to_other_side)):
        message = sent[reader.email]
        assert message.subject.startswith(opening) and claim_dispute.order.number in message.subject
        assert "его решение будет окончательным" in message.body
        assert f"/account/disputes/{claim_dispute.pk}/" in message.body


def test_the_arbitrators_appeal_mail_leads_to_the_claim_in_admin(
    claim_dispute, olga, ivan, django_capture_on_commit_callbacks
):
    decide(claim_dispute, arbitrator=olga, winner="seller")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        claims.appeal_file(
            dispute=claim_dispute, user=claim_dispute.buyer, reason="Арбитр не посмотрел видео распаковки."
        )
    to_ivan = next(message for message in mail.outbox if message.to == [ivan.email])
    assert to_ivan.subject.startswith("Новая апелляция по заказу")
    assert reverse("admin:disputes_claim_change", args=[claim_dispute.claim.pk]) in to_ivan.body
    assert "/account/disputes/" not in to_ivan.body and "вашем споре" not in to_ivan.body
    assert olga.email not in [message.to[0] for message in mail.outbox]  # the first decider is not asked


def test_an_appeal_is_decided_by_a_different_arbitrator_and_is_final(
    claim_dispute, olga, ivan, django_capture_on_commit_callbacks
):
    decide(claim_dispute, arbitrator=olga, winner="seller")
    claims.appeal_file(dispute=claim_dispute, user=claim_dispute.buyer, reason="Арбитр не посмотрел видео распаковки.")
    with pytest.raises(ActionRefused, match="другой арбитр"):
        claims.appeal_decide(
            dispute=claim_dispute, arbitrator=olga, winner="buyer", amount=None, return_required=False, reason=REASON
        )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = claims.appeal_decide(
            dispute=claim_dispute,
            arbitrator=ivan,
            winner="split",
            amount=Decimal("12.50"),
            return_required=True,
            reason=REASON,
        )
    claim_dispute.refresh_from_db()
    assert (decision.kind, stage(claim_dispute), claim_dispute.status) == (
        "appeal",
        Claim.Stage.FINAL,
        S.AWAITING_RETURN,
    )
    assert claim_dispute.resolved_amount == Decimal("12.50") and claim_dispute.return_due_at
    assert any("Окончательное решение по апелляции" in message.subject for message in mail.outbox)
    with pytest.raises(ActionRefused, match="Спор не у арбитра"):
        claims.appeal_decide(
            dispute=claim_dispute, arbitrator=ivan, winner="buyer", amount=None, return_required=False, reason=REASON
        )


def test_no_appeal_before_a_decision(claim_dispute):
    with pytest.raises(ActionRefused, match="Обжаловать можно только принятое решение"):
        claims.appeal_file(
            dispute=claim_dispute, user=claim_dispute.buyer, reason="Не согласна с тем, что ещё не решено."
        )


def test_a_party_answers_an_evidence_request_a_minute_before_its_deadline(claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    request = claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите видео распаковки.",
        days_given=2,
    )
    with time_machine.travel(request.due_at - MINUTE):
        claims.evidence_answer(dispute=claim_dispute, user=claim_dispute.buyer, text="Видео по ссылке в файле")
    assert stage(claim_dispute) == Claim.Stage.INVESTIGATION


# --- what the parties see -----------------------------------------------------------------------


def test_both_parties_see_the_decision_with_the_appeal_button_and_its_date(login, claim_dispute, olga):
    decide(claim_dispute, arbitrator=olga, winner="split", amount="15")
    for party in (claim_dispute.buyer, claim_dispute.store.owner):
        page = login(party).get(reverse("disputes:detail", args=[claim_dispute.pk])).content.decode()
        assert "Решение принято, можно обжаловать" in page
        assert "частично в пользу покупателя" in page.lower()
        asked = "Вы просили 25,00" if party == claim_dispute.buyer else "Покупатель просил 25,00"
        assert "15,00" in page and asked in page
        assert REASON in page
        assert "Обжаловать решение" in page and "один раз" in page
        assert "olga" not in page and "Смирнова" not in page


def test_a_party_appeals_from_the_page_with_a_file(login, claim_dispute, olga, django_capture_on_commit_callbacks):
    decide(claim_dispute, arbitrator=olga, winner="seller")
    client = login(claim_dispute.buyer)
    page = client.get(reverse("disputes:appeal", args=[claim_dispute.pk])).content.decode()
    assert "один раз" in page and "другой арбитр" in page
    short = client.post(reverse("disputes:appeal", args=[claim_dispute.pk]), {"reason": "Нет"})
    assert short.status_code == 400 and "хотя бы 30 символов" in short.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("disputes:appeal", args=[claim_dispute.pk]),
            {"reason": "Арбитр не посмотрел видео распаковки, прикладываю его ещё раз.", "evidence": [png_file()]},
        )
    appeal = Appeal.objects.get()
    assert appeal.message.attachments.count() == 1
    page = client.get(reverse("disputes:detail", args=[claim_dispute.pk])).content.decode()
    assert "Апелляция на рассмотрении" in page and "Обжаловать решение" not in page


def test_the_evidence_request_and_its_form_are_on_the_dispute_page(login, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите видео распаковки.",
        days_given=3,
    )
    buyer_page = login(claim_dispute.buyer).get(reverse("disputes:detail", args=[claim_dispute.pk])).content.decode()
    assert "Пришлите видео распаковки" in buyer_page and "Отправить ответ арбитру" in buyer_page
    seller_page = (
        login(claim_dispute.store.owner).get(reverse("disputes:detail", args=[claim_dispute.pk])).content.decode()
    )
    assert "Пришлите видео распаковки" in seller_page and "Отправить ответ арбитру" not in seller_page


def test_a_party_answers_the_request_from_the_dispute_page(
    login, claim_dispute, olga, django_capture_on_commit_callbacks
):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите видео распаковки.",
        days_given=3,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = login(claim_dispute.buyer).post(
            reverse("disputes:evidence_answer", args=[claim_dispute.pk]),
            {"text": "Видео прилагаю", "evidence": [png_file()]},
            follow=True,
        )
    assert "Ответ отправлен арбитру" in response.content.decode()
    assert stage(claim_dispute) == Claim.Stage.INVESTIGATION
    assert claim_dispute.messages.get(kind="answer").attachments.count() == 1


def test_my_disputes_shows_the_claim_stage_and_its_next_date(login, claim_dispute, olga):
    decide(claim_dispute, arbitrator=olga, winner="seller")
    page = login(claim_dispute.buyer).get(reverse("disputes:list")).content.decode()
    assert "Решение принято, можно обжаловать" in page and "обжаловать можно до" in page


# --- admin: the queue and the claim page ---------------------------------------------------------


def test_the_queue_shows_undecided_claims_first_and_decided_ones_apart(client, order, olga, dispute_factory):
    undecided = escalate(dispute_factory())
    decided_one = escalate(dispute_factory())
    decide(decided_one, arbitrator=olga, winner="seller")
    client.force_login(olga)
    page = client.get(reverse("admin:disputes_claim_changelist")).content.decode()
    assert undecided.order.number in page and decided_one.order.number not in page
    decided_page = client.get(reverse("admin:disputes_claim_changelist") + "?decision=decided").content.decode()
    assert decided_one.order.number in decided_page and undecided.order.number not in decided_page


def test_the_queue_searches_by_order_number_buyer_and_store(client, olga, dispute_factory):
    first, second = escalate(dispute_factory()), escalate(dispute_factory())
    first.store.name = "Уникальный магазин"
    first.store.save()
    client.force_login(olga)
    url = reverse("admin:disputes_claim_changelist") + "?decision=all&q="
    for term in (first.order.number, first.buyer.username, "Уникальный"):
        page = client.get(url + term).content.decode()
        assert first.order.number in page and second.order.number not in page, term


def test_an_arbitrator_decides_on_the_claim_page_after_seeing_what_the_parties_will_read(client, claim_dispute, olga):
    client.force_login(olga)
    claim = claim_dispute.claim
    client.post(reverse("admin:disputes_claim_take", args=[claim.pk]))
    data = {"winner": "split", "amount": "10,00", "reason": REASON}
    preview = client.post(reverse("admin:disputes_claim_decide", args=[claim.pk]), data)
    page = preview.content.decode()
    assert "Так решение увидят покупатель и продавец" in page and REASON in page and "10,00" in page
    assert not Decision.objects.exists()
    client.post(reverse("admin:disputes_claim_decide", args=[claim.pk]), {**data, "confirmed": "yes"})
    decision = Decision.objects.get()
    assert (decision.winner, decision.amount, decision.decided_by) == ("split", Decimal("10.00"), olga)


def test_support_reads_the_claim_page_without_buttons_and_cannot_decide(client, claim_dispute):
    client.force_login(support_agent())
    claim = claim_dispute.claim
    page = client.get(reverse("admin:disputes_claim_change", args=[claim.pk])).content.decode()
    assert claim_dispute.order.number in page
    assert "Взять в работу" not in page and "Проверить и отправить" not in page
    client.post(reverse("admin:disputes_claim_take", args=[claim.pk]))
    assert Claim.objects.get(pk=claim.pk).assigned_to is None


def test_the_claim_page_shows_the_timeline_in_words(client, order, olga):
    dispute = escalate(open_dispute(order, problems=["empty_parcel"]))
    claims.claim_take(dispute=dispute, arbitrator=olga)
    claims.claim_reclassify(dispute=dispute, arbitrator=olga, problems=["wrong_attributes"], note="Внутри был гель.")
    client.force_login(olga)
    page = client.get(reverse("admin:disputes_claim_change", args=[dispute.claim.pk])).content.decode()
    assert "Арбитр уточнил причину спора" in page
    assert "было «Посылка пустая»" in page
    assert "[" not in page.split("История")[-1].split("</table>")[0]  # no JSON lists in the timeline


def test_an_empty_head_of_arbitration_group_is_a_check_warning(django_user_model):
    from django.contrib.auth.models import Group

    from disputes.checks import overdue_claims_reach_someone

    assert [warning.id for warning in overdue_claims_reach_someone()] == ["disputes.W001"]
    head = arbitrator(username="head")
    head.groups.add(Group.objects.get(name="arbitration_heads"))
    assert overdue_claims_reach_someone() == []


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm the session and the permission cache
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_claims_queue_keeps_a_fixed_number_of_queries(client, olga, dispute_factory):
    for _ in range(2):
        escalate(dispute_factory())
    client.force_login(olga)
    url = reverse("admin:disputes_claim_changelist") + "?decision=all"
    few = _queries(client, url)
    for _ in range(6):
        decide(escalate(dispute_factory()), arbitrator=olga, winner="seller")
    assert _queries(client, url) == few


def test_the_claim_page_keeps_a_fixed_number_of_queries(client, claim_dispute, olga):
    from disputes import services

    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    url = reverse("admin:disputes_claim_change", args=[claim_dispute.claim.pk])
    few = _queries(client, url)
    for number in range(5):
        photo = store_upload(claim_dispute.buyer, png_file(f"{number}.png"))
        services.message_post(
            dispute=claim_dispute, user=claim_dispute.buyer, text=f"Фото {number}", attachment_ids=[photo.pk]
        )
        services.message_post(dispute=claim_dispute, user=olga, text=f"Вопрос {number}")
    claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=True,
        text="Пришлите видео распаковки.",
        days_given=3,
    )
    assert _queries(client, url) == few


def test_the_claim_page_shows_the_requested_amount_in_roubles_at_the_current_rate(client, claim_dispute, olga):
    import re

    from disputes.models import ExchangeRate

    def equivalent() -> str | None:
        found = re.search(r"\(≈ ([^)]*)\)", client.get(url).content.decode())
        return found and found.group(1)

    client.force_login(olga)
    url = reverse("admin:disputes_claim_change", args=[claim_dispute.claim.pk])
    assert equivalent() is None
    rate = ExchangeRate.objects.create(currency="USD", rub_per_unit=Decimal("90"), as_of="2026-11-22")
    at_90 = equivalent()
    rate.rub_per_unit = Decimal("100")
    rate.save()
    at_100 = equivalent()
    assert at_90 is not None and at_100 is not None and at_90 != at_100
    assert at_90.replace("\xa0", " ").startswith(f"{claim_dispute.requested_amount * 90:,.0f}".replace(",", " "))


def test_the_history_names_the_zone_of_the_date_an_arbitrator_asked_for(claim_dispute, olga, client, login):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    request = claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите фото этикетки.",
        days_given=5,
    )
    login(claim_dispute.buyer)
    html = client.get(reverse("disputes:detail", args=[claim_dispute.pk])).content.decode()
    history = html[html.index('id="timeline-heading"') :]
    local = timezone.localtime(request.due_at, zoneinfo.ZoneInfo("Europe/Moscow"))
    assert f"ответить до {formats.date_format(local, 'j E Y, H:i')} MSK" in history
