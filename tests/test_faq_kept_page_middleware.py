"""Kept help-centre pages are answered by faq.middleware.KeptFaqPageMiddleware before the signed-in
visitor's middleware, with the same page and headers, and never when something on it is personal."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from faq import services
from faq.models import Article, ArticleVote

from .factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')
PAGES = {
    "ru": ["/faq/", "/faq/spory/", "/faq/spory/otmena-spora/"],
    "en": ["/en/faq/", "/en/faq/spory/", "/en/faq/spory/otmena-spora/"],
}
PER_ANSWER = {"Set-Cookie", "Content-Length", "X-Page-Cache"}


def answered_early(response) -> bool:
    """The authentication middleware, which runs after the kept-page middleware, never saw it."""
    return not hasattr(response.wsgi_request, "user")


def same_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.items() if name not in PER_ANSWER}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_kept_page_is_answered_early_with_the_same_page_and_headers(language):
    visitor = Client()
    for url in PAGES[language]:
        rendered = visitor.get(url)
        assert rendered.status_code == 200 and not answered_early(rendered)
        kept = visitor.get(url)
        assert kept["X-Page-Cache"] == "hit" and answered_early(kept), url
        assert same_headers(kept) == same_headers(rendered)
        assert TOKEN.sub("", kept.content.decode()) == TOKEN.sub("", rendered.content.decode())
        assert kept["Content-Language"] == language


def test_an_edit_shows_at_once_on_pages_answered_early(django_capture_on_commit_callbacks):
    visitor = Client()
    url = "/faq/spory/otmena-spora/"
    visitor.get(url)
    assert answered_early(visitor.get(url))
    article = Article.objects.get(slug="otmena-spora")
    article.title_ru = "Отмена спора: новая редакция"
    with django_capture_on_commit_callbacks(execute=True):
        services.article_save(article=article)
    after = visitor.get(url)
    assert not answered_early(after) and "Отмена спора: новая редакция" in after.content.decode()
    again = visitor.get(url)
    assert answered_early(again) and "Отмена спора: новая редакция" in again.content.decode()
    assert "Отмена спора: новая редакция" not in visitor.get("/en/faq/spory/otmena-spora/").content.decode()


def test_a_signed_in_visitor_is_never_answered_early(client):
    Client().get("/faq/")
    Client().get("/faq/")
    client.force_login(UserFactory(username="reader-olga"))
    page = client.get("/faq/")
    assert not answered_early(page) and page.get("X-Page-Cache") is None
    assert "Выйти" in page.content.decode()


def test_a_visitor_with_a_message_waiting_is_never_answered_early():
    Client().get("/faq/")
    visitor = Client()
    visitor.cookies["messages"] = "a-message-waiting"  # its presence is what counts, as for the view
    page = visitor.get("/faq/")
    assert not answered_early(page)


def test_a_visitors_own_vote_is_on_their_page_not_a_kept_one():
    article = Article.objects.get(slug="otmena-spora")
    url = article.get_absolute_url()
    voter = Client(enforce_csrf_checks=True)
    voter.get(url)
    kept = voter.get(url)
    assert answered_early(kept)
    token = TOKEN.findall(kept.content.decode())[0]
    vote_url = reverse("faq:vote", args=[article.category.slug, article.slug])
    assert voter.post(vote_url, {"helpful": "yes", "csrfmiddlewaretoken": token}).status_code == 302
    assert ArticleVote.objects.filter(article=article, helpful=True).count() == 1
    own = voter.get(url)
    assert not answered_early(own) and "Спасибо! Рады, что помогли." in own.content.decode()


def test_nothing_is_answered_early_with_the_page_cache_off(settings):
    settings.FAQ_PAGE_CACHE_SECONDS = 0
    visitor = Client()
    visitor.get("/faq/")
    assert not answered_early(visitor.get("/faq/"))
