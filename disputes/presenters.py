"""What a person reads about a dispute: the one place that words its state for a viewer.

Pages (the dispute page, the order page's dispute line) and the dispute e-mails read their texts
from here; templates only lay them out. `present()` turns a dispute, its claim and decision, the
actions the rulebook allows the viewer now and the moment into the texts of the page:

- `status`: the status line;
- `next_steps`: what the viewer must do now, one line per action due from them (derived from the
  rulebook's allowed actions, so "nothing to do" cannot be shown while one is due); `waiting` says
  what happens next when nothing is due from them;
- `deadlines`: the "Сроки" lines, dates in the viewer's zone with the zone named and a countdown;
- `escalation_opens`: when the viewer may escalate, while that is still to come (under the page's
  disabled "escalate" button);
- `money`: where the money is, how much, in which currency, and when it arrives;
- `settlement`: what was agreed (only when the parties agreed) or granted (the seller's silence);
  an arbitration decision has its own block.

`Headline` and the headlines below are the subjects and first lines of the dispute e-mails, one
wording per reader: each mail names the reader's own side ("вам", "вы").
"""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, Protocol

from django.conf import settings
from django.utils.functional import lazy
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from core.dates import days
from core.fragments import digest
from core.models import choice_label_of
from core.money import format_money, money_lazy
from core.rules import Permit, Role
from core.templatetags.deadlines import deadline, deadline_as_of
from orders.models import OrderItem

from . import timeline
from .models import Claim, Decision, Dispute, DisputeEvent, ExchangeRate, Offer
from .problems import ALL_PROBLEMS
from .rules import Action

S = Dispute.Status

# The actions a party must take before a deadline: while one is allowed, the page never says
# "nothing to do".
DUE_ACTIONS = (
    Action.ACCEPT_OFFER,
    Action.SHIP_RETURN,
    Action.CONFIRM_RETURN,
    Action.ANSWER_EVIDENCE,
)
NOTHING_TO_DO = gettext_lazy("Сейчас действий не требуется.")
UNDECIDED = frozenset({Claim.Stage.PROCESSING, Claim.Stage.AWAITING_PARTIES, Claim.Stage.INVESTIGATION})


@dataclass(frozen=True)
class DisputeText:
    status: str
    next_steps: list[SafeString]
    waiting: SafeString | str
    deadlines: list[SafeString]
    money: SafeString
    settlement_heading: str = ""
    settlement: list[SafeString] = field(default_factory=list)
    escalation_opens: SafeString | str = ""
    # "Nothing to do now", only when no action is due from the viewer (worded once: the page asks
    # for it twice).
    nothing_to_do: str = ""


def _money(dispute: Dispute, amount: Any) -> str:
    return format_money(amount, dispute.currency)


def _is_allowed(actions: dict[str, Permit], action: Action) -> bool:
    permit = actions.get(action)
    return bool(permit)


def present(
    dispute: Dispute,
    *,
    role: Role,
    now: datetime,
    actions: dict[str, Permit],
    claim: Claim | None = None,
    decision: Decision | None = None,
    pending_offer_role: str | None = None,
) -> DisputeText:
    """Every text of the dispute page for `role` (buyer, seller, or staff reading the page)."""
    settlement_heading, settlement = _settlement(dispute, role, decision)
    escalate = actions.get(Action.ESCALATE)
    # Drawn once: the "Сроки" line and the line under the disabled button show the same moment.
    escalation_opens_at = deadline(escalate.opens_at) if escalate is not None and escalate.opens_later else None
    next_steps = _next_steps(dispute, role, actions, claim)
    return DisputeText(
        status=_status(dispute, claim),
        next_steps=next_steps,
        nothing_to_do="" if next_steps else str(NOTHING_TO_DO),
        waiting=_waiting(dispute, role, claim, pending_offer_role),
        deadlines=_deadlines(dispute, role, actions, claim, escalation_opens_at),
        money=money_line(dispute, role),
        settlement_heading=settlement_heading,
        settlement=settlement,
        escalation_opens=(
            mark_safe(conditional_escape(_("Можно с %(date)s.")) % {"date": escalation_opens_at})
            if escalation_opens_at is not None
            else ""
        ),
    )


def _status(dispute: Dispute, claim: Claim | None) -> str:
    if dispute.status == S.CLAIM and claim is not None:
        return f"{dispute.get_status_display()}: {claim.get_stage_display().lower()}"
    return str(dispute.get_status_display())


