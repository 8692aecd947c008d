"""What the claims queue and the claim page keep per process since the third admin round, and the
keys that make a change show at the next request: the arbitrator filter's choices (a version of
staff groups and names, accounts/staff_versions.py), the queue's rows read as one text and kept
together, the claim page's case checked against the rows of the accounts it names, and the page's
sections, policy panel and forms kept between their CSRF tokens."""

import datetime
import random
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.timesince import timesince

from accounts.staff_versions import deciders_changed, deciders_version
from disputes import claims
from disputes.admin import case
from disputes.admin.rows import sized, unpack
from disputes.admin.waited import last_change_at

from .factories import arbitrator

pytestmark = pytest.mark.django_db

QUEUE = "admin:disputes_claim_changelist"


@pytest.fixture
def olga(db):
    return arbitrator(username="olga", first_name="Ольга", last_name="Арбитрова")


def page_text(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def filters(page: str) -> str:
    return page.split('id="changelist-filter"')[1].split("</nav>")[0]


def rows(page: str) -> str:
    return page.split('id="result_list"')[1].split("</table>")[0]


def without_tokens(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r' nonce="[^"]+"', "", html)


def claim_url(dispute) -> str:
    return reverse("admin:disputes_claim_change", args=[dispute.claim.pk])


def test_a_renamed_arbitrator_shows_in_the_filter_and_the_rows_at_the_next_request(client, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    url = reverse(QUEUE) + "?decision=all"
    before = page_text(client, url)
    assert ">Ольга Арбитрова<" in filters(before) and "Ольга Арбитрова" in rows(before)
    olga.last_name = "Судейская"
    olga.save()
    after = page_text(client, url)
    assert ">Ольга Судейская<" in filters(after) and "Арбитрова" not in after
    assert "Ольга Судейская" in rows(after)


def test_an_arbitrator_out_of_the_group_leaves_the_filter_at_the_next_request(client, olga):
    ivan = arbitrator(username="ivan")
    client.force_login(olga)
    url = reverse(QUEUE)
    assert f"?arbitrator={ivan.pk}" in filters(page_text(client, url))
    ivan.groups.remove(Group.objects.get(name="arbitrators"))
    assert f"?arbitrator={ivan.pk}" not in filters(page_text(client, url))


def test_a_sign_in_leaves_the_deciders_version_a_new_name_moves_it(olga, django_capture_on_commit_callbacks):
    version = deciders_version()
    olga.last_login = timezone.now()
    olga.save(update_fields=["last_login"])
    assert deciders_version() == version
    with django_capture_on_commit_callbacks() as at_commit:
        olga.first_name = "Оля"
        olga.save(update_fields=["first_name"])
    # Moved now, for the rest of the transaction, and again once it commits.
    assert deciders_version() != version and len(at_commit) == 1


def test_the_version_moves_again_when_the_change_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deciders_changed()
        during = deciders_version()
    assert deciders_version() != during


@pytest.mark.parametrize(
    "values",
    [
        ["investigation", "", "not_received", "[]", "RUB", "9100000000000001", "buyer", "Магазин: 12-й", None],
        ["-", "1:2", "::", "0", "", "-3", "Ольга Арбитрова", "a" * 300, "x"],
    ],
)
def test_a_rows_shown_text_gives_back_every_value(values):
    # The same SQL the queue reads its rows with (rows.sized()), on the database's own LENGTH.
    parts = [sized("CAST(%s AS TEXT)") for _ in values]
    params = [value for value in values for _ in (1, 2)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " || ".join(parts), params)
        (shown,) = cursor.fetchone()
    assert unpack(shown) == values


def test_the_queues_kept_rows_follow_the_clock(client, claim_dispute, olga):
    client.force_login(olga)
    url = reverse(QUEUE)
    now = timezone.now()
    with time_machine.travel(now + datetime.timedelta(days=2), tick=False):
        two_days = rows(page_text(client, url))
        caches["fragments"].clear()
        assert rows(page_text(client, url)) == two_days
    with time_machine.travel(now + datetime.timedelta(days=9), tick=False):
        nine_days = rows(page_text(client, url))
        assert nine_days != two_days
        caches["fragments"].clear()
        assert rows(page_text(client, url)) == nine_days


def test_a_kept_case_is_read_again_when_an_account_it_names_changes(claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    _first, first_key = case.case_get(user=olga, claim_pk=claim_dispute.claim.pk)
    kept, kept_key = case.case_get(user=olga, claim_pk=claim_dispute.claim.pk)
    assert kept_key == first_key and kept.buyer.blocked_at is None
    buyer = claim_dispute.buyer
    buyer.blocked_at = timezone.now()
    buyer.save(update_fields=["blocked_at"])
    again, again_key = case.case_get(user=olga, claim_pk=claim_dispute.claim.pk)
    assert again_key != first_key and again.buyer.blocked_at is not None


def test_a_renamed_arbitrator_shows_on_the_kept_claim_page(client, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    url = claim_url(claim_dispute)
    assert "Ольга Арбитрова" in page_text(client, url)
    olga.last_name = "Судейская"
    olga.save(update_fields=["last_name"])
    after = page_text(client, url)
    summary, timeline = after.split('id="summary-heading"')[1], after.split('id="timeline-heading"')[1]
    # The summary and the timeline's "who" name the account as it is now (an event's own details
    # keep the words written when it happened).
    assert "Ольга Судейская" in summary.split("</section>")[0] and "Арбитрова" not in summary.split("</section>")[0]
    assert "<td>Ольга Судейская</td>" in timeline


def test_a_switched_off_rule_shows_in_the_kept_policy_panel(client, claim_dispute, olga):
    client.force_login(olga)
    url = claim_url(claim_dispute)
    assert "выключено руководителем арбитража" not in page_text(client, url)
    claims.policy_rule_switch(rule="no_tracking_number", enabled=False, reason="Проверяем правило.", staff=olga)
    assert "1 правило выключено руководителем арбитража" in page_text(client, url)


def test_every_form_on_the_kept_claim_page_carries_the_readers_own_token(client, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    url = claim_url(claim_dispute)
    page_text(client, url)
    kept = page_text(client, url)
    token = client.cookies["csrftoken"].value
    forms = re.findall(r'<form method="post"[^>]*>(.{0,200})', kept)
    assert len(forms) >= 3  # the decision, an evidence request, the reason; the sign-out form
    for start in forms:
        match = re.match(r'\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"', start)
        assert match and len(match[1]) == 64 and match[1] != token  # masked: a new one on each answer
    ivans_client = Client()
    ivans_client.force_login(arbitrator(username="ivan"))
    ivans = page_text(ivans_client, url)
    assert set(re.findall(r'value="([^"]{64})"', ivans)).isdisjoint(re.findall(r'value="([^"]{64})"', kept))


def test_a_form_sent_back_with_errors_is_drawn_as_sent_and_the_page_then_as_kept(client, claim_dispute, olga):
    claims.claim_take(dispute=claim_dispute, arbitrator=olga)
    client.force_login(olga)
    url = claim_url(claim_dispute)
    drawn = without_tokens(page_text(client, url))
    sent = client.post(
        reverse("admin:disputes_claim_evidence", args=[claim_dispute.claim.pk]),
        {"of_buyer": "on", "text": "Слишком коротко", "days_given": "3"},
    )
    assert sent.status_code == 400
    answer = sent.content.decode()
    assert "Слишком коротко</textarea>" in answer and 'value="3"' in answer and "errorlist" in answer
    again = without_tokens(page_text(client, url))
    assert again == drawn and "Слишком коротко" not in again
    caches["fragments"].clear()
    assert without_tokens(page_text(client, url)) == drawn


def test_a_kept_waiting_text_is_timesince_at_every_instant_it_is_kept_for():
    """waited.last_change_at(): the text of the time since a moment is the same at `now` and at the
    last instant it may have changed at, for moments at month ends, on a leap day, with and without
    microseconds, and instants around their minute marks, midnights and months."""
    rng = random.Random(20261203)
    days = [
        datetime.date(2024, 1, 31),
        datetime.date(2024, 2, 29),
        datetime.date(2025, 3, 31),
        datetime.date(2026, 8, 31),
    ]
    days += [datetime.date(2026, rng.randint(1, 12), rng.randint(1, 28)) for _ in range(6)]
    moments = [
        datetime.datetime.combine(day, datetime.time(hour, minute, second, micro), tzinfo=datetime.UTC)
        for day in days
        for hour, minute, second, micro in [(0, 0, 0, 0), (23, 59, 59, 999999), (10, 0, 5, 0), (12, 30, 17, 500001)]
    ]
    tiny = datetime.timedelta(microseconds=1)
    checked = 0
    with translation.override("ru"):
        for moment in moments:
            offsets = [datetime.timedelta(seconds=rng.uniform(-5, 3600 * 24 * 900)) for _ in range(40)]
            offsets += [
                datetime.timedelta(days=n, seconds=s)
                for n in (0, 1, 6, 7, 27, 28, 29, 30, 31, 59, 365, 366)
                for s in (-1, 0, 59, 60)
            ]
            for offset in offsets:
                for now in (moment + offset, moment + offset - tiny, moment + offset + tiny):
                    for mark in (last_change_at(moment, now),):
                        assert mark <= now
                        assert timesince(moment, now) == timesince(moment, mark), (moment, now)
                    # Around the midnight and the minute marks of `now`, too.
                    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
                    for near in (midnight - tiny, midnight, now.replace(second=moment.second, microsecond=0) - tiny):
                        assert timesince(moment, near) == timesince(moment, last_change_at(moment, near)), (
                            moment,
                            near,
                        )
                    checked += 1
    assert checked > 5000
