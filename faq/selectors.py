from typing import NamedTuple

from django.db.models import Count, F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404

from .models import Article, ArticleVote, Category


def published_articles() -> QuerySet[Article]:
    return Article.objects.filter(status=Article.Status.PUBLISHED)


def categories_with_articles() -> QuerySet[Category]:
    """Categories that have published articles, each with them in order (two queries)."""
    articles = (
        published_articles()
        .order_by("position", "pk")
        .only("pk", "slug", "title_ru", "title_en", "summary_ru", "summary_en", "category_id", "position")
    )
    return (
        Category.objects.filter(articles__status=Article.Status.PUBLISHED)
        .distinct()
        .prefetch_related(Prefetch("articles", queryset=articles, to_attr="published"))
    )


# The help centre's front page lists the first articles of each section (by their position, as
# support orders them) and links to the rest: a section can hold hundreds.
INDEX_ARTICLES_PER_CATEGORY = 6


def help_centre_index() -> QuerySet[Category]:
    """Sections with published articles, each with its first INDEX_ARTICLES_PER_CATEGORY
    (`first_articles`) and how many it has (`published_count`), in two queries."""
    place = Window(RowNumber(), partition_by=F("category_id"), order_by=(F("position").asc(), F("pk").asc()))
    first = (
        published_articles()
        .annotate(place=place)
        .filter(place__lte=INDEX_ARTICLES_PER_CATEGORY)
        .order_by("position", "pk")
        .only("pk", "slug", "title_ru", "title_en", "category_id", "position")
    )
    return (
        Category.objects.filter(articles__status=Article.Status.PUBLISHED)
        .annotate(published_count=Count("articles"))
        .prefetch_related(Prefetch("articles", queryset=first, to_attr="first_articles"))
    )


def category_get(*, slug: str) -> Category:
    category = categories_with_articles().filter(slug=slug).first()
    if category is None:
        raise Http404
    return category


def article_get_published(*, category_slug: str, slug: str) -> Article:
    try:
        return published_articles().select_related("category").get(category__slug=category_slug, slug=slug)
    except Article.DoesNotExist:
        raise Http404 from None


def article_related(article: Article) -> list[Article]:
    related = list(published_articles().filter(related=article).select_related("category").order_by("position")[:5])
    if len(related) < 3:
        siblings = (
            published_articles()
            .filter(category_id=article.category_id)
            .exclude(pk__in=[article.pk, *(item.pk for item in related)])
            .select_related("category")
            .order_by("position", "pk")[: 3 - len(related)]
        )
        related += list(siblings)
    return related


class VisitorVote(NamedTuple):
    helpful: bool
    commented: bool  # a "not helpful" voter said what was missing


def visitor_vote(*, article: Article, visitor: str | None) -> VisitorVote | None:
    """This visitor's answer to "was this helpful?" on the article, or None before they answer."""
    if not visitor:
        return None
    row = ArticleVote.objects.filter(article=article, visitor=visitor).values_list("helpful", "comment").first()
    return VisitorVote(helpful=row[0], commented=bool(row[1])) if row else None