def _next_steps(dispute: Dispute, role: Role, actions: dict[str, Permit], claim: Claim | None) -> list[SafeString]:
    steps: list[SafeString] = []
    if _is_allowed(actions, Action.ACCEPT_OFFER):
        if role == Role.SELLER and dispute.status == S.AWAITING_SELLER:
            steps.append(
                format_html(
                    _(
                        "Ответьте на требование покупателя до {}: примите его или откажите и предложите свои "
                        "условия. Если не ответите, требование будет удовлетворено."
                    ),
                    deadline(dispute.seller_answer_due_at),
                )
            )
        elif role == Role.SELLER:
            steps.append(
                conditional_escape(_("Покупатель ждёт ответа на своё предложение: примите или отклоните его."))
            )
        else:
            steps.append(conditional_escape(_("Продавец ждёт ответа на своё предложение: примите или отклоните его.")))
    if _is_allowed(actions, Action.SHIP_RETURN):
        steps.append(
            format_html(
                _("Отправьте товар продавцу с трек-номером до {} и укажите трек в форме на этой странице."),
                deadline(dispute.return_due_at),
            )
        )
    if _is_allowed(actions, Action.CONFIRM_RETURN):
        steps.append(
            format_html(
                _("Покупатель отправил вам товар, трек {}. Когда он придёт, подтвердите получение на этой странице."),
                dispute.return_tracking_number,
            )
        )
    if _is_allowed(actions, Action.ANSWER_EVIDENCE) and claim is not None:
        steps.append(
            format_html(_("Арбитр просит у вас доказательства: ответьте до {}."), deadline(claim.evidence_due_at))
        )
    return steps


def _waiting(dispute: Dispute, role: Role, claim: Claim | None, pending_offer_role: str | None) -> SafeString | str:
    """What happens next when nothing is due from the viewer."""
    status = dispute.status
    if status == S.AWAITING_SELLER and role != Role.SELLER:
        return format_html(_("Ждём ответа продавца до {}."), deadline(dispute.seller_answer_due_at))
    if status in (S.AWAITING_SELLER, S.NEGOTIATING):
        if pending_offer_role == role:
            return _("Ждём ответа другой стороны на ваше предложение.")
        return _("Идут переговоры: можно написать сообщение или предложить свои условия.")
    if status == S.AWAITING_RETURN:
        return format_html(_("Ждём, пока покупатель отправит товар продавцу (до {})."), deadline(dispute.return_due_at))
    if status == S.RETURN_SHIPPED:
        return _("Товар едет к продавцу; продавец подтвердит, что получил его.")
    if status == S.REFUNDING:
        return _("Идёт подготовка к возврату денег.")
    if status == S.CLAIM and claim is not None:
        if claim.stage in UNDECIDED:
            return _("Претензию рассматривает арбитр.")
        if claim.stage == Claim.Stage.DECIDED:
            if claim.appeal_due_at is not None:
                appeal_until = deadline(claim.appeal_due_at)
                return format_html(_("Арбитр принял решение; его можно обжаловать до {}."), appeal_until)
            return _("Арбитр принял решение.")
        if claim.stage == Claim.Stage.APPEAL:
            return _("Апелляцию рассматривает другой арбитр.")
        return str(FINAL_CARRIED_OUT)
    return _("Спор закончен.")


def _deadlines(
    dispute: Dispute,
    role: Role,
    actions: dict[str, Permit],
    claim: Claim | None,
    escalation_opens_at: SafeString | str | None,
) -> list[SafeString]:
    """The "Сроки" lines, the parties' own deadlines said to them ("ответьте", "отправьте")."""
    lines: list[SafeString] = []
    status = dispute.status
    buyer, seller = role == Role.BUYER, role == Role.SELLER
    if status == S.AWAITING_SELLER and dispute.seller_answer_due_at:
        if buyer:
            text = _("Продавец должен ответить до <strong>{}</strong>; иначе ваше требование будет удовлетворено.")
        elif seller:
            text = _("Ответьте до <strong>{}</strong>; иначе требование покупателя будет удовлетворено.")
        else:
            text = _(
                "Продавец должен ответить до <strong>{}</strong>; иначе требование покупателя будет удовлетворено."
            )
        lines.append(format_html(text, deadline(dispute.seller_answer_due_at)))
    if status in (S.AWAITING_SELLER, S.NEGOTIATING):
        escalate = actions.get(Action.ESCALATE)
        if escalation_opens_at is not None:
            lines.append(format_html(_("Передать спор в претензию можно с <strong>{}</strong>."), escalation_opens_at))
        elif escalate:
            lines.append(conditional_escape(_("Спор уже можно передать в претензию.")))
        if dispute.auto_claim_due_at:
            lines.append(
                format_html(
                    _("Если не договоритесь, спор сам станет претензией <strong>{}</strong>."),
                    deadline(dispute.auto_claim_due_at),
                )
            )
    if status == S.AWAITING_RETURN and dispute.return_due_at:
        if buyer:
            text = _("Отправьте товар продавцу и укажите трек до <strong>{}</strong>.")
        else:
            text = _("Покупатель должен отправить товар и указать трек до <strong>{}</strong>.")
        lines.append(format_html(text, deadline(dispute.return_due_at)))
    if status == S.RETURN_SHIPPED:
        if buyer:
            text = _("Вы отправили товар продавцу, трек <code>{}</code>. Продавец подтвердит получение.")
        elif seller:
            text = _("Покупатель отправил вам товар, трек <code>{}</code>. Подтвердите получение, когда он придёт.")
        else:
            text = _("Товар отправлен продавцу, трек <code>{}</code>. Продавец подтвердит получение.")
        lines.append(format_html(text, dispute.return_tracking_number))
    if status == S.CLAIM and claim is not None:
        if claim.stage in UNDECIDED:
            lines.append(
                format_html(
                    _("Претензию рассматривает арбитр. Решение будет принято не позже <strong>{}</strong>."),
                    deadline(claim.overdue_due_at),
                )
            )
        elif claim.stage == Claim.Stage.DECIDED:
            lines.append(
                format_html(
                    _("Решение можно обжаловать до <strong>{}</strong>; потом оно станет окончательным."),
                    deadline(claim.appeal_due_at),
                )
            )
        elif claim.stage == Claim.Stage.APPEAL:
            lines.append(
                conditional_escape(_("Апелляцию рассматривает другой арбитр; его решение будет окончательным."))
            )
    if status == S.CANCELLED:
        lines.append(conditional_escape(_("Спор отменён покупателем. Открыть спор по этому заказу снова нельзя.")))
    return lines


