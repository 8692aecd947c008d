"""How a staff screen in Django admin runs a service: one way for every model admin.

A staff action is a button or a small form on an admin page (take a claim, notify a reported
party, block a user, answer an appeal) or an admin action over the rows staff selected. Each is a
service call that may refuse with `ActionRefused`; `AdminActionsMixin` gives a ModelAdmin:

- `object_url()` / `staff_url()`: the action's address under the model's admin URLs, behind
  admin's sign-in and a Django permission (never `is_staff`): anyone without it gets 403 before
  the view runs;
- `run_action()`: the POST of a button or a form: the form checked and drawn again with its errors,
  the service called, its refusal shown as an admin error message or next to the form, the success
  message, and the redirect back;
- `run_on_each()`: the same for an admin action over selected rows, `run_in_save()` for a service
  that saves in place of Django's own save;
- `closed_screens`: the Django screens (add, change, delete) a model never offers, because its
  rows change through services only; `ReadOnlyInline` is the same for rows shown on another's page.

docs/architecture.md, "Staff screens (admin)", shows how to add an action.
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django_stubs_ext import StrOrPromise

from .errors import ActionRefused

Row = TypeVar("Row")
Result = TypeVar("Result")
FormT = TypeVar("FormT", bound=forms.Form)


class AdminActionsMixin(admin.ModelAdmin):
    """Mixed into a project ModelAdmin, first among its bases."""

    # Django's own screens this model never offers, whoever asks: any of "add", "change", "delete".
    # A model with "change" closed still has its page, read-only, for those who may view it.
    closed_screens: frozenset[str] = frozenset()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return "add" not in self.closed_screens and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "change" not in self.closed_screens and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "delete" not in self.closed_screens and super().has_delete_permission(request, obj)

    # --- addresses ------------------------------------------------------------------------------

    def check_permission(self, request: HttpRequest, permission: str | None = None) -> None:
        """403 unless the user holds `permission` ("accounts.block_user"); without one, unless they
        may read this model in admin."""
        allowed = request.user.has_perm(permission) if permission else self.has_view_permission(request)
        if not allowed:
            raise PermissionDenied

    def staff_url(
        self, route: str, view: Callable[..., HttpResponse], *, name: str, permission: str | None = None
    ) -> URLPattern:
        """`view` at `route` under this model's admin address, named `admin:<name>`, for signed-in
        staff who pass check_permission(permission)."""

        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            self.check_permission(request, permission)
            return view(request, *args, **kwargs)

        return path(route, self.admin_site.admin_view(checked), name=name)

    def object_url(
        self, action: str, view: Callable[..., HttpResponse], *, permission: str | None = None
    ) -> URLPattern:
        """`view(request, pk)` at `<pk>/<action>/`, named `admin:<app>_<model>_<action>` ("-" in
        the action becomes "_" in the name)."""
        opts = self.opts
        name = f"{opts.app_label}_{opts.model_name}_{action.replace('-', '_')}"
        return self.staff_url(f"<int:pk>/{action}/", view, name=name, permission=permission)

    def change_url(self, pk: int) -> str:
        """The row's own admin page, where an action's result is shown."""
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])

    # --- running a service ------------------------------------------------------------------------

    def run_action(
        self,
        request: HttpRequest,
        action: Callable[[], object],
        *,
        success: StrOrPromise,
        back: str,
        form: FormT | None = None,
        form_page: Callable[[FormT], HttpResponse] | None = None,
        refusal_on_form: bool = False,
    ) -> HttpResponse:
        """A button's or a form's POST to `action` (a service call, reading `form.cleaned_data`).

        Anything but a POST goes `back`. A form that is not valid is drawn again by `form_page`
        with its errors and what was typed, and `action` is not called. When the service refuses,
        its reason is an admin error message on the page `back` leads to, or, with
        `refusal_on_form`, the form's own error on `form_page` (where the form keeps what was
        typed). Otherwise `success` is the admin message on the page `back` leads to.
        """
        if form is not None and form_page is None:
            raise TypeError("run_action(form=...) needs the form_page that draws the form again")
        if request.method != "POST":
            return HttpResponseRedirect(back)
        if form is not None and form_page is not None and not form.is_valid():
            return form_page(form)
        try:
            action()
        except ActionRefused as refused:
            if refusal_on_form and form is not None and form_page is not None:
                form.add_error(None, refused.message)
                return form_page(form)
            messages.error(request, refused.message)
        else:
            messages.success(request, success)
        return HttpResponseRedirect(back)

    def run_on_each(
        self,
        request: HttpRequest,
        rows: Iterable[Row],
        action: Callable[[Row], object],
        *,
        success: Callable[[int], StrOrPromise],
    ) -> None:
        """An admin action over the rows staff selected: `action` (a service call) on each in turn.
        `success(count)` is the message, counting the rows for which `action` returned a true value
        (a service that finds a row already done returns False). The first refusal is the message
        instead, and the rows after it are left alone; those before it stay done."""
        done = 0
        for row in rows:
            try:
                done += bool(action(row))
            except ActionRefused as refused:
                messages.error(request, refused.message)
                return
        messages.success(request, success(done))

    def run_in_save(self, request: HttpRequest, action: Callable[[], Result]) -> Result | None:
        """A service in place of Django's own save (save_model): its result, or None with its
        refusal as an admin error message."""
        try:
            return action()
        except ActionRefused as refused:
            messages.error(request, refused.message)
            return None


class ReadOnlyInline(admin.StackedInline):
    """Rows shown on their parent's admin page and changed through services only: never added or
    deleted there, nor edited while "change" is among `closed_screens`."""

    extra = 0
    can_delete = False
    closed_screens: frozenset[str] = frozenset({"add", "change"})

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "add" not in self.closed_screens and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return "change" not in self.closed_screens and super().has_change_permission(request, obj)
