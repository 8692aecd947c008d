"""Django's admin site, with the navigation's list of apps and models kept per process.

Every admin page (the claims queue and the claim page included) draws the sidebar from
`get_app_list()`, which asks each registered ModelAdmin for its permissions: about forty
permission checks and a dict per model on every request, a fifth of the claims queue's time in
process (docs/performance.md). What it returns depends only on the reader's permissions (every
ModelAdmin here decides from them alone), the language and the address prefix, so it is kept
in this process under exactly those: a change of permissions makes a new key, and a new release
starts with none. (Not in the `fragments` cache: the list holds model classes and lazy names,
which it would have to pickle.) A few staff roles make a few keys; the bound is a safety net.
The navigation drawn from that list is kept rendered under the same reader (each_context()).
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils import translation

from core.fragments import digest

KEPT_APP_LISTS = 200


class HelpCentreAdminSite(admin.AdminSite):
    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._kept_app_lists: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def app_list_reader(self, request: HttpRequest) -> tuple[Any, ...] | None:
        """What the app list depends on for this reader (None: not kept, for anyone but active
        staff): their permissions, the language and the address prefix."""
        user = request.user
        if not user.is_active or not user.is_staff:
            return None
        return (
            user.is_superuser,
            tuple(sorted(user.get_all_permissions())),
            translation.get_language(),
            get_script_prefix(),
        )

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        reader = self.app_list_reader(request)
        if reader is None:
            return super().get_app_list(request, app_label)
        key = (*reader, app_label)
        app_list = self._kept_app_lists.get(key)
        if app_list is None:
            if len(self._kept_app_lists) >= KEPT_APP_LISTS:
                self._kept_app_lists.clear()
            app_list = self._kept_app_lists[key] = super().get_app_list(request, app_label)
        return app_list

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        # The key of the navigation kept rendered (templates/admin/nav_sidebar.html): it shows
        # `available_apps`, kept above under the reader, and marks the app and the model whose
        # address this one is under, which its first two parts after admin's index name (every
        # claim page shares one navigation). A digest of these costs a fraction of one over the
        # list's names and addresses.
        reader = self.app_list_reader(request)
        index = reverse(f"{self.name}:index")
        path = request.path
        where = (index, *path[len(index) :].split("/")[:2]) if path.startswith(index) else (path,)
        context["nav_sidebar_key"] = digest((reader, where)) if reader is not None else ""
        return context


class HelpCentreAdminConfig(AdminConfig):
    default_site = "helpcenter.admin_site.HelpCentreAdminSite"
