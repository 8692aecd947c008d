"""Several web processes and several workers on one PostgreSQL, Redis and object store, as in
production: a dispute opened with a photo through one web process is read, photo included,
through another; one deadline sweep shared by two workers acts on each due row exactly once.

Needs PostgreSQL, Redis (CELERY_TEST_BROKER_URL), an S3-compatible object store (the S3_*
variables .ci/run sets) and Chromium; CI has them all.
"""

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.utils import timezone
from PIL import Image

from disputes.models import Dispute, DisputeEvent

from .conftest import browser_login
from .disputes_helpers import open_dispute, seller_counter_offer
from .factories import PASSWORD, OrderFactory, SellerFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.browser]
ROOT = Path(settings.BASE_DIR)
SECRET_KEY = "many-machines-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def _require(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must provide it)")
        pytest.skip(reason)


@pytest.fixture
def shared_services() -> dict[str, str]:
    """The environment every process of the site gets: production settings on the test database,
    the test Redis for broker, cache and sessions, and the object store."""
    _require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")
    broker = os.environ.get("CELERY_TEST_BROKER_URL", "")
    _require(broker.startswith("redis://"), "needs Redis: set CELERY_TEST_BROKER_URL=redis://...")
    _require(bool(os.environ.get("S3_BUCKET")), "needs an S3-compatible store: set S3_ENDPOINT_URL, S3_BUCKET ...")
    db = connection.settings_dict
    redis_base = broker.rsplit("/", 1)[0]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpcenter.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": "consolemail://",
        "PAYMENT_GATEWAY": "simulated",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "REDIS_CACHE_URL": f"{redis_base}/15",
    }


@pytest.fixture
def static_root(shared_services, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env={**shared_services, "STATIC_ROOT": str(root)},
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} stopped: {log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers={"Host": "localhost"}), timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer in 60 s: {log.read_text()[-3000:]}")


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def two_web_processes(shared_services, static_root, tmp_path) -> Iterator[tuple[str, str]]:
    env = {**shared_services, "STATIC_ROOT": str(static_root)}
    servers, urls = [], []
    for name in ("web-a", "web-b"):
        port = _free_port()
        log = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "helpcenter.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"],
            # Each "machine" its own image slots, as two machines would have.
            env={**env, "UPLOAD_IMAGE_SLOT_DIR": str(tmp_path / f"{name}-image-slots")},
            cwd=ROOT,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        servers.append(process)
        urls.append(f"http://localhost:{port}")
        _wait_for(f"http://127.0.0.1:{port}/healthz", process, log)
    try:
        yield urls[0], urls[1]
    finally:
        _stop(servers)


