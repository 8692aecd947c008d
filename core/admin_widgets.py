"""Admin's "Currently: <file>" link, pointed at the site's own view for the file.

Django admin links a stored file to `storage.url()`: on the bucket that is a signed address of
the object store, which staff browsers cannot reach (it sits on an internal network) and which
would skip the view's access check and safe headers. The link goes to the view instead.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.admin.widgets import AdminFileWidget
from django.db import models


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
