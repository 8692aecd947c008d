from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms import Form
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from core import files, fragments
from core.dates import days
from core.errors import ActionRefused
from core.form_actions import Submission, Uploads, run_form_action
from core.models import choice_label_of
from core.views import run_action
from orders import presenters as order_presenters
from orders import rules as order_rules
from orders import selectors as order_selectors
from orders.models import Order, ProtectionExtension, TrackingEvent

from . import claims, presenters, rules, selectors, services
from .forms import AppealForm, EvidenceAnswerForm, MessageForm, OfferForm, ReturnShipForm
from .models import Attachment, Dispute
from .problems import ALL_PROBLEMS, NOT_AS_DESCRIBED_PROBLEMS, not_received_problems_for
from .store_record import store_record
from .wizard import PROBLEM, REFUND, WizardState, tracking_suggestion

DISPUTES_PER_PAGE = 10


def _uploads(request: AuthenticatedRequest, *, already_kept: int = 0) -> Uploads:
    """The user's evidence files for a dispute, not yet claimed by a message."""
    return Uploads(model=Attachment, owner_id=request.user.pk, already_kept=already_kept)


def _store_files(request: AuthenticatedRequest, form: Form, *, already_kept: int = 0) -> list[int]:
    return _uploads(request, already_kept=already_kept).store(request, form)


def _discard(request: AuthenticatedRequest, ids: list[int]) -> None:
    _uploads(request).discard(ids)


def _detail_again(request: AuthenticatedRequest, dispute: Dispute, **forms: Form) -> HttpResponse:
    """The dispute page drawn again with a refused form (400), its errors and what was typed."""
    page, versions = selectors.dispute_page_get(user=request.user, pk=dispute.pk)
    context = _detail_context(request, page, versions, **forms)
    return render(request, "disputes/dispute_detail.html", context, status=400)


def _form_on_detail(
    request: AuthenticatedRequest,
    dispute: Dispute,
    form_name: str,
    form: Form,
    action: Callable[[Submission], object],
    *,
    anchor: str = "",
    **options: Any,
) -> HttpResponse:
    """A form of the dispute page with evidence files: back to the page (at `anchor`) when the
    service acts, else the page again with this form as `form_name`."""
    return run_form_action(
        request,
        form,
        action,
        uploads=_uploads(request),
        done=lambda _result: redirect(reverse("disputes:detail", args=[dispute.pk]) + anchor),
        page=lambda: _detail_again(request, dispute, **{form_name: form}),
        **options,
    )


# --- the opening wizard ---------------------------------------------------------------------


@login_required
def dispute_wizard(request: AuthenticatedRequest, number: str, step: str = ""):
    order = order_selectors.order_for_new_dispute(buyer=request.user, number=number)
    state = WizardState(request.session, order)
    if refusal := order_rules.refusal(
        order_rules.Action.OPEN_DISPUTE,
        order,
        rules.Role.BUYER,
        timezone.now(),
        order_rules.Facts(undisputed_items=state.undisputed),
    ):
        messages.error(request, refusal)
        return redirect("orders:detail", number=order.number)
    if not step:
        if (chosen := request.GET.get("item", "")).isdigit():
            # "Open a dispute about this item" on the order page: that question is answered.
            state.choose_item(int(chosen))
            return redirect("disputes:wizard", number=order.number, step=state.first_missing() or state.first())
        step = state.first()
    try:
        detour = state.detour(step)
    except LookupError:
        raise Http404 from None
    if detour:
        return redirect("disputes:wizard", number=order.number, step=detour)
    if step == "summary":
        return _wizard_summary(request, order, state)
    if step == PROBLEM:
        # Only the problem step shows the carrier's events (and suggests a reason from them).
        order_selectors.tracking_events_read(order)
    uploaded = selectors.pending_uploads(user=request.user, ids=state.attachment_ids)
    if request.method != "POST":
        form = state.form(step, uploaded=uploaded)
        return render(
            request, "disputes/wizard.html", _wizard_context(order, state, step, form=form, uploaded=uploaded)
        )
    form = state.form(step, data=request.POST, files=request.FILES, uploaded=uploaded)
    if step == "request":
        uploaded = _wizard_files(request, state, form, uploaded)
    going_to = state.answer(step, form, going_back="back" in request.POST)
    if going_to:
        return redirect("disputes:wizard", number=order.number, step=going_to)
    context = _wizard_context(order, state, step, form=form, uploaded=uploaded)
    return render(request, "disputes/wizard.html", context, status=400)


