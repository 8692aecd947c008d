"""Keys for admin's template fragments kept with `{% cache … using="fragments" %}` (the cache of
core/fragments.py, in each process's memory). A key names everything its fragment shows, with the
reader's language, so a kept fragment is never stale and nothing is ever invalidated."""

from typing import Any

from django import template
from django.contrib import admin
from django.core.cache import caches
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.csp import CONTEXT_KEY as CSP_CONTEXT_KEY
from django.utils.safestring import mark_safe

from core.fragments import FRAGMENT_CACHE, digest

register = template.Library()


@register.filter
def changelist_filters_key(changelist: Any) -> str:
    """The key of a change list's filters (the "filters" block of admin/change_list.html): its
    query, its filters with their choices, and the facet switch; "" (not kept) when a filter is
    not a SimpleListFilter, whose choices come from its lookups alone, or counts are shown. A
    filter marked `fixed_choices` (its choices depend on the language alone, which the key holds)
    is named by its class instead of its choices."""
    specs = changelist.filter_specs
    if changelist.add_facets or not all(isinstance(spec, admin.SimpleListFilter) for spec in specs):
        return ""
    return digest(
        (
            translation.get_language(),
            sorted((name, str(value)) for name, value in changelist.params.items()),
            changelist.has_active_filters,
            changelist.is_facets_optional,
            [
                (type(spec).__name__,)
                if getattr(spec, "fixed_choices", False)
                else (
                    type(spec).__name__,
                    str(spec.title),
                    [(str(value), str(label)) for value, label in spec.lookup_choices],
                )
                for spec in specs
            ],
        )
    )


# What a kept fragment holds where its page writes its CSP nonce (`{% csp_nonce_attr %}`, media
# rendered with the nonce): the nonce differs on every answer, so the mark is put in when the
# fragment is drawn and the answer's own nonce in its place each time it is served. Never a real
# nonce (those are 22 characters of [A-Za-z0-9_-]) nor text an admin page writes.
NONCE_MARK = "kept-fragment-csp-nonce"
KEPT_SECONDS = 3600
# The render context's entry of what every fragment of one render shares (KeptNode.render()).
RENDER_WIDE = "core.templatetags.admin_fragments:kept"


class KeptNode(template.Node):
    child_nodelists = ("nodelist",)

    def __init__(self, nodelist: template.NodeList, name: str, parts: list[Any]) -> None:
        self.nodelist, self.name, self.parts = nodelist, name, parts
        self.found: dict[type, list[template.Node]] = {}

    def get_nodes_by_type(self, nodetype: type) -> list[template.Node]:
        # Asked on every render of a page that extends the template this fragment is in (for its
        # blocks): a parsed template never changes, so the answer is found once.
        found = self.found.get(nodetype)
        if found is None:
            found = self.found[nodetype] = super().get_nodes_by_type(nodetype)
        return list(found)

    def render(self, context: template.Context) -> str:
        nonce = context.get(CSP_CONTEXT_KEY)
        if nonce is None:  # no CSP context processor: nothing to put back, draw it as it is
            return self.nodelist.render(context)
        # What no fragment of one page's render changes, found by its first fragment.
        render_wide: tuple[str, Any] | None = context.render_context.get(RENDER_WIDE)
        if render_wide is None:
            render_wide = context.render_context[RENDER_WIDE] = (get_script_prefix(), caches[FRAGMENT_CACHE])
        prefix, cache = render_wide
        shown = (
            translation.get_language(),
            prefix,  # in every address the fragment writes
            # The page's own template: a block inside the fragment that a page template overrides
            # is kept for that page apart from the others.
            context.template.name if context.template is not None else None,
            *(part.resolve(context) for part in self.parts),
        )
        key = f"kept:{self.name}:{digest(shown)}"
        html: str | None = cache.get(key)
        if html is None:
            with context.push({CSP_CONTEXT_KEY: NONCE_MARK}):
                html = self.nodelist.render(context)
            cache.set(key, html, KEPT_SECONDS)
        # The HTML was rendered by the template with autoescaping; the nonce is URL-safe base64.
        return mark_safe(html.replace(NONCE_MARK, str(nonce)))


@register.tag
def kept(parser: template.base.Parser, token: template.base.Token) -> KeptNode:
    """`{% kept "name" part… %}…{% endkept %}`: the fragment drawn once per process for each
    language, page template and value of the parts (everything else it shows must be the same for
    every reader and request), with this answer's CSP nonce put in each time (NONCE_MARK). A
    fragment with `{% csrf_token %}` is refused: a token is never kept."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% kept %} takes a name and the parts of its key")
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(CsrfTokenNode):
        raise template.TemplateSyntaxError("{% kept %} must not hold {% csrf_token %}")
    return KeptNode(nodelist, bits[1].strip("\"'"), [parser.compile_filter(bit) for bit in bits[2:]])
