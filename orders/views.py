from collections.abc import Callable, Hashable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from core import files, fragments
from core.dates import days
from core.errors import ActionRefused
from core.signatures import NoticeRejected
from core.views import run_action

from . import feed, payments, rules, selectors, services, shipping
from .forms import CancelRequestForm, ExtensionRequestForm, OrderFilterForm, ShipForm, SupportRequestForm
from .models import Order, ProtectionExtension
from .rules import Role

ORDERS_PER_PAGE = 10


def _order_list(request: AuthenticatedRequest, *, as_seller: bool):
    form = OrderFilterForm(request.GET or None)
    status = query = ""
    if form.is_valid():
        status, query = form.cleaned_data["status"], form.cleaned_data["q"]
    orders = selectors.order_list(user=request.user, as_seller=as_seller, status=status, query=query, with_items=False)
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(order, rules.protection_state(order, now)) for order in page.object_list]
    filter_query = request.GET.copy()
    filter_query.pop("page", None)
    return render(
        request,
        "orders/order_list.html",
        {
            "form": form,
            "page": page,
            "cards": _order_cards(rows, as_seller=as_seller),
            "as_seller": as_seller,
            "filter_query": filter_query.urlencode(),
        },
    )


def _order_card_key(row: tuple[Order, rules.ProtectionState], *, as_seller: bool) -> tuple[Hashable, ...]:
    """What an order card shows, besides its items (written once, with the order)."""
    order, protection = row
    dispute = order.dispute if order.has_dispute else None
    return (
        as_seller,
        order.pk,
        order.updated_at,
        order.status,
        order.store.name,
        order.buyer.username if as_seller else "",
        (dispute.pk, dispute.status) if dispute else None,
        (protection.code, protection.days_left, protection.ending_soon),
    )


def _order_cards(rows: list[tuple[Order, rules.ProtectionState]], *, as_seller: bool) -> list[SafeString]:
    """Each row's card: kept ones from the fragment cache; only the others read their items."""

    def draw(missing: list[tuple[Order, rules.ProtectionState]]) -> list[str]:
        prefetch_related_objects([order for order, _protection in missing], "items")
        return [
            render_to_string(
                "orders/_order_card.html",
                {"order": order, "protection": protection, "as_seller": as_seller, "heading": "h2"},
            )
            for order, protection in missing
        ]

    return fragments.rendered_rows(
        "order-card", rows, key=lambda row: _order_card_key(row, as_seller=as_seller), render=draw
    )


@login_required
def order_list(request: AuthenticatedRequest):
    return _order_list(request, as_seller=False)


@login_required
def store_order_list(request: AuthenticatedRequest):
    if not hasattr(request.user, "store"):
        raise Http404
    return _order_list(request, as_seller=True)


def _detail_context(
    request: AuthenticatedRequest, order, extension_form=None, cancel_form=None, ship_form=None
) -> dict:
    now = timezone.now()
    role = rules.role_of(order, request.user)
    cancellation = getattr(order, "cancellation", None)
    tracking = list(order.tracking_events.all())
    extensions = list(order.extensions.all())
    has_pending = any(e.status == ProtectionExtension.Status.PENDING for e in extensions)
    # The buttons, from the rulebook: each is drawn (a form, or why not) only for the party it is for.
    actions = rules.allowed(order, role, now, rules.Facts(has_pending_extension=has_pending, cancellation=cancellation))
    if cancel_form is None and actions[rules.Action.CANCEL]:
        cancel_form = CancelRequestForm()
    if ship_form is None and actions[rules.Action.SHIP]:
        ship_form = ShipForm()
    if extension_form is None and actions[rules.Action.EXTEND]:
        extension_form = ExtensionRequestForm(max_days=rules.extension_max_days(order))
    is_buyer, is_seller = role == Role.BUYER, role == Role.SELLER
    return {
        "order": order,
        "dispute": getattr(order, "dispute", None),
        "actions": actions,
        "dispute_refusal": actions[rules.Action.OPEN_DISPUTE].refusal,
        "items": order.items.all(),
        "protection": rules.protection_state(order, now),
        "is_buyer": is_buyer,
        "is_seller": is_seller,
        "confirm_refusal": actions[rules.Action.CONFIRM].refusal,
        "extension_refusal": actions[rules.Action.EXTEND].refusal,
        "extension_form": extension_form,
        "extensions": extensions,
        "events": order.events.select_related("actor"),
        "reminder_days": rules.confirm_reminder_due_at(order),
        "cancellation": cancellation,
        "cancel_form": cancel_form if is_buyer else None,
        "cancel_refusal": actions[rules.Action.CANCEL].refusal,
        "ship_form": ship_form if is_seller else None,
        "tracking": tracking,
        "stalled_since": rules.tracking_stalled_since(tracking[-1].happened_at if tracking else None, order, now),
        "refunds": list(order.refunds.all()) if order.status == order.Status.CANCELLED else [],
    }


