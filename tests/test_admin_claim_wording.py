"""What the claim screens in admin say about the case as it stands: the confirmation of a final
appeal decision says it is final, the queue names arbitrators the same way in its filter and its
column, and a claim page with no form for this staff member says why."""

import re

import pytest
from django.urls import reverse

from disputes import claims

from .disputes_helpers import REASON, decide
from .factories import arbitrator, support_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(db):
    return arbitrator(username="olga-login", first_name="Ольга", last_name="Смирнова")


@pytest.fixture
def pavel(db):
    return arbitrator(username="pavel-login", first_name="Павел", last_name="Орлов")


def _why(page: str) -> str:
    found = re.search(r'data-testid="why-no-forms">(.*?)</p>', page, re.S)
    assert found, "the page offers a form"
    return found.group(1)


def _appealed(dispute, olga):
    decide(dispute, arbitrator=olga, winner="buyer")
    claims.appeal_file(dispute=dispute, user=dispute.store.owner, reason=REASON)
    dispute.refresh_from_db()
    return dispute


def test_the_first_decisions_confirmation_says_only_an_appeal_corrects_it(client, claim_dispute, olga):
    client.force_login(olga)
    claim = claim_dispute.claim
    client.post(reverse("admin:disputes_claim_take", args=[claim.pk]))
    data = {"winner": "buyer", "amount": "", "reason": REASON}
    page = client.post(reverse("admin:disputes_claim_decide", args=[claim.pk]), data).content.decode()
    assert "ошибку исправляет только апелляция" in page and "окончательное, его нельзя" not in page


def test_the_appeal_decisions_confirmation_says_it_is_final(client, claim_dispute, olga, pavel):
    dispute = _appealed(claim_dispute, olga)
    client.force_login(pavel)
    data = {"winner": "seller", "amount": "", "reason": REASON}
    page = client.post(reverse("admin:disputes_claim_decide_appeal", args=[dispute.claim.pk]), data).content.decode()
    assert "Решение по апелляции (окончательное)" in page
    assert "оно окончательное, его нельзя исправить или обжаловать" in page
    assert "ошибку исправляет только апелляция" not in page


def test_the_claim_summary_names_who_decided_the_appeal_beside_the_arbitrator_who_took_it(
    client, claim_dispute, olga, pavel
):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    dispute = _appealed(claim_dispute, olga)
    url = reverse("admin:disputes_claim_change", args=[dispute.claim.pk])
    client.force_login(pavel)
    summary = client.get(url).content.decode().split('id="summary-heading"')[1].split("</dl>")[0]
    assert "решает другой арбитр" in summary and "решение по апелляции принял(а)" not in summary
    claims.appeal_decide(
        dispute=dispute, arbitrator=pavel, winner="seller", amount=None, return_required=False, reason=REASON
    )
    summary = client.get(url).content.decode().split('id="summary-heading"')[1].split("</dl>")[0]
    assert "Ольга Смирнова" in summary  # the arbitrator who took the claim and decided first
    assert "решение по апелляции принял(а) Павел Орлов" in summary
    assert "решает другой арбитр" not in summary


def test_the_queue_names_arbitrators_by_name_in_its_filter_and_its_column(client, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    page = client.get(reverse("admin:disputes_claim_changelist") + "?decision=all").content.decode()
    assert "Ольга Смирнова" in page.split('id="changelist-filter"')[1]  # the filter
    assert re.search(r"<td[^>]*>\s*Ольга Смирнова\s*</td>", page)  # the column
    assert "olga-login" not in page


def test_a_claim_page_without_forms_says_why(client, claim_dispute, olga, pavel):
    url = reverse("admin:disputes_claim_change", args=[claim_dispute.claim.pk])
    client.force_login(support_agent(username="sonya"))
    assert "у вас нет права «Может принимать решения по претензиям и апелляциям»" in _why(
        client.get(url).content.decode()
    )

    decide(claim_dispute, arbitrator=olga, winner="buyer")
    client.force_login(olga)
    why = _why(client.get(url).content.decode())
    assert why.startswith("Решение по претензии приняли вы.") and "апелляцию рассмотрит другой арбитр" in why
    client.force_login(pavel)
    assert _why(client.get(url).content.decode()).startswith("Решение уже принято.")

    claims.appeal_file(dispute=claim_dispute, user=claim_dispute.buyer, reason=REASON)
    client.force_login(olga)
    assert _why(client.get(url).content.decode()) == (
        "Первое решение приняли вы, поэтому апелляцию рассматривает другой арбитр."
    )
    claims.appeal_decide(
        dispute=claim_dispute, arbitrator=pavel, winner="buyer", amount=None, return_required=False, reason=REASON
    )
    client.force_login(pavel)
    assert _why(client.get(url).content.decode()).startswith("Претензия закрыта: решение окончательное")
