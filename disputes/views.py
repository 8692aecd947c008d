from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orders import selectors as order_selectors

from . import rules, selectors, services
from .forms import MessageForm, OfferForm, ReturnShipForm
from .models import Attachment, Dispute, Offer
from .problems import ALL_PROBLEMS, NOT_AS_DESCRIBED_PROBLEMS, NOT_RECEIVED_PROBLEMS
from .wizard import WizardState, cleaned_for_session, form_for, raw_for_session

DISPUTES_PER_PAGE = 10


def _store_files(request, form, field: str = "files") -> list[int]:
    """Keep each valid upload; a bad file gets its own message next to the field."""
    stored = []
    for name in getattr(request, "skipped_uploads", []):
        form.add_error(field, _("%(name)s: файл слишком большой.") % {"name": name})
    for uploaded in request.FILES.getlist(field):
        try:
            stored.append(services.attachment_store(owner=request.user, uploaded=uploaded).pk)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(field, f"{uploaded.name}: {message}")
    return stored


# --- the opening wizard ---------------------------------------------------------------------


def _buyer_order(request, number: str):
    order = order_selectors.order_get(user=request.user, number=number)
    if order.buyer_id != request.user.pk:
        raise Http404
    return order


@login_required
def dispute_wizard(request, number: str, step: str = "received"):
    order = _buyer_order(request, number)
    refusal = rules.dispute_open_refusal(
        order, timezone.now(), has_dispute=Dispute.objects.filter(order=order).exists()
    )
    if refusal:
        messages.error(request, refusal)
        return redirect("orders:detail", number=order.number)
    state = WizardState(request.session, order.pk)
    if step not in state.steps():
        raise Http404
    missing = state.first_missing()
    if missing and state.steps().index(step) > state.steps().index(missing):
        return redirect("disputes:wizard", number=order.number, step=missing)
    if step == "summary":
        return _wizard_summary(request, order, state)

    uploaded = selectors.pending_uploads(user=request.user, ids=state.attachment_ids)
    if request.method == "POST":
        form = form_for(step, state, order, data=request.POST, files=request.FILES, uploaded=uploaded)
        going_back = "back" in request.POST
        valid = form.is_valid()
        if step == "request":
            remove = [int(pk) for pk in request.POST.getlist("remove") if pk.isdigit()]
            if remove:
                Attachment.objects.filter(owner=request.user, message__isnull=True, pk__in=remove).delete()
                state.data["attachment_ids"] = [pk for pk in state.attachment_ids if pk not in remove]
            new_ids = _store_files(request, form)
            state.data["attachment_ids"] = [*state.attachment_ids, *new_ids][: settings.DISPUTE_MAX_FILES]
            state.save()
            uploaded = selectors.pending_uploads(user=request.user, ids=state.attachment_ids)
        if going_back:
            state.remember(step, cleaned_for_session(form) if valid and not form.errors else raw_for_session(form))
            return redirect("disputes:wizard", number=order.number, step=state.previous(step))
        if valid and not form.errors:
            previous_kind = state.received
            state.remember(step, cleaned_for_session(form))
            if step == "received" and previous_kind is not None and previous_kind != state.received:
                state.answers.pop("problem", None)  # the other kind has other problems
                state.save()
            return redirect("disputes:wizard", number=order.number, step=state.next(step))
        state.remember(step, raw_for_session(form))
        status = 400
    else:
        form = form_for(step, state, order, uploaded=uploaded)
        status = 200
    return render(
        request,
        "disputes/wizard.html",
        _wizard_context(order, state, step, form=form, uploaded=uploaded),
        status=status,
    )


def _wizard_context(order, state: WizardState, step: str, **extra) -> dict:
    steps = state.steps()
    return {
        "order": order,
        "step": step,
        "step_number": steps.index(step) + 1,
        "step_count": len(steps),
        "previous_step": state.previous(step),
        "not_received_problems": NOT_RECEIVED_PROBLEMS,
        "not_as_described_problems": NOT_AS_DESCRIBED_PROBLEMS,
        "received": state.received,
        "equivalent_rate": selectors.rouble_equivalent(order.total_amount, order.currency),
        "max_files": settings.DISPUTE_MAX_FILES,
        **extra,
    }


