import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.urls import reverse
from PIL import Image

from faq import services
from faq.models import Article, ArticleImage, ArticleVote, Category
from faq.search import search_articles

from .factories import StaffFactory, support_agent
from .faq_queries import QUERIES

pytestmark = pytest.mark.django_db

ARTICLE_URL = "/faq/spory/tovar-ne-sootvetstvuet-opisaniyu/"


def make_article(**fields) -> Article:
    category = Category.objects.get_or_create(slug="test", defaults={"title_ru": "Тест"})[0]
    values = {"slug": "test-article", "title_ru": "Статья", "summary_ru": "Кратко", "body_ru": "Текст"}
    values.update(fields)
    return services.article_save(article=Article(category=category, **values))


# --- the shipped knowledge base -----------------------------------------------------------


def test_shipped_articles_cover_every_required_topic():
    slugs = set(Article.objects.filter(status="published").values_list("slug", flat=True))
    assert {
        "chto-takoe-lichnyj-kabinet",
        "razdely-lichnogo-kabineta",
        "kak-vernut-dengi",
        "tovar-ne-prishel",
        "tovar-ne-sootvetstvuet-opisaniyu",
        "kak-prohodit-spor",
        "srok-zashchity-i-prodlenie",
        "napominanie-podtverdit-poluchenie",
        "chastichnyj-vozvrat-i-valyuta",
        "otmena-spora",
        "obzhalovanie-resheniya",
        "zhaloba-na-prodavtsa",
        "tamozhnya-i-akty-pochty",
        "akkaunt-zablokirovan",
    } <= slugs
    assert all(article.has_english for article in Article.objects.all())


def test_faq_index_lists_categories_and_articles(client):
    page = client.get("/faq/").content.decode()
    assert "Споры" in page
    assert "Товар не пришёл: как открыть спор о неполучении" in page


def test_faq_index_shows_the_first_articles_of_a_big_section_and_links_to_all_of_them(client):
    from faq.selectors import INDEX_ARTICLES_PER_CATEGORY

    section = Category.objects.create(slug="big", title_ru="Большой раздел", title_en="Big section", position=99)
    for number in range(INDEX_ARTICLES_PER_CATEGORY + 3):
        services.article_save(
            article=Article(
                category=section,
                slug=f"big-{number}",
                title_ru=f"Статья номер {number:02d}",
                summary_ru="Кратко",
                body_ru="Текст",
                position=number,
                status=Article.Status.PUBLISHED,
            )
        )
    page = client.get("/faq/").content.decode()
    shown = re.findall(r"Статья номер (\d\d)", page)
    assert shown == [f"{number:02d}" for number in range(INDEX_ARTICLES_PER_CATEGORY)]
    assert f'<a href="/faq/big/">Все статьи раздела «Большой раздел» ({INDEX_ARTICLES_PER_CATEGORY + 3})</a>' in page
    # A section that fits shows all its articles and no such link.
    assert "Все статьи раздела «Споры»" not in page
    category_page = client.get("/faq/big/").content.decode()
    assert len(re.findall(r"Статья номер \d\d", category_page)) == INDEX_ARTICLES_PER_CATEGORY + 3


def test_article_page_has_breadcrumbs_contents_date_and_action_links(client):
    page = client.get(ARTICLE_URL).content.decode()
    assert '<ol class="breadcrumb">' in page and ">Споры</a>" in page
    assert "Содержание" in page and 'href="#посылка-пустая"' in page and 'id="посылка-пустая"' in page
    assert "Обновлено" in page
    assert 'href="/account/orders/"' in page


def test_article_page_has_title_description_canonical_and_hreflang(client, settings):
    settings.SITE_URL = "https://help.example.com"
    page = client.get(ARTICLE_URL).content.decode()
    assert "<title>Товар не соответствует описанию" in page
    assert '<meta name="description" content="Пришёл не тот цвет' in page
    assert f'<link rel="canonical" href="https://help.example.com{ARTICLE_URL}">' in page
    assert f'hreflang="en" href="https://help.example.com/en{ARTICLE_URL}"' in page
    assert f'hreflang="x-default" href="https://help.example.com{ARTICLE_URL}"' in page