def money_line(dispute: Dispute, role: Role) -> SafeString:
    """Where the order's money is because of this dispute, for the dispute page and the order page."""
    status = dispute.status
    amount = _money(dispute, dispute.resolved_amount) if dispute.resolved_amount is not None else ""
    to_me = role == Role.BUYER
    if status == S.REFUNDING:
        if to_me:
            return format_html(_("Вам возвращается {amount}: идёт подготовка к возврату."), amount=amount)
        return format_html(_("Покупателю возвращается {amount}: идёт подготовка к возврату."), amount=amount)
    if status == S.REFUNDED:
        date = deadline(dispute.refund_completed_at, countdown=False)
        if to_me:
            return format_html(
                _("{amount} отправлены вам {date}; банк зачислит их за 3–20 дней."), amount=amount, date=date
            )
        return format_html(_("{amount} возвращены покупателю {date}."), amount=amount, date=date)
    if status == S.CLOSED:
        return conditional_escape(_("Спор закрыт без возврата денег: оплата заказа остаётся продавцу."))
    if status == S.CANCELLED:
        return conditional_escape(_("Спор отменён покупателем: оплата заказа остаётся продавцу."))
    if status in (S.AWAITING_RETURN, S.RETURN_SHIPPED):
        if to_me:
            return format_html(_("Вам вернётся {amount}, когда продавец получит товар."), amount=amount)
        return format_html(_("Покупателю вернётся {amount}, когда вы получите товар."), amount=amount)
    return conditional_escape(_("По заказу идёт спор: деньги за заказ не уйдут продавцу, пока спор не закончится."))


def _settlement(dispute: Dispute, role: Role, decision: Decision | None) -> tuple[str, list[SafeString]]:
    """ "О чём договорились" only when the parties agreed; the seller's silence says so; an
    arbitrator's decision has its own block, so nothing here."""
    if dispute.resolved_amount is None or decision is not None:
        return "", []
    lines: list[SafeString] = []
    buyer, seller = role == Role.BUYER, role == Role.SELLER
    if dispute.resolved_amount:
        amount = _money(dispute, dispute.resolved_amount)
        if buyer:
            lines.append(format_html(_("Возврат вам: <strong>{}</strong>"), amount))
        else:
            lines.append(format_html(_("Возврат покупателю: <strong>{}</strong>"), amount))
    else:
        lines.append(conditional_escape(_("Без возврата денег.")))
    if dispute.return_required:
        if seller:
            lines.append(conditional_escape(_("Покупатель возвращает вам товар.")))
        else:
            lines.append(conditional_escape(_("Товар нужно вернуть продавцу.")))
    elif dispute.resolved_amount:
        if buyer:
            lines.append(conditional_escape(_("Товар остаётся у вас.")))
        else:
            lines.append(conditional_escape(_("Товар остаётся у покупателя.")))
    if dispute.seller_silent:
        return _("Требование удовлетворено: продавец не ответил вовремя"), lines
    return _("О чём договорились"), lines