@pytest.fixture
def two_workers(shared_services, tmp_path) -> Iterator[list[Path]]:
    celery = [sys.executable, "-m", "celery", "-A", "helpcenter"]
    subprocess.run([*celery, "purge", "-f"], env=shared_services, cwd=ROOT, check=True, capture_output=True, timeout=60)
    workers, logs = [], []
    for name in ("worker-1", "worker-2"):
        log = tmp_path / f"{name}.log"
        command = [*celery, "worker", "--pool=solo", "--prefetch-multiplier=1", "-O", "fair", "-n", f"{name}@%h"]
        command += ["--loglevel=INFO", "--without-gossip", "--without-mingle"]
        output = log.open("w")
        workers.append(
            subprocess.Popen(command, env=shared_services, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        )
        logs.append(log)
    deadline = time.monotonic() + 60
    while not all(" ready." in log.read_text() for log in logs):
        if time.monotonic() > deadline:
            _stop(workers)
            pytest.fail("the workers did not start: " + " | ".join(log.read_text()[-1500:] for log in logs))
        time.sleep(0.3)
    try:
        yield logs
    finally:
        _stop(workers)


def test_a_dispute_opened_with_a_photo_on_one_web_process_is_read_with_it_on_another(
    two_web_processes, chromium_browser, shipped_data, tmp_path
):
    web_a, web_b = two_web_processes
    buyer = UserFactory(username="olga")
    # The tests' fast hasher is unknown to production settings: hash as production does.
    buyer.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    buyer.save(update_fields=["password"])
    order = OrderFactory(buyer=buyer, store=SellerFactory(username="gadget-shop").store)
    photo = tmp_path / "cracked.png"
    Image.new("RGB", (64, 48), "orange").save(photo, format="PNG")

    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(20000)
    page.base_url = web_a
    try:
        browser_login(page, "olga")
        page.goto(f"{web_a}/account/orders/{order.number}/")
        page.get_by_role("link", name="Открыть спор").click()
        page.get_by_label("Да, но он не такой, как в описании").check()
        page.get_by_role("button", name="Дальше").click()
        page.get_by_label("Товар или упаковка повреждены").check()
        page.get_by_role("button", name="Дальше").click()
        page.get_by_label("Полный возврат").check()
        page.get_by_label("Нет, оставлю товар у себя").check()
        page.get_by_role("button", name="Дальше").click()
        page.get_by_label("Ваше требование своими словами").fill("Корпус треснул при доставке, фото прилагаю.")
        page.locator("input[name=evidence]").set_input_files(str(photo))
        page.get_by_role("button", name="Дальше").click()
        page.wait_for_url("**/summary/")
        page.get_by_role("button", name="Открыть спор").click()
        page.wait_for_url("**/account/disputes/*/")
        dispute = Dispute.objects.get(order=order)
        attachment = dispute.messages.get().attachments.get()
        # The photo lives in the bucket, where every web process finds it, not on a web disk.
        bucket = boto3.client(
            "s3",
            endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
            aws_access_key_id=os.environ.get("S3_ACCESS_KEY_ID"),
            aws_secret_access_key=os.environ.get("S3_SECRET_ACCESS_KEY"),
            region_name=os.environ.get("S3_REGION", "us-east-1"),
        )
        stored = bucket.head_object(Bucket=os.environ["S3_BUCKET"], Key=attachment.file.name)
        assert stored["ContentLength"] == attachment.size

        # The same browser session, the other web process: signed in, the dispute and its photo.
        page.goto(f"{web_b}/account/disputes/{dispute.pk}/")
        assert page.get_by_test_id("dispute-status").inner_text() == "Ждёт ответа продавца"
        thumbnail = page.locator("img.attachment-thumb")
        assert thumbnail.count() == 1
        source = thumbnail.get_attribute("src")
        assert source
        served = page.request.get(web_b + source)
        assert served.status == 200 and served.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(served.body())).size == (64, 48)
        thumbnail.scroll_into_view_if_needed()
        # Polled with evaluate: wait_for_function's polling evaluates a string, which the site's CSP forbids.
        deadline = time.monotonic() + 15
        while page.evaluate("document.querySelector('img.attachment-thumb').naturalWidth") != 64:
            assert time.monotonic() < deadline, "the photo did not load from the second web process"
            time.sleep(0.1)
        # Anyone else asking web A for the same file gets nothing.
        stranger = chromium_browser.new_context()
        assert stranger.request.get(web_a + source, max_redirects=0).status in (302, 404)
        stranger.close()
    finally:
        context.close()


def test_one_sweep_split_over_two_workers_acts_on_each_due_dispute_once(two_workers, shared_services):
    seller = SellerFactory()
    opened = timezone.now() - timedelta(days=16)
    due = []
    for _ in range(300):
        order = OrderFactory(buyer=UserFactory(), store=seller.store, days_since_shipment=17)
        dispute = open_dispute(order, now=opened)
        seller_counter_offer(dispute, amount="1", now=opened)
        due.append(dispute.pk)

    # Both runs of the sweep are queued at the same moment, as two beats (or a beat and a manual
    # run) would; each worker takes one.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from core.tasks import run_sweep; "
            "[run_sweep.delay('auto-claim') for _ in range(2)]",
        ],
        env=shared_services,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )

    done = re.compile(r"auto-claim: (\d+) changed")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        reports = [done.findall(log.read_text()) for log in two_workers]
        if all(reports):
            break
        time.sleep(0.5)
    logs = " | ".join(log.read_text()[-2000:] for log in two_workers)
    assert all(reports), logs
    changed = [int(report[-1]) for report in reports]
    assert sum(changed) == len(due), (changed, logs)
    assert all(count > 0 for count in changed), f"one worker did all the rows: {changed}"
    assert Dispute.objects.filter(pk__in=due, status="claim").count() == len(due)
    escalations = DisputeEvent.objects.filter(dispute_id__in=due, kind="escalated")
    assert escalations.count() == len(due)
    assert escalations.values("dispute_id").distinct().count() == len(due)
