"""The claim page's case and its HTML kept per process (disputes/admin/case.py) and the queue's
kept rows: a page drawn from them is the page drawn afresh, whatever changes shows on the next
request, and one staff member's view is never shown to another."""

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from disputes import claims, services
from disputes.models import Attachment
from orders.models import TrackingEvent

from .disputes_helpers import REASON, decide, escalate, open_dispute, png_file, store_upload
from .factories import arbitrator, support_agent

pytestmark = pytest.mark.django_db


def claim_url(dispute) -> str:
    return reverse("admin:disputes_claim_change", args=[dispute.claim.pk])


def page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def without_tokens(html: str) -> str:
    # The CSRF token and the CSP nonce differ on every answer, whatever is kept.
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r' nonce="[^"]+"', "", html)


@pytest.fixture
def olga(db):
    return arbitrator(username="olga", first_name="Ольга", last_name="Арбитрова")


@pytest.fixture
def claim_dispute(order):
    dispute = escalate(open_dispute(order))
    photo = store_upload(dispute.buyer, png_file("1.png"))
    services.message_post(dispute=dispute, user=dispute.buyer, text="Фото коробки", attachment_ids=[photo.pk])
    return dispute


def test_the_claim_page_from_a_kept_case_is_the_page_drawn_afresh(client, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    url = claim_url(claim_dispute)
    drawn = without_tokens(page_text(client, url))
    with CaptureQueriesContext(connection) as kept_queries:
        kept = without_tokens(page_text(client, url))
    caches["fragments"].clear()
    assert kept == drawn == without_tokens(page_text(client, url))
    with CaptureQueriesContext(connection) as again:
        page_text(client, url)
    assert len(again) == len(kept_queries)


def test_a_decision_shows_on_the_claim_page_at_the_next_request(client, claim_dispute, olga):
    client.force_login(olga)
    url = claim_url(claim_dispute)
    before = page_text(client, url)
    assert REASON not in before and "Взять в работу" in before
    decide(claim_dispute, arbitrator=olga, winner="seller")
    after = page_text(client, url)
    assert REASON in after and "Ольга Арбитрова" in after
    assert "Арбитр принял решение" in after and "Взять в работу" not in after


def test_taking_the_claim_shows_on_the_claim_page_at_the_next_request(client, claim_dispute, olga):
    client.force_login(olga)
    url = claim_url(claim_dispute)
    assert "никто не взял" in page_text(client, url)
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    after = page_text(client, url)
    assert "никто не взял" not in after and "Арбитр взял претензию в работу" in after


def test_a_message_an_evidence_answer_and_tracking_show_at_the_next_request(client, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    url = claim_url(claim_dispute)
    page_text(client, url)
    claims.evidence_request(
        dispute=claim_dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите видео распаковки, пожалуйста.",
        days_given=3,
    )
    asked = page_text(client, url)
    assert "Пришлите видео распаковки" in asked and "не ответил" in asked
    claims.evidence_answer(dispute=claim_dispute, user=claim_dispute.buyer, text="Видео по ссылке ниже.")
    answered = page_text(client, url)
    assert "Видео по ссылке ниже." in answered and "не ответил" not in answered
    assert "Казань, сортировочный центр" not in answered
    TrackingEvent.objects.create(
        order=claim_dispute.order,
        kind=TrackingEvent.Kind.ARRIVED,
        happened_at=claim_dispute.opened_at,
        received_at=claim_dispute.opened_at,
        location="Казань, сортировочный центр",
        source=TrackingEvent.Source.CARRIER,
        external_id="kept-page-1",
    )
    assert "Казань, сортировочный центр" in page_text(client, url)


def test_a_renamed_buyer_and_store_show_on_the_kept_claim_page(client, claim_dispute, olga):
    client.force_login(olga)
    url = claim_url(claim_dispute)
    page_text(client, url)
    buyer = claim_dispute.buyer
    buyer.username, buyer.email = "renamed-buyer", "renamed@example.com"
    buyer.save(update_fields=["username", "email"])
    store = claim_dispute.store
    store.name = "Новое имя магазина"
    store.save(update_fields=["name"])
    after = page_text(client, url)
    assert "renamed-buyer · renamed@example.com" in after and "Новое имя магазина" in after


def tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))


