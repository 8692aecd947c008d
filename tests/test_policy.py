"""The arbitration policy (disputes/policy.py): each rule fires on its facts and stays silent
without them; the recommendation never decides; deciding against it asks why, and the parties read
the rule's reason only when the arbitrator followed it, never the word "recommendation"."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import ActionRefused
from disputes import claims, policy, selectors
from disputes.models import Claim, Decision, Dispute, DisputeEvent, Message, PolicyRuleSwitch
from disputes.policy import ClaimFacts, Evidence, State
from orders.models import TrackingEvent

from .disputes_helpers import REASON, decide, escalate, mp4_file, open_dispute, store_upload
from .factories import OrderFactory, StaffFactory, arbitrator

T = TrackingEvent.Kind
NR = Dispute.Kind.NOT_RECEIVED
NAD = Dispute.Kind.NOT_AS_DESCRIBED


def facts(**overrides) -> ClaimFacts:
    base = ClaimFacts(
        kind=NAD,
        problems=frozenset({"poor_quality"}),
        refund_type="full",
        paid=Decimal("40.00"),
        requested=Decimal("40.00"),
        has_tracking_number=True,
        scans=(T.ACCEPTED, T.IN_TRANSIT, T.ARRIVED, T.LOCAL_POST, T.DELIVERED),
    )
    return replace(base, **overrides)


def verdict(code: str, case: ClaimFacts) -> policy.Verdict:
    rule = policy.policy.get(code)
    assert rule is not None
    return rule.judge(case)


# Each rule: the facts it fires on, and the same facts with the one that matters taken away.
RULE_CASES = {
    "never_reached_country": (
        facts(
            kind=NR, problems=frozenset({"in_transit_protection_ending"}), scans=(T.ACCEPTED,), protection_ended=True
        ),
        facts(
            kind=NR,
            problems=frozenset({"in_transit_protection_ending"}),
            scans=(T.ACCEPTED, T.ARRIVED),
            protection_ended=True,
        ),
    ),
    "no_tracking_number": (
        facts(kind=NR, problems=frozenset({"no_tracking"}), has_tracking_number=False, scans=()),
        facts(kind=NR, problems=frozenset({"no_tracking"}), has_tracking_number=True, scans=()),
    ),
    "returned_to_sender": (
        facts(kind=NR, problems=frozenset({"returned_to_seller"}), scans=(T.ACCEPTED, T.RETURNED)),
        facts(kind=NR, problems=frozenset({"returned_to_seller"}), scans=(T.ACCEPTED, T.IN_TRANSIT)),
    ),
    "delivered_elsewhere": (
        facts(
            kind=NR, problems=frozenset({"delivered_not_received"}), delivered_place="Казань", local_post_place="Самара"
        ),
        facts(
            kind=NR, problems=frozenset({"delivered_not_received"}), delivered_place="Самара", local_post_place="Самара"
        ),
    ),
    "post_office_denies_delivery": (
        facts(
            kind=NR, problems=frozenset({"delivered_not_received"}), evidence={Evidence.POST_OFFICE_ACT: "message-1"}
        ),
        facts(
            kind=NR,
            problems=frozenset({"delivered_not_received"}),
            evidence={Evidence.POST_OFFICE_ACT: "message-1"},
            scans=(T.ACCEPTED,),
        ),
    ),
    "delivered_no_other_evidence": (
        facts(kind=NR, problems=frozenset({"delivered_not_received"})),
        facts(
            kind=NR, problems=frozenset({"delivered_not_received"}), evidence={Evidence.POST_OFFICE_ACT: "message-1"}
        ),
    ),
    "counterfeit_with_photos": (
        facts(problems=frozenset({"counterfeit"}), evidence={Evidence.PHOTOS: "message-1"}),
        facts(problems=frozenset({"poor_quality"}), evidence={Evidence.PHOTOS: "message-1"}),
    ),
    "damaged_with_video": (
        facts(problems=frozenset({"damaged"}), evidence={Evidence.UNBOXING_VIDEO: "message-1"}),
        facts(problems=frozenset({"poor_quality"}), evidence={Evidence.UNBOXING_VIDEO: "message-1"}),
    ),
    "empty_parcel_with_proof": (
        facts(problems=frozenset({"empty_parcel"}), evidence={Evidence.UNBOXING_VIDEO: "message-1"}),
        facts(problems=frozenset({"fewer_items"}), evidence={Evidence.UNBOXING_VIDEO: "message-1"}),
    ),
    "not_working_with_video": (
        facts(problems=frozenset({"not_working"}), evidence={Evidence.UNBOXING_VIDEO: "message-1"}),
        facts(problems=frozenset({"damaged", "poor_quality"}), evidence={Evidence.UNBOXING_VIDEO: "message-1"}),
    ),
    "different_item_with_video": (
        facts(problems=frozenset({"wrong_attributes"}), evidence={Evidence.UNBOXING_VIDEO: "message-1"}),
        facts(problems=frozenset({"poor_quality"}), evidence={Evidence.UNBOXING_VIDEO: "message-1"}),
    ),
    "partly_as_described": (
        facts(refund_type="partial", requested=Decimal("10.00"), evidence={Evidence.PHOTOS: "message-1"}),
        facts(refund_type="full", requested=Decimal("10.00"), evidence={Evidence.PHOTOS: "message-1"}),
    ),
    "item_sent_back": (facts(item_returned=True), facts(item_returned=False)),
    "seller_offered_what_was_asked": (
        facts(best_seller_offer=Decimal("40.00")),
        facts(best_seller_offer=Decimal("15.00")),
    ),
}


def test_every_rule_of_the_policy_has_its_cases():
    assert set(RULE_CASES) == {rule.code for rule in policy.policy.rules}


@pytest.mark.parametrize("code", list(RULE_CASES))
def test_rule_fires_on_its_facts(code):
    on, _off = RULE_CASES[code]
    assert verdict(code, on).state == State.FIRED


@pytest.mark.parametrize("code", list(RULE_CASES))
def test_rule_is_silent_without_its_facts(code):
    _on, off = RULE_CASES[code]
    assert verdict(code, off).state != State.FIRED


@pytest.mark.parametrize(
    ("code", "case", "missing"),
    [
        ("damaged_with_video", facts(problems=frozenset({"damaged"})), Evidence.UNBOXING_VIDEO),
        ("counterfeit_with_photos", facts(problems=frozenset({"counterfeit"})), Evidence.PHOTOS),
        ("empty_parcel_with_proof", facts(problems=frozenset({"empty_parcel"})), Evidence.UNBOXING_VIDEO),
        ("not_working_with_video", facts(problems=frozenset({"not_working"})), Evidence.UNBOXING_VIDEO),
        ("partly_as_described", facts(refund_type="partial", requested=Decimal("10")), Evidence.PHOTOS),
        ("different_item_with_video", facts(problems=frozenset({"wrong_attributes"})), Evidence.UNBOXING_VIDEO),
        (
            "post_office_denies_delivery",
            facts(kind=NR, problems=frozenset({"delivered_not_received"})),
            Evidence.POST_OFFICE_ACT,
        ),
    ],
)
def test_rule_without_its_evidence_cannot_judge_and_names_what_is_missing(code, case, missing):
    result = verdict(code, case)
    assert (result.state, result.missing) == (State.CANNOT_JUDGE, missing)


def test_partial_refund_recommends_the_share_the_buyer_asked_for():
    case = facts(refund_type="partial", requested=Decimal("10.00"), evidence={Evidence.PHOTOS: "message-1"})
    recommendation = policy.policy.recommend(case)
    assert recommendation.outcome is not None
    assert (recommendation.outcome.winner, recommendation.outcome.amount(case.paid)) == ("split", Decimal("10.00"))


def test_rules_that_disagree_on_the_winner_give_no_recommendation():
    # "Delivered" with no act (seller) and the seller's own offer of everything asked (buyer).
    case = facts(kind=NR, problems=frozenset({"delivered_not_received"}), best_seller_offer=Decimal("40"))
    recommendation = policy.policy.recommend(case)
    assert recommendation.conflict and recommendation.outcome is None


def test_a_switched_off_rule_is_not_read():
    case = RULE_CASES["no_tracking_number"][0]
    assert policy.policy.recommend(case).reading is not None
    off = policy.policy.recommend(case, switched_off={"no_tracking_number"})
    assert off.reading is None and [rule.code for rule in off.switched_off] == ["no_tracking_number"]


def test_the_missing_video_is_the_gap_that_would_change_the_recommendation():
    case = facts(problems=frozenset({"damaged"}))
    assert policy.gaps(case, policy.policy.recommend(case)) == [Evidence.UNBOXING_VIDEO]


def test_a_video_that_would_make_the_rules_disagree_is_a_gap_too():
    # Damaged, a partial refund asked, photos sent: a split now; with a video, a full refund too.
    case = facts(
        problems=frozenset({"damaged"}),
        refund_type="partial",
        requested=Decimal("10"),
        evidence={Evidence.PHOTOS: "message-1"},
    )
    recommendation = policy.policy.recommend(case)
    assert recommendation.outcome is not None and recommendation.outcome.winner == "split"
    assert policy.gaps(case, recommendation) == [Evidence.UNBOXING_VIDEO]


def test_a_gap_that_changes_nothing_is_not_offered():
    # The seller offered everything asked: the buyer wins with the video or without it.
    case = facts(problems=frozenset({"damaged"}), best_seller_offer=Decimal("40"))
    assert policy.gaps(case, policy.policy.recommend(case)) == []


# --- on real claims -------------------------------------------------------------------------------


def _damaged_claim(*, with_video: bool) -> Dispute:
    order = OrderFactory(total_amount=Decimal("25.00"))
    dispute = open_dispute(order, problems=["damaged"], request_text="Экран треснул, на видео распаковки это видно.")
    if with_video:
        message = Message.objects.create(dispute=dispute, author=order.buyer, kind=Message.Kind.MESSAGE, text="Видео")
        upload = store_upload(order.buyer, mp4_file())
        upload.message = message
        upload.save()
    return escalate(dispute)


def test_the_buyers_video_is_read_as_the_unboxing_video_with_its_message_as_anchor(db):
    dispute = _damaged_claim(with_video=True)
    case = policy.facts_of(selectors.policy_case_get(dispute.pk), now=timezone.now())
    message = dispute.messages.get(text="Видео")
    assert case.evidence[Evidence.UNBOXING_VIDEO] == f"message-{message.pk}"
    reading = policy.policy.recommend(case).reading
    assert reading is not None and reading.rule.code == "damaged_with_video"


def test_reading_the_recommendation_never_writes_a_decision(db, client, login):
    dispute = _damaged_claim(with_video=True)
    events = DisputeEvent.objects.filter(dispute=dispute).count()
    staff = arbitrator()
    login(staff)
    page = client.get(reverse("admin:disputes_claim_change", args=[dispute.claim.pk]))
    assert "Повреждён, есть видео распаковки" in page.content.decode()
    selectors.policy_panel(selectors.policy_case_get(dispute.pk), now=timezone.now())
    claim = Claim.objects.get(pk=dispute.claim.pk)
    assert not Decision.objects.exists()
    assert claim.stage == Claim.Stage.PROCESSING
    assert DisputeEvent.objects.filter(dispute=dispute).count() == events


def test_deciding_against_the_recommendation_without_a_reason_is_refused(db):
    dispute = _damaged_claim(with_video=True)
    with pytest.raises(ActionRefused, match="расходится с рекомендацией"):
        decide(dispute, winner="seller")
    assert not Decision.objects.exists()


def test_deciding_against_the_recommendation_records_why_in_the_decision_and_its_event(db):
    dispute = _damaged_claim(with_video=True)
    staff = arbitrator()
    claims.claim_take(dispute=dispute, arbitrator=staff)
    claims.claim_decide(
        dispute=dispute,
        arbitrator=staff,
        winner="seller",
        amount=None,
        return_required=False,
        reason=REASON,
        deviation_reason="На видео трещина уже была на коробке до вскрытия.",
    )
    decision = Decision.objects.get()
    assert (decision.recommended_rule, decision.followed_recommendation) == ("damaged_with_video", False)
    assert decision.deviation_reason == "На видео трещина уже была на коробке до вскрытия."
    event = DisputeEvent.objects.get(dispute=dispute, kind=DisputeEvent.Kind.DECIDED)
    assert event.details["deviation_reason"] == decision.deviation_reason
    assert event.details["followed_recommendation"] is False


def test_a_followed_rule_is_quoted_to_the_parties_without_the_word_recommendation(db, client, login):
    dispute = _damaged_claim(with_video=True)
    decide(dispute, winner="buyer")
    decision = Decision.objects.get()
    assert decision.followed_recommendation is True
    for party in (dispute.buyer, dispute.store.owner):
        login(party)
        page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
        assert "Видео распаковки показывает, что товар пришёл повреждённым" in page
        assert "рекомендац" not in page.casefold()


def test_a_decision_against_the_rules_quotes_no_rule_and_hides_why_from_the_parties(db, client, login):
    dispute = _damaged_claim(with_video=True)
    staff = arbitrator()
    claims.claim_take(dispute=dispute, arbitrator=staff)
    claims.claim_decide(
        dispute=dispute,
        arbitrator=staff,
        winner="seller",
        amount=None,
        return_required=False,
        reason=REASON,
        deviation_reason="Коробка была помята ещё на почте.",
    )
    login(dispute.buyer)
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Видео распаковки показывает, что товар пришёл повреждённым" not in page
    assert "Коробка была помята ещё на почте." not in page
    assert "рекомендац" not in page.casefold()


def test_the_claim_page_offers_to_request_exactly_the_missing_video(db, client, login):
    dispute = _damaged_claim(with_video=False)
    staff = arbitrator()
    claims.claim_take(dispute=dispute, arbitrator=staff)
    login(staff)
    page = client.get(reverse("admin:disputes_claim_change", args=[dispute.claim.pk])).content.decode()
    assert "Попросить у покупателя: видео распаковки" in page
    assert "Попросить у покупателя: фото товара" not in page


def test_the_claim_page_sums_up_similar_decided_claims(db, client, login):
    for winner in ("buyer", "buyer", "seller"):
        decide(_damaged_claim(with_video=False), winner=winner)
    dispute = _damaged_claim(with_video=False)
    summary = selectors.similar_decisions(kind=NAD, problems=["damaged"], exclude_claim_id=dispute.claim.pk)
    assert [(row.winner, row.count, row.median_share) for row in summary.outcomes] == [
        ("buyer", 2, 100),
        ("seller", 1, 0),
    ]


def test_staff_without_the_permission_cannot_switch_a_rule_off(db, client, login):
    login(arbitrator())
    url = reverse("admin:disputes_policyruleswitch_switch")
    response = client.post(url, {"rule": "no_tracking_number", "enabled": "", "reason": "Проверяем правило"})
    assert response.status_code == 403
    assert not PolicyRuleSwitch.objects.exists()


def test_the_head_of_arbitration_switches_a_rule_off_with_who_and_why(db, client, login):
    head = StaffFactory(groups=["arbitration_heads"])
    login(head)
    url = reverse("admin:disputes_policyruleswitch_switch")
    client.post(url, {"rule": "no_tracking_number", "enabled": "", "reason": "Трек-номера приходят с опозданием"})
    switch = PolicyRuleSwitch.objects.get()
    assert (switch.rule, switch.enabled, switch.switched_by, switch.reason) == (
        "no_tracking_number",
        False,
        head,
        "Трек-номера приходят с опозданием",
    )
    assert selectors.switched_off_rules() == {"no_tracking_number"}


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_claim_page_and_the_report_read_a_fixed_number_of_queries_as_decisions_grow(db, client, login):
    dispute = _damaged_claim(with_video=True)
    staff = arbitrator()
    claims.claim_take(dispute=dispute, arbitrator=staff)
    login(staff)
    page = reverse("admin:disputes_claim_change", args=[dispute.claim.pk])
    report = reverse("admin:disputes_policyruleswitch_report")
    decide(_damaged_claim(with_video=True), winner="buyer")
    for url in (page, report):  # the first request fills the caches (permissions, the store's record)
        client.get(url)
    before = (_queries(client, page), _queries(client, report), _queries(client, report + "?format=csv"))
    for winner in ("buyer", "split", "buyer"):
        decide(_damaged_claim(with_video=False), winner=winner, amount="5" if winner == "split" else None)
    client.get(page)  # a new decision makes new kept figures of similar claims: the first request reads them
    after = (_queries(client, page), _queries(client, report), _queries(client, report + "?format=csv"))
    assert after == before


def test_the_consistency_report_counts_followed_and_overturned_decisions(db):
    followed = _damaged_claim(with_video=True)
    decide(followed, winner="buyer")
    _against = _damaged_claim(with_video=True)
    staff = arbitrator()
    claims.claim_take(dispute=_against, arbitrator=staff)
    claims.claim_decide(
        dispute=_against,
        arbitrator=staff,
        winner="seller",
        amount=None,
        return_required=False,
        reason=REASON,
        deviation_reason="Царапина была видна на фото продавца до отправки.",
    )
    _by_arbitrator, by_kind = selectors.consistency_report()
    [row] = by_kind
    assert (row.decisions, row.with_recommendation, row.followed, row.followed_percent) == (2, 2, 1, 50)
    assert row.overturned == 0


def test_the_consistency_report_downloads_as_csv_through_the_export_helper(db, client, login):
    decide(_damaged_claim(with_video=True), winner="buyer")
    staff = arbitrator(username="olga-csv")
    login(staff)
    response = client.get(reverse("admin:disputes_policyruleswitch_report") + "?format=csv")
    text = response.content.decode("utf-8")
    assert response["Content-Type"].startswith("text/csv") and text.startswith("\ufeff")
    lines = text.splitlines()
    assert lines[0].startswith('"\ufeffгруппа"') or lines[0].startswith('\ufeff"группа"')
    assert any(line.startswith('"арбитр",') and ",1,1,100,0," in line for line in lines)


def test_the_claim_page_sums_up_a_new_decision_at_once(db, client, login):
    # The similar claims' figures are kept per process under the latest decision: a new one shows
    # on the next request, and the claim on the page is never counted among its similar claims.
    decide(_damaged_claim(with_video=False), winner="buyer")
    dispute = _damaged_claim(with_video=False)
    staff = arbitrator()
    login(staff)
    page = reverse("admin:disputes_claim_change", args=[dispute.claim.pk])
    assert "1 (100%)" in client.get(page).content.decode()
    decide(_damaged_claim(with_video=False), winner="seller")
    content = client.get(page).content.decode()
    assert "1 (50%)" in content
    assert content.count("(50%)") == 2
