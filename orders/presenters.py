"""What a person reads about an order: the one place that words its state for a viewer.

The order page (and the cancellation e-mails) read their texts from here; the template lays them
out. `present()` gives:

- `status`: the status line (a cancelled order says "Отменён" once; its refund has its own line);
- `tracking`: the tracking-number line, never "not given" above scans that are listed;
- `refunds`: one line per refund of a cancelled order: where the money is and when it arrives;
- `warning`: the banner for a parcel that stopped moving or is going back to the seller;
- `disputes`: each dispute's money line (a dispute is about one item), worded by the disputes
  app (which registers it here at start-up: orders does not import disputes).

`in_transit_note()` words the order's protection beside the dispute wizard's "still in transit"
reason; `extension_status()` a request to extend protection for the side reading it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from core.money import format_money
from core.rules import Role
from core.templatetags.deadlines import deadline

from .models import Order, ProtectionExtension, Refund, TrackingEvent
from .rules import ProtectionState

_dispute_lines: list[Callable[[Any, Role], SafeString]] = []


def register_dispute_line(line: Callable[[Any, Role], SafeString]) -> None:
    """The disputes app says, for an order's dispute and a viewer, where the money is."""
    _dispute_lines[:] = [line]


@dataclass(frozen=True)
class Warning:
    heading: str
    text: str
    returned: bool


@dataclass(frozen=True)
class OrderText:
    status: str
    tracking: SafeString
    tracking_given: bool
    refunds: list[SafeString]
    warning: Warning | None
    # One line per dispute of the order (a dispute is about one item): where its money is.
    disputes: list[SafeString]


def local_time(moment: datetime) -> str:
    """A moment in the viewer's zone, with the zone named."""
    return formats.date_format(timezone.localtime(moment), "j E Y, H:i T")


def present(
    order: Order,
    *,
    role: Role,
    tracking: list[TrackingEvent],
    refunds: list[Refund],
    stalled_since: datetime | None,
    disputes: Sequence[Any] = (),
) -> OrderText:
    tracking_line, given = _tracking(order, tracking)
    # Two disputes in the same state (a watch and its strap) say the same line once.
    dispute_lines = [_dispute_lines[0](dispute, role) for dispute in disputes] if _dispute_lines else []
    return OrderText(
        status=_status(order),
        tracking=tracking_line,
        tracking_given=given,
        refunds=[refund_line(refund, role) for refund in refunds],
        warning=_warning(tracking, stalled_since, role),
        disputes=list(dict.fromkeys(dispute_lines)),
    )


def _status(order: Order) -> str:
    if order.status == Order.Status.CANCELLED:
        return _("Отменён")
    return str(order.get_status_display())


def _tracking(order: Order, tracking: list[TrackingEvent]) -> tuple[SafeString, bool]:
    if order.tracking_number:
        return format_html("<code>{}</code>", order.tracking_number), True
    if order.status == Order.Status.AWAITING_SHIPMENT:
        return conditional_escape(_("Появится, когда продавец отправит заказ")), True
    if order.status == Order.Status.CANCELLED:
        return conditional_escape(_("Заказ не отправлялся")), True
    if tracking:
        # Scans can come without a number (the marketplace reports a delivery): say where they came from.
        return conditional_escape(
            _("Продавец не указал трек-номер; события ниже передала площадка по номеру заказа.")
        ), False
    return conditional_escape(_("Продавец не указал трек-номер")), False


def refund_line(refund: Refund, role: Role) -> SafeString:
    """One refund, said once: being prepared, or sent (and when the bank credits it)."""
    amount = format_money(refund.amount, refund.currency)
    buyer = role == Role.BUYER
    if refund.status == Refund.Status.COMPLETED and refund.completed_at:
        if buyer:
            return format_html(
                _("{amount} отправлены вам {date}; банк зачислит их за 3–20 дней."),
                amount=amount,
                date=local_time(refund.completed_at),
            )
        return format_html(
            _("{amount} возвращены покупателю {date}."), amount=amount, date=local_time(refund.completed_at)
        )
    if buyer:
        return format_html(
            _("Готовим возврат {amount}: деньги уйдут тем же способом, которым вы платили."), amount=amount
        )
    return format_html(_("Покупателю возвращается {amount}: идёт подготовка к возврату."), amount=amount)


