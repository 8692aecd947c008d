"""A signed-in buyer in Chromium rides out a Redis that stops and one that hangs (issue 21, point 8).

The site runs with production's cache and session settings (tests/redis_outage.py) pointed at a
redis-server of this test's own, which the test stops (saving first and loading the file again on
restart, as production's Redis keeps its data across a restart) or pauses with SIGSTOP.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import expect

from disputes.models import Message

from .conftest import _new_page, browser_login
from .disputes_helpers import open_dispute
from .factories import OrderFactory
from .redis_outage import local_port, production_cache_settings
from .test_accessibility import FAILING, _axe, _html_errors

pytestmark = pytest.mark.browser

TEXT = "Трек не обновляется уже девять дней. Продавец, пожалуйста, уточните у службы доставки."


def _port(offset: int) -> int:
    if port := local_port(offset):
        return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A redis-server this test starts, stops, pauses and resumes by its own process id."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _port(1)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.folder), "--dbfilename", "dump.rdb"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Stopped as an operator restarts it: its data written to disk first."""
        assert self.process is not None
        client = redis.Redis(port=self.port, socket_timeout=5)
        client.save()
        client.shutdown(nosave=True)
        self.process.wait(10)
        self.process = None

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def end(self) -> None:
        if self.process is None:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server not found; .ci/run starts Redis from it")
        pytest.skip("needs redis-server (apt-get install redis-server)")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.end()


@pytest.fixture
def site_on_own_redis(own_redis, settings, transactional_db) -> Iterator[str]:
    """A live server whose cache and sessions are production's, on the test's own Redis. Its own,
    not pytest-django's: a server reads SESSION_ENGINE once, when it starts."""
    from pytest_django.live_server_helper import LiveServer

    production = production_cache_settings(own_redis.url)
    settings.CACHES = production["CACHES"]
    settings.SESSION_ENGINE = production["SESSION_ENGINE"]
    settings.SESSION_CACHE_ALIAS = production["SESSION_CACHE_ALIAS"]
    # A port another run left in TIME_WAIT is skipped (Django's live server does not reuse one).
    for offset in range(2, 10):
        try:
            server = LiveServer(f"127.0.0.1:{local_port(offset)}")
            break
        except OSError:
            continue
    else:
        pytest.fail("no free port for the live server")
    yield server.url
    server.stop()


@pytest.fixture
def browser(chromium_browser, site_on_own_redis):
    """A phone-sized page on that server, closed before the server stops."""
    context, page = _new_page(chromium_browser, site_on_own_redis)
    yield context, page
    context.close()


def session_cookie(context) -> str:
    (value,) = [cookie["value"] for cookie in context.cookies() if cookie["name"] == "sessionid"]
    return value


def test_a_message_sent_while_redis_is_stopped_is_kept_and_posted_once_when_it_is_back(
    browser, site_on_own_redis, own_redis, buyer, seller, tmp_path
):
    dispute = open_dispute(OrderFactory(buyer=buyer, store=seller.store))
    context, page = browser
    browser_login(page, buyer.username)
    page.goto(f"{site_on_own_redis}/account/disputes/{dispute.pk}/")
    signed_in_cookie = session_cookie(context)
    page.fill("#message-text", TEXT)

    own_redis.stop()
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.locator("form[action$='/messages/']").get_by_role("button", name="Отправить", exact=True).click()
    page.wait_for_load_state()

    assert answer.value.status == 503
    assert int(answer.value.headers["retry-after"]) > 0
    expect(page.get_by_role("heading", name="Сайт ненадолго недоступен")).to_be_visible()
    assert page.get_by_label("Ваш текст").input_value() == TEXT
    assert session_cookie(context) == signed_in_cookie
    assert not Message.objects.filter(dispute=dispute, text=TEXT).exists()
    assert [violation["id"] for violation in _axe(page) if violation["impact"] in FAILING] == []
    assert _html_errors({"the 503 page": page.content()}, tmp_path) == []

    own_redis.start()
    page.get_by_role("button", name="Отправить ещё раз").click()
    page.wait_for_url(f"**/account/disputes/{dispute.pk}/**")

    expect(page.locator("#thread").get_by_text(TEXT)).to_be_visible()
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    assert Message.objects.filter(dispute=dispute, text=TEXT).count() == 1
    assert session_cookie(context) == signed_in_cookie


def test_a_page_opened_while_redis_hangs_is_a_503_and_the_next_one_is_signed_in(
    browser, site_on_own_redis, own_redis, buyer
):
    context, page = browser
    browser_login(page, buyer.username)
    signed_in_cookie = session_cookie(context)

    own_redis.pause()
    try:
        response = page.goto(f"{site_on_own_redis}/account/")
        assert response is not None and response.status == 503
        expect(page.get_by_role("heading", name="Сайт ненадолго недоступен")).to_be_visible()
        assert session_cookie(context) == signed_in_cookie
    finally:
        own_redis.resume()

    page.get_by_role("link", name="Попробовать ещё раз").click()
    page.wait_for_load_state()
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    assert page.get_by_role("heading", name="Сайт ненадолго недоступен").count() == 0
    assert session_cookie(context) == signed_in_cookie
