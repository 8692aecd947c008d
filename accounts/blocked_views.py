"""The page a blocked user reaches: why the account is blocked, the appeal form, the answers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core import files
from core.errors import ActionRefused

from . import blocking, rules
from .forms import AccountAppealForm
from .http import AuthenticatedRequest
from .models import AccountAppeal, AccountAppealFile


@login_required
def blocked(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    if not user.is_blocked:
        return redirect("accounts:home")
    appeals = list(user.block_appeals.prefetch_related("files").order_by("-filed_at", "-pk"))
    has_pending = any(appeal.status == AccountAppeal.Status.PENDING for appeal in appeals)
    refusal = rules.refusal(
        rules.Action.APPEAL,
        user,
        rules.role_of(user, user),
        timezone.now(),
        rules.Facts(has_pending_appeal=has_pending),
    )
    if request.method == "POST" and refusal is not None:
        # A second appeal while one waits (a double click, a second tab): nothing is stored and
        # the page says the first one is under review.
        return redirect("accounts:blocked")
    form = AccountAppealForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        stored: list[int] = []
        if form.is_valid():
            try:
                result = files.uploads_store(
                    model=AccountAppealFile,
                    owner_id=user.pk,
                    files=request.FILES.getlist("evidence"),
                    too_large=getattr(request, "skipped_uploads", []),
                )
            except ActionRefused as refused:
                form.add_error("evidence", refused.message)
            else:
                stored = result.ids
                for message in result.errors:
                    form.add_error("evidence", message)
        if form.is_valid() and not form.errors:
            try:
                blocking.account_appeal_file(user=user, text=form.cleaned_data["text"], attachment_ids=stored)
            except ActionRefused as refused:
                form.add_error("text", refused.message)
            else:
                messages.success(request, _("Обращение отправлено. Мы ответим на этой странице и письмом."))
                return redirect("accounts:blocked")
        files.attachments_discard_unclaimed(model=AccountAppealFile, owner_id=user.pk, ids=stored)
    return render(
        request,
        "accounts/blocked.html",
        {"appeals": appeals, "refusal": refusal, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def blocked_file(request: AuthenticatedRequest, token: str) -> FileResponse:
    """An appeal's file, for its owner and staff who may block accounts."""
    return files.stored_file_response(
        get_object_or_404(AccountAppealFile.objects.visible_to(request.user), token=token)
    )
