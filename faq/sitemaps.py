from django.contrib.sitemaps import Sitemap

from . import selectors
from .models import Category


class CategorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6
    i18n = True
    alternates = True
    x_default = True

    def items(self):
        return list(Category.objects.filter(articles__status="published").distinct().order_by("position"))


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    i18n = True
    alternates = True
    x_default = True

    def items(self):
        return list(selectors.published_articles().select_related("category").order_by("pk"))

    def lastmod(self, article):
        return article.updated_at

    def get_languages_for_item(self, article):
        # An article with no English text has no English page to offer.
        return ["ru", "en"] if article.has_english else ["ru"]
