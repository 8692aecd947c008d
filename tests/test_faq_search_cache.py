"""A help-centre search asked again is answered from the results kept for that query, in that
language, until support changes what visitors can read; every search is still logged."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from faq import services
from faq.models import Article, Category, SearchLog

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]+"')


def search_page(client, query: str, prefix: str = "") -> str:
    response = client.get(f"{prefix}/faq/search/", {"q": query})
    assert response.status_code == 200
    # The log token of the result links and the CSRF token differ on every answer.
    return TOKEN.sub("", re.sub(r"/faq/search/open/[0-9a-f]+/", "/faq/search/open/-/", response.content.decode()))


def test_the_same_search_again_shows_the_same_page_and_asks_the_database_only_to_log_it(client):
    first = search_page(client, "продавец не отвечает")
    with CaptureQueriesContext(connection) as queries:
        again = search_page(client, "продавец не отвечает")
    assert again == first
    assert "<mark>" in again
    written = [query["sql"] for query in queries if "faq_searchlog" in query["sql"]]
    assert len(written) == 1 and len(queries) == 1, [query["sql"] for query in queries]
    assert SearchLog.objects.filter(query="продавец не отвечает").count() == 2


def test_results_are_kept_per_language(client):
    assert "How to get your money back" in search_page(client, "refund", prefix="/en")
    assert "How to get your money back" not in search_page(client, "refund")


def test_an_article_published_after_a_search_is_found_by_the_next_one(client, django_capture_on_commit_callbacks):
    assert "Зеркальный шкаф" not in search_page(client, "шкаф")
    category = Category.objects.get(slug="spory")
    with django_capture_on_commit_callbacks(execute=True):
        services.article_save(
            article=Article(
                category=category,
                slug="zerkalnyj-shkaf",
                title_ru="Зеркальный шкаф пришёл разбитым",
                body_ru="Что делать, если шкаф пришёл с разбитым зеркалом.",
                status=Article.Status.PUBLISHED,
            )
        )
    assert "Зеркальный шкаф" in search_page(client, "шкаф")


def test_a_visitors_search_page_is_kept_whole_yet_each_search_is_logged_with_its_own_token(buyer):
    from django.test import Client

    from faq.models import SearchLog

    pages = [Client().get("/faq/search/", {"q": "вернуть деньги"}) for _ in range(2)]
    assert [page["X-Page-Cache"] for page in pages] == ["miss", "hit"]
    logs = list(SearchLog.objects.order_by("pk"))
    assert len(logs) == 2 and logs[0].token != logs[1].token
    assert logs[1].results == logs[0].results > 0 and logs[1].first_result_id == logs[0].first_result_id
    for page, log in zip(pages, logs, strict=True):
        text = page.content.decode()
        assert f"/faq/search/open/{log.token}/{log.first_result_id}/" in text
        assert "faq-search-token-placeholder" not in text and "@@" not in text
    signed_in = Client()
    signed_in.force_login(buyer)
    page = signed_in.get("/faq/search/", {"q": "вернуть деньги"})
    assert page.get("X-Page-Cache") is None and "Выйти" in page.content.decode()
    assert Client().get("/faq/search/", {"q": "вернуть деньги", "utm": "x"}).get("X-Page-Cache") is None
