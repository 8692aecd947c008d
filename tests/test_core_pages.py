import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_after_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert (response.status_code, response.content, response["Content-Type"]) == (200, b"ok", "text/plain")


def test_robots_txt_keeps_crawlers_out_of_accounts_and_admin_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    lines = response.content.decode().splitlines()
    assert response["Content-Type"] == "text/plain"
    assert {"Disallow: /account/", "Disallow: /en/account/", "Disallow: /admin/"} <= set(lines)
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Disallow: /faq/" not in lines
    assert "Disallow: /faq/search/" in lines  # searches are counted for support; crawlers are not buyers


def test_home_page_links_the_faq_and_the_account(client):
    page = client.get("/").content.decode()
    assert reverse("faq:index") in page and reverse("accounts:home") in page