def request_words(dispute: Dispute, role: Role, *, superseded: bool) -> tuple[str, str]:
    """The buyer's request block, said to the buyer as "you": its heading (the first request once an
    offer or an outcome replaced it) and, for an item not as described, whether it goes back."""
    buyer = role == Role.BUYER
    if superseded:
        heading = _("Ваше первоначальное требование") if buyer else _("Первоначальное требование покупателя")
    else:
        heading = _("Ваше требование") if buyer else _("Требование покупателя")
    if dispute.kind != Dispute.Kind.NOT_AS_DESCRIBED:
        return heading, ""
    if dispute.return_item:
        return heading, _("Вы готовы вернуть товар.") if buyer else _("Покупатель готов вернуть товар.")
    return heading, _("Вы не собираетесь возвращать товар.") if buyer else _(
        "Покупатель не собирается возвращать товар."
    )


def page_heading(order_number: str) -> str:
    """The dispute page's heading and title."""
    return _("Спор по заказу %(number)s") % {"number": order_number}


def offer_heading(offer_role: str, viewer: Role) -> str:
    """A pending offer is labelled by who made it: the viewer's own is "yours"."""
    if offer_role == viewer:
        return _("Ваше предложение")
    return _("Предложение продавца") if offer_role == Role.SELLER else _("Предложение покупателя")


def offer_terms(return_required: bool, viewer: Role) -> str:
    """What happens to the item under an offer, said to the viewer's side."""
    if return_required:
        if viewer == Role.BUYER:
            return _("вы возвращаете товар продавцу")
        if viewer == Role.SELLER:
            return _("покупатель возвращает вам товар")
        return _("товар возвращается продавцу")
    if viewer == Role.BUYER:
        return _("товар остаётся у вас")
    return _("товар остаётся у покупателя")


def accept_effect(offer: Offer, currency: str, viewer: Role, *, in_roubles: Decimal | None = None) -> list[SafeString]:
    """What accepting `offer` does, said to the side that accepts it (the page that asks first):
    the money, then the item."""
    buyer = viewer == Role.BUYER
    return_days = days(settings.DISPUTE_RETURN_SHIP_DAYS)
    if offer.amount:
        amount = format_money(offer.amount, currency)
        if in_roubles is not None:
            amount += f" (≈ {format_money(in_roubles, 'RUB')})"
        money = _("Вам вернут %(amount)s.") if buyer else _("Покупателю вернут %(amount)s.")
        lines = [conditional_escape(money % {"amount": amount})]
    else:
        lines = [
            conditional_escape(_("Деньги вам не возвращаются.") if buyer else _("Деньги покупателю не возвращаются."))
        ]
    if offer.return_required:
        item = (
            _(
                "Вы отправите товар продавцу в течение %(days)s и укажете трек-номер; деньги вернутся, "
                "когда продавец подтвердит, что товар пришёл."
            )
            if buyer
            else _(
                "Покупатель отправит вам товар в течение %(days)s и укажет трек-номер; деньги вернутся ему, "
                "когда вы подтвердите, что товар пришёл."
            )
        )
        lines.append(conditional_escape(item % {"days": return_days}))
    elif offer.amount:
        item = (
            _("Товар остаётся у вас. Возврат денег начнётся сразу.")
            if buyer
            else _("Товар остаётся у покупателя. Возврат денег начнётся сразу.")
        )
        lines.append(conditional_escape(item))
    return lines


def buyer_problems(dispute: Dispute, events: list[DisputeEvent]) -> tuple[list[str], str]:
    """What the buyer chose when opening ("Требование покупателя" shows only that), and, when an
    arbitrator corrected the reason, one line saying what it is now and why."""
    chosen = list(dispute.problems)
    note = ""
    for event in events:
        details = event.details or {}
        if event.kind == DisputeEvent.Kind.OPENED and isinstance(details.get("problems"), list):
            chosen = details["problems"]
        if event.kind == DisputeEvent.Kind.RECLASSIFIED:
            note = str(details.get("note", ""))
    labels = [str(ALL_PROBLEMS[code].label) for code in chosen if code in ALL_PROBLEMS]
    if sorted(chosen) == sorted(dispute.problems):
        return labels, ""
    now_labels = ", ".join(f"«{ALL_PROBLEMS[code].label}»" for code in dispute.problems if code in ALL_PROBLEMS)
    line = _("Арбитр уточнил причину спора: %(problems)s.") % {"problems": now_labels}
    if note:
        line = f"{line} {_reason_line(note)}"
    return labels, line


