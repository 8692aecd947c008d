"""The site under load, as an operator runs it: gunicorn on PostgreSQL and Redis with production
settings, realistic data, and wrk in a second process.

Builds 100,000 orders over 1,000 buyers (one buyer has 1,000), 20,000 disputes with their events
and messages, 10,000 claims for the arbitrators' queue, a dispute with 30 messages and 10 files,
and the shipped help centre plus 1,000 generated articles; starts gunicorn (4 sync workers by
default) and prints, for every page, the SQL queries one request makes and wrk's requests/s,
p50 and p99 at 1, 10 and 50 connections; the first row, the health check (one SELECT 1), is the
floor the others compare with on a faster or slower machine. Signed-in pages use sessions made for the bench users.
A signed-in page is requested as a browser requests it after its first page on the site: with the
`sessionid` and the `csrftoken` cookie that first answer set (read from one request before wrk
starts), so the server masks that secret on each answer rather than making a new one per request.
Needs PostgreSQL (BENCH_DATABASE_SERVER, default the local one), Redis on 127.0.0.1:6379
(REDIS_CACHE_URL, database 12 by default; flushed) and wrk (apt install wrk).

Usage: python bench/load.py [--duration 5] [--connections 1,10,50] [--workers 4] [--only faq]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
MEDIA = Path(tempfile.gettempdir()) / "helpcenter-bench-load-media"
STATIC = Path(tempfile.gettempdir()) / "helpcenter-bench-load-static"
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-load",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "EMAIL_URL": "consolemail://",
    "CELERY_BROKER_URL": "memory://",
    "REDIS_CACHE_URL": os.environ.get("REDIS_CACHE_URL", "redis://127.0.0.1:6379/12"),
    "MEDIA_ROOT": str(MEDIA),
    "STATIC_ROOT": str(STATIC),
    "DJANGO_LOG_LEVEL": "WARNING",
}
for _name, _value in PRODUCTION_ENV.items():
    os.environ.setdefault(_name, _value)

from _setup import (  # noqa: E402
    copy_generated_articles,
    django_on_bench_database,
    shipped_vocabulary,
    start_gunicorn,
    stop_gunicorn,
)


@dataclass
class Page:
    name: str
    url: str
    session: str = ""  # sessionid cookie of the user who opens it
    language: str = ""


@dataclass
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def build_data() -> dict[str, object]:
    """Everything the pages read; returns the objects the page list needs."""
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth.models import Group
    from django.core.files.base import ContentFile
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Store, User
    from disputes.models import Attachment, Claim, Dispute, Message
    from orders.models import Order

    sys.path.insert(0, str(BENCH_DIR))
    from claims_admin import add_claims
    from store_record import build

    started = time.perf_counter()
    arbitrator = User.objects.create(username="bench-arbitrator", is_staff=True)
    arbitrator.groups.add(Group.objects.get(name="arbitrators"))
    with connection.cursor() as cursor:
        build(cursor, orders=100_000, disputes=20_000, arbitrator_id=arbitrator.pk)
        buyer = User.objects.filter(role=User.Role.BUYER, is_staff=False).order_by("pk").first()
        assert buyer is not None
        store = Store.objects.order_by("pk").first()
        assert store is not None
        # One buyer with 1,000 orders: "My orders" must not grow with them.
        cursor.execute("SELECT count(*) FROM orders_order WHERE buyer_id = %s", [buyer.pk])
        have = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO orders_order (number, buyer_id, store_id, status, currency, total_amount, shipping_method,
                                      tracking_number, protection_days, paid_at, has_dispute, created_at, updated_at)
            SELECT 'M' || g, %(buyer)s, %(store)s, 'delivered', 'USD', 10 + g %% 90, 'Standard', 'LM' || g, 60,
                   now() - (g %% 300) * interval '1 day', false, now(), now()
            FROM generate_series(1, %(count)s) AS g
            """,
            {"buyer": buyer.pk, "store": store.pk, "count": max(1000 - have, 0)},
        )
        add_claims(cursor, count=10_000, buyer_id=buyer.pk, store_id=store.pk, arbitrator_id=arbitrator.pk)
        # Every dispute has its opening event and the buyer's request as a message.
        cursor.execute(
            """
            INSERT INTO disputes_disputeevent (dispute_id, kind, actor_id, details, created_at)
            SELECT id, 'opened', buyer_id, '{"problems": ["damaged"], "amount": "25.00"}'::jsonb, opened_at
            FROM disputes_dispute d WHERE NOT EXISTS (SELECT 1 FROM disputes_disputeevent e WHERE e.dispute_id = d.id)
            """
        )
        cursor.execute(
            """
            INSERT INTO disputes_message (dispute_id, author_id, kind, text, created_at)
            SELECT id, buyer_id, 'request', request_text, opened_at FROM disputes_dispute d
            WHERE NOT EXISTS (SELECT 1 FROM disputes_message m WHERE m.dispute_id = d.id)
            """
        )

    now = timezone.now()
    seller = store.owner

    def order(number: str, status: str) -> Order:
        return Order.objects.create(
            number=number,
            buyer=buyer,
            store=store,
            status=status,
            currency="USD",
            total_amount=Decimal("42.00"),
            shipping_method="AliExpress Standard Shipping",
            tracking_number=f"LP{number}",
            protection_days=60,
            paid_at=now - timedelta(days=25),
            shipped_at=now - timedelta(days=22),
            protection_due_at=now + timedelta(days=38),
        )

    disputed = order("9100000000000001", "in_transit")
    disputed.has_dispute = True
    disputed.save(update_fields=["has_dispute"])
    dispute = Dispute.objects.create(
        order=disputed,
        buyer=buyer,
        store=store,
        kind="not_as_described",
        problems=["damaged"],
        refund_type="full",
        requested_amount=Decimal("42.00"),
        paid_amount=Decimal("42.00"),
        currency="USD",
        request_text="Корпус треснул, экран не включается.",
        status=Dispute.Status.NEGOTIATING,
        opened_at=now - timedelta(days=2),
        escalation_opens_at=now + timedelta(days=1),
        auto_claim_due_at=now + timedelta(days=13),
    )
    messages = Message.objects.bulk_create(
        Message(
            dispute=dispute,
            author=buyer if number % 2 == 0 else seller,
            kind=Message.Kind.REQUEST if number == 0 else Message.Kind.MESSAGE,
            text=f"Сообщение {number + 1}: подробности о товаре и фото.",
        )
        for number in range(30)
    )
    png = _png_bytes()
    for number in range(10):
        attachment = Attachment(
            owner=buyer,
            token=f"benchload{number:023d}",
            kind=Attachment.Kind.IMAGE,
            content_type="image/png",
            extension="png",
            display_name=f"photo-{number + 1}.png",
            size=len(png),
            width=40,
            height=30,
            message=messages[number * 3],
        )
        attachment.file.save(f"{attachment.token}.png", ContentFile(png), save=False)
        attachment.save()
    wizard_order = order("9100000000000002", "in_transit")

    with connection.cursor() as cursor:
        _add_generated_articles(cursor, count=1000)
        cursor.execute("VACUUM ANALYZE")
    claim = Claim.objects.filter(stage="investigation").order_by("pk").first()
    assert claim is not None
    print(f"data built in {time.perf_counter() - started:.0f} s: {_counts()}", flush=True)
    return {
        "buyer": buyer,
        "arbitrator": arbitrator,
        "dispute": dispute,
        "order": disputed,
        "wizard_order": wizard_order,
        "claim": claim,
    }