@login_required
def order_detail(request: AuthenticatedRequest, number: str):
    order = selectors.order_get(user=request.user, number=number, with_tracking=True)
    return render(request, "orders/order_detail.html", _detail_context(request, order))


@login_required
def order_confirm(request: AuthenticatedRequest, number: str):
    """Confirming receipt is one-way and shortens protection: a page says so with both dates first
    (a form, so it works without JavaScript), and only its button confirms."""
    order = selectors.order_get(user=request.user, number=number)
    if rules.role_of(order, request.user) != Role.BUYER:
        raise Http404
    now = timezone.now()
    if refusal := rules.refusal(rules.Action.CONFIRM, order, Role.BUYER, now):
        messages.error(request, refusal)
        return redirect("orders:detail", number=order.number)
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        run_action(
            request,
            lambda: services.order_confirm_receipt(order=order, buyer=request.user),
            success=_("Спасибо! Получение подтверждено. Если с товаром что-то не так, спор можно открыть ещё %(days)s.")
            % {"days": days(settings.DISPUTE_WINDOW_AFTER_CONFIRMATION_DAYS)},
        )
        return redirect("orders:detail", number=order.number)
    context = {
        "order": order,
        "ends_now": order.protection_due_at,
        "ends_after": rules.protection_end_after_confirmation(confirmed_at=now),
        "window": days(settings.DISPUTE_WINDOW_AFTER_CONFIRMATION_DAYS),
    }
    return render(request, "orders/confirm.html", context)


@login_required
@require_POST
def order_cancel(request: AuthenticatedRequest, number: str):
    """The buyer asks to cancel an unshipped order (docs/orders.md, "Before shipment and tracking")."""
    order = selectors.order_get(user=request.user, number=number)
    if rules.role_of(order, request.user) != Role.BUYER:
        raise Http404
    form = CancelRequestForm(request.POST)
    if form.is_valid():
        try:
            shipping.order_cancel_request(
                order=order, buyer=request.user, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
            )
        except ActionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(
                request,
                _("Просьба отправлена продавцу. Если он не ответит за %(days)s, заказ отменится сам и деньги вернутся.")
                % {"days": days(settings.ORDER_CANCEL_SELLER_DAYS)},
            )
            return redirect("orders:detail", number=order.number)
    return render(request, "orders/order_detail.html", _detail_context(request, order, cancel_form=form), status=400)


@login_required
@require_POST
def order_cancel_agree(request: AuthenticatedRequest, number: str):
    order = selectors.order_get(user=request.user, number=number)
    if rules.role_of(order, request.user) != Role.SELLER:
        raise Http404
    run_action(
        request,
        lambda: shipping.order_cancel_agree(order=order, seller=request.user),
        success=_("Заказ отменён, деньги возвращаются покупателю."),
    )
    return redirect("orders:detail", number=order.number)


@login_required
@require_POST
def order_ship(request: AuthenticatedRequest, number: str):
    order = selectors.order_get(user=request.user, number=number)
    if rules.role_of(order, request.user) != Role.SELLER:
        raise Http404
    form = ShipForm(request.POST)
    if form.is_valid():
        try:
            shipping.order_ship(order=order, seller=request.user, tracking_number=form.cleaned_data["tracking_number"])
        except ActionRefused as refused:
            form.add_error("tracking_number", refused.message)
        else:
            messages.success(request, _("Заказ отмечен отправленным. Покупатель увидит трек-номер."))
            return redirect("orders:detail", number=order.number)
    return render(request, "orders/order_detail.html", _detail_context(request, order, ship_form=form), status=400)