def _wizard_files(request: AuthenticatedRequest, state: WizardState, form: Form, uploaded: list[Attachment]):
    """The request step's files: drop those the buyer removed, store the new ones (a file chosen
    again after an error is not attached twice), and return what the draft holds now."""
    form.is_valid()  # the file errors below go beside the form's own
    remove = [int(pk) for pk in request.POST.getlist("remove") if pk.isdigit()]
    if remove:
        _discard(request, remove)
    state.forget_files([*remove, *(pk for pk in state.attachment_ids if pk not in {u.pk for u in uploaded})])
    fresh = state.unseen_files(request.FILES.getlist("evidence"))
    stored = _store_new_files(request, form, [upload for _digest, upload in fresh], kept=len(state.attachment_ids))
    state.keep_files(stored, fresh)
    return selectors.pending_uploads(user=request.user, ids=state.attachment_ids)


def _store_new_files(request: AuthenticatedRequest, form: Form, uploads: list, *, kept: int) -> list[Attachment]:
    try:
        stored = files.uploads_store(
            model=Attachment,
            owner_id=request.user.pk,
            files=uploads,
            too_large=getattr(request, "skipped_uploads", []),
            already_kept=kept,
        )
    except ActionRefused as refused:
        form.add_error("evidence", refused.message)
        return []
    for message in stored.errors:
        form.add_error("evidence", message)
    return stored.stored


def _wizard_context(order: Order, state: WizardState, step: str, **extra: Any) -> dict[str, Any]:
    """What the wizard's page shows at `step`; the carrier's events and the exchange rate are read
    only for the one step that shows each (the problem step, the refund step)."""
    context = {
        "order": order,
        "step": step,
        "step_number": state.number(step),
        "step_count": state.count(),
        "previous_step": state.previous(step),
        "item": state.item,
        "items": state.items,
        "paid": state.paid,
        "several_items": len(state.items) > 1,
        "not_received_problems": not_received_problems_for(has_tracking=bool(order.tracking_number)),
        "not_as_described_problems": NOT_AS_DESCRIBED_PROBLEMS,
        "received": state.received,
        "max_files": settings.UPLOAD_MAX_FILES,
    }
    if step == PROBLEM:
        tracking = list(order.tracking_events.all())
        context["tracking"] = tracking
        context["tracking_suggestion"] = tracking_suggestion(order)
        if state.received is False:
            context["in_transit_note"] = _in_transit_note(order, tracking)
    if step == REFUND:
        context["equivalent_rate"] = selectors.rouble_equivalent(order.total_amount, order.currency)
    return {**context, **extra}


def _in_transit_note(order: Order, tracking: list[TrackingEvent]) -> SafeString | None:
    now = timezone.now()
    has_pending = order.extensions.filter(status=ProtectionExtension.Status.PENDING).exists()
    may_extend = order_rules.permit(
        order_rules.Action.EXTEND, order, rules.Role.BUYER, now, order_rules.Facts(has_pending_extension=has_pending)
    )
    return order_presenters.in_transit_note(
        order,
        order_rules.protection_state(order, now),
        may_extend=bool(may_extend) and order_rules.parcel_moving(order, tracking, now),
    )


def _wizard_summary(request: AuthenticatedRequest, order: Order, state: WizardState):
    arguments = state.service_arguments()
    uploaded = selectors.pending_uploads(user=request.user, ids=state.attachment_ids)
    if request.method == "POST":
        if "back" in request.POST:
            return redirect("disputes:wizard", number=order.number, step=state.previous("summary"))
        try:
            dispute = services.dispute_open(
                order=order, buyer=request.user, attachment_ids=[item.pk for item in uploaded], **arguments
            )
        except ActionRefused as refused:
            messages.error(request, refused.message)
            if Dispute.objects.filter(order=order, item_id=arguments["item_id"]).exists():
                return redirect("orders:detail", number=order.number)
        else:
            state.clear()
            assert dispute.seller_answer_due_at is not None  # set when a dispute opens
            messages.success(
                request,
                _("Спор открыт. Продавец должен ответить до %(date)s.")
                % {"date": rules.local_date(dispute.seller_answer_due_at)},
            )
            return redirect("disputes:detail", pk=dispute.pk)
    amount = state.amount()
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