def _png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def _add_generated_articles(cursor, *, count: int) -> None:
    """`count` published articles over ten new categories, with words of the shipped ones."""
    import random

    from faq.models import Category

    vocabulary = shipped_vocabulary()
    categories = [
        Category.objects.create(slug=f"generated-{number}", title_ru=f"Раздел {number}", position=50 + number).pk
        for number in range(10)
    ]
    random.seed(42)
    copy_generated_articles(
        cursor, count=count, category_ids=categories, title_words=vocabulary, body_words=vocabulary, positions=count
    )


def _counts() -> str:
    from django.db import connection

    tables = {
        "orders": "orders_order",
        "disputes": "disputes_dispute",
        "claims": "disputes_claim",
        "events": "disputes_disputeevent",
        "messages": "disputes_message",
        "articles": "faq_article",
    }
    with connection.cursor() as cursor:
        parts = []
        for label, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            parts.append(f"{cursor.fetchone()[0]:,} {label}")
    return ", ".join(parts)


def session_for(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def page_list(data: dict) -> list[Page]:
    from django.test import Client
    from django.urls import reverse

    from faq.models import Article

    article = Article.objects.filter(slug="otmena-spora").select_related("category").get()
    buyer_session = session_for(data["buyer"])
    arbitrator_session = session_for(data["arbitrator"])
    wizard_order = data["wizard_order"]
    # The wizard's second step needs the first answered, in the buyer's session.
    wizard_client = Client()
    wizard_client.cookies["sessionid"] = buyer_session
    wizard_start = reverse("disputes:wizard", args=[wizard_order.number, "received"])
    answered = wizard_client.post(wizard_start, {"received": "yes"})
    assert answered.status_code == 302, answered.status_code
    article_path = reverse("faq:article", args=[article.category.slug, article.slug])
    category_path = reverse("faq:category", args=[article.category.slug])
    return [
        # The floor: Django, its middleware and one SELECT 1, to read the other rows against on
        # a machine faster or slower than the one docs/performance.md was measured on.
        Page("health check (floor)", "/healthz"),
        Page("FAQ index", "/faq/"),
        Page("FAQ index (en)", "/en/faq/"),
        Page("FAQ category", category_path),
        Page("FAQ article", article_path),
        Page("FAQ article (en)", "/en" + article_path),
        Page("FAQ search, buyer query", "/faq/search/?q=" + urllib.parse.quote("продавец не отвечает")),
        Page("FAQ search, common word", "/faq/search/?q=" + urllib.parse.quote("заказ")),
        Page("My orders (1,000 orders)", reverse("orders:list"), buyer_session),
        Page("order", reverse("orders:detail", args=[data["order"].number]), buyer_session),
        Page("My disputes", reverse("disputes:list"), buyer_session),
        Page("dispute (30 messages, 10 files)", reverse("disputes:detail", args=[data["dispute"].pk]), buyer_session),
        Page("wizard, step 1", wizard_start, buyer_session),
        Page("wizard, step 2", reverse("disputes:wizard", args=[wizard_order.number, "problem"]), buyer_session),
        Page("admin claims list (10,000)", reverse("admin:disputes_claim_changelist"), arbitrator_session),
        Page("admin claim page", reverse("admin:disputes_claim_change", args=[data["claim"].pk]), arbitrator_session),
    ]


def count_queries(page: Page) -> int:
    from django.db import connection
    from django.test import Client

    client = Client()
    if page.session:
        client.cookies["sessionid"] = page.session
    client.get(page.url, HTTP_HOST="127.0.0.1")
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(page.url, HTTP_HOST="127.0.0.1")
    assert response.status_code == 200, (page.name, response.status_code, response.get("Location"))
    return len(executed)


LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def browser_cookies(url: str, session: str) -> str:
    """The Cookie header a browser sends for `url` after its first page: the session, and the CSRF
    cookie that page's answer set (the answer of a page with a form sets one)."""
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})
    with urllib.request.urlopen(request) as answer:
        set_cookies = answer.headers.get_all("Set-Cookie") or []
    csrf = [part.split(";", 1)[0] for part in set_cookies if part.startswith("csrftoken=")]
    return "; ".join([f"sessionid={session}", *csrf])


