"""Admin pages in grammatical Russian.

Django builds its titles and counts by pasting a model's nominative name into English patterns
("Select %s to change", "Add %s", "11 споры"), which in Russian gives "Выберите претензия для
просмотра" and "Добавить статья". Every project ModelAdmin takes its titles, its "add" button,
its row count and its date filter label from here instead; the patterns below keep the
model's name in the nominative, where any gender reads correctly.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class RussianAdminMixin(admin.ModelAdmin):
    """Mixed into a ModelAdmin before admin.ModelAdmin (or Django's UserAdmin, GroupAdmin)."""

    # "Новая статья": the add page's title and the list's button (the gender is the model's).
    add_title: str | Promise | None = None
    add_label: str | Promise | None = None
    # ngettext_lazy("%(count)d спор", "%(count)d споров", "count"): the list's row count.
    count_label: str | Promise | None = None
    # "Фильтр по дате открытия": the label of the date drill-down above the list.
    date_hierarchy_label: str | Promise | None = None

    def count_text(self, count: int) -> str:
        if self.count_label is None:
            return gettext("Всего: %(count)d") % {"count": count}
        return str(self.count_label % {"count": count})

    def date_hierarchy_text(self) -> str:
        return str(self.date_hierarchy_label or _("Фильтр по дате"))

    def add_button_text(self) -> str:
        return str(self.add_label or _("Добавить"))

    def object_title(self, obj: Model) -> str:
        """The heading of an object's page; an admin may name its objects better ("Спор по заказу …")."""
        return gettext("%(model)s «%(object)s»") % {"model": capfirst(self.opts.verbose_name), "object": obj}

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Made into text once: the page writes it several times (the head's title, the heading).
        extra = {"title": str(capfirst(self.opts.verbose_name_plural)), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        title = self.add_title or gettext("%(model)s: добавление") % {"model": capfirst(self.opts.verbose_name)}
        return super().add_view(request, form_url, {"title": title, **(extra_context or {})})

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = self._object_context(request, object_id)
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = self._object_context(request, object_id, suffix=_("удаление"))
        return super().delete_view(request, object_id, {**extra, **(extra_context or {})})

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = self._object_context(request, object_id, suffix=_("история изменений"))
        return super().history_view(request, object_id, {**extra, **(extra_context or {})})

    def _object_context(self, request: HttpRequest, object_id: str, suffix: str | Promise = "") -> dict[str, Any]:
        from django.contrib.admin.utils import unquote

        obj = self.get_object(request, unquote(object_id))
        if obj is None:  # Django's own view answers a missing object
            return {}
        title = self.object_title(obj)
        if suffix:
            title = gettext("%(title)s: %(what)s") % {"title": title, "what": suffix}
        # The subtitle would repeat the object's name under the title.
        return {"title": title, "subtitle": None}


def field_column(name: str, label: Any, *, ordering: str | None = None) -> Callable[[Any, Any], Any]:
    """A column or read-only line showing model field `name` (its choice label, not its code)
    under `label`: for models whose field names cannot change without a migration. Assigned as
    a ModelAdmin attribute, so it is called as a method."""

    def show(_model_admin: Any, obj: Any) -> Any:
        display = getattr(obj, f"get_{name}_display", None)
        value = display() if display else getattr(obj, name)
        if isinstance(value, datetime):
            # As admin writes a date-time field, in the viewer's zone with its name: on a
            # read-only page admin would print the bare value (UTC, microseconds).
            return formats.localize(timezone.localtime(value) if timezone.is_aware(value) else value)
        return "—" if value in (None, "") else value

    show.__name__ = f"{name}_column"
    return admin.display(description=label, ordering=ordering or name)(show)


def titled_filter(title: str | Promise, base: type[admin.FieldListFilter]) -> type[admin.FieldListFilter]:
    """`base` under a Russian heading, for a field whose verbose name is not one."""

    class Titled(base):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A list filter that opens on `default_choice` instead of "all": the rows staff come for
    (undecided claims, notices that keep failing). "all" stays one of its lookups."""

    default_choice = "all"

    def value(self) -> str:
        return super().value() or self.default_choice

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }
