"""Stored files in admin, linked to the site's own view for the file: admin's "Currently: <file>"
link, and the list of a message's or an appeal's files.

Django admin links a stored file to `storage.url()`: on the bucket that is a signed address of
the object store, which staff browsers cannot reach (it sits on an internal network) and which
would skip the view's access check and safe headers. The link goes to the view instead.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.admin.widgets import AdminFileWidget
from django.db import models
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from .models import StoredFile


def file_links(files: Iterable[StoredFile], url_name: str) -> str:
    """Each file as a link to the view `url_name` (which checks who may open it) with its kind, one
    a line; "—" for none."""
    return (
        format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}</a> ({})',
            ((reverse(url_name, args=[item.token]), item.display_name, item.get_kind_display()) for item in files),
        )
        or "—"
    )


class _ViewLink:
    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name

    def __str__(self) -> str:
        return self.name


class ViewLinkFileWidget(AdminFileWidget):
    def __init__(self, *, link_for: Callable[[models.Model], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.link_for = link_for

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        instance = getattr(value, "instance", None)
        if context["widget"]["is_initial"] and instance is not None and instance.pk:
            context["widget"]["value"] = _ViewLink(self.link_for(instance), str(value).rsplit("/", 1)[-1])
        return context