@login_required
@require_POST
def extension_create(request: AuthenticatedRequest, number: str):
    order = selectors.order_get(user=request.user, number=number)
    if rules.role_of(order, request.user) != Role.BUYER:
        raise Http404
    form = ExtensionRequestForm(request.POST, max_days=rules.extension_max_days(order))
    if form.is_valid():
        try:
            services.extension_request(
                order=order, buyer=request.user, days=form.cleaned_data["days"], reason=form.cleaned_data["reason"]
            )
        except ActionRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("Просьба отправлена продавцу. Мы напишем, когда он ответит."))
            return redirect("orders:detail", number=order.number)
    context = _detail_context(request, order, extension_form=form)
    return render(request, "orders/order_detail.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def extension_decide(request: AuthenticatedRequest, number: str, extension_id: int):
    order = selectors.order_get(user=request.user, number=number)
    if rules.role_of(order, request.user) != Role.SELLER:
        raise Http404
    extension = get_object_or_404(ProtectionExtension, pk=extension_id, order=order)
    accept = request.POST.get("decision") == "accept"
    run_action(
        request,
        lambda: services.extension_answer(extension=extension, seller=request.user, accept=accept),
        success=_("Защита продлена.") if accept else _("Вы отказали в продлении."),
    )
    return redirect("orders:detail", number=order.number)


def _signed_notice(request: HttpRequest, receive: Callable[..., str], header: str) -> JsonResponse:
    """Hand a signed webhook's body to its service: its outcome as JSON, or why it was refused."""
    try:
        outcome = receive(body=request.body, signature_header=request.headers.get(header, ""))
    except NoticeRejected as rejected:
        return JsonResponse({"error": rejected.reason}, status=rejected.status)
    return JsonResponse({"status": outcome})


@csrf_exempt
@require_POST
def payment_webhook(request: HttpRequest) -> JsonResponse:
    """The payment system's signed notices (docs/orders.md, "Refunds and the payment webhook")."""
    return _signed_notice(request, payments.payment_notice_receive, "X-Payment-Signature")


@csrf_exempt
@require_POST
def tracking_webhook(request: HttpRequest) -> JsonResponse:
    """The logistics system's signed tracking events (docs/orders.md, "Before shipment and tracking")."""
    return _signed_notice(request, shipping.tracking_notice_receive, "X-Tracking-Signature")


@csrf_exempt
@require_POST
def marketplace_order_feed(request: HttpRequest) -> JsonResponse:
    """The marketplace's signed order events (orders/feed.py; docs/deploy.md, "Beside a marketplace")."""
    try:
        answer = feed.feed_receive(
            body=request.body, signature_header=request.headers.get("X-Marketplace-Signature", "")
        )
    except NoticeRejected as rejected:
        return JsonResponse({"error": rejected.reason}, status=rejected.status)
    return JsonResponse(answer.as_json(), status=answer.http_status)


@login_required
def item_image(request: AuthenticatedRequest, number: str, item_id: int) -> FileResponse:
    """An item's picture for whoever may open its order (404 for anyone else)."""
    order = selectors.order_get(user=request.user, number=number)
    item = next((item for item in order.items.all() if item.pk == item_id and item.image), None)
    if item is None:
        raise Http404
    extension = (item.image.name or "").rsplit(".", 1)[-1].lower()
    response = files.streamed_file_response(
        item.image, content_type=_IMAGE_TYPES.get(extension, "application/octet-stream")
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response


_IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@login_required
def support_requests(request: AuthenticatedRequest) -> HttpResponse:
    """The buyer's questions to support with their answers, and a new one: about an order (from its
    page or its dispute's page, also after the dispute closed) or about a help article."""
    order = None
    if number := request.GET.get("order") or request.POST.get("order"):
        order = selectors.order_get(user=request.user, number=number)
        if rules.role_of(order, request.user) != Role.BUYER:
            raise Http404
    article = (request.GET.get("article") or request.POST.get("article") or "")[:200]
    form = SupportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.support_request_create(
                author=request.user, order=order, article=article, text=form.cleaned_data["text"]
            )
        except ActionRefused as refused:
            form.add_error("text", refused.message)
        else:
            messages.success(request, _("Вопрос отправлен. Ответ появится здесь, и мы пришлём его письмом."))
            return redirect("orders:support")
    context = {
        "form": form,
        "order": order,
        "article": article,
        "requests": request.user.support_requests.select_related("order").order_by("-created_at", "-pk")[:50],
    }
    return render(request, "orders/support.html", context, status=400 if form.errors else 200)
