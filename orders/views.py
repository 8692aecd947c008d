from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.forms import Form
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
from core.form_actions import Submission, run_form_action
from core.signatures import NoticeRejected
from core.views import run_action

from . import feed, payments, presenters, rules, selectors, services, shipping
from .forms import CancelRequestForm, ExtensionRequestForm, OrderFilterForm, ShipForm, SupportRequestForm
from .models import Order, OrderItem, ProtectionExtension
from .rules import Role

ORDERS_PER_PAGE = 10


class ItemRow(NamedTuple):
    """An item on the order page: its dispute, or whether its buyer may open one about it now."""

    item: OrderItem
    dispute: Any
    may_open: bool


def _order_list(request: AuthenticatedRequest, *, as_seller: bool):
    form = OrderFilterForm(request.GET or None)
    status = query = ""
    if form.is_valid():
        status, query = form.cleaned_data["status"], form.cleaned_data["q"]
    orders = selectors.order_list(
        user=request.user, as_seller=as_seller, status=status, query=query, with_items=False, card_fields_only=True
    )
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    page_orders = list(page.object_list)
    # The cards' keys name each dispute's status: one query for the disputes of the page's orders
    # that have any (none at all when no order on the page has a dispute).
    disputes = selectors.dispute_states([order.pk for order in page_orders if order.has_dispute])
    rows = [CardRow(order, rules.protection_state(order, now), disputes.get(order.pk, ())) for order in page_orders]
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
            # The filter form's HTML follows from these two values as sent (and the language).
            "filter_key": repr((request.GET.get("q"), request.GET.get("status"))),
        },
    )


class CardRow(NamedTuple):
    """An order of the list, what its protection line says, and its disputes (pk, status)."""

    order: Order
    protection: rules.ProtectionState
    disputes: tuple[tuple[int, str], ...]


def _order_card_key(row: CardRow, *, as_seller: bool) -> tuple[Hashable, ...]:
    """What an order card shows, besides its items (written once, with the order)."""
    order, protection, disputes = row
    return (
        as_seller,
        order.pk,
        order.updated_at,
        order.status,
        order.store.name,
        order.buyer.username if as_seller else "",
        # A card names its disputes only when the order has any (order.has_dispute).
        disputes,
        (protection.code, protection.days_left, protection.ending_soon),
        # A store's unshipped order says by when to ship it.
        order.ship_by if as_seller else None,
    )


def _order_cards(rows: list[CardRow], *, as_seller: bool) -> list[SafeString]:
    """Each row's card: kept ones from the fragment cache; only the others read their items."""

    def draw(missing: list[CardRow]) -> list[str]:
        prefetch_related_objects([row.order for row in missing], selectors.items_with_disputes())
        return [
            render_to_string(
                "orders/_order_card.html",
                {"order": row.order, "protection": row.protection, "as_seller": as_seller, "heading": "h2"},
            )
            for row in missing
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
    request: AuthenticatedRequest, page: selectors.OrderPage, extension_form=None, cancel_form=None, ship_form=None
) -> dict:
    now = timezone.now()
    order = page.order
    role = rules.role_of(order, request.user)
    cancellation = page.cancellation
    tracking = page.tracking
    extensions = page.extensions
    has_pending = any(e.status == ProtectionExtension.Status.PENDING for e in extensions)
    # The buttons, from the rulebook: each is drawn (a form, or why not) only for the party it is for.
    items = page.items
    undisputed = selectors.undisputed_items(order, items)
    facts = rules.Facts(has_pending_extension=has_pending, cancellation=cancellation, undisputed_items=undisputed)
    actions = rules.allowed(order, role, now, facts)
    if cancel_form is None and actions[rules.Action.CANCEL]:
        cancel_form = CancelRequestForm()
    if ship_form is None and actions[rules.Action.SHIP]:
        ship_form = ShipForm()
    extension_days = rules.extension_max_days(order) if actions[rules.Action.EXTEND] else 0
    if extension_form is None and actions[rules.Action.EXTEND]:
        extension_form = ExtensionRequestForm(max_days=extension_days)
    is_buyer, is_seller = role == Role.BUYER, role == Role.SELLER
    disputes = [item.dispute for item in items if hasattr(item, "dispute")]
    may_open = is_buyer and bool(actions[rules.Action.OPEN_DISPUTE])
    stalled_since = rules.tracking_stalled_since(tracking[-1].happened_at if tracking else None, order, now)
    refunds = list(order.refunds.all()) if order.status == order.Status.CANCELLED else []
    return {
        "text": presenters.present(
            order, role=role, tracking=tracking, refunds=refunds, stalled_since=stalled_since, disputes=disputes
        ),
        "order": order,
        "disputes": disputes,
        "actions": actions,
        "dispute_refusal": actions[rules.Action.OPEN_DISPUTE].refusal,
        # Each item with its dispute, or whether the buyer may open one about it now.
        "items": [
            ItemRow(item, getattr(item, "dispute", None), may_open and undisputed is not None and item.pk in undisputed)
            for item in items
        ],
        "several_items": len(items) > 1,
        "protection": rules.protection_state(order, now),
        "is_buyer": is_buyer,
        "is_seller": is_seller,
        "confirm_refusal": actions[rules.Action.CONFIRM].refusal,
        "extension_refusal": actions[rules.Action.EXTEND].refusal,
        "extension_form": extension_form,
        # The empty form's fields follow from the most days it allows (and the language): kept.
        "extension_days": extension_days,
        "extensions": [(extension, presenters.extension_status(extension, role)) for extension in extensions],
        # Read only when the history is drawn afresh (its parties read who acted by the stored role).
        "events": order.events.all(),
        "events_version": page.events,
        "buyer_name": page.buyer_name,
        "reminder_days": rules.confirm_reminder_due_at(order),
        "cancellation": cancellation,
        "cancel_form": cancel_form if is_buyer else None,
        "cancel_refusal": actions[rules.Action.CANCEL].refusal,
        "ship_form": ship_form if is_seller else None,
        "tracking": tracking,
        "stalled_since": stalled_since,
        "refunds": refunds,
    }