def _list(request: AuthenticatedRequest, *, as_seller: bool):
    disputes = selectors.dispute_list(user=request.user, as_seller=as_seller)
    page = Paginator(disputes, DISPUTES_PER_PAGE).get_page(request.GET.get("page"))
    cards = _dispute_cards(list(page.object_list), as_seller=as_seller, now=timezone.now())
    return render(request, "disputes/dispute_list.html", {"page": page, "cards": cards, "as_seller": as_seller})


def _dispute_cards(rows: list[selectors.DisputeListRow], *, as_seller: bool, now: datetime) -> list[SafeString]:
    """Each row's card, kept per process under all the row's values and what its line's date says
    at `now` (the countdown): only the others are drawn."""

    def draw(missing: list[selectors.DisputeListRow]) -> list[str]:
        return [render_to_string("disputes/_dispute_card.html", _card_context(row)) for row in missing]

    return fragments.rendered_rows(
        # The seller's rows name the buyer where the buyer's name the store: each list its own rows.
        "dispute-card-seller" if as_seller else "dispute-card",
        rows,
        key=lambda row: (*row, presenters.list_line_as_of(row, now)),
        render=draw,
    )


def _card_context(row: selectors.DisputeListRow) -> dict[str, Any]:
    return {
        "dispute": row,
        "status": presenters.list_status(row),
        "line": presenters.list_line(row),
        "kind": choice_label_of(Dispute, "kind", row.kind),
        "item": row.item,
        # What orders/_item_line.html reads of the order.
        "order": {"number": row.number, "currency": row.order_currency},
    }


@login_required
def dispute_list(request: AuthenticatedRequest):
    return _list(request, as_seller=False)


@login_required
def store_record_page(request: AuthenticatedRequest):
    """The seller's own record, the figures arbitrators see beside the store's claims."""
    store = request.user.own_store()
    if store is None:
        raise Http404
    record = store_record(store=store)
    return render(request, "disputes/store_record.html", {"record": record})


@login_required
def store_dispute_list(request: AuthenticatedRequest):
    # The list filters by the store's owner, so the role is all it needs to know: no store lookup.
    if request.user.role != request.user.Role.SELLER:
        raise Http404
    return _list(request, as_seller=True)