def test_article_in_english_under_en(client):
    page = client.get("/en" + ARTICLE_URL).content.decode()
    assert "Item not as described" in page
    assert 'href="/en/account/orders/"' in page


def test_article_without_english_says_so_and_offers_no_english_version(client):
    article = make_article(status="published")
    page = client.get("/en" + article.get_absolute_url().removeprefix("/en")).content.decode()
    assert "only in Russian" in page
    assert 'hreflang="en"' not in page


def test_article_page_keeps_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert client.get(ARTICLE_URL).status_code == 200


def test_article_page_queries_do_not_grow_with_related_articles(client, django_assert_max_num_queries):
    article = Article.objects.get(slug="tovar-ne-sootvetstvuet-opisaniyu")
    article.related.add(*Article.objects.exclude(pk=article.pk))
    with django_assert_max_num_queries(6):
        client.get(ARTICLE_URL)


def test_sitemap_lists_articles_in_both_languages(client):
    body = client.get("/sitemap.xml").content.decode()
    assert ARTICLE_URL in body
    assert f"/en{ARTICLE_URL}" in body
    assert 'hreflang="x-default"' in body


# --- sanitising ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "Hi <script>alert('xss')</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<svg onload=alert(1)></svg>",
    ],
)
def test_markdown_never_puts_script_or_handlers_on_the_page(client, markdown):
    article = make_article(status="published", body_ru=markdown)
    page = client.get(article.get_absolute_url()).content.decode()
    body = page.split('<div class="faq-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body
    assert "alert" not in body or "onerror" not in body
    assert not re.search(r"\son\w+=", body)
    assert "javascript:" not in body
    assert "<iframe" not in body and "style=" not in body and "<svg" not in body


def test_markdown_keeps_headings_lists_tables_and_links():
    article = make_article(
        body_ru="## Шаги\n\n1. Один\n2. Два\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[Заказы](/account/orders/)"
    )
    assert '<h2 id="шаги">Шаги</h2>' in article.body_html_ru
    assert "<ol>" in article.body_html_ru and "<table>" in article.body_html_ru
    assert '<a href="/account/orders/" rel="noopener noreferrer">Заказы</a>' in article.body_html_ru


# --- drafts and permissions ---------------------------------------------------------------


def test_draft_articles_are_invisible_to_the_public(client):
    draft = make_article(status="draft", title_ru="Секретный черновик", keywords_ru="черновик")
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert "Секретный черновик" not in client.get("/faq/").content.decode()
    assert "Секретный черновик" not in client.get("/faq/search/", {"q": "секретный черновик"}).content.decode()
    assert "Секретный черновик" not in client.get("/sitemap.xml").content.decode()


def test_support_previews_a_draft_and_visitors_cannot(client):
    draft = make_article(status="draft", title_ru="Черновик статьи")
    support = StaffFactory()
    support.groups.add(Group.objects.get(name="support"))
    assert client.get(reverse("faq:preview", args=[draft.pk])).status_code in (302, 403)
    client.force_login(support)
    page = client.get(reverse("faq:preview", args=[draft.pk])).content.decode()
    assert "Черновик статьи" in page and "Предпросмотр" in page


def test_support_opens_the_article_editor_and_the_new_article_form(client):
    client.force_login(support_agent())
    article = Article.objects.earliest("pk")
    assert client.get(reverse("admin:faq_article_change", args=[article.pk])).status_code == 200
    assert client.get(reverse("admin:faq_article_add")).status_code == 200


def test_arbitrator_cannot_open_the_article_editor(client):
    arbitrator = StaffFactory()
    arbitrator.groups.add(Group.objects.get(name="arbitrators"))
    client.force_login(arbitrator)
    article = Article.objects.earliest("pk")
    assert client.get(reverse("admin:faq_article_change", args=[article.pk])).status_code == 403


def test_support_edits_an_article_in_admin_and_the_page_shows_it(client):
    support = StaffFactory()
    support.groups.add(Group.objects.get(name="support"))
    client.force_login(support)
    article = Article.objects.get(slug="otmena-spora")
    url = reverse("admin:faq_article_change", args=[article.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "related": [related.pk for related in article.related.all()],
            "body_ru": "## Новый раздел\n\nОбновлённый текст <script>x()</script>",
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    page = Client().get(article.get_absolute_url()).content.decode()
    assert "Обновлённый текст" in page and "<script>x()" not in page


# --- images -------------------------------------------------------------------------------


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_article_image_is_reencoded_and_shown_in_the_article(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    article = make_article(status="published")
    image = services.article_image_add(
        article=article, uploaded=SimpleUploadedFile("../../shot.png", png_bytes(), "image/png"), caption="Кнопка"
    )
    assert ".." not in str(image.image.name) and "shot" not in str(image.image.name)
    article.body_ru = f"Смотрите: {image.markdown}"
    services.article_save(article=article)
    page = client.get(article.get_absolute_url()).content.decode()
    found = re.search(r'<img alt="Кнопка" src="([^"]+)"', page)
    assert found, "the image is on the page"
    src = found.group(1)
    response = client.get(src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_html_file_named_png_is_refused_as_an_article_image():
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    article = make_article()
    fake = SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "image/png")
    with pytest.raises(ValidationError, match="Это не картинка"):
        services.article_image_add(article=article, uploaded=fake)
    assert not ArticleImage.objects.exists()


def test_images_of_drafts_are_not_public(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    article = make_article(status="draft")
    image = services.article_image_add(article=article, uploaded=SimpleUploadedFile("a.png", png_bytes()))
    assert client.get(reverse("faq_image", args=[image.token, "png"])).status_code == 404


def _article_form_data(client, article) -> dict:
    form = client.get(reverse("admin:faq_article_change", args=[article.pk])).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["related"] = [related.pk for related in article.related.all()]
    return data


def test_support_uploads_an_article_image_in_admin_and_pastes_it_into_the_text(client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(support_agent())
    article = Article.objects.get(slug="otmena-spora")
    url = reverse("admin:faq_article_change", args=[article.pk])
    data = _article_form_data(client, article)
    data.update(
        {
            "images-TOTAL_FORMS": "1",
            "images-INITIAL_FORMS": "0",
            "images-0-caption": "Кнопка «Отменить спор»",
            "images-0-image": SimpleUploadedFile("../../screen shot.png", png_bytes((60, 40)), "image/png"),
        }
    )
    assert client.post(url, data).status_code == 302
    image = ArticleImage.objects.get(article=article)
    assert (image.width, image.height, image.format) == (60, 40, "PNG")
    assert "screen" not in str(image.image.name) and ".." not in str(image.image.name)
    assert default_storage.exists(str(image.image.name))
    editor = client.get(url).content.decode()
    assert image.markdown in editor  # the line to paste into the text is shown next to the image
    # "Currently" opens the picture through the site, never the storage's own address.
    view_url = reverse("faq_image", args=[image.token, "png"])
    assert f'href="{view_url}"' in editor and default_storage.url(str(image.image.name)) not in editor
    assert client.get(view_url).status_code == 200


def test_a_deleted_article_image_takes_its_file_along(client, settings, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    article = make_article()
    image = services.article_image_add(article=article, uploaded=SimpleUploadedFile("a.png", png_bytes()))
    name = str(image.image.name)
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        image.delete()
    assert not default_storage.exists(name)


def test_load_faq_content_keeps_edits_unless_told_to_overwrite():
    from django.core.management import call_command

    article = Article.objects.get(slug="otmena-spora")
    shipped_title = article.title_ru
    article.title_ru = "Заголовок, исправленный поддержкой"
    services.article_save(article=article)
    call_command("load_faq_content")
    article.refresh_from_db()
    assert article.title_ru == "Заголовок, исправленный поддержкой"
    call_command("load_faq_content", "--overwrite")
    article.refresh_from_db()
    assert article.title_ru == shipped_title
    assert Article.objects.filter(status="published").count() >= 15


# --- voting -------------------------------------------------------------------------------


def test_a_visitor_votes_once_and_the_vote_is_counted(client):
    article = Article.objects.get(slug="otmena-spora")
    vote_url = reverse("faq:vote", args=[article.category.slug, article.slug])
    client.post(vote_url, {"helpful": "yes"})
    client.post(vote_url, {"helpful": "no"})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    assert ArticleVote.objects.filter(article=article).count() == 1
    assert "Спасибо! Рады, что помогли." in client.get(article.get_absolute_url()).content.decode()


def test_two_visitors_each_count(client):
    article = Article.objects.get(slug="otmena-spora")
    vote_url = reverse("faq:vote", args=[article.category.slug, article.slug])
    Client().post(vote_url, {"helpful": "yes"})
    Client().post(vote_url, {"helpful": "no"})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)


def test_signed_in_user_votes_once_across_browsers(buyer):
    article = Article.objects.get(slug="otmena-spora")
    vote_url = reverse("faq:vote", args=[article.category.slug, article.slug])
    for _ in range(2):
        browser = Client()
        browser.force_login(buyer)
        browser.post(vote_url, {"helpful": "yes"})
    article.refresh_from_db()
    assert article.helpful_yes == 1


def test_a_no_vote_points_to_search(client):
    article = Article.objects.get(slug="otmena-spora")
    client.post(reverse("faq:vote", args=[article.category.slug, article.slug]), {"helpful": "no"})
    assert "Искать в справке" in client.get(article.get_absolute_url()).content.decode()


# --- search -------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected_slug"), QUERIES, ids=[query for query, _ in QUERIES])
def test_search_finds_the_right_article_first(query, expected_slug):
    results = search_articles(query)
    assert results.hits, f"nothing found for {query!r}"
    assert results.hits[0].article.slug == expected_slug


def test_search_table_is_at_least_thirty_queries():
    assert len(QUERIES) >= 30


def test_search_page_shows_a_highlighted_snippet_and_the_typo_it_fixed(client):
    page = client.get("/faq/search/", {"q": "пасылка не пришла"}).content.decode()
    assert "Товар не пришёл: как открыть спор о неполучении" in page
    assert "<mark>" in page
    assert "«<strong>посылка</strong>» вместо «пасылка»" in page


def test_search_snippet_escapes_article_text(client):
    make_article(status="published", title_ru="Уникальная статья", body_ru="Уникальный текст &lt;b&gt; `<b>код</b>`")
    page = client.get("/faq/search/", {"q": "уникальный"}).content.decode()
    snippet = page.split('class="mb-0 search-snippet">', 1)[1].split("</p>", 1)[0]
    assert "<b>" not in snippet


def test_empty_search_suggests_popular_articles_and_support(client, settings):
    page = client.get("/faq/search/", {"q": "зюзюкщ"}).content.decode()
    assert "ничего не нашлось" in page
    assert "Чаще всего читают" in page
    assert f"mailto:{settings.SUPPORT_EMAIL}" in page


def test_search_form_is_on_the_home_page_and_every_faq_page(client):
    for url in ("/", "/faq/", "/faq/spory/", ARTICLE_URL):
        assert 'action="/faq/search/"' in client.get(url).content.decode(), url


def test_english_search_uses_english_text(client):
    page = client.get("/en/faq/search/", {"q": "refund"}).content.decode()
    assert "How to get your money back" in page


def test_postgres_search_uses_the_gin_index(needs_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM faq_article WHERE search_ru @@ to_tsquery('russian', 'посылка')")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "faq_article_search_ru_gin" in plan


def test_postgres_search_vector_follows_edits(needs_postgres):
    article = make_article(status="published", title_ru="Особая статья про кенгуру", keywords_ru="кенгуру")
    assert search_articles("кенгуру").hits[0].article == article
    article.title_ru = "Особая статья про жирафа"
    article.keywords_ru = "жираф"
    services.article_save(article=article)
    assert not search_articles("кенгуру").hits or search_articles("кенгуру").hits[0].article != article
    assert search_articles("жираф").hits[0].article == article


def test_postgres_search_vectors_are_kept_in_the_row(needs_postgres):
    # Storage MAIN: a vector of ~2 KB would otherwise be read back from the TOAST table for every
    # candidate the search tests and ranks.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute "
            "WHERE attrelid = 'faq_article'::regclass AND attname IN ('search_ru', 'search_en')"
        )
        assert dict(cursor.fetchall()) == {"search_ru": "m", "search_en": "m"}


def test_postgres_dictionary_trigram_index_serves_the_typo_lookup(needs_postgres):
    # GiST: with GIN the known-word check (word = ANY) went through the trigrams of Cyrillic words
    # (3-5 ms) and the nearest-word lookup (word % ...) computed every similarity.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'faq_searchword_trgm'")
        assert "USING gist (word gist_trgm_ops)" in cursor.fetchone()[0]
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT word FROM faq_searchword WHERE word %% %s", ["пасылка"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "faq_searchword_trgm" in plan
    assert search_articles("пасылка не пришла").corrections == {"пасылка": "посылка"}


def _articles_with(words_by_slug: dict[str, str]) -> dict[str, Article]:
    category = Category.objects.get_or_create(slug="test", defaults={"title_ru": "Тест"})[0]
    return {
        slug: services.article_save(
            article=Article(
                category=category, slug=slug, status="published", title_ru=f"Статья {number}", summary_ru="Кратко",
                body_ru=words,
            )
        )
        for number, (slug, words) in enumerate(words_by_slug.items())
    }  # fmt: skip


def test_postgres_search_walks_to_the_oldest_matches_or_asks_the_index(needs_postgres, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    from faq import search

    _articles_with({f"kenguru-{number}": f"Кенгуру прыгает, номер {number}." for number in range(40)})
    monkeypatch.setattr(search, "CANDIDATE_CAP", 20)
    monkeypatch.setattr(search, "PROBE_ROWS", 30)  # the shipped articles, then 13 about kangaroos

    def found():
        with CaptureQueriesContext(connection) as queries:
            results = search_articles("кенгуру прыгает")
        asked_index = any("enable_indexscan = off" in query["sql"] for query in queries.captured_queries)
        return results.total, [hit.article.slug for hit in results.hits], asked_index

    # 13 of 30 match, so 20 are within the first 46: walked to in id order, the oldest 20 (all
    # alike, so the lowest ids rank first).
    monkeypatch.setattr(search, "WALK_ROWS", 100)
    assert found() == (20, [f"kenguru-{number}" for number in range(search.RESULTS_SHOWN)], False)
    # Too far to walk: the index lists the matches.
    monkeypatch.setattr(search, "WALK_ROWS", 40)
    total, slugs, asked_index = found()
    assert (total, len(slugs), asked_index) == (20, search.RESULTS_SHOWN, True)
    assert all(slug.startswith("kenguru-") for slug in slugs)


def test_postgres_search_tests_every_word_when_the_index_is_asked_for_fewer(needs_postgres):
    from faq import search

    articles = _articles_with(
        {
            **{f"kenguru-{number}": f"Кенгуру прыгает, номер {number}." for number in range(60)},
            "oba": "Кенгуру и жираф.",
            "tolko-zhiraf": "Жираф без пары.",
        }
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE faq_article")
        groups = [{"кенгуру"}, {"жираф"}]
        # In most articles: the index is asked only for the giraffe ...
        assert search._index_groups(cursor, groups, config="russian", column="search_ru") == [{"жираф"}]
    # ... and the kangaroo is still required of every result.
    assert [hit.article for hit in search_articles("кенгуру жираф").hits] == [articles["oba"]]
