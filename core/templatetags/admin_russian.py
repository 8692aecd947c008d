from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.utils.translation import gettext

register = template.Library()


@register.filter
def admin_count(changelist: Any) -> str:
    """ "11 споров" under a list (Django writes "11 споры")."""
    model_admin = changelist.model_admin
    if hasattr(model_admin, "count_text"):
        return str(model_admin.count_text(changelist.result_count))
    return gettext("Всего: %(count)d") % {"count": changelist.result_count}


@register.inclusion_tag("admin/date_hierarchy.html")
def russian_date_hierarchy(changelist: Any) -> dict[str, Any]:
    """Django's date drill-down with the admin's own label ("Фильтр по дате открытия")."""
    context = date_hierarchy(changelist) or {}
    model_admin = changelist.model_admin
    if hasattr(model_admin, "date_hierarchy_text"):
        context["label"] = model_admin.date_hierarchy_text()
    return context
