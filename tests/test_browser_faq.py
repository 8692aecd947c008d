import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_visitor_searches_in_russian_and_opens_the_first_result(browser_page):
    page = browser_page
    page.goto(page.base_url + "/")
    page.get_by_role("searchbox").fill("посылка не пришла")
    page.get_by_role("button", name="Найти").click()
    page.wait_for_url("**/faq/search/?q=*")
    first = page.locator(".search-results li a").first
    assert first.inner_text() == "Товар не пришёл: как открыть спор о неполучении"
    assert page.locator(".search-results mark").count() > 0
    first.click()
    page.wait_for_url("**/faq/spory/tovar-ne-prishel/")
    assert page.get_by_role("heading", level=1).inner_text() == "Товар не пришёл: как открыть спор о неполучении"


def test_visitor_marks_an_article_helpful_without_javascript(browser_page_no_js):
    page = browser_page_no_js
    page.goto(page.base_url + "/faq/spory/otmena-spora/")
    page.get_by_role("button", name="Да").click()
    expect(page.get_by_text("Спасибо! Рады, что помогли.")).to_be_visible()


def test_the_thanks_for_a_comment_stands_where_the_form_was_without_javascript(browser_page_no_js):
    page = browser_page_no_js
    page.goto(page.base_url + "/faq/spory/otmena-spora/")
    page.get_by_role("button", name="Нет").click()
    page.get_by_label("Чего не хватило в статье? (необязательно)").fill("Не сказано, что будет с деньгами")
    page.get_by_role("button", name="Отправить").click()
    page.wait_for_url("**/faq/spory/otmena-spora/#helpful")
    helpful = page.locator("#helpful")
    expect(helpful.get_by_text("Спасибо! Поддержка прочитает это и поправит статью.")).to_be_visible()
    assert helpful.locator("textarea").count() == 0
    assert page.get_by_text("Спасибо! Поддержка прочитает это и поправит статью.").count() == 1


def test_visitor_types_with_the_latin_layout_on_and_finds_the_russian_article(browser_page):
    page = browser_page
    page.goto(page.base_url + "/faq/")
    page.get_by_role("searchbox").first.fill("ghjlkbnm pfobne")
    page.get_by_role("button", name="Найти").first.click()
    page.wait_for_url("**/faq/search/?q=*")
    expect(page.get_by_text("Запрос набран в другой раскладке клавиатуры")).to_be_visible()
    assert page.locator(".search-results li a").first.inner_text().startswith("Срок защиты")
