"""Figures staff decide by: a store's dispute record (30/90/365 days) beside every claim, on the
store in admin and on the seller's own page, and the help centre's gaps (searches that found
nothing or whose first result nobody opened, articles voted "not helpful"), with CSV exports."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import sweeps
from core.csv_export import BOM
from disputes.models import Claim, Decision, Dispute
from disputes.store_record import store_record
from faq.models import Article, ArticleVote, SearchLog
from orders.models import Refund
from orders.payments import refund_send
from reports.models import Report

from .disputes_helpers import escalate, open_dispute
from .factories import OrderFactory, SellerFactory, UserFactory, arbitrator, support_agent

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def order_at(store, buyer, days_ago, **kwargs):
    now = timezone.now()
    return OrderFactory(buyer=buyer, store=store, paid_at=now - days_ago * DAY, **kwargs)


def dispute_at(store, buyer, days_ago, *, answered_after_hours=None, silent=False):
    order = order_at(store, buyer, days_ago + 5)
    dispute = open_dispute(order)
    opened = timezone.now() - days_ago * DAY
    Dispute.objects.filter(pk=dispute.pk).update(
        opened_at=opened,
        seller_answered_at=opened + timedelta(hours=answered_after_hours) if answered_after_hours else None,
        seller_silent=silent,
    )
    return Dispute.objects.get(pk=dispute.pk)


def decide(dispute, winner, days_ago, *, appeal_winner=None):
    """A claim decided `days_ago` and final at once (by its appeal decision a day later, if any)."""
    staff = arbitrator(username=f"arb-{dispute.pk}")
    decided = timezone.now() - days_ago * DAY
    final = decided + DAY if appeal_winner else decided
    opened = timezone.now() - (days_ago + 10) * DAY
    Dispute.objects.filter(pk=dispute.pk).update(escalated_at=opened)  # a claim opens with the escalation
    claim = Claim.objects.create(dispute=dispute, opened_at=opened, stage="final", final_at=final)
    common = {"claim": claim, "amount": Decimal("1"), "currency": "USD", "reason": "…", "decided_by": staff}
    Decision.objects.create(kind="first", winner=winner, decided_at=decided, **common)
    if appeal_winner:
        Decision.objects.create(kind="appeal", winner=appeal_winner, decided_at=final, **common)


def refund(order, amount, currency, days_ago):
    done = timezone.now() - days_ago * DAY
    return Refund.objects.create(
        order=order,
        purpose="dispute",
        amount=Decimal(amount),
        currency=currency,
        reference=f"RF-{order.number}",
        status="completed",
        requested_at=done,
        completed_at=done,
    )


def report_against(store, reporter, outcome, days_ago):
    closed = timezone.now() - days_ago * DAY
    return Report.objects.create(
        reporter=reporter,
        store=store,
        reported_user=store.owner,
        report_type="counterfeit",
        reason="counterfeit_brand",
        description="Подделка известного бренда, видно по логотипу.",
        status="closed",
        outcome=outcome,
        created_at=closed - 3 * DAY,
        closed_at=closed,
    )


@pytest.fixture
def store():
    return SellerFactory(username="record-shop").store


def test_a_store_with_no_orders_has_zeros_and_no_rate(store):
    record = store_record(store=store)
    for window in record.windows:
        assert (window.orders, window.disputes, window.unanswered, window.claims_decided, window.reports_upheld) == (
            0,
            0,
            0,
            0,
            0,
        )
        assert window.dispute_rate is None and window.median_answer is None and window.refunds == {}


def test_each_figure_counts_only_its_window(store):
    buyer = UserFactory(username="record-buyer")
    for days_ago in (1, 10, 20, 60, 200, 400):
        order_at(store, buyer, days_ago)
    # Each dispute's order was paid 5 days before it opened: 3 more orders, at 7, 25 and 105 days.
    silent = dispute_at(store, buyer, 2, silent=True)
    answered = dispute_at(store, buyer, 20, answered_after_hours=4)
    old = dispute_at(store, buyer, 100, answered_after_hours=10)
    dispute_at(store, buyer, 3, answered_after_hours=2)
    decide(answered, "seller", 5)
    decide(old, "buyer", 80, appeal_winner="seller")  # the appeal decides
    decide(silent, "split", 1)
    refund(silent.order, "25.00", "USD", 2)
    refund(old.order, "990.00", "RUB", 70)
    other = UserFactory(username="reporter")
    report_against(store, other, "upheld", 10)
    report_against(store, other, "not_upheld", 12)
    report_against(store, other, "upheld", 300)

    record = store_record(store=store)
    last30, last90, last365 = record.windows
    assert (last30.orders, last90.orders, last365.orders) == (6, 7, 9)
    assert (last30.disputes, last90.disputes, last365.disputes) == (3, 3, 4)
    assert last30.dispute_rate == Decimal("50.0")
    assert (last30.unanswered, last365.unanswered) == (1, 1)
    assert last30.median_answer == timedelta(hours=3)  # of 2 h and 4 h
    assert last365.median_answer == timedelta(hours=4)  # of 2, 4 and 10 h
    assert (last30.claims_won, last30.claims_lost, last30.claims_split) == (1, 0, 1)
    assert (last90.claims_won, last90.claims_lost) == (2, 0)
    assert last30.refunds == {"USD": Decimal("25.00")}
    assert last90.refunds == {"USD": Decimal("25.00"), "RUB": Decimal("990.00")}
    assert record.currencies == ["RUB", "USD"]
    assert (last30.reports_upheld, last365.reports_upheld) == (1, 2)


def test_the_record_takes_the_same_number_of_queries_for_a_big_store(store):
    buyer = UserFactory(username="record-buyer")
    dispute_at(store, buyer, 3, answered_after_hours=2)
    with CaptureQueriesContext(connection) as small:
        store_record(store=store)
    for days_ago in range(1, 40, 3):
        dispute = dispute_at(store, buyer, days_ago, answered_after_hours=days_ago)
        refund(dispute.order, "3.00", "EUR" if days_ago % 2 else "USD", days_ago)
    with CaptureQueriesContext(connection) as large:
        store_record(store=store)
    assert len(large) == len(small) == 8


def test_the_seller_reads_their_own_record_and_what_improves_it(store, client):
    buyer = UserFactory(username="record-buyer")
    dispute_at(store, buyer, 2, silent=True)
    client.force_login(store.owner)
    page = client.get(reverse("disputes:store_record")).content.decode()
    assert "Мой рейтинг споров" in page and "Споров без ответа продавца за 5 дн." in page
    assert "Отвечайте на каждый спор в срок" in page
    client.force_login(buyer)
    assert client.get(reverse("disputes:store_record")).status_code == 404


def test_the_arbitrator_sees_the_record_beside_the_claim_and_downloads_it(store, client):
    buyer = UserFactory(username="record-buyer")
    dispute = dispute_at(store, buyer, 2, answered_after_hours=5)
    decide(dispute, "buyer", 1)
    client.force_login(arbitrator(username="olga"))
    page = client.get(reverse("admin:disputes_claim_change", args=[dispute.claim.pk])).content.decode()
    assert "Показатели магазина «" in page and "Претензий проиграно" in page
    response = client.get(reverse("admin:disputes_store_record", args=[store.pk]) + "?format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith(BOM)
    assert '"Претензий проиграно (окончательные решения)",1,1,1' in text
    assert '"Споров (открыты за период)",1,1,1' in text


@pytest.mark.usefixtures("caches_in_memory")
def test_the_record_beside_a_claim_is_counted_at_most_five_minutes_ago_and_says_when(store, client, settings):
    buyer = UserFactory(username="record-buyer")
    dispute = dispute_at(store, buyer, 2, answered_after_hours=5)
    decide(dispute, "buyer", 1)
    client.force_login(arbitrator(username="olga"))
    claim_url = reverse("admin:disputes_claim_change", args=[dispute.claim.pk])
    record_url = reverse("admin:disputes_store_record", args=[store.pk])

    def disputes_row(page: str) -> str:
        return re.findall(r"<th scope=\"row\">Споров \(открыты за период\)</th>(.*?)</tr>", page, re.S)[0]

    first = client.get(claim_url).content.decode()
    assert "Подсчитано" in first and disputes_row(first).count(">1<") == 3
    dispute_at(store, UserFactory(username="record-buyer-2"), 1)
    # Beside the claim: the figures counted a moment ago; the record's own page counts afresh.
    assert disputes_row(client.get(claim_url).content.decode()).count(">1<") == 3
    assert disputes_row(client.get(record_url).content.decode()).count(">2<") == 3
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.STORE_RECORD_CACHE_SECONDS + 1)):
        assert disputes_row(client.get(claim_url).content.decode()).count(">2<") == 3


def test_the_store_admin_links_to_its_record_and_buyers_cannot_open_it(store, client):
    client.force_login(support_agent(username="sonya"))
    page = client.get(reverse("admin:accounts_store_change", args=[store.pk])).content.decode()
    assert reverse("admin:disputes_store_record", args=[store.pk]) in page
    assert 'data-testid="store-record"' in page and "Споров на 100 заказов" in page
    assert client.get(reverse("admin:disputes_store_record", args=[store.pk])).status_code == 200
    client.force_login(UserFactory(username="curious"))
    assert client.get(reverse("admin:disputes_store_record", args=[store.pk])).status_code == 302  # to admin login


# --- help-centre gaps ---------------------------------------------------------------------------


def test_a_search_is_stored_without_who_searched(client):
    user = UserFactory(username="searcher")
    client.force_login(user)
    client.get(reverse("faq:search"), {"q": "  Где МОЯ посылка?!  "}, REMOTE_ADDR="203.0.113.7")
    log = SearchLog.objects.get()
    assert log.query == "где моя посылка"
    stored = " ".join(str(getattr(log, field.attname)) for field in SearchLog._meta.concrete_fields)
    assert "203.0.113.7" not in stored and "searcher" not in stored
    # No column could hold who searched: the fields are exactly these.
    assert {field.name for field in SearchLog._meta.concrete_fields} == {
        "id",
        "token",
        "query",
        "language",
        "results",
        "first_result",
        "first_opened",
        "created_at",
    }


def test_opening_the_first_result_marks_the_search_answered(client):
    page = client.get(reverse("faq:search"), {"q": "вернуть деньги"}).content.decode()
    log = SearchLog.objects.get()
    assert log.results > 0 and log.first_result is not None and not log.first_opened
    first_link = reverse("faq:search_open", args=[log.token, log.first_result.pk])
    assert first_link in page
    other = Article.objects.filter(status="published").exclude(pk=log.first_result.pk).first()
    assert other is not None
    client.get(reverse("faq:search_open", args=[log.token, other.pk]))
    log.refresh_from_db()
    assert not log.first_opened
    response = client.get(first_link)
    assert response.status_code == 302 and response["Location"] == log.first_result.get_absolute_url()
    log.refresh_from_db()
    assert log.first_opened


def test_support_sees_what_was_not_found_and_what_did_not_help_in_7_and_30_days(client):
    now = timezone.now()
    for _ in range(3):
        SearchLog.objects.create(token=f"t{_}", query="кешбэк баллы", language="ru", results=0, created_at=now)
    SearchLog.objects.create(token="old", query="таможня пошлина", language="ru", results=0, created_at=now - 20 * DAY)
    article = Article.objects.get(slug="otmena-spora")
    SearchLog.objects.create(
        token="unopened", query="отменить спор", language="ru", results=4, first_result=article, created_at=now
    )
    SearchLog.objects.create(
        token="opened", query="продлить защиту", language="ru", results=2, first_opened=True, created_at=now
    )
    vote_url = reverse("faq:vote", args=[article.category.slug, article.slug])
    client.post(vote_url, {"helpful": "no"})
    client.post(
        reverse("faq:vote_comment", args=[article.category.slug, article.slug]),
        {"comment": "Не сказано, вернут ли деньги после отмены"},
    )
    assert ArticleVote.objects.get(article=article).comment == "Не сказано, вернут ли деньги после отмены"

    client.force_login(support_agent(username="sonya"))
    week = client.get(reverse("admin:faq_help_gaps") + "?days=7").content.decode()
    assert "кешбэк баллы" in week and "отменить спор" in week and "таможня пошлина" not in week
    assert "продлить защиту" not in week  # its first result was opened
    assert "Не сказано, вернут ли деньги после отмены" in week
    month = client.get(reverse("admin:faq_help_gaps") + "?days=30").content.decode()
    assert "таможня пошлина" in month
    csv = client.get(reverse("admin:faq_help_gaps") + "?days=30&format=csv").content.decode("utf-8")
    assert csv.startswith(BOM) and '"кешбэк баллы",3,3,0' in csv and "Не сказано, вернут ли деньги" in csv


def test_only_staff_who_may_read_gaps_see_them(client):
    client.force_login(arbitrator(username="olga"))
    assert client.get(reverse("admin:faq_help_gaps")).status_code == 403


def test_a_comment_needs_the_visitors_own_not_helpful_vote(client):
    article = Article.objects.get(slug="otmena-spora")
    client.post(reverse("faq:vote", args=[article.category.slug, article.slug]), {"helpful": "yes"})
    client.post(reverse("faq:vote_comment", args=[article.category.slug, article.slug]), {"comment": "спам"})
    assert not ArticleVote.objects.exclude(comment="").exists()


def test_searches_are_deleted_after_90_days(client):
    now = timezone.now()
    SearchLog.objects.create(token="keep", query="a", language="ru", results=0, created_at=now - 89 * DAY)
    SearchLog.objects.create(token="drop", query="b", language="ru", results=0, created_at=now - 91 * DAY)
    result = sweeps.run("search-log-retention", now)
    assert result.changed == 1
    assert list(SearchLog.objects.values_list("token", flat=True)) == ["keep"]


# --- a store's history, counted by hand -----------------------------------------------------------


def test_every_figure_of_a_store_history_matches_a_hand_count_and_says_what_it_counts(client, run_sweep):
    """Five disputes lived through the services, each step at its own moment, then every figure
    of the seller's page compared with what a person counts in the story below."""
    from disputes import claims, services

    from .disputes_helpers import REASON, seller_counter_offer
    from .disputes_helpers import decide as decide_claim

    now = timezone.now().replace(microsecond=0)
    store = SellerFactory(username="hand-count").store
    seller = store.owner
    buyer = UserFactory(username="hand-buyer")
    olga, pavel = arbitrator(username="olga"), arbitrator(username="pavel")

    def opened(days_ago):
        at = now - days_ago * DAY
        order = OrderFactory(buyer=buyer, store=store, shipped_at=at - 10 * DAY)
        return open_dispute(order, now=at), at

    def at(moment):
        return time_machine.travel(moment, tick=False)

    # A: the seller answers after 10 h; the buyer escalates on day 3; Olga decides for the buyer
    # 10 days ago; nobody appeals, the decision becomes final 3 days ago: one claim lost.
    a, a_opened = opened(20)
    with at(a_opened + timedelta(hours=10)):
        seller_counter_offer(a)
    a = escalate(a)
    with at(now - 10 * DAY):
        decide_claim(a, arbitrator=olga, winner="buyer")
    appeal_due = Claim.objects.get(dispute=a).appeal_due_at
    assert appeal_due is not None
    run_sweep("appeal-windows", appeal_due + timedelta(minutes=1))
    # B: the seller never answers; 5 days later the request is granted for the silence.
    b, _b_opened = opened(8)
    run_sweep("seller-silence", b.seller_answer_due_at + timedelta(minutes=1))
    # C: the buyer escalates on day 3 before any answer; the seller writes only to the arbitrator
    # (not an answer to the dispute); Pavel decides for the seller, the buyer appeals: not final.
    c, c_opened = opened(15)
    c = escalate(c)
    with at(c_opened + 5 * DAY):
        services.message_post(dispute=c, user=seller, text="Товар был исправен, вот фото упаковки.")
    with at(now - 5 * DAY):
        decide_claim(c, arbitrator=pavel, winner="seller", amount="0")
    with at(now - 4 * DAY):
        claims.appeal_file(dispute=c, user=buyer, reason=REASON)
    # D: 60 days ago the seller accepts the request after 30 h; the money arrived the day after.
    d, d_opened = opened(60)
    with at(d_opened + timedelta(hours=30)):
        services.offer_accept(dispute=d, offer_id=d.offers.get().pk, user=seller)
    refund_send(refund_id=Refund.objects.get(order=d.order).pk, now=d_opened + timedelta(hours=54))
    # E: two days ago; the seller accepts after 4 h; the payment system has not confirmed yet.
    e, e_opened = opened(2)
    with at(e_opened + timedelta(hours=4)):
        services.offer_accept(dispute=e, offer_id=e.offers.get().pk, user=seller)

    with at(now):
        record = store_record(store=store)
    last30, last90, last365 = record.windows
    # Orders were paid 12 days before their dispute opened: 32, 20, 27, 72 and 14 days ago.
    assert (last30.orders, last90.orders, last365.orders) == (3, 5, 5)
    assert (last30.disputes, last90.disputes, last365.disputes) == (4, 5, 5)  # A B C E, then D
    assert last30.dispute_rate == Decimal("133.3")
    assert (last30.unanswered, last90.unanswered) == (1, 1)  # B
    # C's message came after the escalation and B never answered: only A (10 h) and E (4 h).
    assert last30.median_answer_hours == Decimal("7.0")
    assert last90.median_answer_hours == Decimal("10.0")  # 4, 10 and 30 h
    # A is lost for good; C's decision is under appeal: no claim won, only "not final".
    assert (last30.claims_won, last30.claims_lost, last30.claims_split) == (0, 1, 0)
    assert (last30.claims_not_final, last365.claims_not_final) == (1, 1)
    # A's and B's money arrived when their outcome became final, 3 days ago; D's 58 days ago.
    assert last30.refunds == {"USD": Decimal("50.00")}
    assert last90.refunds == {"USD": Decimal("75.00")}
    assert last30.refunds_pending == last365.refunds_pending == {"USD": Decimal("25.00")}  # E's
    assert (last30.reports_upheld, last365.reports_upheld) == (0, 0)

    client.force_login(seller)
    with at(now):
        page = client.get(reverse("disputes:store_record")).content.decode()
    rows = dict(re.findall(r"<th scope=\"row\">(.*?)</th>(.*?)</tr>", page, re.S))

    def cells(label_start):
        (label,) = [label for label in rows if label.startswith(label_start)]
        return [re.sub(r"<.*?>|&nbsp;|\s", "", cell) for cell in re.findall(r"<td.*?</td>", rows[label], re.S)]

    assert cells("Споров без ответа продавца за 5 дн.: требование покупателя выполнено") == ["1", "1", "1"]
    assert cells("Медиана времени до первого ответа продавца, ч (споры, где продавец ответил до претензии)") == [
        "7,0",
        "10,0",
        "10,0",
    ]
    assert cells("Претензий проиграно (окончательные решения)") == ["1", "1", "1"]
    assert cells("Претензий выиграно (окончательные решения)") == ["0", "0", "0"]
    assert cells("Решений по претензиям ещё не окончательных") == ["1", "1", "1"]
    assert cells("Возвращено покупателям (деньги зачислены), USD") == ["50,00$", "75,00$", "75,00$"]
    assert cells("Возвраты в пути (запрошены, ещё не зачислены), USD") == ["25,00$", "25,00$", "25,00$"]