def _warning(tracking: list[TrackingEvent], stalled_since: datetime | None, role: Role) -> Warning | None:
    """The parcel banner; the advice ("do not wait for protection to end") is the buyer's: the
    seller reads what the buyer may do."""
    last = tracking[-1] if tracking else None
    to_buyer = role == Role.BUYER
    if last is not None and last.kind == TrackingEvent.Kind.RETURNED:
        text = (
            _(
                "Служба доставки отметила %(date)s, что посылка возвращается отправителю: до вас она не дойдёт. "
                "Не ждите конца защиты: откройте спор, и продавец вернёт деньги или отправит товар заново."
            )
            if to_buyer
            else _(
                "Служба доставки отметила %(date)s, что посылка возвращается отправителю: до покупателя она не "
                "дойдёт. Покупатель может открыть спор, не дожидаясь конца защиты."
            )
        )
        heading, moment, returned = _("Посылка возвращается продавцу"), last.happened_at, True
    elif stalled_since is not None:
        text = (
            _(
                "Последнее событие отслеживания — %(date)s. Так бывает при задержке на сортировке или на таможне, "
                "но если посылка не сдвинется, не ждите конца защиты."
            )
            if to_buyer
            else _(
                "Последнее событие отслеживания — %(date)s. Выясните у службы доставки, что с посылкой: "
                "покупатель может открыть спор, не дожидаясь конца защиты."
            )
        )
        heading, moment, returned = _("Посылка давно не двигается"), stalled_since, False
    else:
        return None
    return Warning(heading=heading, text=text % {"date": local_time(moment)}, returned=returned)


def confirm_effect(ends_now: datetime | None, ends_after: datetime, window: str) -> tuple[str, list[SafeString]]:
    """What confirming receipt does to protection, by the two dates: it shortens it only when the
    new end comes earlier; otherwise the page must not say it does."""
    after = local_time(ends_after)
    before = (
        [format_html(_("сейчас открыть спор можно до <strong>{}</strong>;"), local_time(ends_now))] if ends_now else []
    )
    if ends_now is not None and ends_after < ends_now:
        return _("Подтверждение нельзя отменить, и оно сокращает защиту покупателя:"), [
            *before,
            format_html(
                _("после подтверждения — только {window}, до <strong>{date}</strong>."), window=window, date=after
            ),
        ]
    return _("Подтверждение нельзя отменить. Защиту оно не сокращает:"), [
        *before,
        format_html(
            _("после подтверждения спор можно открыть ещё {window}, до <strong>{date}</strong>."),
            window=window,
            date=after,
        ),
    ]


def in_transit_note(order: Order, protection: ProtectionState, *, may_extend: bool) -> SafeString | None:
    """Beside the wizard's "still in transit while protection is ending": when the protection
    ends, and, while it is not ending soon, the parcel is moving and the seller can still be asked
    (`may_extend`), that asking for more days is the other way to wait."""
    if not protection.is_running or protection.ends_at is None:
        return None
    ends = deadline(protection.ends_at)
    if may_extend and not protection.ending_soon:
        return format_html(
            _(
                "Защита заказа действует до {date}. Если посылка движется, но не успевает к этой дате, "
                'можно не открывать спор, а попросить продавца продлить защиту на <a href="{url}">странице заказа</a>.'
            ),
            date=ends,
            url=reverse("orders:detail", args=[order.number]) + "#protection-heading",
        )
    if protection.ending_soon:
        # A pending request does not hold the order: protection ends on its date all the same.
        return format_html(
            _(
                "Защита заказа действует до {date}. Продавец может не успеть ответить на просьбу о продлении, "
                "поэтому, если посылка не успевает, откройте спор до этой даты."
            ),
            date=ends,
        )
    return format_html(_("Защита заказа действует до {date}."), date=ends)


def extension_status(extension: ProtectionExtension, role: Role) -> str:
    """A request to extend protection, for the seller who answers it in its own words ("ждёт
    вашего ответа"), for everyone else as its status reads."""
    if role == Role.SELLER:
        own: dict[str, str] = {
            ProtectionExtension.Status.PENDING: _("ждёт вашего ответа"),
            ProtectionExtension.Status.ACCEPTED: _("вы продлили защиту"),
            ProtectionExtension.Status.REFUSED: _("вы отказали"),
        }
        if extension.status in own:
            return own[extension.status]
    return str(extension.get_status_display())
