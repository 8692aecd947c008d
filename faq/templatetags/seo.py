from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.html import format_html, format_html_join

from faq.text import current_language

register = template.Library()


@register.simple_tag(takes_context=True)
def seo_links(context, english: bool = True):
    """Canonical URL of this page and its language versions for search engines."""
    request = context["request"]
    base = settings.SITE_URL.rstrip("/")
    language = current_language()
    path = request.path
    russian_path = translate_url(path, "ru")
    versions = [("ru", russian_path)]
    if english:
        versions.append(("en", translate_url(path, "en")))
    # A page with no English text points English readers at the Russian one.
    canonical = path if (language == "ru" or english) else russian_path
    links = format_html('<link rel="canonical" href="{}{}">', base, canonical)
    links += format_html_join(
        "", '\n<link rel="alternate" hreflang="{}" href="{}{}">', ((code, base, url) for code, url in versions)
    )
    links += format_html('\n<link rel="alternate" hreflang="x-default" href="{}{}">', base, russian_path)
    return links