class DisputeHistory:
    """The dispute's events as its page words them (the buyer's request and the timeline), read
    by `events()` only when first asked: a page whose blocks are kept rendered asks nothing, not
    even to build the query."""

    def __init__(self, dispute: Dispute, events: Callable[[], Iterable[DisputeEvent]], *, for_staff: bool) -> None:
        self.dispute = dispute
        self._source = events
        self.for_staff = for_staff

    @cached_property
    def events(self) -> list[DisputeEvent]:
        return list(self._source())

    @cached_property
    def _request(self) -> tuple[list[str], str]:
        return buyer_problems(self.dispute, self.events)

    @property
    def problems(self) -> list[str]:
        return self._request[0]

    @property
    def reclassified(self) -> str:
        return self._request[1]

    @cached_property
    def timeline(self) -> list[tuple[DisputeEvent, str, list[str]]]:
        dispute, for_staff = self.dispute, self.for_staff
        return [
            (
                event,
                timeline.actor_label(event, dispute, for_staff=for_staff),
                timeline.describe(event, dispute, for_staff=for_staff),
            )
            for event in self.events
        ]


def page_version(*parts: Hashable) -> str:
    """A short key for a block of the dispute page kept rendered, from everything it shows that
    can change (a `{% cache %}` tag joins its parts with ":", which a store's name may hold)."""
    return digest(parts)


def item_shown(item: OrderItem | None, currency: str) -> tuple[Hashable, ...]:
    """What an item's line (orders/_item_line.html) shows, for the key of a block kept with it."""
    if item is None:
        return ()
    return (
        item.pk,
        item.title,
        item.variant,
        item.quantity,
        item.unit_price,
        item.image.name,
        item.image_url,
        currency,
    )


def request_shown(dispute: Dispute, equivalent: tuple[Decimal, ExchangeRate] | None) -> tuple[Hashable, ...]:
    """What the dispute page's block of the buyer's request shows besides its events' wording
    (disputes/_request.html), for the key it is kept under."""
    rate = (equivalent[0], equivalent[1].rub_per_unit, equivalent[1].as_of) if equivalent else None
    return (
        tuple(dispute.problems),
        dispute.kind,
        dispute.held_by_customs,
        dispute.wrong_address,
        dispute.refund_type,
        dispute.requested_amount,
        dispute.currency,
        dispute.return_item,
        rate,
    )


def _with_date(text: str, moment: datetime | None) -> SafeString:
    """A translated sentence with %(date)s, the date as the deadline tag draws it (zone, countdown)."""
    return mark_safe(conditional_escape(text) % {"date": deadline(moment)})


# The claim card while arbitration runs: what the arbitrator does, and the claim's date it names.
_ARBITRATION_LINES: dict[str, tuple[Any, str | None]] = {
    Claim.Stage.PROCESSING: (
        gettext_lazy(
            "Арбитр изучит переписку, предложения и файлы обеих сторон. Решение будет принято не позже %(date)s; "
            "следите за почтой: арбитр может попросить доказательства."
        ),
        "overdue_due_at",
    ),
    Claim.Stage.AWAITING_PARTIES: (
        gettext_lazy(
            "Арбитр попросил доказательства и ждёт ответа до %(date)s. После ответа или этого срока он продолжит "
            "рассмотрение."
        ),
        "evidence_due_at",
    ),
    Claim.Stage.INVESTIGATION: (
        gettext_lazy("Арбитр изучает доказательства. Решение будет принято не позже %(date)s."),
        "overdue_due_at",
    ),
    Claim.Stage.DECIDED: (
        gettext_lazy(
            "Арбитр принял решение. Любая сторона может обжаловать его до %(date)s; если никто не обжалует, после "
            "этой даты решение будет исполнено."
        ),
        "appeal_due_at",
    ),
    Claim.Stage.APPEAL: (
        gettext_lazy("Решение обжаловано. Апелляцию рассматривает другой арбитр; его решение будет окончательным."),
        None,
    ),
}
FINAL_CARRIED_OUT = gettext_lazy("Решение окончательное и исполняется.")
# Once final: how far the decision is carried out, by the dispute's status.
_FINAL_LINES: dict[str, Any] = {
    S.REFUNDED: gettext_lazy("Решение исполнено: деньги возвращены покупателю."),
    S.CLOSED: gettext_lazy("Спор закрыт без возврата денег."),
    S.REFUNDING: gettext_lazy("Решение исполняется: идёт подготовка к возврату денег."),
    S.AWAITING_RETURN: gettext_lazy(
        "Решение исполняется: товар возвращается продавцу, деньги вернутся покупателю, когда продавец его получит."
    ),
}
_FINAL_LINES[S.RETURN_SHIPPED] = _FINAL_LINES[S.AWAITING_RETURN]


def claim_card(claim: Claim, dispute: Dispute) -> tuple[str, SafeString | str]:
    """The claim card's heading and the line under its stage, for either party: while arbitration
    runs, what the arbitrator does and by when; once the decision is final, how far it is carried
    out (the dispute's status says it)."""
    if claim.stage in _ARBITRATION_LINES:
        text, column = _ARBITRATION_LINES[claim.stage]
        line = _with_date(str(text), getattr(claim, column)) if column else str(text)
        return _("Претензия у арбитра"), line
    return _("Претензия рассмотрена"), str(_FINAL_LINES.get(dispute.status, FINAL_CARRIED_OUT))


