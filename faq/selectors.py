from django.db.models import Prefetch, QuerySet
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


def visitor_vote(*, article: Article, visitor: str | None) -> bool | None:
    if not visitor:
        return None
    return ArticleVote.objects.filter(article=article, visitor=visitor).values_list("helpful", flat=True).first()
