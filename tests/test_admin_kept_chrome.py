"""Admin's chrome (templates/admin/base.html) and the claims queue's title, tools, search box, page
links and styles, kept rendered per process with {% kept %} (core/templatetags/admin_fragments.py):
every answer carries its own CSP nonce and its reader's own CSRF token, and a kept fragment shows
the language, the reader's rights and the list as they are at each request."""

import re

import pytest
from django.core.cache import caches
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from disputes.models import Claim
from disputes.rules import UNDECIDED_STAGES

from .disputes_helpers import escalate
from .factories import arbitrator

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def queue_url() -> str:
    return reverse("admin:disputes_claim_changelist")


def found(pattern: str | re.Pattern[str], text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, pattern
    return match[1]


def header_nonce(response) -> str:
    return found(r"'nonce-([^']+)'", response["Content-Security-Policy"])


def page_nonces(response) -> set[str]:
    return set(re.findall(r'nonce="([^"]+)"', response.content.decode()))


@pytest.mark.parametrize("url", [queue_url, lambda: reverse("admin:index")])
def test_every_kept_fragment_carries_the_answers_own_nonce(client, url):
    client.force_login(arbitrator(username="olga"))
    first, second = client.get(url()), client.get(url())
    for response in (first, second):
        assert response.status_code == 200
        # Stylesheets and scripts of the kept head, of the queue's media and of the page itself.
        assert page_nonces(response) == {header_nonce(response)}
        assert response.content.decode().count(f'nonce="{header_nonce(response)}"') >= 5
    assert header_nonce(first) != header_nonce(second)


def test_no_csrf_token_is_kept_each_reader_signs_out_with_their_own():
    olga, ivan = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    olga.force_login(arbitrator(username="olga"))
    ivan.force_login(arbitrator(username="ivan"))
    olgas_token = found(TOKEN, olga.get(queue_url()).content.decode())
    ivans_token = found(TOKEN, ivan.get(queue_url()).content.decode())
    logout = reverse("admin:logout")
    # Olga's token does not sign Ivan out: his page carried his own.
    assert ivan.post(logout, {"csrfmiddlewaretoken": olgas_token}).status_code == 403
    assert ivan.post(logout, {"csrfmiddlewaretoken": ivans_token}).status_code == 302
    assert olga.post(logout, {"csrfmiddlewaretoken": olgas_token}).status_code == 302


def test_a_kept_fragment_may_not_hold_a_csrf_token():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load admin_fragments %}{% kept 'form' %}{% csrf_token %}{% endkept %}")


def test_without_a_nonce_a_kept_fragment_is_drawn_as_it_is():
    caches["fragments"].clear()
    page = Template("{% load admin_fragments %}{% kept 'plain' %}<b>{% csp_nonce_attr %}</b>{% endkept %}")
    assert page.render(Context({})) == "<b></b>"


def test_the_kept_chrome_follows_the_language(client):
    client.force_login(arbitrator(username="olga"))
    assert "Выйти" in client.get(queue_url()).content.decode()
    with translation.override("en"):
        english = client.get(queue_url())
    assert english.status_code == 200 and "Log out" in english.content.decode()
    assert "Выйти" in client.get(queue_url()).content.decode()


def test_the_kept_user_links_follow_the_readers_account(client):
    with_password, without = arbitrator(username="olga"), arbitrator(username="ivan")
    without.set_unusable_password()
    without.save()
    change_password = reverse("admin:password_change")
    client.force_login(with_password)
    assert change_password in client.get(queue_url()).content.decode()
    client.force_login(without)
    page = client.get(queue_url()).content.decode()
    assert change_password not in page and "Ivan" not in page
    # The greeting names the reader, never the one whose page was kept.
    assert "<strong>ivan</strong>" in page and "<strong>olga</strong>" not in page


def test_the_queues_count_search_box_and_page_links_follow_the_list(client, dispute_factory):
    client.force_login(arbitrator(username="olga"))
    first = escalate(dispute_factory())
    assert "1 претензия" in client.get(queue_url()).content.decode()
    escalate(dispute_factory())
    page = client.get(queue_url()).content.decode()
    assert "2 претензии" in page and "1 претензия" not in page
    found = client.get(f"{queue_url()}?q={first.order.number}").content.decode()
    assert f'value="{first.order.number}" id="searchbar"' in found and "1 претензия" in found


def test_the_queues_index_holds_the_undecided_stages():
    (index,) = [index for index in Claim._meta.indexes if index.name == "claim_undecided_queue_idx"]
    assert index.condition is not None
    (lookup, stages) = index.condition.children[0]
    assert lookup == "stage__in" and set(stages) == UNDECIDED_STAGES


def sidebar(response) -> str:
    return response.content.decode().split('id="nav-sidebar"')[1].split("</nav>")[0]


def test_the_kept_navigation_shows_a_new_permission_at_the_next_request(client, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    olga = arbitrator(username="olga")
    client.force_login(olga)
    before = sidebar(client.get(queue_url()))
    # A model an arbitrator does not see in admin.
    app, model = next(
        (app, model)
        for app, model in [("faq", "article"), ("reports", "report"), ("orders", "order"), ("accounts", "store")]
        if reverse(f"admin:{app}_{model}_changelist") not in before
    )
    with django_capture_on_commit_callbacks(execute=True):  # the kept permission sets are read again after commit
        olga.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=f"view_{model}"))
    assert f'href="{reverse(f"admin:{app}_{model}_changelist")}"' in sidebar(client.get(queue_url()))


def test_the_kept_navigation_marks_the_model_of_the_address(client, dispute_factory):
    client.force_login(arbitrator(username="olga"))
    claim = escalate(dispute_factory()).claim
    for url in (queue_url(), reverse("admin:disputes_claim_change", args=[claim.pk])):
        assert 'class="model-claim current-model"' in sidebar(client.get(url))
    disputes = sidebar(client.get(reverse("admin:disputes_dispute_changelist")))
    assert 'class="model-dispute current-model"' in disputes and "model-claim current-model" not in disputes