class ListedDispute(Protocol):
    """A dispute as "Мои споры" and "Споры магазина" read it (selectors.DisputeListRow): its
    status, its claim's stage (None without a claim) and the dates its line may name."""

    @property
    def status(self) -> str: ...
    @property
    def claim_stage(self) -> str | None: ...
    @property
    def seller_answer_due_at(self) -> datetime | None: ...
    @property
    def auto_claim_due_at(self) -> datetime | None: ...
    @property
    def return_due_at(self) -> datetime | None: ...
    @property
    def refund_completed_at(self) -> datetime | None: ...
    @property
    def evidence_due_at(self) -> datetime | None: ...
    @property
    def appeal_due_at(self) -> datetime | None: ...
    @property
    def overdue_due_at(self) -> datetime | None: ...


def _listed_stage(dispute: ListedDispute) -> str | None:
    return dispute.claim_stage if dispute.status == S.CLAIM else None


def list_status(dispute: ListedDispute) -> str:
    """The badge in "Мои споры" and "Споры магазина"."""
    stage = _listed_stage(dispute)
    if stage is not None:
        return str(choice_label_of(Claim, "stage", stage))
    return str(choice_label_of(Dispute, "status", dispute.status))


def _list_sentence(dispute: ListedDispute) -> tuple[str, bool, datetime | None] | None:
    """The list line's sentence (untranslated), whether it names a date, and that date: the same
    moments the dispute page shows. None: the line is empty."""
    status = dispute.status
    stage = _listed_stage(dispute)
    if status == S.AWAITING_SELLER:
        return gettext_noop("Продавец отвечает до %(date)s"), True, dispute.seller_answer_due_at
    if status == S.NEGOTIATING:
        return gettext_noop("Станет претензией %(date)s"), True, dispute.auto_claim_due_at
    if status == S.AWAITING_RETURN:
        return gettext_noop("Отправить товар до %(date)s"), True, dispute.return_due_at
    if stage == Claim.Stage.AWAITING_PARTIES:
        return gettext_noop("Арбитр ждёт доказательства до %(date)s"), True, dispute.evidence_due_at
    if stage == Claim.Stage.DECIDED:
        return gettext_noop("Решение принято; обжаловать можно до %(date)s"), True, dispute.appeal_due_at
    if stage in UNDECIDED and dispute.overdue_due_at:
        return gettext_noop("Решение не позже %(date)s"), True, dispute.overdue_due_at
    if stage == Claim.Stage.APPEAL:
        return gettext_noop("Апелляцию рассматривает другой арбитр."), False, None
    if status == S.REFUNDING:
        return gettext_noop("Подготовка к возврату денег"), False, None
    if status == S.REFUNDED and dispute.refund_completed_at:
        return gettext_noop("Деньги возвращены %(date)s"), True, dispute.refund_completed_at
    return None


def list_line(dispute: ListedDispute) -> SafeString:
    """The next date of a dispute in the lists."""
    sentence = _list_sentence(dispute)
    if sentence is None:
        return SafeString("")
    text, dated, moment = sentence
    return _with_date(_(text), moment) if dated else conditional_escape(_(text))


def list_line_as_of(dispute: ListedDispute, now: datetime) -> Hashable:
    """What list_line() says at `now` besides the row's own columns, the language and the zone:
    its date's countdown, for the key of a row kept rendered."""
    sentence = _list_sentence(dispute)
    if sentence is None or sentence[2] is None:
        return None
    return deadline_as_of(sentence[2], now)


def decision_page_lines(decision: Decision, role: Role) -> tuple[SafeString, str]:
    """The decision block's money and item lines, said to the reader's side."""
    amount = format_money(decision.amount, decision.currency)
    if role == Role.BUYER:
        money = format_html(_("Вам возвращается <strong>{}</strong>"), amount)
    else:
        money = format_html(_("Покупателю возвращается <strong>{}</strong>"), amount)
    if not decision.return_required:
        return money, _("Товар возвращать не нужно.")
    if role == Role.BUYER:
        return money, _("Отправьте товар продавцу; деньги вернутся, когда продавец его получит.")
    if role == Role.SELLER:
        return money, _(
            "Покупатель отправит вам товар; когда он придёт, подтвердите получение: тогда покупателю вернутся деньги."
        )
    return money, _("Товар нужно вернуть продавцу; деньги вернутся после того, как продавец его получит.")