def _wizard_summary(request, order, state: WizardState):
    arguments = state.service_arguments()
    uploaded = selectors.pending_uploads(user=request.user, ids=state.attachment_ids)
    if request.method == "POST":
        if "back" in request.POST:
            return redirect("disputes:wizard", number=order.number, step=state.previous("summary"))
        try:
            dispute = services.dispute_open(
                order=order, buyer=request.user, attachment_ids=[item.pk for item in uploaded], **arguments
            )
        except services.DisputeActionRefused as refused:
            messages.error(request, refused.message)
            if Dispute.objects.filter(order=order).exists():
                return redirect("orders:detail", number=order.number)
        else:
            state.clear()
            messages.success(
                request,
                _("Спор открыт. Продавец должен ответить до %(date)s.")
                % {"date": rules.local_date(dispute.seller_answer_due_at)},
            )
            return redirect("disputes:detail", pk=dispute.pk)
    amount = order.total_amount if arguments.get("refund_type", "full") == "full" else arguments.get("amount")
    return render(
        request,
        "disputes/wizard.html",
        _wizard_context(
            order,
            state,
            "summary",
            arguments=arguments,
            problems=[ALL_PROBLEMS[code] for code in arguments["problems"] if code in ALL_PROBLEMS],
            amount=amount,
            equivalent=selectors.rouble_equivalent(amount, order.currency),
            uploaded=uploaded,
        ),
    )


# --- lists and the dispute page -------------------------------------------------------------


def _list(request, *, as_seller: bool):
    disputes = selectors.dispute_list(user=request.user, as_seller=as_seller)
    page = Paginator(disputes, DISPUTES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "disputes/dispute_list.html", {"page": page, "as_seller": as_seller})


@login_required
def dispute_list(request):
    return _list(request, as_seller=False)


@login_required
def store_dispute_list(request):
    if not hasattr(request.user, "store"):
        raise Http404
    return _list(request, as_seller=True)


def _detail_context(request, dispute: Dispute, **forms) -> dict:
    now = timezone.now()
    role = services.role_of(dispute, request.user)
    offers = list(dispute.offers.all())
    pending = next((offer for offer in offers if offer.status == Offer.Status.PENDING), None)
    is_open = dispute.status in (Dispute.Status.AWAITING_SELLER, Dispute.Status.NEGOTIATING)
    can_offer = is_open and (role == Offer.Role.SELLER or dispute.status == Dispute.Status.NEGOTIATING)
    order = dispute.order
    context = {
        "dispute": dispute,
        "order": order,
        "role": role,
        "now": now,
        "offers": offers,
        "pending_offer": pending,
        "can_answer_offer": bool(pending and role and pending.role != role and is_open),
        "can_offer": bool(role and can_offer),
        "can_cancel": role == Offer.Role.BUYER and is_open,
        "can_escalate": role == Offer.Role.BUYER and rules.escalation_refusal(dispute, now) is None,
        "escalation_pending": role == Offer.Role.BUYER and is_open and now < dispute.escalation_opens_at,
        "can_ship_return": role == Offer.Role.BUYER and dispute.status == Dispute.Status.AWAITING_RETURN,
        "can_confirm_return": role == Offer.Role.SELLER and dispute.status == Dispute.Status.RETURN_SHIPPED,
        "can_message": dispute.status not in (Dispute.Status.REFUNDED, Dispute.Status.CANCELLED, Dispute.Status.CLOSED)
        and (role or request.user.is_staff),
        "problems": [ALL_PROBLEMS[code] for code in dispute.problems if code in ALL_PROBLEMS],
        "thread": list(dispute.messages.all()),
        "events": list(dispute.events.all()),
        "requested_equivalent": selectors.rouble_equivalent(dispute.requested_amount, dispute.currency),
        "offer_form": forms.get("offer_form") or OfferForm(max_amount=order.total_amount, currency=order.currency),
        "message_form": forms.get("message_form") or MessageForm(),
        "return_form": forms.get("return_form") or ReturnShipForm(),
    }
    return context


@login_required
def dispute_detail(request, pk: int):
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    return render(request, "disputes/dispute_detail.html", _detail_context(request, dispute))


