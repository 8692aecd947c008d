"""The dispute-opening wizard: one question a page, answers kept in the session so that Back, a
validation error or a reload never loses what the buyer typed. Works without JavaScript."""

from decimal import Decimal, InvalidOperation

from orders.models import TrackingEvent

from .forms import NotAsDescribedProblemForm, NotReceivedProblemForm, ReceivedForm, RefundForm, RequestForm
from .models import Dispute


class WizardState:
    """What the buyer has answered so far for one order, kept in the session."""

    def __init__(self, session, order_pk: int):
        self.session = session
        self.key = f"dispute-wizard:{order_pk}"
        self.data: dict = session.get(self.key) or {"answers": {}, "attachment_ids": []}

    def save(self) -> None:
        self.session[self.key] = self.data
        self.session.modified = True

    def clear(self) -> None:
        self.session.pop(self.key, None)

    @property
    def answers(self) -> dict:
        return self.data["answers"]

    @property
    def attachment_ids(self) -> list[int]:
        return self.data["attachment_ids"]

    def remember(self, step: str, values: dict) -> None:
        self.answers[step] = values
        self.save()

    @property
    def received(self) -> bool | None:
        value = self.answers.get("received", {}).get("received")
        return None if value is None else value == "yes"

    def steps(self) -> list[str]:
        if self.received is False:
            return ["received", "problem", "request", "summary"]
        return ["received", "problem", "refund", "request", "summary"]

    def previous(self, step: str) -> str | None:
        steps = self.steps()
        index = steps.index(step)
        return steps[index - 1] if index > 0 else None

    def next(self, step: str) -> str:
        steps = self.steps()
        return steps[min(steps.index(step) + 1, len(steps) - 1)]

    def first_missing(self) -> str | None:
        """The first step without a valid answer, so a skipped step cannot be jumped over."""
        for step in self.steps()[:-1]:
            if step not in self.answers or self.answers[step].get("_draft"):
                return step
        return None

    def kind(self) -> str:
        return Dispute.Kind.NOT_RECEIVED if self.received is False else Dispute.Kind.NOT_AS_DESCRIBED

    def service_arguments(self) -> dict:
        problem = self.answers.get("problem", {})
        request = self.answers.get("request", {})
        arguments = {
            "kind": self.kind(),
            "request_text": request.get("request_text", ""),
            "link": request.get("link", ""),
        }
        if self.kind() == Dispute.Kind.NOT_RECEIVED:
            arguments |= {
                "problems": [problem.get("problem")],
                "held_by_customs": bool(problem.get("held_by_customs")),
                "wrong_address": bool(problem.get("wrong_address")),
            }
        else:
            refund = self.answers.get("refund", {})
            arguments |= {
                "problems": problem.get("problems", []),
                "refund_type": refund.get("refund_type", Dispute.RefundType.FULL),
                "amount": parse_amount(refund.get("amount")),
                "return_item": refund.get("return_item") == "yes",
            }
        return arguments


def parse_amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def tracking_suggestion(order) -> str | None:
    """The not-received reason the carrier's events already tell: the parcel went back to the
    sender, or it was scanned as delivered (to someone)."""
    latest = {event.kind: event for event in order.tracking_events.all()}
    if TrackingEvent.Kind.RETURNED in latest:
        return "returned_to_seller"
    if TrackingEvent.Kind.DELIVERED in latest:
        return "delivered_not_received"
    return None


def form_for(step: str, state: WizardState, order, *, data=None, files=None, uploaded=()):
    """The step's form: bound to what was posted, or filled with what was answered before (or,
    for a not-received reason not yet chosen, with what the tracking events say)."""
    initial = {key: value for key, value in state.answers.get(step, {}).items() if key != "_draft"}
    suggestion = tracking_suggestion(order) if step == "problem" and state.received is False else None
    if suggestion and "problem" not in initial:
        initial["problem"] = suggestion
    if step == "received":
        return ReceivedForm(data, initial=initial)
    if step == "problem":
        if state.received is False:
            return NotReceivedProblemForm(data, initial=initial, has_tracking=bool(order.tracking_number))
        return NotAsDescribedProblemForm(data, initial=initial)
    if step == "refund":
        return RefundForm(data, initial=initial, max_amount=order.total_amount, currency=order.currency)
    if step == "request":
        return RequestForm(data, files, initial=initial, uploaded=uploaded, kind=state.kind())
    raise ValueError(step)


def cleaned_for_session(form) -> dict:
    """Form values as the session can store them (text, lists, booleans)."""
    values = {}
    for name, value in form.cleaned_data.items():
        if name in ("evidence", "remove"):
            continue
        values[name] = str(value) if isinstance(value, Decimal) else value
    return values


def raw_for_session(form) -> dict:
    """What the buyer typed, unvalidated, so that Back keeps even a half-filled step."""
    values = {"_draft": True}
    for name, field in form.fields.items():
        if name in ("evidence", "remove"):
            continue
        widget_value = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        if widget_value not in (None, "", []):
            values[name] = widget_value
    return values
