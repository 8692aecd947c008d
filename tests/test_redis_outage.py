"""A Redis blip (issue 21, point 8): sessions, counters and cached pages live in Redis, and while it
is stopped or hung nobody is signed out, nothing typed is lost, the help centre stays readable,
sign-in says it is unavailable, and /healthz says which service failed.

The settings are production's for REDIS_CACHE_URL (tests/redis_outage.py); "Redis answers" is the
same cache aliases in memory, "Redis is stopped" a Redis URL that refuses connections, "Redis hangs"
one that accepts and never answers. tests/test_browser_redis_outage.py does it with a real Redis.
"""

import re
from html import unescape
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from core.fragments import FRAGMENT_CACHE
from disputes.models import Message

from .disputes_helpers import open_dispute
from .factories import PASSWORD, OrderFactory
from .redis_outage import STOPPED_REDIS, hung_redis, production_cache_settings, working_caches_like

pytestmark = pytest.mark.django_db

TEXT = "Посылка стоит на таможне уже три недели, трек не обновляется.\nЧто мне делать?"


class Redis:
    """Production's cache settings, switched between a Redis that answers and one that does not."""

    def __init__(self, settings, down_url: str = STOPPED_REDIS) -> None:
        self.settings = settings
        self.production = production_cache_settings(down_url)
        settings.SESSION_ENGINE = self.production["SESSION_ENGINE"]
        settings.SESSION_CACHE_ALIAS = self.production["SESSION_CACHE_ALIAS"]
        self.up()

    def up(self) -> None:
        self.settings.CACHES = working_caches_like(self.production)

    def down(self) -> None:
        self.settings.CACHES = self.production["CACHES"]


@pytest.fixture
def redis(settings):
    return Redis(settings)


@pytest.fixture
def browser_client():
    # As a browser: CSRF checked, and the 503 page answered instead of the error raised in the test.
    return Client(enforce_csrf_checks=True, raise_request_exception=False)


def csrf_token(client: Client) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/account/login/")
    return client.cookies["csrftoken"].value


def signed_in(client: Client, user) -> Client:
    credentials = {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(client)}
    response = client.post("/account/login/", credentials)
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def session_cookie_deleted(response) -> bool:
    cookie = response.cookies.get("sessionid")
    return cookie is not None and (cookie.value == "" or cookie["max-age"] == 0)


def test_a_signed_in_page_while_redis_is_stopped_is_a_503_that_keeps_the_session(redis, browser_client, buyer):
    signed_in(browser_client, buyer)
    cookie = browser_client.cookies["sessionid"].value

    redis.down()
    response = browser_client.get("/account/")

    page = response.content.decode()
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "sessionid" not in response.cookies  # neither deleted nor replaced
    assert "Сайт ненадолго недоступен" in page and "Вы не вышли из аккаунта" in page
    assert 'href="/account/"' in page  # "try again" opens the same page
    assert "Traceback" not in page and "ConnectionError" not in page
    assert 'href="/static/css/site.css"' in page  # the site's own look

    redis.up()
    response = browser_client.get("/account/")
    assert response.status_code == 200
    assert browser_client.cookies["sessionid"].value == cookie
    assert response.context["user"] == buyer


def test_the_outage_page_speaks_the_pages_language(redis, browser_client, buyer):
    signed_in(browser_client, buyer)
    redis.down()
    response = browser_client.get("/en/account/")
    page = response.content.decode()
    assert response.status_code == 503
    assert "The site is briefly unavailable" in page and 'lang="en"' in page


def test_a_message_sent_while_redis_is_stopped_comes_back_to_send_again_and_is_posted_once(
    redis, browser_client, buyer, seller
):
    dispute = open_dispute(OrderFactory(buyer=buyer, store=seller.store))
    signed_in(browser_client, buyer)
    url = f"/account/disputes/{dispute.pk}/messages/"

    redis.down()
    response = browser_client.post(url, {"csrfmiddlewaretoken": csrf_token(browser_client), "text": TEXT, "link": ""})

    page = response.content.decode()
    assert response.status_code == 503
    assert "sessionid" not in response.cookies
    assert not Message.objects.filter(dispute=dispute, text=TEXT).exists()
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    form = next((form for form in forms if "Отправить ещё раз" in form[1]), None)
    assert form is not None and unescape(form[0]) == url
    textarea = re.search(r'<textarea[^>]*name="text"[^>]*>(.*?)</textarea>', form[1], re.S)
    assert textarea is not None and unescape(textarea.group(1)) == TEXT

    redis.up()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[1]))
    response = browser_client.post(url, {**fields, "text": unescape(textarea.group(1))})
    assert response.status_code == 302
    assert Message.objects.filter(dispute=dispute, text=TEXT).count() == 1


def test_a_forged_post_while_redis_is_stopped_is_not_offered_to_send_again(redis, browser_client, buyer):
    signed_in(browser_client, buyer)
    redis.down()
    # No CSRF token: a form another site made the browser send.
    response = browser_client.post("/account/settings/", {"text": "Текст, который прислал чужой сайт"})
    page = response.content.decode()
    assert response.status_code == 503
    assert "Текст, который прислал чужой сайт" not in page and "Отправить ещё раз" not in page


