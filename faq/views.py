import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from core import files

from . import gaps, pagecache, search, selectors, services
from .models import Article, ArticleImage
from .pagecache import cached_public_page
from .text import current_language

VISITOR_COOKIE = "faq_visitor"
VISITOR_SALT = "faq.visitor"


def _visitor(request) -> str | None:
    """Who is voting: the user, or an anonymous visitor known by a signed cookie."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    value = request.get_signed_cookie(VISITOR_COOKIE, default=None, salt=VISITOR_SALT)
    return f"anon:{value}" if value else None


@cached_public_page()
def faq_index(request):
    return render(request, "faq/index.html", {"categories": selectors.help_centre_index()})


@cached_public_page()
def faq_category(request, category_slug: str):
    category = selectors.category_get(slug=category_slug)
    return render(request, "faq/category.html", {"category": category})


def _article_page(request, article: Article, *, preview: bool = False):
    return render(
        request,
        "faq/article.html",
        {
            "article": article,
            "category": article.category,
            "related": selectors.article_related(article),
            "vote": selectors.visitor_vote(article=article, visitor=_visitor(request)),
            "preview": preview,
            "language": current_language(),
        },
    )


@cached_public_page(personal_cookies=(VISITOR_COOKIE,))
def faq_article(request, category_slug: str, slug: str):
    article = selectors.article_get_published(category_slug=category_slug, slug=slug)
    return _article_page(request, article)


@permission_required("faq.change_article", raise_exception=True)
def faq_article_preview(request, pk: int):
    article = get_object_or_404(Article.objects.select_related("category"), pk=pk)
    return _article_page(request, article, preview=True)


@require_POST
def faq_article_vote(request, category_slug: str, slug: str):
    article = selectors.article_get_published(category_slug=category_slug, slug=slug)
    visitor = _visitor(request)
    new_cookie = None
    if visitor is None:
        new_cookie = uuid.uuid4().hex
        visitor = f"anon:{new_cookie}"
    helpful = request.POST.get("helpful") == "yes"
    if services.article_vote(article=article, visitor=visitor, helpful=helpful):
        messages.success(request, _("Спасибо за ответ!"))
    else:
        messages.info(request, _("Ваш ответ уже учтён."))
    response = redirect(article.get_absolute_url() + "#helpful")
    if new_cookie:
        response.set_signed_cookie(
            VISITOR_COOKIE,
            new_cookie,
            salt=VISITOR_SALT,
            max_age=60 * 60 * 24 * 365,
            httponly=True,
            samesite="Lax",
            secure=not settings.DEBUG,
        )
    return response


# Stands for the search's own token in the result links of a page kept for every visitor.
SEARCH_TOKEN_PLACEHOLDER = "faq-search-token-placeholder"


def faq_search(request):
    query = request.GET.get("q", "").strip()[:200]
    language = current_language()
    context = {"query": query, "support_email": settings.SUPPORT_EMAIL}
    if not query:
        return render(request, "faq/search.html", {**context, "results": None, "popular": search.popular_articles()})

    def results_page() -> tuple[HttpResponse, tuple[int, int | None]]:
        # Buyers ask the same few questions: the results of a query are kept until the help centre
        # changes (faq/pagecache.py), and so is the whole page for visitors with nothing personal
        # on it; see docs/performance.md. What the visitor typed is still logged on every request.
        results = pagecache.kept_at_version(f"search:{query}", lambda: search.search_articles(query, language=language))
        page = render(
            request,
            "faq/search.html",
            {
                **context,
                "results": results,
                "popular": [] if results.hits else search.popular_articles(),
                "search_token": SEARCH_TOKEN_PLACEHOLDER,
            },
        )
        return page, (results.total, results.hits[0].article.pk if results.hits else None)

    response, (total, first_pk) = pagecache.kept_search_page(request, query, results_page)
    token = gaps.search_log_record(query=query, language=language, results=total, first_article_id=first_pk)
    # A query of no words (punctuation only) finds nothing: its page links to no result.
    if token:
        response.content = response.content.replace(SEARCH_TOKEN_PLACEHOLDER.encode(), token.encode())
    return response


def faq_search_open(request, token: str, pk: int):
    """A search result was opened: noted against the search (not the visitor), then the article."""
    article = get_object_or_404(Article.objects.select_related("category"), pk=pk, status=Article.Status.PUBLISHED)
    gaps.search_log_opened(token=token, article=article)
    return redirect(article.get_absolute_url())


@require_POST
def faq_article_vote_comment(request, category_slug: str, slug: str):
    """What a "not helpful" voter says was missing, kept with their vote."""
    article = selectors.article_get_published(category_slug=category_slug, slug=slug)
    visitor = _visitor(request)
    comment = request.POST.get("comment", "").strip()[:1000]
    if visitor and comment:
        # The thanks is shown where the form was (templates/faq/article.html), not as a message.
        services.article_vote_comment(article=article, visitor=visitor, comment=comment)
    return redirect(article.get_absolute_url() + "#helpful")


@cache_control(max_age=86400)
def faq_image(request, token: str, extension: str):
    image = get_object_or_404(ArticleImage.objects.select_related("article"), token=token)
    if extension != image.format.lower():
        raise Http404
    if not image.article.is_published and not request.user.has_perm("faq.change_article"):
        raise Http404
    response = files.streamed_file_response(image.image, content_type=f"image/{image.format.lower()}")
    response["X-Content-Type-Options"] = "nosniff"
    return response
