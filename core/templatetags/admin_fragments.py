"""Keys for admin's template fragments kept with `{% cache … using="fragments" %}` (the cache of
core/fragments.py, in each process's memory). A key names everything its fragment shows, with the
reader's language, so a kept fragment is never stale and nothing is ever invalidated."""

from typing import Any

from django import template
from django.contrib import admin
from django.template.defaultfilters import urlencode
from django.utils import translation

from core.fragments import digest

register = template.Library()


@register.filter
def nav_sidebar_key(available_apps: list[dict[str, Any]], path: str) -> str:
    """The key of admin's navigation (admin/nav_sidebar.html): the apps and models the reader may
    open, their names and addresses, and which of them the address `path` is in."""
    here = urlencode(path)
    return digest(
        (
            translation.get_language(),
            [
                (
                    app["app_label"],
                    str(app["name"]),
                    app["app_url"],
                    app["app_url"] in here,
                    [
                        (
                            model["object_name"],
                            str(model["name"]),
                            model.get("admin_url"),
                            model.get("add_url"),
                            model.get("admin_url") is not None and model["admin_url"] in here,
                        )
                        for model in app["models"]
                    ],
                )
                for app in available_apps
            ],
        )
    )


@register.filter
def changelist_filters_key(changelist: Any) -> str:
    """The key of a change list's filters (the "filters" block of admin/change_list.html): its
    query, its filters with their choices, and the facet switch; "" (not kept) when a filter is
    not a SimpleListFilter, whose choices come from its lookups alone, or counts are shown."""
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
                (
                    type(spec).__name__,
                    str(spec.title),
                    [(str(value), str(label)) for value, label in spec.lookup_choices],
                )
                for spec in specs
            ],
        )
    )
