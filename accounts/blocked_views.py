"""The page a blocked user reaches: why the account is blocked, the appeal form, the answers."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from core import files
from core.form_actions import Uploads, run_form_action

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

    def page() -> HttpResponse:
        context = {"appeals": appeals, "refusal": refusal, "form": form}
        return render(request, "accounts/blocked.html", context, status=400 if form.errors else 200)

    return run_form_action(
        request,
        form,
        lambda sent: blocking.account_appeal_file(
            user=user, text=sent.data["text"], attachment_ids=sent.attachment_ids
        ),
        uploads=Uploads(model=AccountAppealFile, owner_id=user.pk),
        refusal_field="text",
        success=_("Обращение отправлено. Мы ответим на этой странице и письмом."),
        done=lambda _appeal: redirect("accounts:blocked"),
        page=page,
    )


@login_required
def blocked_file(request: AuthenticatedRequest, token: str) -> FileResponse:
    """An appeal's file, for its owner and staff who may block accounts."""
    return files.stored_file_response(
        get_object_or_404(AccountAppealFile.objects.visible_to(request.user), token=token)
    )
