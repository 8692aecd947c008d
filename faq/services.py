"""Writes to the knowledge base: rendering on save, images, votes."""

import secrets

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from core.uploads import reencode_image

from .models import Article, ArticleImage, ArticleVote, Category, SearchWord
from .pagecache import faq_pages_invalidate
from .rendering import render_markdown
from .text import DICTIONARY_FIELDS, dictionary_words


def article_image_urls(article: Article) -> dict[int, str]:
    if article.pk is None:
        return {}
    return {image.pk: reverse("faq_image", args=[image.token, image.format.lower()]) for image in article.images.all()}


def article_render(*, article: Article) -> Article:
    """Fill the rendered HTML, plain text and contents of both languages from the Markdown."""
    image_urls = article_image_urls(article)
    for language in ("ru", "en"):
        rendered = render_markdown(getattr(article, f"body_{language}"), image_urls=image_urls)
        setattr(article, f"body_html_{language}", rendered.html)
        setattr(article, f"body_text_{language}", rendered.text)
        setattr(article, f"toc_{language}", rendered.toc)
    return article


# Not durable: admin's save_model and delete_model hooks call these inside the transaction of
# Django's change and delete views.
@transaction.atomic
def article_save(*, article: Article) -> Article:
    """Save an article as support edited it: rendered, dated, and its words added to the dictionary."""
    article_render(article=article)
    if article.status == Article.Status.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()
    article.save()
    search_words_add(texts=[getattr(article, name) for name in DICTIONARY_FIELDS])
    faq_pages_invalidate()
    return article


def article_status_set(*, article: Article, status: str) -> Article:
    """Publish an article or move it back to drafts (the admin list's actions), saved as above."""
    article.status = status
    return article_save(article=article)


@transaction.atomic
def article_delete(*, article: Article) -> None:
    article.delete()
    faq_pages_invalidate()


@transaction.atomic
def category_save(*, category: Category) -> Category:
    """Save a category as support edited it (its title and place show on every public page)."""
    category.save()
    faq_pages_invalidate()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    category.delete()
    faq_pages_invalidate()


def search_words_add(*, texts: list[str]) -> None:
    words = set().union(*(dictionary_words(text) for text in texts))
    if not words:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO faq_searchword (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", [sorted(words)]
            )
    else:
        SearchWord.objects.bulk_create([SearchWord(word=word) for word in words], ignore_conflicts=True)


@transaction.atomic
def article_image_add(*, article: Article, uploaded, caption: str = "") -> ArticleImage:
    clean = reencode_image(uploaded, max_bytes=settings.FAQ_IMAGE_MAX_BYTES)
    image = ArticleImage(article=article, caption=caption, token=secrets.token_hex(16), format=clean.format)
    image.image.save(f"{image.token}.{clean.extension}", clean.content, save=False)
    image.save()
    return image


def article_vote_comment(*, article: Article, visitor: str, comment: str) -> bool:
    """Keep what was missing with the visitor's own "not helpful" vote; False without one."""
    updated = ArticleVote.objects.filter(article=article, visitor=visitor, helpful=False).update(
        comment=comment.strip()[:1000]
    )
    return updated > 0


def article_vote(*, article: Article, visitor: str, helpful: bool) -> bool:
    """Count a visitor's answer once. Returns False when this visitor had already answered."""
    try:
        with transaction.atomic(durable=True):
            ArticleVote.objects.create(article=article, visitor=visitor, helpful=helpful)
            counter = "helpful_yes" if helpful else "helpful_no"
            Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    except IntegrityError:
        return False
    return True
