"""One way for a site page to run a form's action: check the form, store its files, call the
service; when the service refuses, discard the files and draw the form again with the reason on
it and everything typed kept (docs/architecture.md, "Adding an action").

Buttons without a form use core.views.run_action; staff screens core.admin_actions."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse

from . import files
from .errors import ActionRefused
from .models import StoredFile


@dataclass(frozen=True)
class Uploads:
    """Where a form's files go: the upload model, the user they belong to until a message claims
    them, and the form field they come in (its errors are shown there)."""

    model: type[StoredFile]
    owner_id: int
    field: str = "evidence"
    # Files the same message already holds from an earlier step (the dispute wizard's), counted
    # against the number one message may carry.
    already_kept: int = 0

    def store(self, request: HttpRequest, form: Form) -> list[int]:
        """Check and keep the request's files; returns the ids kept. A refused batch (too many
        files, the hourly limit, the quota, the storage down) keeps nothing; each refused file
        gets its own message on the field, and the good ones are kept."""
        try:
            stored = files.uploads_store(
                model=self.model,
                owner_id=self.owner_id,
                files=request.FILES.getlist(self.field),
                too_large=getattr(request, "skipped_uploads", []),
                already_kept=self.already_kept,
            )
        except ActionRefused as refused:
            form.add_error(self.field, refused.message)
            return []
        for message in stored.errors:
            form.add_error(self.field, message)
        return stored.ids

    def discard(self, ids: list[int]) -> None:
        """Delete those of `ids` that no message has claimed (a refused form, "убрать")."""
        files.attachments_discard_unclaimed(model=self.model, owner_id=self.owner_id, ids=ids)


@dataclass(frozen=True)
class Submission:
    """What the service gets from a valid form: its cleaned data and the ids of the files kept."""

    data: dict[str, Any]
    attachment_ids: list[int] = field(default_factory=list)

    def fields(self, *names: str) -> dict[str, Any]:
        """The named fields as the service's keyword arguments, where the form's names are its."""
        return {name: self.data[name] for name in names}


def run_form_action[Result](
    request: HttpRequest,
    form: Form,
    action: Callable[[Submission], Result],
    *,
    page: Callable[[], HttpResponse],
    done: Callable[[Result], HttpResponse],
    success: str | None = None,
    refusal_field: str | None = None,
    uploads: Uploads | None = None,
) -> HttpResponse:
    """Run `action` (a service call) with a form's input.

    - An unbound form (the page's GET) only draws `page()`: one view serves both.
    - The form is checked first; files are stored only for a valid form, and a file refused
      makes the form invalid (the service is not called).
    - `action(submission)` calls the service. `ActionRefused` puts its message on the form, on
      `refusal_field` (None: at the top of the form) and discards the files stored for it.
    - Success: the `success` message (if any), then `done(result)`, usually a redirect.
    - Otherwise `page()` draws the page again with this form: its errors and what was typed
      (files are not kept: a browser cannot fill a file input again).
    """
    valid = form.is_valid()  # False for an unbound form: nothing is stored or called
    stored = uploads.store(request, form) if valid and uploads is not None else []
    if valid and not form.errors:
        try:
            result = action(Submission(data=form.cleaned_data, attachment_ids=stored))
        except ActionRefused as refused:
            form.add_error(refusal_field, refused.message)
        else:
            if success is not None:
                messages.success(request, success)
            return done(result)
    if uploads is not None:
        uploads.discard(stored)
    return page()
