"""Django's admin site, with the navigation's list of apps and models kept per process.

Every admin page (the claims queue and the claim page included) draws the sidebar from
`get_app_list()`, which asks each registered ModelAdmin for its permissions: about forty
permission checks and a dict per model on every request, a fifth of the claims queue's time in
process (docs/performance.md). What it returns depends only on the reader's permissions (every
ModelAdmin here decides from them alone), the language and the address prefix, so it is kept
in this process under exactly those: a change of permissions makes a new key, and a new release
starts with none. (Not in the `fragments` cache: the list holds model classes and lazy names,
which it would have to pickle.) A few staff roles make a few keys; the bound is a safety net.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.urls import get_script_prefix
from django.utils import translation

KEPT_APP_LISTS = 200


class HelpCentreAdminSite(admin.AdminSite):
    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._kept_app_lists: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        user = request.user
        if not user.is_active or not user.is_staff:
            return super().get_app_list(request, app_label)
        reader = (
            user.is_superuser,
            tuple(sorted(user.get_all_permissions())),
            translation.get_language(),
            get_script_prefix(),
            app_label,
        )
        app_list = self._kept_app_lists.get(reader)
        if app_list is None:
            if len(self._kept_app_lists) >= KEPT_APP_LISTS:
                self._kept_app_lists.clear()
            app_list = self._kept_app_lists[reader] = super().get_app_list(request, app_label)
        return app_list


class HelpCentreAdminConfig(AdminConfig):
    default_site = "helpcenter.admin_site.HelpCentreAdminSite"