# --- e-mails ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """An e-mail's first line (its subject is the first clause), per reader: `buyer` and `seller`
    name the reader's own side; `anyone` is for a reader both wordings would fit (staff, or a fact
    said the same way to both)."""

    anyone: Any = None
    buyer: Any = None
    seller: Any = None

    def for_role(self, role: Role) -> Any:
        text = {Role.BUYER: self.buyer, Role.SELLER: self.seller}.get(role) or self.anyone
        if text is None:
            raise ValueError(f"no wording of this e-mail for {role}")
        return text


OPENED = Headline(seller=gettext_lazy("Покупатель открыл спор по заказу {number}. Ответьте за {days}."))
OFFER_BY_SELLER = Headline(buyer=gettext_lazy("Продавец предложил {amount} по заказу {number}."))
OFFER_BY_BUYER = Headline(seller=gettext_lazy("Покупатель предложил {amount} по заказу {number}."))
OFFER_REFUSED = Headline(anyone=gettext_lazy("Ваше предложение по заказу {number} отклонено."))
MESSAGE = Headline(anyone=gettext_lazy("Новое сообщение в споре по заказу {number}."))
CANCELLED = Headline(seller=gettext_lazy("Покупатель отменил спор по заказу {number}."))
ESCALATED = Headline(
    anyone=gettext_lazy("Спор по заказу {number} передан в претензию: решение примет арбитр за {fastest}–{latest}.")
)
# Agreed, not yet settled: the item still has to travel and the money follows it.
RESOLVED_WITH_RETURN = Headline(
    buyer=gettext_lazy(
        "Вы договорились с продавцом по заказу {number}: отправьте товар продавцу за {days}; "
        "деньги вернутся, когда продавец его получит."
    ),
    seller=gettext_lazy(
        "Вы договорились с покупателем по заказу {number}: покупатель отправит вам товар за {days}; "
        "когда он придёт, подтвердите получение — деньги вернутся покупателю."
    ),
)
RESOLVED_REFUND = Headline(
    buyer=gettext_lazy("Спор по заказу {number} решён: вам возвращается {amount}."),
    seller=gettext_lazy("Спор по заказу {number} решён: покупателю возвращается {amount}."),
)
SELLER_SILENT_WITH_RETURN = Headline(
    buyer=gettext_lazy(
        "Продавец не ответил на спор по заказу {number} за {answer_days}, поэтому ваше требование удовлетворено: "
        "отправьте товар продавцу за {days}."
    ),
    seller=gettext_lazy(
        "Вы не ответили на спор по заказу {number} за {answer_days}, поэтому требование покупателя удовлетворено: "
        "покупатель отправит вам товар за {days}."
    ),
)
SELLER_SILENT_REFUND = Headline(
    buyer=gettext_lazy(
        "Продавец не ответил на спор по заказу {number} за {answer_days}, поэтому ваше требование удовлетворено: "
        "вам возвращается {amount}."
    ),
    seller=gettext_lazy(
        "Вы не ответили на спор по заказу {number} за {answer_days}, поэтому требование покупателя удовлетворено: "
        "покупателю возвращается {amount}."
    ),
)
RETURN_SHIPPED = Headline(
    seller=gettext_lazy("Покупатель отправил вам товар по заказу {number}, трек {tracking}. Подтвердите получение.")
)
UNRETURNED = Headline(
    buyer=gettext_lazy("Вы не отправили товар по заказу {number} за {days}: спор закрыт без возврата денег."),
    seller=gettext_lazy(
        "Покупатель не отправил товар по заказу {number} за {days}: спор закрыт без возврата денег, "
        "оплата остаётся вам."
    ),
)
REFUNDED = Headline(
    buyer=gettext_lazy("Возврат по заказу {number} завершён: {amount} отправлены вам, банк зачислит их за 3–20 дней."),
    seller=gettext_lazy("Возврат по заказу {number} завершён: {amount} отправлены покупателю."),
)
EVIDENCE_REQUESTED = Headline(anyone=gettext_lazy("Арбитр просит доказательства по претензии по заказу {number}."))
EVIDENCE_ANSWERED = Headline(
    anyone=gettext_lazy("{side} ответил на ваш запрос доказательств по претензии по заказу {number}.")
)
# Which side answered, named in the arbitrator's mail.
SIDE_NAMES = {Role.BUYER: gettext_lazy("Покупатель"), Role.SELLER: gettext_lazy("Продавец")}
EVIDENCE_CLOSED = Headline(
    anyone=gettext_lazy("Срок ответа на запрос доказательств по заказу {number} прошёл: можно принимать решение.")
)
# Who appealed, said to each side: the appellant reads that it is filed, the other side who filed it.
YOU_APPEALED = gettext_lazy(
    "Вы обжаловали решение по претензии по заказу {number}. Апелляцию рассмотрит другой арбитр, "
    "его решение будет окончательным."
)
APPEALED_BY = {
    Role.BUYER: Headline(
        buyer=YOU_APPEALED,
        seller=gettext_lazy(
            "Покупатель обжаловал решение по претензии по заказу {number}. Апелляцию рассмотрит другой арбитр, "
            "его решение будет окончательным."
        ),
    ),
    Role.SELLER: Headline(
        buyer=gettext_lazy(
            "Продавец обжаловал решение по претензии по заказу {number}. Апелляцию рассмотрит другой арбитр, "
            "его решение будет окончательным."
        ),
        seller=YOU_APPEALED,
    ),
}
APPEAL_FOR_STAFF = Headline(anyone=gettext_lazy("Новая апелляция по заказу {number}: её нужно рассмотреть."))
RECLASSIFIED = Headline(
    anyone=gettext_lazy("Арбитр уточнил причину спора по заказу {number}: было {old}, стало {new}.")
)


def _return_address_line(address: str) -> str:
    return _("Куда отправить товар: %(address)s") % {"address": address}


def _reason_line(note: str) -> str:
    return _("Почему: %(note)s") % {"note": note}


def _evidence_asked_line(text: str) -> str:
    return _("Что просит арбитр: %(text)s") % {"text": text}


# Lazy, so a line made when the mail is queued is worded in the reader's language when it is sent.
return_address_line = lazy(_return_address_line, str)
reason_line = lazy(_reason_line, str)
evidence_asked_line = lazy(_evidence_asked_line, str)
RETURN_DUE_LABEL = gettext_lazy("Отправить товар и указать трек нужно до")
RETURN_DUE_LABEL_FOR_SELLER = gettext_lazy("Покупатель должен отправить товар и указать трек до")
# What happens to the item under an offer, said in the e-mail to the side that reads it.
OFFER_ITEM_LINES = {
    (True, Role.BUYER): gettext_lazy("По этому предложению вы возвращаете товар продавцу."),
    (True, Role.SELLER): gettext_lazy("По этому предложению покупатель возвращает вам товар."),
    (False, Role.BUYER): gettext_lazy("По этому предложению товар остаётся у вас."),
    (False, Role.SELLER): gettext_lazy("По этому предложению товар остаётся у покупателя."),
}
EVIDENCE_DUE_LABEL = gettext_lazy("Ответить арбитру нужно до")
# The seller's answer date in the "dispute opened" mail, with what silence costs, as the page says.
SELLER_ANSWER_DUE_LABEL = gettext_lazy(
    "Если не ответить, требование покупателя будет удовлетворено автоматически. Ответить нужно до"
)


def reader_role(dispute: Dispute, user_id: int) -> Role:
    """The side the reader of an e-mail is on (staff read the neutral wording)."""
    if user_id == dispute.buyer_id:
        return Role.BUYER
    if user_id == dispute.store.owner_id:
        return Role.SELLER
    return Role.NONE


def decision_mail_lines(dispute: Dispute, decision: Decision, role: Role, *, final: bool = False) -> list[Any]:
    """The money and the item under an arbitrator's decision, said to the reader's side (lazy: the
    mail is worded in the reader's language when it is sent)."""
    amount = money_lazy(decision.amount, decision.currency)
    asked = money_lazy(dispute.requested_amount, dispute.currency)
    buyer = role == Role.BUYER
    if decision.amount <= 0:
        if final:
            return [gettext_lazy("Деньги не возвращаются, спор закрыт.")]
        return [format_lazy(gettext_lazy("Деньги не возвращаются (просили {asked})."), asked=asked)]
    if final and decision.return_required:
        text = (
            gettext_lazy(
                "Отправьте товар продавцу; после этого вам вернётся {amount}. Адрес и срок — на странице спора."
            )
            if buyer
            else gettext_lazy(
                "Покупатель отправит вам товар; когда он придёт, подтвердите получение, и покупателю вернётся {amount}."
            )
        )
        return [format_lazy(text, amount=amount)]
    if final:
        text = (
            gettext_lazy("Вам возвращается {amount}: идёт подготовка к возврату.")
            if buyer
            else gettext_lazy("Покупателю возвращается {amount}: идёт подготовка к возврату.")
        )
        return [format_lazy(text, amount=amount)]
    lines = [
        format_lazy(
            gettext_lazy("Вам возвращается {amount} (вы просили {asked}).")
            if buyer
            else gettext_lazy("Покупателю возвращается {amount} (он просил {asked})."),
            amount=amount,
            asked=asked,
        )
    ]
    if decision.return_required:
        lines.append(
            gettext_lazy(
                "Товар нужно отправить продавцу обратно: адрес и срок — на странице спора. Деньги вернутся, когда "
                "продавец подтвердит получение."
            )
            if buyer
            else gettext_lazy(
                "Покупатель отправит вам товар обратно; когда он придёт, подтвердите получение на странице спора: "
                "тогда покупателю вернутся деньги."
            )
        )
    return lines
