"""Issue 23, help centre: a query typed on the wrong keyboard layout, a query that matches every
article, the gap report's "searched and not found", and the thanks after a "not helpful" comment."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from faq.models import Article, SearchLog
from faq.search import RESULTS_SHOWN, search_articles

from .factories import support_agent

pytestmark = pytest.mark.django_db


def slugs(results) -> list[str]:
    return [hit.article.slug for hit in results.hits]


def result_titles(page: str) -> list[str]:
    return re.findall(r'<a class="h5 d-block mb-1" href="[^"]*">([^<]*)</a>', page)


# --- wrong keyboard layout ------------------------------------------------------------------


def test_russian_typed_on_the_latin_layout_finds_what_the_russian_finds():
    typed = search_articles("ghjlkbnm pfobne")
    meant = search_articles("продлить защиту")
    assert meant.hits and slugs(typed) == slugs(meant)
    assert typed.relayouted == "продлить защиту"
    assert typed.hits[0].article.slug == "srok-zashchity-i-prodlenie"


def test_the_search_page_says_the_layout_was_switched(client):
    page = client.get(reverse("faq:search"), {"q": "ghjlkbnm pfobne"}).content.decode()
    assert "Запрос набран в другой раскладке клавиатуры, искали «<strong>продлить защиту</strong>»." in page
    assert result_titles(page)[0] == Article.objects.get(slug="srok-zashchity-i-prodlenie").title_ru
    assert 'value="ghjlkbnm pfobne"' in page  # the box keeps what was typed


def test_english_typed_on_the_russian_layout_finds_what_the_english_finds_in_english(client):
    typed = search_articles("куагтв", language="en")
    meant = search_articles("refund", language="en")
    assert meant.hits and slugs(typed) == slugs(meant)
    assert typed.relayouted == "refund"
    page = client.get("/en/faq/search/", {"q": "куагтв"}).content.decode()
    assert "How to get your money back" in page
    assert "searched for “<strong>refund</strong>”" in page


def test_a_punctuation_key_of_the_russian_layout_is_turned_too():
    # "б" is the "," key: "j,vty" is "обмен" with the Latin layout on.
    assert search_articles("gjlltkrf").relayouted == "подделка"
    assert search_articles("j,vty").relayouted in ("", "обмен")  # turned only if the articles use the word


def test_words_typed_on_the_right_layout_are_not_turned():
    for query in ("продлить защиту", "please confirm delivery", "iphone", "зюзюкщ"):
        assert search_articles(query).relayouted == "", query
    assert search_articles("refund", language="en").relayouted == ""


# --- a query that matches every article -----------------------------------------------------


def test_a_query_found_in_every_article_lists_the_best_five_and_says_how_many_matched(client):
    published = Article.objects.filter(status=Article.Status.PUBLISHED).count()
    results = search_articles("заказ")
    assert results.total == published > RESULTS_SHOWN == 5
    assert len(results.hits) == 5
    page = client.get(reverse("faq:search"), {"q": "заказ"}).content.decode()
    assert len(result_titles(page)) == 5
    assert f"Самые подходящие 5 из {published} найденных статей." in page


def test_a_query_that_finds_few_lists_them_all(client):
    few = search_articles("акт о вскрытии посылки на почте")
    assert 0 < few.total <= RESULTS_SHOWN and len(few.hits) == few.total
    page = client.get(reverse("faq:search"), {"q": "акт о вскрытии посылки на почте"}).content.decode()
    assert "Самые подходящие" not in page and len(result_titles(page)) == few.total


# --- the gap report -------------------------------------------------------------------------


def gap_table(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]


def test_searched_and_not_found_lists_only_searches_that_found_nothing(client):
    now = timezone.now()
    article = Article.objects.get(slug="otmena-spora")
    SearchLog.objects.create(token="none1", query="кешбэк баллы", language="ru", results=0, created_at=now)
    SearchLog.objects.create(token="none2", query="кешбэк баллы", language="ru", results=0, created_at=now)
    SearchLog.objects.create(
        token="unopened", query="отменить спор", language="ru", results=4, first_result=article, created_at=now
    )
    SearchLog.objects.create(
        token="opened", query="продлить защиту", language="ru", results=2, first_opened=True, created_at=now
    )
    client.force_login(support_agent(username="sonya"))
    page = client.get(reverse("admin:faq_help_gaps") + "?days=7").content.decode()
    not_found = gap_table(page, "search-gaps")
    assert "кешбэк баллы" in not_found and "<td>2</td>" in not_found
    assert "отменить спор" not in not_found and "продлить защиту" not in not_found
    unopened = gap_table(page, "search-unopened")
    assert "отменить спор" in unopened and "кешбэк баллы" not in unopened and "продлить защиту" not in unopened


# --- thanks in place of the comment form ----------------------------------------------------


def helpful_section(page: str) -> str:
    return page.split('id="helpful"', 1)[1].split("</section>", 1)[0]


def test_after_not_helpful_and_a_comment_the_thanks_is_where_the_form_was(client):
    article = Article.objects.get(slug="otmena-spora")
    client.post(reverse("faq:vote", args=[article.category.slug, article.slug]), {"helpful": "no"})
    before = helpful_section(client.get(article.get_absolute_url()).content.decode())
    assert "<textarea" in before

    response = client.post(
        reverse("faq:vote_comment", args=[article.category.slug, article.slug]),
        {"comment": "Не сказано, что будет с деньгами"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == article.get_absolute_url() + "#helpful"
    page = response.content.decode()
    section = helpful_section(page)
    assert "Спасибо! Поддержка прочитает это и поправит статью." in section
    assert "<textarea" not in section and "<form" not in section
    assert page.count("Спасибо! Поддержка прочитает это и поправит статью.") == 1  # not also as a message
    # It stays so on the next visit, and another visitor still gets the vote buttons.
    assert "Спасибо! Поддержка прочитает" in helpful_section(client.get(article.get_absolute_url()).content.decode())
    other = helpful_section(Client().get(article.get_absolute_url()).content.decode())
    assert 'value="no"' in other and "Спасибо! Поддержка" not in other


def test_an_empty_comment_keeps_the_form(client):
    article = Article.objects.get(slug="otmena-spora")
    client.post(reverse("faq:vote", args=[article.category.slug, article.slug]), {"helpful": "no"})
    client.post(reverse("faq:vote_comment", args=[article.category.slug, article.slug]), {"comment": "  "})
    assert "<textarea" in helpful_section(client.get(article.get_absolute_url()).content.decode())
