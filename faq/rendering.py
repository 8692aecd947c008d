"""Markdown to sanitised HTML for FAQ articles.

Support writes Markdown in admin; whatever it contains, only the tags and attributes listed here
reach the page: no script, no event handlers, no javascript: links, no inline styles.
"""

import html
import re
from dataclasses import dataclass

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "b", "i", "u", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
IMAGE_REFERENCE = re.compile(r'src="image:(\d+)"')


@dataclass(frozen=True)
class RenderedBody:
    html: str
    text: str
    toc: list[dict]


def _toc_entries(tokens: list[dict]) -> list[dict]:
    return [{"id": token["id"], "name": html.unescape(token["name"]), "level": token["level"]} for token in tokens]


def render_markdown(source: str, *, image_urls: dict[int, str] | None = None) -> RenderedBody:
    """Render Markdown; `image:ID` sources become the URLs given for them, unknown ones vanish."""
    image_urls = image_urls or {}
    converter = markdown.Markdown(
        extensions=["toc", "tables", "sane_lists"],
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-3"}},
        output_format="html",
    )
    raw_html = converter.convert(source or "")
    raw_html = IMAGE_REFERENCE.sub(
        lambda match: f'src="{html.escape(image_urls.get(int(match.group(1)), ""))}"', raw_html
    )
    clean_html = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    # Headings in the table of contents: second level, each with the third-level ones under it.
    toc = []
    for token in converter.toc_tokens:  # type: ignore[attr-defined]  # set by the toc extension
        if token["level"] == 2:
            toc.append({**_toc_entries([token])[0], "children": _toc_entries(token.get("children", []))})
    text = html.unescape(nh3.clean(re.sub(r"<(/p|/h\d|/li|br|/tr)>", r"<\1>\n", clean_html), tags=set()))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return RenderedBody(html=clean_html, text=text, toc=toc)