def _party_order(request: AuthenticatedRequest, number: str, role: Role) -> Order:
    """The order, for the party (buyer or seller) a page is for; 404 for anyone else."""
    order = selectors.order_get(user=request.user, number=number)
    if rules.role_of(order, request.user) != role:
        raise Http404
    return order


def _form_on_detail(
    request: AuthenticatedRequest,
    order: Order,
    form_name: str,
    form: Form,
    action: Callable[[Submission], object],
    **options: Any,
) -> HttpResponse:
    """A form of the order page: back to the page when the service acts, else the page again
    (400) with this form as `form_name`, its errors and what was typed."""
    return run_form_action(
        request,
        form,
        action,
        done=lambda _result: redirect("orders:detail", number=order.number),
        page=lambda: render(
            request,
            "orders/order_detail.html",
            _detail_context(request, selectors.order_page_of(order), **{form_name: form}),
            status=400,
        ),
        **options,
    )


@login_required
def order_detail(request: AuthenticatedRequest, number: str):
    page = selectors.order_page_get(user=request.user, number=number)
    return render(request, "orders/order_detail.html", _detail_context(request, page))


@login_required
def order_confirm(request: AuthenticatedRequest, number: str):
    """Confirming receipt is one-way and shortens protection: a page says so with both dates first
    (a form, so it works without JavaScript), and only its button confirms."""
    order = _party_order(request, number, Role.BUYER)
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
    effect, effect_lines = presenters.confirm_effect(
        order.protection_due_at,
        rules.protection_end_after_confirmation(confirmed_at=now),
        days(settings.DISPUTE_WINDOW_AFTER_CONFIRMATION_DAYS),
    )
    context = {"order": order, "effect": effect, "effect_lines": effect_lines}
    return render(request, "orders/confirm.html", context)


@login_required
@require_POST
def order_cancel(request: AuthenticatedRequest, number: str):
    """The buyer asks to cancel an unshipped order (docs/orders.md, "Before shipment and tracking")."""
    order = _party_order(request, number, Role.BUYER)
    form = CancelRequestForm(request.POST)
    return _form_on_detail(
        request,
        order,
        "cancel_form",
        form,
        lambda sent: shipping.order_cancel_request(order=order, buyer=request.user, **sent.fields("reason", "note")),
        success=_("Просьба отправлена продавцу. Если он не ответит за %(days)s, заказ отменится сам и деньги вернутся.")
        % {"days": days(settings.ORDER_CANCEL_SELLER_DAYS)},
    )


@login_required
@require_POST
def order_cancel_agree(request: AuthenticatedRequest, number: str):
    """Agreeing cancels and refunds for good: the first press says so, the second (its own form, so
    it works without JavaScript) agrees."""
    order = _party_order(request, number, Role.SELLER)
    if request.POST.get("confirm") != "yes":
        facts = rules.Facts(cancellation=getattr(order, "cancellation", None))
        if refusal := rules.refusal(rules.Action.AGREE_CANCEL, order, Role.SELLER, timezone.now(), facts):
            messages.error(request, refusal)
            return redirect("orders:detail", number=order.number)
        return render(request, "orders/cancel_agree_confirm.html", {"order": order})
    run_action(
        request,
        lambda: shipping.order_cancel_agree(order=order, seller=request.user),
        success=_("Заказ отменён, деньги возвращаются покупателю."),
    )
    return redirect("orders:detail", number=order.number)


@login_required
@require_POST
def order_ship(request: AuthenticatedRequest, number: str):
    order = _party_order(request, number, Role.SELLER)
    form = ShipForm(request.POST)
    return _form_on_detail(
        request,
        order,
        "ship_form",
        form,
        lambda sent: shipping.order_ship(order=order, seller=request.user, **sent.fields("tracking_number")),
        refusal_field="tracking_number",
        success=_("Заказ отмечен отправленным. Покупатель увидит трек-номер."),
    )


@login_required
@require_POST
def extension_create(request: AuthenticatedRequest, number: str):
    order = _party_order(request, number, Role.BUYER)
    form = ExtensionRequestForm(request.POST, max_days=rules.extension_max_days(order))
    return _form_on_detail(
        request,
        order,
        "extension_form",
        form,
        lambda sent: services.extension_request(order=order, buyer=request.user, **sent.fields("days", "reason")),
        success=_("Просьба отправлена продавцу. Мы напишем, когда он ответит."),
    )


@login_required
@require_POST
def extension_decide(request: AuthenticatedRequest, number: str, extension_id: int):
    order = _party_order(request, number, Role.SELLER)
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

    def page() -> HttpResponse:
        context = {
            "form": form,
            "order": order,
            "article": article,
            "requests": request.user.support_requests.select_related("order").order_by("-created_at", "-pk")[:50],
        }
        return render(request, "orders/support.html", context, status=400 if form.errors else 200)

    return run_form_action(
        request,
        form,
        lambda sent: services.support_request_create(
            author=request.user, order=order, article=article, text=sent.data["text"]
        ),
        refusal_field="text",
        success=_("Вопрос отправлен. Ответ появится здесь, и мы пришлём его письмом."),
        done=lambda _question: redirect("orders:support"),
        page=page,
    )