def wrk(url: str, *, connections: int, duration: float, cookie: str) -> Figures:
    command = [
        "wrk",
        f"-t{min(connections, 2)}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {percent: _ms(value, unit) for percent, value, unit in LATENCY.findall(output)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Figures(rate, latency["50"], latency["99"], int(errors.group(1)) if errors else 0)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per page and connection count")
    parser.add_argument("--connections", default="1,10,50")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--only", default="", help="measure only pages whose name contains this")
    parser.add_argument("--database", default="helpcenter_bench_load")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    shutil.rmtree(MEDIA, ignore_errors=True)
    django_on_bench_database(args.database)
    from django.core.cache import caches
    from django.core.management import call_command

    for alias in ("default", "sessions"):
        caches[alias].clear()
    call_command("collectstatic", interactive=False, verbosity=0)
    data = build_data()
    pages = [page for page in page_list(data) if args.only.lower() in page.name.lower()]
    queries = {page.name: count_queries(page) for page in pages}
    from django.db import connections

    connections.close_all()

    server = start_gunicorn(ROOT, args.port, args.workers)
    levels = [int(level) for level in args.connections.split(",")]
    try:
        print(
            f"\ngunicorn {args.workers} sync workers, production settings, PostgreSQL and Redis; "
            f"wrk {args.duration:g} s per row, on {os.cpu_count()} cores shared with the server\n"
        )
        print("| page | queries | connections | requests/s | p50 ms | p99 ms | errors |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for page in pages:
            url = f"http://127.0.0.1:{args.port}{page.url}"
            cookie = browser_cookies(url, page.session) if page.session else ""
            wrk(url, connections=10, duration=1, cookie=cookie)  # warm every worker
            for level in levels:
                figures = wrk(url, connections=level, duration=args.duration, cookie=cookie)
                print(
                    f"| {page.name} | {queries[page.name]} | {level} | {figures.requests_per_second:,.0f} "
                    f"| {figures.p50_ms:.1f} | {figures.p99_ms:.1f} | {figures.errors} |",
                    flush=True,
                )
    finally:
        stop_gunicorn(server)


if __name__ == "__main__":
    main()
