"""What the help centre does not answer, for support: searches that found nothing or whose first
result nobody opened, and articles voted "not helpful" with what their readers said was missing.

Searches are stored without who asked: no user, session, cookie or address, only the normalised
words, the language, the number of results, the first article and whether it was opened (the
result links carry a random token, not an identity). The `search-log-retention` sweep deletes
them after SEARCH_LOG_RETENTION_DAYS (90).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Article, ArticleVote, SearchLog
from .text import tokens

MAX_QUERY_LENGTH = 200


def normalise_query(query: str) -> str:
    """ "Товар НЕ пришёл!!" and "товар не пришел" are one question: lower case, ё as е, words only."""
    return " ".join(tokens(query))[:MAX_QUERY_LENGTH]


def search_log_record(
    *, query: str, language: str, results: int, first_article_id: int | None, now: datetime | None = None
) -> str | None:
    """Keep one search; returns the token its result links carry (None for an empty query)."""
    normalised = normalise_query(query)
    if not normalised:
        return None
    token = secrets.token_hex(16)
    SearchLog.objects.create(
        token=token,
        query=normalised,
        language=language[:5],
        results=results,
        first_result_id=first_article_id,
        created_at=now or timezone.now(),
    )
    return token


def search_log_opened(*, token: str, article: Article) -> None:
    """A result was opened: when it was the first one, the search found what it should."""
    SearchLog.objects.filter(token=token, first_result=article, first_opened=False).update(first_opened=True)


@dataclass(frozen=True)
class QueryGap:
    query: str
    searches: int
    no_results: int
    first_not_opened: int

    @property
    def found(self) -> int:
        """Searches of this query that found articles."""
        return self.searches - self.no_results


def _query_counts(*, days: int, now: datetime | None):
    since = (now or timezone.now()) - timedelta(days=days)
    return (
        SearchLog.objects.filter(created_at__gte=since)
        .values("query")
        .annotate(
            searches=Count("pk"),
            no_results=Count("pk", filter=Q(results=0)),
            first_not_opened=Count("pk", filter=Q(results__gt=0, first_opened=False)),
        )
    )


def _gaps(rows) -> list[QueryGap]:
    return [QueryGap(row["query"], row["searches"], row["no_results"], row["first_not_opened"]) for row in rows]


def search_gaps(*, days: int, now: datetime | None = None, limit: int = 200) -> list[QueryGap]:
    """Queries of the last `days` that found nothing or whose first result was not opened, the
    most frequent first: one grouped query over the created_at index (the CSV's table)."""
    rows = _query_counts(days=days, now=now).filter(Q(no_results__gt=0) | Q(first_not_opened__gt=0))
    return _gaps(rows.order_by("-searches", "query")[:limit])


def searches_not_found(*, days: int, now: datetime | None = None, limit: int = 200) -> list[QueryGap]:
    """Queries of the last `days` that found nothing at least once, the most often first. A query
    that found articles every time is not here, whether or not its first result was opened."""
    rows = _query_counts(days=days, now=now).filter(no_results__gt=0)
    return _gaps(rows.order_by("-no_results", "query")[:limit])


def searches_first_not_opened(*, days: int, now: datetime | None = None, limit: int = 200) -> list[QueryGap]:
    """Queries of the last `days` that found articles but whose first result was not opened."""
    rows = _query_counts(days=days, now=now).filter(first_not_opened__gt=0)
    return _gaps(rows.order_by("-first_not_opened", "query")[:limit])


def unhelpful_articles(*, days: int, now: datetime | None = None, limit: int = 100) -> list[Article]:
    """Articles with "not helpful" votes in the last `days`, the most first, each with
    `not_helpful`, `helpful` and `comments` (the votes that said what was missing)."""
    since = (now or timezone.now()) - timedelta(days=days)
    in_window = Q(votes__created_at__gte=since)
    return list(
        Article.objects.annotate(
            not_helpful=Count("votes", filter=in_window & Q(votes__helpful=False)),
            helpful=Count("votes", filter=in_window & Q(votes__helpful=True)),
        )
        .filter(not_helpful__gt=0)
        .select_related("category")
        .prefetch_related(
            Prefetch(
                "votes",
                queryset=ArticleVote.objects.filter(helpful=False, created_at__gte=since)
                .exclude(comment="")
                .order_by("-created_at"),
                to_attr="comments",
            )
        )
        .order_by("-not_helpful", "pk")[:limit]
    )


def gap_rows(*, days: int, now: datetime | None = None) -> list[list[object]]:
    """Both reports as one table for CSV."""
    rows: list[list[object]] = [[_("Запрос"), _("Поисков"), _("Ничего не нашлось"), _("Первую статью не открыли")]]
    rows += [[gap.query, gap.searches, gap.no_results, gap.first_not_opened] for gap in search_gaps(days=days, now=now)]
    rows.append([])
    rows.append([_("Статья"), _("Не помогла"), _("Помогла"), _("Комментарии")])
    for article in unhelpful_articles(days=days, now=now):
        comments = " | ".join(vote.comment for vote in article.comments)  # type: ignore[attr-defined]
        rows.append([article.title_ru, article.not_helpful, article.helpful, comments])  # type: ignore[attr-defined]
    return rows