def _detail_context(
    request: AuthenticatedRequest, dispute: Dispute, versions: selectors.PageVersions, **forms: Form
) -> dict[str, Any]:
    """The dispute page's context, from what selectors.dispute_page_get() read."""
    now = timezone.now()
    role = rules.role_of(dispute, request.user)
    for_staff = role not in rules.PARTIES
    pending_offer = selectors.page_offer(versions)
    facts = selectors.page_facts(dispute, user=request.user, offers=[pending_offer] if pending_offer else [])
    order = dispute.order
    store = dispute.store
    claim = rules.claim_of(dispute)
    decisions = list(claim.decisions.all()) if claim else []
    shown_decision = decisions[-1] if decisions else None
    equivalent = selectors.RoubleEquivalents(known={dispute.currency: versions.rate})
    actions = rules.allowed(dispute, role, now, facts)
    history = presenters.DisputeHistory(
        dispute, lambda: selectors.page_events(dispute, with_actors=for_staff), for_staff=for_staff
    )
    requested_equivalent = equivalent(dispute.requested_amount, dispute.currency)
    # The buyer's request is headed as the original one once an agreement or another sum is on the table.
    request_superseded = dispute.resolved_amount is not None or (
        pending_offer is not None and pending_offer.amount != dispute.requested_amount
    )
    decision_money, decision_return = (
        presenters.decision_page_lines(shown_decision, role) if shown_decision else (SafeString(""), "")
    )
    text = presenters.present(
        dispute,
        role=role,
        now=now,
        actions=actions,
        claim=claim,
        decision=shown_decision,
        pending_offer_role=pending_offer.role if pending_offer else None,
    )
    escalate = actions.get(rules.Action.ESCALATE)
    return {
        "text": text,
        # The "Сроки" card: kept under its lines, which hold their dates and countdowns as shown.
        "deadlines_version": presenters.page_version(tuple(text.deadlines), text.money),
        # The parties' "next step" card: kept under the lines it shows (their dates already in the
        # reader's zone and language), drawn afresh while it holds the escalation form.
        "keep_next_step": not escalate,
        "next_step_version": presenters.page_version(
            tuple(text.next_steps),
            text.nothing_to_do,
            text.waiting,
            bool(escalate is not None and escalate.opens_later),
            text.escalation_opens,
            bool(actions.get(rules.Action.CANCEL)),
        ),
        "heading": presenters.page_heading(order.number),
        "decision_money": decision_money,
        "decision_return": decision_return,
        "offer_heading": presenters.offer_heading(pending_offer.role, role) if pending_offer else "",
        "offer_terms": presenters.offer_terms(pending_offer.return_required, role) if pending_offer else "",
        "dispute": dispute,
        "order": order,
        "role": role,
        "now": now,
        "pending_offer": pending_offer,
        "actions": actions,
        # The blocks below are kept rendered (the `fragments` cache) under a version of all they
        # show besides the reader's role, language and zone, which their {% cache %} tags add; their
        # rows are read only when a block is drawn afresh.
        "history": history,
        # The line under the heading and the item: a dispute about the whole order lists rows of
        # its order that no version here names, and is drawn afresh.
        "keep_head": dispute.item is not None or not versions.order_items,
        "head_version": presenters.page_version(
            order.number, dispute.kind, dispute.opened_at, presenters.item_shown(dispute.item, order.currency)
        ),
        "request_words": presenters.request_words(dispute, role, superseded=request_superseded),
        "request_version": presenters.page_version(
            versions.events, presenters.request_shown(dispute, requested_equivalent), request_superseded
        ),
        # Parties read the timeline's actors by role; staff read staff by name, which can change:
        # their timeline is drawn afresh.
        "keep_timeline": not for_staff,
        "timeline_version": presenters.page_version(versions.events, dispute.currency),
        # Called by the template only when the block is drawn afresh.
        "thread": lambda: selectors.page_thread(dispute),
        "thread_version": presenters.page_version(
            versions.messages, versions.files, dispute.buyer_id, store.owner_id, store.name
        ),
        "tracking": lambda: selectors.page_tracking(dispute),
        # A dispute about the whole order (no item) lists the order's items: most such orders
        # have none, and their list is then not asked for.
        "order_items": versions.order_items,
        "tracking_count": versions.tracking_count,
        "tracking_version": presenters.page_version(order.pk, versions.tracking),
        "requested_equivalent": requested_equivalent,
        "resolved_equivalent": equivalent(dispute.resolved_amount, dispute.currency)
        if dispute.resolved_amount
        else None,
        "offer_equivalent": equivalent(pending_offer.amount, dispute.currency)
        if pending_offer and pending_offer.amount
        else None,
        "claim": claim,
        "claim_card": presenters.claim_card(claim, dispute) if claim else None,
        "evidence_request": facts.evidence_request,
        "decisions": decisions,
        "decision": shown_decision,
        "decision_equivalent": (
            equivalent(shown_decision.amount, shown_decision.currency)
            if shown_decision and shown_decision.amount
            else None
        ),
        # An empty offer or message form is kept rendered (below its CSRF token) and made only when
        # drawn; a refused one, with its errors and what was typed, is drawn each time.
        "keep_offer_form": "offer_form" not in forms,
        "offer_form_version": presenters.page_version(
            dispute.kind, dispute.currency, order.currency, dispute.paid_amount, bool(store.return_address)
        ),
        "offer_form": forms.get("offer_form")
        or SimpleLazyObject(lambda: OfferForm(max_amount=dispute.paid_amount, currency=order.currency)),
        "keep_message_form": "message_form" not in forms,
        "message_form": forms.get("message_form") or SimpleLazyObject(MessageForm),
        "return_form": forms.get("return_form") or SimpleLazyObject(ReturnShipForm),
        "answer_form": forms.get("answer_form") or SimpleLazyObject(EvidenceAnswerForm),
    }