def test_a_password_is_never_written_back_into_the_outage_page(redis, browser_client, buyer):
    signed_in(browser_client, buyer)
    redis.down()
    response = browser_client.post(
        "/account/password/",
        {
            "csrfmiddlewaretoken": csrf_token(browser_client),
            "old_password": PASSWORD,
            "new_password1": "Secret-horse-42",
            "new_password2": "Secret-horse-42",
        },
    )
    page = response.content.decode()
    assert response.status_code == 503
    assert PASSWORD not in page and "Secret-horse-42" not in page
    assert page.count('type="password"') == 3  # asked for again, empty


def test_admin_sign_in_while_redis_is_stopped_is_a_form_error_too(redis, browser_client, staff_user):
    token = csrf_token(browser_client)
    redis.down()
    credentials = {"username": staff_user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    response = browser_client.post("/admin/login/", credentials)
    assert response.status_code == 200
    assert "Вход сейчас временно недоступен" in response.content.decode()
    assert "sessionid" not in response.cookies

    redis.up()
    assert browser_client.post("/admin/login/", credentials).status_code == 302


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_help_centre_renders_without_its_cache_while_redis_is_stopped(
    redis, browser_client, shipped_help_centre, language
):
    redis.down()
    prefix = "/en" if language == "en" else ""
    category = f"{prefix}/faq/{shipped_help_centre.category.slug}/"
    for url in (f"{prefix}/faq/", category, prefix + shipped_help_centre.path):
        response = browser_client.get(url)
        assert response.status_code == 200, url
        assert "csrfmiddlewaretoken" in response.content.decode()


def test_the_help_centre_renders_while_redis_hangs(settings, browser_client, shipped_help_centre):
    with hung_redis() as url:
        Redis(settings, down_url=url).down()
        response = browser_client.get(shipped_help_centre.path)
    assert response.status_code == 200


def test_signing_in_while_redis_is_stopped_is_a_form_error_and_signs_nobody_in(redis, browser_client, buyer):
    token = csrf_token(browser_client)
    redis.down()
    credentials = {"username": buyer.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    response = browser_client.post("/account/login/", credentials)
    assert response.status_code == 200
    assert "Вход сейчас временно недоступен" in response.content.decode()
    assert "sessionid" not in response.cookies
    assert response.context["form"].errors["__all__"] == [
        "Вход сейчас временно недоступен. Попробуйте ещё раз через минуту."
    ]

    redis.up()
    assert browser_client.post("/account/login/", credentials).status_code == 302


def test_the_sign_in_page_opens_while_redis_is_stopped(redis, browser_client):
    redis.down()
    response = browser_client.get("/account/login/")
    assert response.status_code == 200


def test_healthz_is_ok_when_the_database_and_redis_answer(redis, browser_client):
    response = browser_client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


def test_healthz_says_redis_is_unavailable_when_it_is_stopped(redis, browser_client):
    redis.down()
    response = browser_client.get("/healthz")
    assert response.status_code == 503
    assert response.content.decode().splitlines() == [f"{connection.vendor}: ok", "redis: unavailable"]


def test_healthz_says_redis_is_unavailable_when_it_hangs(settings, browser_client):
    with hung_redis() as url:
        Redis(settings, down_url=url).down()
        response = browser_client.get("/healthz")
    assert response.status_code == 503
    assert "redis: unavailable" in response.content.decode().splitlines()


def test_healthz_says_the_database_is_unavailable_when_it_does_not_answer(redis, browser_client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = browser_client.get("/healthz")
    assert response.status_code == 503
    database, *caches = response.content.decode().splitlines()
    assert database == f"{connection.vendor}: unavailable"
    assert caches and all(line.endswith(": ok") for line in caches)


def test_production_gives_up_on_redis_within_a_second_and_keeps_one_redis_client_per_process():
    production = production_cache_settings("redis://redis.example:6379/1")
    for alias, cache in production["CACHES"].items():
        if alias == FRAGMENT_CACHE:
            # Rendered rows live in each process's memory on purpose (core/fragments.py).
            assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
            continue
        assert cache["BACKEND"] == "core.redis_cache.RedisCache", alias
        assert 0 < cache["OPTIONS"]["socket_connect_timeout"] <= 1, alias
        assert 0 < cache["OPTIONS"]["socket_timeout"] <= 1, alias


def test_any_other_error_is_still_djangos_500():
    from core.views import server_error

    try:
        raise ValueError("not an outage")
    except ValueError:
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500


@pytest.fixture
def shipped_help_centre(db):
    from faq.models import Article

    article = Article.objects.filter(status=Article.Status.PUBLISHED).select_related("category").first()
    assert article is not None, "the shipped FAQ articles are loaded by a data migration"
    return SimpleNamespace(category=article.category, path=article.get_absolute_url())
