"""Shared start-up for the benchmarks: Django on a PostgreSQL database of their own."""

import os
import sys
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