@login_required
def dispute_detail(request: AuthenticatedRequest, pk: int):
    dispute, versions = selectors.dispute_page_get(user=request.user, pk=pk)
    return render(request, "disputes/dispute_detail.html", _detail_context(request, dispute, versions))


def _act(request: AuthenticatedRequest, pk: int, action: Any, success: str) -> HttpResponse:
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    run_action(request, lambda: action(dispute), success=success)
    return redirect("disputes:detail", pk=dispute.pk)


def _offer_id(request: AuthenticatedRequest) -> int:
    try:
        return int(request.POST.get("offer", ""))
    except ValueError:
        return 0


@login_required
@require_POST
def offer_accept(request: AuthenticatedRequest, pk: int):
    """Accepting settles the dispute for good: the first press shows what will happen, the second
    (its own form, so it works without JavaScript) accepts."""
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    if request.POST.get("confirm") != "yes":
        if refused_page := _refused_before_upload(request, dispute, rules.Action.ACCEPT_OFFER):
            return refused_page
        offer = next((offer for offer in dispute.offers.all() if offer.pk == _offer_id(request)), None)
        if offer is None or offer.status != offer.Status.PENDING:
            messages.error(request, _("Это предложение уже не действует: обновите страницу."))
            return redirect("disputes:detail", pk=dispute.pk)
        role = rules.role_of(dispute, request.user)
        equivalent = selectors.rouble_equivalent(offer.amount, dispute.currency) if offer.amount else None
        context = {
            "dispute": dispute,
            "offer": offer,
            "role": role,
            "effect": presenters.accept_effect(
                offer, dispute.currency, role, in_roubles=equivalent[0] if equivalent else None
            ),
        }
        return render(request, "disputes/accept_confirm.html", context)
    return _act(
        request,
        pk,
        lambda dispute: services.offer_accept(dispute=dispute, offer_id=_offer_id(request), user=request.user),
        _("Предложение принято: вы договорились. Что дальше — ниже на странице спора."),
    )


@login_required
@require_POST
def offer_refuse(request: AuthenticatedRequest, pk: int):
    return _act(
        request,
        pk,
        lambda dispute: services.offer_refuse(dispute=dispute, offer_id=_offer_id(request), user=request.user),
        _("Предложение отклонено. Можно предложить свои условия или передать спор в претензию."),
    )


def _refused_before_upload(
    request: AuthenticatedRequest, dispute: Dispute, action: rules.Action
) -> HttpResponse | None:
    """Ask the rulebook before any file is stored: a refused action keeps nothing."""
    facts = selectors.page_facts(dispute, user=request.user, offers=list(dispute.offers.all()))
    message = rules.refusal(action, dispute, rules.role_of(dispute, request.user), timezone.now(), facts)
    if message is None:
        return None
    messages.error(request, message)
    return redirect("disputes:detail", pk=dispute.pk)


@login_required
@require_POST
def offer_create(request: AuthenticatedRequest, pk: int):
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    if refusal_page := _refused_before_upload(request, dispute, rules.Action.MAKE_OFFER):
        return refusal_page
    order = dispute.order
    form = OfferForm(request.POST, request.FILES, max_amount=dispute.paid_amount, currency=order.currency)
    return _form_on_detail(
        request,
        dispute,
        "offer_form",
        form,
        lambda sent: services.offer_make(
            dispute=dispute,
            user=request.user,
            amount=sent.data.get("amount"),
            attachment_ids=sent.attachment_ids,
            return_postage_limit=sent.data.get("return_postage_limit"),
            **sent.fields("refund_type", "return_required", "note"),
        ),
        success=_("Предложение отправлено."),
    )


@login_required
@require_POST
def message_create(request: AuthenticatedRequest, pk: int):
    return _post_words(
        request,
        pk,
        rules.Action.POST_MESSAGE,
        MessageForm,
        "message_form",
        services.message_post,
        anchor="#thread",
    )


def _post_words(
    request: AuthenticatedRequest,
    pk: int,
    action: rules.Action,
    form_class: type[MessageForm],
    form_name: str,
    service: Callable[..., object],
    **options: Any,
) -> HttpResponse:
    """Words, files and a video link for `service` (a message, an answer to the arbitrator)."""
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    if refusal_page := _refused_before_upload(request, dispute, action):
        return refusal_page
    return _form_on_detail(
        request,
        dispute,
        form_name,
        form_class(request.POST, request.FILES),
        lambda sent: service(
            dispute=dispute, user=request.user, attachment_ids=sent.attachment_ids, **sent.fields("text", "link")
        ),
        refusal_field="text",
        **options,
    )


