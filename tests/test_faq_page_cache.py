"""Public help-centre pages come whole from the cache, yet never stale after support changes an
article, in either language; votes and their CSRF check still work on a page from the cache."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from faq import services
from faq.models import Article, ArticleVote, Category

from .factories import UserFactory, support_agent

pytestmark = pytest.mark.django_db

INDEX = {"ru": "/faq/", "en": "/en/faq/"}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')


@pytest.fixture
def article(django_capture_on_commit_callbacks) -> Article:
    category = Category.objects.create(slug="cache-test", title_ru="Кэш-раздел", title_en="Cache section", position=99)
    with django_capture_on_commit_callbacks(execute=True):
        return services.article_save(
            article=Article(
                category=category,
                slug="cache-article",
                title_ru="Первая версия статьи",
                title_en="First version of the article",
                summary_ru="Кратко",
                summary_en="Short",
                body_ru="Старый текст статьи.",
                body_en="Old article text.",
                status=Article.Status.PUBLISHED,
            )
        )


def article_url(article: Article, language: str) -> str:
    return ("/en" if language == "en" else "") + article.get_absolute_url().removeprefix("/en")


def warm(client: Client, url: str) -> str:
    """Open a page twice; the second answer must come from the cache."""
    first = client.get(url)
    assert first.status_code == 200
    second = client.get(url)
    assert second["X-Page-Cache"] == "hit", url
    return second.content.decode()


@pytest.fixture
def support_client(client):
    client.force_login(support_agent(username="support-cache"))
    return client


def admin_save(support_client, article: Article, captured, **changes) -> None:
    url = reverse("admin:faq_article_change", args=[article.pk])
    form = support_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0", **changes})
    with captured(execute=True):
        response = support_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_a_visitor_gets_the_second_view_of_a_faq_page_from_the_cache_without_queries(
    article, django_assert_num_queries
):
    visitor = Client()
    for url in (INDEX["ru"], INDEX["en"], "/faq/cache-test/", article_url(article, "ru"), article_url(article, "en")):
        assert visitor.get(url)["X-Page-Cache"] == "miss"
        with django_assert_num_queries(0):
            page = visitor.get(url)
        assert page["X-Page-Cache"] == "hit"
    assert "First version of the article" in visitor.get(article_url(article, "en")).content.decode()
    assert "Первая версия статьи" in visitor.get(article_url(article, "ru")).content.decode()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_an_edit_in_admin_shows_at_once_on_cached_pages(
    article, support_client, django_capture_on_commit_callbacks, language
):
    visitor = Client()
    warm(visitor, INDEX[language])
    warm(visitor, article_url(article, language))
    admin_save(
        support_client,
        article,
        django_capture_on_commit_callbacks,
        title_ru="Вторая версия статьи",
        title_en="Second version of the article",
        body_ru="Новый текст статьи.",
        body_en="New article text.",
    )
    new_title, new_body = (
        ("Вторая версия статьи", "Новый текст статьи.")
        if language == "ru"
        else ("Second version of the article", "New article text.")
    )
    index = visitor.get(INDEX[language])
    page = visitor.get(article_url(article, language))
    assert index["X-Page-Cache"] == "miss" and page["X-Page-Cache"] == "miss"
    assert new_title in index.content.decode()
    assert new_title in page.content.decode() and new_body in page.content.decode()
    assert "Первая версия" not in page.content.decode() and "First version" not in page.content.decode()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_publishing_a_draft_puts_it_on_cached_index_and_category_pages(
    article, support_client, django_capture_on_commit_callbacks, language
):
    with django_capture_on_commit_callbacks(execute=True):
        draft = services.article_save(
            article=Article(
                category=article.category,
                slug="draft-article",
                title_ru="Черновик о возврате",
                title_en="Draft about returns",
                summary_ru="Кратко",
                summary_en="Short",
                body_ru="Текст.",
                body_en="Text.",
                status=Article.Status.DRAFT,
            )
        )
    visitor = Client()
    title = "Черновик о возврате" if language == "ru" else "Draft about returns"
    category_url = ("/en" if language == "en" else "") + "/faq/cache-test/"
    assert title not in warm(visitor, INDEX[language])
    assert title not in warm(visitor, category_url)
    with django_capture_on_commit_callbacks(execute=True):
        response = support_client.post(
            reverse("admin:faq_article_changelist"),
            {"action": "publish", "_selected_action": [draft.pk]},
        )
    assert response.status_code == 302
    assert title in visitor.get(INDEX[language]).content.decode()
    assert title in visitor.get(category_url).content.decode()
    assert visitor.get(article_url(draft, language)).status_code == 200


@pytest.mark.parametrize("language", ["ru", "en"])
def test_unpublishing_takes_the_article_off_every_cached_page(
    article, support_client, django_capture_on_commit_callbacks, language
):
    visitor = Client()
    title = "Первая версия статьи" if language == "ru" else "First version of the article"
    assert title in warm(visitor, INDEX[language])
    warm(visitor, article_url(article, language))
    with django_capture_on_commit_callbacks(execute=True):
        support_client.post(
            reverse("admin:faq_article_changelist"), {"action": "unpublish", "_selected_action": [article.pk]}
        )
    assert title not in visitor.get(INDEX[language]).content.decode()
    assert visitor.get(article_url(article, language)).status_code == 404


def test_deleting_an_article_in_admin_removes_it_from_cached_pages(
    article, support_client, django_capture_on_commit_callbacks
):
    visitor = Client()
    assert "Первая версия статьи" in warm(visitor, INDEX["ru"])
    with django_capture_on_commit_callbacks(execute=True):
        response = support_client.post(reverse("admin:faq_article_delete", args=[article.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert "Первая версия статьи" not in visitor.get(INDEX["ru"]).content.decode()


def test_renaming_a_category_shows_on_cached_pages(article, support_client, django_capture_on_commit_callbacks):
    visitor = Client()
    assert "Кэш-раздел" in warm(visitor, INDEX["ru"])
    category = article.category
    url = reverse("admin:faq_category_change", args=[category.pk])
    form = support_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["title_ru"] = "Переименованный раздел"
    with django_capture_on_commit_callbacks(execute=True):
        assert support_client.post(url, data).status_code == 302
    page = visitor.get(INDEX["ru"]).content.decode()
    assert "Переименованный раздел" in page and "Кэш-раздел" not in page


def test_a_visitor_votes_from_a_cached_page_with_a_fresh_csrf_token(article):
    first_visitor = Client(enforce_csrf_checks=True)
    url = article_url(article, "ru")
    first_visitor.get(url)
    cached = first_visitor.get(url)
    assert cached["X-Page-Cache"] == "hit"
    token = TOKEN.findall(cached.content.decode())[0]

    # The kept copy holds no one's token: a token-like string there would reach every visitor.
    from django.core.cache import cache

    kept = cache.get(f"faq:page:ru:{url}")[1]
    assert b"@@faq-page-csrf-token@@" in kept and not re.search(rb"[A-Za-z0-9]{64}", kept)

    second_visitor = Client(enforce_csrf_checks=True)
    second_page = second_visitor.get(url)
    assert second_page["X-Page-Cache"] == "hit"
    second_token = TOKEN.findall(second_page.content.decode())[0]
    assert "@@" not in second_page.content.decode()
    assert second_token != token
    assert "csrftoken" in second_page.cookies

    vote_url = reverse("faq:vote", args=[article.category.slug, article.slug])
    assert Client(enforce_csrf_checks=True).post(vote_url, {"helpful": "yes"}).status_code == 403
    response = first_visitor.post(vote_url, {"helpful": "yes", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ArticleVote.objects.filter(article=article, helpful=True).count() == 1

    after_vote = first_visitor.get(url)
    assert after_vote.get("X-Page-Cache") is None
    assert "Спасибо за ответ!" in after_vote.content.decode()
    # The visitor's own answer stays on their page; other visitors still get the cached one.
    assert first_visitor.get(url).get("X-Page-Cache") is None
    assert second_visitor.get(url)["X-Page-Cache"] == "hit"


def test_a_signed_in_buyer_never_gets_a_page_cached_for_visitors(article, client):
    Client().get(INDEX["ru"])
    buyer = UserFactory(username="reader-ivan")
    client.force_login(buyer)
    page = client.get(INDEX["ru"])
    assert page.get("X-Page-Cache") is None
    assert "Личный кабинет" in page.content.decode() and "Выйти" in page.content.decode()


def test_a_page_with_a_query_string_is_rendered_not_cached(article):
    visitor = Client()
    visitor.get(INDEX["ru"] + "?utm_source=mail")
    assert visitor.get(INDEX["ru"] + "?utm_source=mail").get("X-Page-Cache") is None


def test_the_page_cache_can_be_turned_off(article, settings):
    settings.FAQ_PAGE_CACHE_SECONDS = 0
    visitor = Client()
    visitor.get(INDEX["ru"])
    assert visitor.get(INDEX["ru"]).get("X-Page-Cache") is None