def test_one_staff_members_kept_view_is_never_shown_to_another(client, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    url = claim_url(claim_dispute)
    olgas = page_text(client, url)
    assert "Забрать претензию себе" not in olgas and "Проверить и отправить" in olgas
    file_link = reverse("disputes:attachment", args=[Attachment.objects.get(message__dispute=claim_dispute).token])
    assert file_link in olgas

    ivans_client = Client()
    ivans_client.force_login(arbitrator(username="ivan"))
    ivans = page_text(ivans_client, url)
    assert "Забрать претензию себе" in ivans and "Проверить и отправить" not in ivans
    assert tokens(ivans) and not tokens(ivans) & tokens(olgas)

    support = support_agent()
    supports_client = Client()
    supports_client.force_login(support)
    supports = page_text(supports_client, url)
    assert "Взять в работу" not in supports and "Забрать претензию себе" not in supports
    assert (file_link in supports) == support.has_perm("disputes.view_attachment")


def rows(queue_page: str) -> str:
    # The table alone: the arbitrator filter names every arbitrator.
    return queue_page.split('id="result_list"')[1].split("</table>")[0]


def test_a_new_claim_and_an_assignment_show_in_the_queue_at_the_next_request(
    client, claim_dispute, olga, dispute_factory
):
    client.force_login(olga)
    url = reverse("admin:disputes_claim_changelist")
    first = rows(page_text(client, url))
    assert claim_dispute.order.number in first and "Ольга Арбитрова" not in first
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    newer = escalate(dispute_factory())
    after = rows(page_text(client, url))
    assert newer.order.number in after and "Ольга Арбитрова" in after
    decide(claim_dispute, arbitrator=olga, winner="seller")
    decided = rows(page_text(client, url))
    assert claim_dispute.order.number not in decided and newer.order.number in decided


def test_the_queue_filters_by_arbitrator_named_as_in_its_column(client, claim_dispute, olga, dispute_factory):
    ivan = arbitrator(username="ivan")
    support_agent(username="sveta", first_name="Светлана")
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    other = escalate(dispute_factory())
    client.force_login(ivan)
    url = reverse("admin:disputes_claim_changelist")
    page = page_text(client, url)
    filters = page.split('id="changelist-filter"')[1]
    # Arbitrators only, by full name or else login, in that order.
    assert filters.index(f"?arbitrator={ivan.pk}") < filters.index(f"?arbitrator={olga.pk}")
    assert ">ivan<" in filters and ">Ольга Арбитрова<" in filters and "Светлана" not in filters
    olgas = rows(page_text(client, f"{url}?arbitrator={olga.pk}"))
    assert claim_dispute.order.number in olgas and other.order.number not in olgas
    nobodys = rows(page_text(client, f"{url}?arbitrator=nobody"))
    assert other.order.number in nobodys and claim_dispute.order.number not in nobodys
    arbitrator(username="anna", first_name="Анна")
    assert ">Анна<" in page_text(client, url).split('id="changelist-filter"')[1]


def queries_for(client, url: str) -> int:
    page_text(client, url)  # kept from here on
    with CaptureQueriesContext(connection) as queries:
        page_text(client, url)
    return len(queries)


def test_a_kept_claim_page_costs_the_same_queries_whatever_its_case_holds(client, claim_dispute, olga, dispute_factory):
    client.force_login(olga)
    bare = queries_for(client, claim_url(escalate(dispute_factory())))
    decide(claim_dispute, arbitrator=olga, winner="seller")
    claims.appeal_file(dispute=claim_dispute, user=claim_dispute.buyer, reason="Не согласен: товар не работает.")
    assert queries_for(client, claim_url(claim_dispute)) == bare


def test_the_claim_page_says_who_appealed_and_that_another_arbitrator_decides(client, claim_dispute, olga):
    client.force_login(olga)
    url = claim_url(claim_dispute)
    decide(claim_dispute, arbitrator=olga, winner="seller")
    assert "Апелляция</dt>" not in page_text(client, url)
    claims.appeal_file(dispute=claim_dispute, user=claim_dispute.buyer, reason="Не согласен: товар не работает.")
    summary = page_text(client, url).split('id="summary-heading"')[1].split("</section>")[0]
    assert "Апелляция</dt>" in summary and "(покупатель)" in summary
    assert "решает другой арбитр" in summary