@login_required
def dispute_cancel(request: AuthenticatedRequest, pk: int):
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    if dispute.buyer_id != request.user.pk:
        raise Http404
    if message := rules.refusal(rules.Action.CANCEL, dispute, rules.Role.BUYER, timezone.now()):
        messages.error(request, message)
        return redirect("disputes:detail", pk=dispute.pk)
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
def dispute_escalate(request: AuthenticatedRequest, pk: int):
    """Escalating ends the negotiation: the first press says what a claim means, the second sends it."""
    if request.POST.get("confirm") != "yes":
        dispute = selectors.dispute_get(user=request.user, pk=pk)
        action = (
            rules.Action.REJECT_RETURN if dispute.status == Dispute.Status.RETURN_SHIPPED else rules.Action.ESCALATE
        )
        if refused_page := _refused_before_upload(request, dispute, action):
            return refused_page
        context = {
            "dispute": dispute,
            "role": rules.role_of(dispute, request.user),
            "fastest": days(settings.CLAIM_DECISION_FLAG_DAYS),
            "latest": days(settings.CLAIM_DECISION_OVERDUE_DAYS),
        }
        return render(request, "disputes/escalate_confirm.html", context)
    return _act(
        request,
        pk,
        lambda dispute: services.dispute_escalate(dispute=dispute, user=request.user),
        _("Спор передан в претензию. Решение примет арбитр."),
    )


@login_required
@require_POST
def return_ship(request: AuthenticatedRequest, pk: int):
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
    return _detail_again(request, dispute, return_form=form)


@login_required
@require_POST
def return_confirm(request: AuthenticatedRequest, pk: int):
    return _act(
        request,
        pk,
        lambda dispute: services.return_confirm(dispute=dispute, seller=request.user),
        _("Получение подтверждено, покупателю возвращаются деньги."),
    )


@login_required
def attachment_download(request: AuthenticatedRequest, token: str) -> FileResponse:
    return files.stored_file_response(selectors.attachment_get(user=request.user, token=token))


@login_required
@require_POST
def evidence_answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A party answers the arbitrator's evidence request with text and files."""
    return _post_words(
        request,
        pk,
        rules.Action.ANSWER_EVIDENCE,
        EvidenceAnswerForm,
        "answer_form",
        claims.evidence_answer,
        success=_("Ответ отправлен арбитру."),
        anchor="#claim",
    )


@login_required
def appeal_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The appeal page: what an appeal is, its last date, and the form (reason and new files)."""
    dispute = selectors.dispute_get(user=request.user, pk=pk)
    role = rules.role_of(dispute, request.user)
    if role not in rules.PARTIES:
        raise Http404
    offers = list(dispute.offers.all())
    permit = rules.permit(
        rules.Action.APPEAL,
        dispute,
        role,
        timezone.now(),
        selectors.page_facts(dispute, user=request.user, offers=offers),
    )
    if not permit:
        messages.error(request, str(permit.refusal))
        return redirect("disputes:detail", pk=dispute.pk)
    form = AppealForm(request.POST or None, request.FILES or None)

    def page() -> HttpResponse:
        claim = rules.claim_of(dispute)
        context = {
            "dispute": dispute,
            "claim": claim,
            "decision": claim.decisions.all()[0] if claim else None,
            "permit": permit,
            "form": form,
            "max_files": settings.UPLOAD_MAX_FILES,
        }
        return render(request, "disputes/appeal.html", context, status=400 if form.errors else 200)

    return run_form_action(
        request,
        form,
        lambda sent: claims.appeal_file(
            dispute=dispute, user=request.user, reason=sent.data["reason"], attachment_ids=sent.attachment_ids
        ),
        uploads=_uploads(request),
        refusal_field="reason",
        success=_("Апелляция подана. Её рассмотрит другой арбитр; мы напишем о решении."),
        done=lambda _appeal: redirect(reverse("disputes:detail", args=[dispute.pk]) + "#claim"),
        page=page,
    )
