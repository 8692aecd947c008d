"""Shared start-up for the benchmarks: Django on a PostgreSQL database of their own."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_on_bench_database(name: str, *, fresh: bool = True) -> str:
    """Point Django at a fresh database `name` on the server of DATABASE_URL (or the local one);
    with fresh=False at the one already there (made if missing), migrated."""
    import psycopg2

    server = os.environ.get("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
    url = f"{server.rstrip('/')}/{name}"
    admin = psycopg2.connect(f"{server.rstrip('/')}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if fresh and exists:
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if fresh or not exists:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpcenter.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def test_client_settings(redis_cache_url: str) -> None:
    """Production settings (cached templates, no debug) served to Django's test client; Redis for
    the cache (counters, sessions, the store record beside claims). Call before Django starts."""
    for name, value in {
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_DEBUG": "0",
        "REDIS_CACHE_URL": redis_cache_url,
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "EMAIL_URL": "consolemail://",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }.items():
        os.environ.setdefault(name, value)


def django_for_test_client(name: str) -> None:
    """Django on a fresh bench database `name`, with the static files collected (production
    settings serve them from the manifest)."""
    django_on_bench_database(name)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def shipped_vocabulary() -> list[str]:
    """The Russian words of the shipped articles, as often as they occur there."""
    import re

    from faq.models import Article

    texts = Article.objects.values_list("body_text_ru", flat=True)
    return [word for text in texts for word in re.findall(r"[а-яё]{3,}", text.lower())]


def copy_generated_articles(
    cursor, *, count: int, category_ids: list[int], title_words: list[str], body_words: list[str], positions: int
) -> None:
    """`count` published articles (six-word titles, 180-word bodies drawn from the word lists with
    the caller's random seed), spread over `category_ids` in turn, written by one COPY; then their
    words go into the search dictionary."""
    import io
    import random

    buffer = io.StringIO()
    for number in range(count):
        title = " ".join(random.choices(title_words, k=6)).capitalize()
        body = " ".join(random.choices(body_words, k=180))
        row = [
            str(category_ids[number % len(category_ids)]), f"generated-{number}", "published",
            str(number % positions), title, "", title[:300], "", "", "", body, "", f"<p>{body}</p>", "", body, "",
            "[]", "[]", "0", "0", "2026-01-01 00:00:00+00", "2026-01-01 00:00:00+00", "2026-01-01 00:00:00+00",
        ]  # fmt: skip
        buffer.write("\t".join(row) + "\n")
    buffer.seek(0)
    columns = (
        "category_id, slug, status, position, title_ru, title_en, summary_ru, summary_en, keywords_ru, keywords_en, "
        "body_ru, body_en, body_html_ru, body_html_en, body_text_ru, body_text_en, toc_ru, toc_en, helpful_yes, "
        "helpful_no, published_at, updated_at, created_at"
    )
    cursor.copy_expert(f"COPY faq_article ({columns}) FROM STDIN", buffer)
    cursor.execute(
        "INSERT INTO faq_searchword (word) SELECT word FROM ts_stat("
        "$$SELECT to_tsvector('simple', title_ru || ' ' || body_text_ru) FROM faq_article$$) "
        "WHERE length(word) BETWEEN 3 AND 64 ON CONFLICT DO NOTHING"
    )


# The orders' columns the benchmarks fill by bare SQL.
ORDER_COLUMNS = (
    "number, buyer_id, store_id, status, currency, total_amount, shipping_method, tracking_number, "
    "protection_days, paid_at, shipped_at, protection_due_at, has_dispute, created_at, updated_at"
)


def measure(function: Callable[[], object], repeat: int) -> tuple[int, float, float]:
    """One warm-up call, the SQL statements of a second, then the median and p99 milliseconds of
    `repeat` more."""
    from django.db import connection

    function()
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        function()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return len(executed), percentile(timings, 0.5), percentile(timings, 0.99)


def bench_parties(arbitrators: int = 1):
    """A buyer, a seller's store and `arbitrators` staff in the arbitrators' group (named
    bench-arbitrator, or bench-arbitrator-N when there are several)."""
    from django.contrib.auth.models import Group

    from accounts.models import Store, User

    buyer = User.objects.create(username="bench-buyer", email="buyer@bench.local")
    seller = User.objects.create(username="bench-seller", email="seller@bench.local", role="seller")
    store = Store.objects.create(owner=seller, name="Bench Store")
    group = Group.objects.get(name="arbitrators")
    staff = []
    for number in range(1, arbitrators + 1):
        name = "bench-arbitrator" if arbitrators == 1 else f"bench-arbitrator-{number}"
        arbitrator = User.objects.create(username=name, is_staff=True)
        arbitrator.groups.add(group)
        staff.append(arbitrator)
    return buyer, store, staff


def print_page_table(rows: list[tuple[int, str, int, float, float]], size_title: str = "claims") -> None:
    print(f"{size_title:>7}  {'page':32} {'queries':>7} {'median ms':>10} {'p99 ms':>8}")
    for size, name, queries, median, p99 in rows:
        print(f"{size:>7,}  {name:32} {queries:>7} {median:>10.1f} {p99:>8.1f}")


def start_gunicorn(
    app_dir: Path, port: int, workers: int, env: dict[str, str] | None = None, *, keep_stderr: bool = True
) -> subprocess.Popen:
    """gunicorn serving the checkout `app_dir` in its own process group, once /healthz answers;
    keep_stderr=False for a run whose errors are expected (its log would fill the pipe)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "helpcenter.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
        cwd=app_dir,
        env={**os.environ, **(env or {}), "DJANGO_SETTINGS_MODULE": "helpcenter.settings"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if keep_stderr else subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError as error:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"gunicorn in {app_dir} did not start: {stderr}") from error
            time.sleep(0.2)
    raise SystemExit(f"gunicorn in {app_dir} did not answer /healthz in 30 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
