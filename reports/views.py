from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from core import files
from core.form_actions import Uploads, run_form_action
from orders import selectors as order_selectors
from orders.models import Order

from . import presenters, rules, selectors, services
from .forms import AnswerForm, LinkForm, ReportForm
from .links import ProductLink, parse_product_link
from .models import Report, ReportFile
from .reasons import reason_groups

REPORTS_PER_PAGE = 20


def _reporting_order(request: AuthenticatedRequest) -> Order | None:
    number = request.GET.get("order") or request.POST.get("order")
    if not number:
        return None
    order = order_selectors.order_get(user=request.user, number=number)
    # Staff may read any order, but report only their own: the other party must be a real one.
    if request.user.pk not in (order.buyer_id, order.store.owner_id):
        raise Http404
    return order


@login_required
def report_new(request: AuthenticatedRequest) -> HttpResponse:
    """Two steps without JavaScript: a pasted product link is checked and its item id shown back
    (skipped when the report starts from an order); then the reason, the description and files."""
    order = _reporting_order(request)
    against_buyer = order is not None and order.buyer_id != request.user.pk
    link: ProductLink | None = None
    if order is None and request.method == "GET":
        if "link" not in request.GET:
            return render(request, "reports/report_link.html", {"link_form": LinkForm()})
        link_form = LinkForm(request.GET)
        if not link_form.is_valid():
            return render(request, "reports/report_link.html", {"link_form": link_form}, status=400)
        link = link_form.cleaned_data["link"]
    initial = {"link": request.GET.get("link", "")} if link else {}
    form = ReportForm(
        request.POST or None, request.FILES or None, order=order, against_buyer=against_buyer, initial=initial
    )
    if request.method == "POST":
        link = _posted_link(request)

    def page() -> HttpResponse:
        _target_user, target_store, listing_title = services.report_target(
            reporter=request.user, order=order, link=link
        )
        context = {
            "form": form,
            "order": order,
            "against_buyer": against_buyer,
            "link": link,
            "target_store": target_store,
            "listing_title": listing_title,
            "groups": reason_groups(against_buyer=against_buyer),
            "refusal": services.report_rate_refusal(request.user),
            "removed": link is not None and services.listing_removed(link.item_id),
        }
        return render(request, "reports/report_new.html", context, status=400 if form.errors else 200)

    return run_form_action(
        request,
        form,
        lambda sent: services.report_file(
            reporter=request.user,
            order=order,
            link=form.product_link(),
            reason=sent.data["reason"],
            description=sent.data["description"],
            attachment_ids=sent.attachment_ids,
        ),
        uploads=_uploads(request),
        done=lambda filed: _report_filed(request, *filed),
        page=page,
    )


def _uploads(request: AuthenticatedRequest) -> Uploads:
    return Uploads(model=ReportFile, owner_id=request.user.pk)


def _report_filed(request: AuthenticatedRequest, report: Report, created: bool) -> HttpResponse:
    if created:
        messages.success(request, _("Жалоба подана. Мы напишем, когда её статус изменится."))
    else:
        messages.info(
            request,
            _("Вы уже жаловались на этот товар: мы добавили новое описание и файлы к жалобе №%(number)s.")
            % {"number": report.pk},
        )
    return redirect("reports:detail", pk=report.pk)


def _posted_link(request: AuthenticatedRequest) -> ProductLink | None:
    try:
        return parse_product_link(request.POST["link"]) if request.POST.get("link") else None
    except ValidationError:
        return None


def _list(request: AuthenticatedRequest, reports: Any, *, against_me: bool) -> HttpResponse:
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reports/report_list.html", {"page": page, "against_me": against_me})


@login_required
def report_list(request: AuthenticatedRequest) -> HttpResponse:
    return _list(request, selectors.reports_filed_by(request.user), against_me=False)


@login_required
def reports_against_me(request: AuthenticatedRequest) -> HttpResponse:
    return _list(request, selectors.reports_against(request.user), against_me=True)


def _detail(request: AuthenticatedRequest, report: Report, answer_form: AnswerForm | None = None) -> HttpResponse:
    user = request.user
    role = rules.role_of(report, user)
    # Staff read reports in admin; on the site each party sees its own side.
    if role == rules.Role.STAFF:
        return redirect("admin:reports_report_change", report.pk)
    now = timezone.now()
    actions = rules.allowed(report, role, now)
    all_files = list(report.files.all())
    context = {
        "text": presenters.present(report, as_reporter=role == rules.Role.REPORTER),
        "report": report,
        "role": role,
        "as_reporter": role == rules.Role.REPORTER,
        "against_me": role == rules.Role.REPORTED,
        "actions": actions,
        "history": selectors.history_for(report, role=role),
        "additions": selectors.additions_for_reported(report) if role == rules.Role.REPORTED else [],
        "reporter_files": [item for item in all_files if item.side == ReportFile.Side.REPORTER],
        "answer_files": [item for item in all_files if item.side == ReportFile.Side.REPORTED],
        "answer_form": answer_form or (AnswerForm() if actions[rules.Action.ANSWER] else None),
    }
    return render(request, "reports/report_detail.html", context, status=400 if answer_form else 200)


@login_required
def report_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.report_get(user=request.user, pk=pk))


@login_required
@require_POST
def report_answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(user=request.user, pk=pk)
    if refusal := rules.refusal(rules.Action.ANSWER, report, rules.role_of(report, request.user), timezone.now()):
        # Nothing is stored for an answer that cannot be taken.
        messages.error(request, refusal)
        return redirect("reports:detail", pk=report.pk)
    form = AnswerForm(request.POST, request.FILES)
    return run_form_action(
        request,
        form,
        lambda sent: services.report_answer(
            report=report, user=request.user, text=sent.data["text"], attachment_ids=sent.attachment_ids
        ),
        uploads=_uploads(request),
        refusal_field="text",
        success=_("Ответ отправлен. Поддержка рассмотрит жалобу и сообщит решение."),
        done=lambda _answered: redirect("reports:detail", pk=report.pk),
        page=lambda: _detail(request, report, answer_form=form),
    )


@login_required
def report_file(request: AuthenticatedRequest, token: str) -> FileResponse:
    item = selectors.report_file_get(user=request.user, token=token)
    # The reported party gets the reporter's evidence under a neutral name: the uploaded name
    # ("anna-chat.png") could say who reported it.
    hide_name = item.owner_id != request.user.pk and not request.user.has_perm("reports.handle_report")
    return files.stored_file_response(item, filename=f"evidence-{item.pk}.{item.extension}" if hide_name else None)
