"""Demo searches and a "not helpful" vote, so support's "Пробелы справки" page has something to read."""

from datetime import datetime, timedelta

from core.demo import demo_step

from .gaps import normalise_query
from .models import Article, ArticleVote, SearchLog

# query, results, first result opened, days ago
DEMO_SEARCHES = [
    ("кешбэк баллы не пришли", 0, False, 1),
    ("кешбэк баллы не пришли", 0, False, 3),
    ("как вернуть пошлину", 0, False, 12),
    ("отменить спор", 3, False, 2),
    ("вернуть деньги", 6, True, 1),
]


@demo_step(50)
def seed_help_gaps(now: datetime) -> None:
    if SearchLog.objects.filter(token__startswith="demo").exists():
        return
    first = Article.objects.filter(status=Article.Status.PUBLISHED).order_by("pk").first()
    SearchLog.objects.bulk_create(
        SearchLog(
            token=f"demo{index:028d}",
            query=normalise_query(query),
            language="ru",
            results=results,
            first_result=first if results else None,
            first_opened=opened,
            created_at=now - timedelta(days=days_ago),
        )
        for index, (query, results, opened, days_ago) in enumerate(DEMO_SEARCHES)
    )
    article = Article.objects.filter(slug="otmena-spora").first()
    if article is not None:
        ArticleVote.objects.get_or_create(
            article=article,
            visitor="anon:demo",
            defaults={"helpful": False, "comment": "Не сказано, что будет с деньгами, если продавец уже вернул часть."},
        )