def _act(request, pk: int, action, success: str):
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    try:
        action(dispute)
    except services.DisputeActionRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, success)
    return redirect("disputes:detail", pk=dispute.pk)


def _offer_id(request) -> int:
    try:
        return int(request.POST.get("offer", ""))
    except ValueError:
        return 0


@login_required
@require_POST
def offer_accept(request, pk: int):
    return _act(
        request,
        pk,
        lambda dispute: services.offer_accept(dispute=dispute, offer_id=_offer_id(request), user=request.user),
        _("Предложение принято, спор решён."),
    )


@login_required
@require_POST
def offer_refuse(request, pk: int):
    return _act(
        request,
        pk,
        lambda dispute: services.offer_refuse(dispute=dispute, offer_id=_offer_id(request), user=request.user),
        _("Предложение отклонено. Можно предложить свои условия или передать спор в претензию."),
    )


@login_required
@require_POST
def offer_create(request, pk: int):
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    order = dispute.order
    form = OfferForm(request.POST, request.FILES, max_amount=order.total_amount, currency=order.currency)
    valid = form.is_valid()
    stored = _store_files(request, form) if valid else []
    if valid and not form.errors:
        try:
            services.offer_make(
                dispute=dispute,
                user=request.user,
                refund_type=form.cleaned_data["refund_type"],
                amount=form.cleaned_data.get("amount"),
                return_required=form.cleaned_data["return_required"],
                note=form.cleaned_data["note"],
                attachment_ids=stored,
            )
        except services.DisputeActionRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("Предложение отправлено."))
        return redirect("disputes:detail", pk=dispute.pk)
    Attachment.objects.filter(pk__in=stored).delete()
    context = _detail_context(request, dispute, offer_form=form)
    return render(request, "disputes/dispute_detail.html", context, status=400)


@login_required
@require_POST
def message_create(request, pk: int):
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    form = MessageForm(request.POST, request.FILES)
    valid = form.is_valid()
    stored = _store_files(request, form) if valid else []
    if valid and not form.errors:
        try:
            services.message_post(
                dispute=dispute, user=request.user, text=form.cleaned_data["text"], attachment_ids=stored
            )
        except services.DisputeActionRefused as refused:
            Attachment.objects.filter(pk__in=stored).delete()
            form.add_error("text", refused.message)
        else:
            return redirect(reverse("disputes:detail", args=[dispute.pk]) + "#thread")
    Attachment.objects.filter(pk__in=stored, message__isnull=True).delete()
    context = _detail_context(request, dispute, message_form=form)
    return render(request, "disputes/dispute_detail.html", context, status=400)


@login_required
def dispute_cancel(request, pk: int):
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    if dispute.buyer_id != request.user.pk:
        raise Http404
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        return _act(
            request,
            pk,
            lambda d: services.dispute_cancel(dispute=d, buyer=request.user),
            _("Спор отменён. Открыть его снова нельзя."),
        )
    return render(request, "disputes/cancel_confirm.html", {"dispute": dispute})


@login_required
@require_POST
def dispute_escalate(request, pk: int):
    return _act(
        request,
        pk,
        lambda dispute: services.dispute_escalate(dispute=dispute, user=request.user),
        _("Спор передан в претензию. Решение примет арбитр."),
    )


@login_required
@require_POST
def return_ship(request, pk: int):
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    form = ReturnShipForm(request.POST)
    if form.is_valid():
        return _act(
            request,
            pk,
            lambda d: services.return_ship(
                dispute=d, buyer=request.user, tracking_number=form.cleaned_data["tracking_number"]
            ),
            _("Трек-номер сохранён. Продавец подтвердит, когда получит товар."),
        )
    return render(
        request, "disputes/dispute_detail.html", _detail_context(request, dispute, return_form=form), status=400
    )


@login_required
@require_POST
def return_confirm(request, pk: int):
    return _act(
        request,
        pk,
        lambda dispute: services.return_confirm(dispute=dispute, seller=request.user),
        _("Получение подтверждено, покупателю возвращаются деньги."),
    )


@login_required
def attachment_download(request, token: str):
    attachment = selectors.attachment_get(user=request.user, token=token)
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=attachment.kind != Attachment.Kind.IMAGE,
        filename=attachment.display_name if attachment.kind != Attachment.Kind.IMAGE else None,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
