"""The articles that ship with the project, in faq/content/ as Markdown files.

Each folder is a category (`_category.md` holds its titles); each other file is an article: a
header of `key: value` lines between `---` lines, the Russian body, and after a line
`=== en ===` the English body. A data migration loads them into a fresh database and
`manage.py load_faq_content` loads them again later (it keeps support's edits unless --overwrite).
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from .rendering import render_markdown
from .text import DICTIONARY_FIELDS, dictionary_words

CONTENT_DIR = Path(__file__).resolve().parent / "content"
ENGLISH_SEPARATOR = re.compile(r"^=== en ===\s*$", re.MULTILINE)


@dataclass
class ArticleSource:
    slug: str
    position: int
    meta: dict[str, str]
    body_ru: str
    body_en: str


@dataclass
class CategorySource:
    slug: str
    position: int
    meta: dict[str, str]
    articles: list[ArticleSource] = field(default_factory=list)


def _parse(path: Path) -> tuple[dict[str, str], str, str]:
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    if text.startswith("---\n"):
        header, text = text[4:].split("\n---\n", 1)
        for line in header.splitlines():
            if line.strip():
                key, value = line.split(":", 1)
                meta[key.strip()] = value.strip()
    parts = ENGLISH_SEPARATOR.split(text, maxsplit=1)
    return meta, parts[0].strip() + "\n", (parts[1].strip() + "\n") if len(parts) > 1 else ""


def bundled_content() -> list[CategorySource]:
    categories = []
    for folder in sorted(path for path in CONTENT_DIR.iterdir() if path.is_dir()):
        position, slug = folder.name.split("-", 1)
        meta, _, _ = _parse(folder / "_category.md")
        category = CategorySource(slug=slug, position=int(position), meta=meta)
        for file in sorted(folder.glob("[0-9]*.md")):
            article_position, article_slug = file.stem.split("-", 1)
            article_meta, body_ru, body_en = _parse(file)
            category.articles.append(ArticleSource(article_slug, int(article_position), article_meta, body_ru, body_en))
        categories.append(category)
    return categories


def load_bundled_content(*, category_model, article_model, search_word_model, overwrite: bool = False) -> int:
    """Create the shipped categories and articles (published); returns how many were written.

    Takes the model classes so that a migration can pass its historical models.
    """
    written = 0
    by_slug = {}
    for source in bundled_content():
        category, _ = category_model.objects.update_or_create(
            slug=source.slug,
            defaults={
                "position": source.position,
                "title_ru": source.meta["title_ru"],
                "title_en": source.meta.get("title_en", ""),
                "description_ru": source.meta.get("description_ru", ""),
                "description_en": source.meta.get("description_en", ""),
            },
        )
        for article_source in source.articles:
            article = article_model.objects.filter(category=category, slug=article_source.slug).first()
            if article is not None and not overwrite:
                by_slug[article_source.slug] = article
                continue
            article = article or article_model(category=category, slug=article_source.slug)
            meta = article_source.meta
            article.position = article_source.position
            article.status = "published"
            for language in ("ru", "en"):
                setattr(article, f"title_{language}", meta.get(f"title_{language}", ""))
                setattr(article, f"summary_{language}", meta.get(f"summary_{language}", ""))
                setattr(article, f"keywords_{language}", meta.get(f"keywords_{language}", ""))
                body = article_source.body_ru if language == "ru" else article_source.body_en
                rendered = render_markdown(body)
                setattr(article, f"body_{language}", body)
                setattr(article, f"body_html_{language}", rendered.html)
                setattr(article, f"body_text_{language}", rendered.text)
                setattr(article, f"toc_{language}", rendered.toc)
            if article.published_at is None:
                from django.utils import timezone

                article.published_at = timezone.now()
            article.save()
            by_slug[article_source.slug] = article
            words = set().union(
                *(dictionary_words(text) for text in (getattr(article, name) for name in DICTIONARY_FIELDS))
            )
            search_word_model.objects.bulk_create([search_word_model(word=w) for w in words], ignore_conflicts=True)
            written += 1
    for source in bundled_content():
        for article_source in source.articles:
            related_slugs = [s.strip() for s in article_source.meta.get("related", "").split(",") if s.strip()]
            related = [by_slug[s] for s in related_slugs if s in by_slug]
            if related:
                by_slug[article_source.slug].related.add(*related)
    return written
