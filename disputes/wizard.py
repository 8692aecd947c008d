"""The dispute-opening wizard: one question a page, answers kept in the session so that Back, a
validation error or a reload never loses what the buyer typed. Works without JavaScript.

`WizardState` holds the step logic (which steps this order and problem have, which one may be
shown now, what going forward or back does to the answers, which files the draft keeps); the
views only read the request and draw the page."""

import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.sessions.backends.base import SessionBase
from django.core.files.uploadedfile import UploadedFile

from core.files import upload_display_name
from orders import selectors as order_selectors
from orders.models import Order, OrderItem, TrackingEvent

from .forms import (
    ItemForm,
    NotAsDescribedProblemForm,
    NotReceivedProblemForm,
    ReceivedForm,
    RefundForm,
    RequestForm,
)
from .models import Attachment, Dispute

ITEM, RECEIVED, PROBLEM, REFUND, REQUEST, SUMMARY = "item", "received", "problem", "refund", "request", "summary"
# Fields a form has that are not answers: files go to storage, "remove" acts at once.
NOT_ANSWERS = ("evidence", "remove")


class WizardState:
    """What the buyer has answered so far for one order, kept in the session, and the steps it
    leads through."""

    def __init__(self, session: SessionBase, order: Order) -> None:
        self.session = session
        self.order = order
        self.key = f"dispute-wizard:{order.pk}"
        self.data: dict[str, Any] = session.get(self.key) or {"answers": {}, "attachment_ids": []}
        # Content hashes of the draft's files ({hash: attachment id}); drafts begun before lack it.
        self.data.setdefault("hashes", {})
        self.items: list[OrderItem] = order_selectors.items_with_dispute_amounts(order)
        self.undisputed = order_selectors.undisputed_among(order, self.items)

    def save(self) -> None:
        self.session[self.key] = self.data
        self.session.modified = True

    def clear(self) -> None:
        self.session.pop(self.key, None)

    @property
    def answers(self) -> dict[str, Any]:
        return self.data["answers"]

    @property
    def attachment_ids(self) -> list[int]:
        return self.data["attachment_ids"]

    def remember(self, step: str, values: dict[str, Any]) -> None:
        self.answers[step] = values
        self.save()

    # --- what was chosen -----------------------------------------------------------------------

    @property
    def received(self) -> bool | None:
        value = self.answers.get(RECEIVED, {}).get("received")
        return None if value is None else value == "yes"

    def kind(self) -> str:
        return Dispute.Kind.NOT_RECEIVED if self.received is False else Dispute.Kind.NOT_AS_DESCRIBED

    def choosable_items(self) -> list[OrderItem]:
        """The items a dispute may still be opened about."""
        if self.undisputed is None:
            return []
        return [item for item in self.items if item.pk in self.undisputed]

    @property
    def item(self) -> OrderItem | None:
        """The item the dispute is about: the one chosen, or the order's only item."""
        if len(self.items) == 1:
            return self.items[0]
        chosen = self.answers.get(ITEM, {})
        if chosen.get("_draft"):
            return None
        return next((item for item in self.items if item.pk == chosen.get("item")), None)

    def choose_item(self, item_id: int) -> None:
        """The order page's "open a dispute about this item": the item step is answered already."""
        if any(item.pk == item_id for item in self.choosable_items()) and ITEM in self.steps():
            self._answered(ITEM, {"item": item_id})

    @property
    def paid(self) -> Decimal:
        """What was paid for the chosen item, its share of shipping included: the refund's bound."""
        item = self.item
        if item is None:
            return self.order.total_amount
        return self.order.paid_per_item(self.items)[item.pk]

    # --- the steps -----------------------------------------------------------------------------

    def steps(self) -> list[str]:
        """An order of several items asks which one first; "not received" asks no refund (it is
        always the full amount, and nothing goes back). Until the buyer says whether the item came,
        the longer way is counted."""
        steps = [ITEM] if len(self.items) > 1 else []
        steps += [RECEIVED, PROBLEM]
        if self.received is not False:
            steps.append(REFUND)
        return [*steps, REQUEST, SUMMARY]

    def first(self) -> str:
        return self.steps()[0]

    def number(self, step: str) -> int:
        return self.steps().index(step) + 1

    def count(self) -> int:
        return len(self.steps())

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

    def detour(self, step: str) -> str | None:
        """Where to send a buyer who asked for `step`: an earlier step still unanswered, or
        nothing when `step` may be shown. Raises LookupError for a step this order does not have."""
        steps = self.steps()
        if step not in steps:
            raise LookupError(step)
        missing = self.first_missing()
        if missing and steps.index(step) > steps.index(missing):
            return missing
        return None

    def answer(self, step: str, form: forms.Form, *, going_back: bool) -> str | None:
        """Keep what was posted on `step`: a valid answer, or what was typed (so Back and a
        reload keep even a half-filled step). Returns the step to go to: the previous one when
        going back, the next one for a valid answer, None to show this one again with its errors."""
        valid = form.is_valid() and not form.errors
        if going_back:
            self.remember(step, cleaned_for_session(form) if valid else raw_for_session(form))
            return self.previous(step)
        if not valid:
            self.remember(step, raw_for_session(form))
            return None
        self._answered(step, cleaned_for_session(form))
        return self.next(step)

    def _answered(self, step: str, values: dict[str, Any]) -> None:
        before = self.received, self.item
        self.remember(step, values)
        if step == RECEIVED and before[0] is not None and before[0] != self.received:
            self.answers.pop(PROBLEM, None)  # the other kind has other problems
        if step == ITEM and before[1] is not None and before[1] != self.item:
            self.answers.pop(REFUND, None)  # its amount was bounded by the other item's price
        self.save()

    def form(self, step: str, *, data: Any = None, files: Any = None, uploaded: Sequence[Attachment] = ()) -> Any:
        """The step's form: bound to what was posted, or filled with what was answered before (or,
        for a not-received reason not yet chosen, with what the tracking events say)."""
        initial = {key: value for key, value in self.answers.get(step, {}).items() if key != "_draft"}
        if step == ITEM:
            return ItemForm(data, initial=initial, items=self.choosable_items())
        if step == RECEIVED:
            return ReceivedForm(data, initial=initial)
        if step == PROBLEM:
            if self.received is False:
                suggestion = tracking_suggestion(self.order)
                if suggestion and "problem" not in initial:
                    initial["problem"] = suggestion
                return NotReceivedProblemForm(data, initial=initial, has_tracking=bool(self.order.tracking_number))
            return NotAsDescribedProblemForm(data, initial=initial)
        if step == REFUND:
            return RefundForm(data, initial=initial, max_amount=self.paid, currency=self.order.currency)
        if step == REQUEST:
            return RequestForm(data, files, initial=initial, uploaded=uploaded, kind=self.kind())
        raise ValueError(step)

    # --- the draft's files ---------------------------------------------------------------------

    def forget_files(self, ids: Iterable[int]) -> None:
        """The files the buyer removed (or that are gone): neither attached nor remembered."""
        gone = set(ids)
        self.data["attachment_ids"] = [pk for pk in self.attachment_ids if pk not in gone]
        self.data["hashes"] = {digest: pk for digest, pk in self.data["hashes"].items() if pk not in gone}
        self.save()

    def unseen_files(self, uploads: Sequence[UploadedFile]) -> list[tuple[str, UploadedFile]]:
        """The uploads whose content the draft does not hold yet, with their hashes: choosing the
        same files again after an error attaches them once."""
        seen = {digest for digest, pk in self.data["hashes"].items() if pk in self.attachment_ids}
        fresh = []
        for upload in uploads:
            digest = content_hash(upload)
            if digest not in seen:
                seen.add(digest)
                fresh.append((digest, upload))
        return fresh

    def keep_files(self, stored: Sequence[Attachment], fresh: Sequence[tuple[str, UploadedFile]]) -> None:
        """Attach the files just stored, remembering each one's hash (a refused file is not stored:
        rows are matched to the uploads by name, in order)."""
        waiting = [(upload_display_name(upload), digest) for digest, upload in fresh]
        for row in stored:
            self.attachment_ids.append(row.pk)
            match = next((entry for entry in waiting if entry[0] == row.display_name), None)
            if match is not None:
                waiting.remove(match)
                self.data["hashes"][match[1]] = row.pk
        self.save()

    # --- what the service gets -----------------------------------------------------------------

    def service_arguments(self) -> dict[str, Any]:
        problem = self.answers.get(PROBLEM, {})
        request = self.answers.get(REQUEST, {})
        item = self.item
        arguments: dict[str, Any] = {
            "kind": self.kind(),
            "request_text": request.get("request_text", ""),
            "link": request.get("link", ""),
            "item_id": item.pk if item is not None else None,
        }
        if self.kind() == Dispute.Kind.NOT_RECEIVED:
            arguments |= {
                "problems": [problem.get("problem")],
                "held_by_customs": bool(problem.get("held_by_customs")),
                "wrong_address": bool(problem.get("wrong_address")),
            }
        else:
            refund = self.answers.get(REFUND, {})
            arguments |= {
                "problems": problem.get("problems", []),
                "refund_type": refund.get("refund_type", Dispute.RefundType.FULL),
                "amount": parse_amount(refund.get("amount")),
                "return_item": refund.get("return_item") == "yes",
            }
        return arguments

    def amount(self) -> Decimal | None:
        """The amount asked: what was paid for the item for a full refund, else the amount typed."""
        arguments = self.service_arguments()
        return self.paid if arguments.get("refund_type", "full") == "full" else arguments.get("amount")


def content_hash(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def parse_amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def tracking_suggestion(order: Order) -> str | None:
    """The not-received reason the carrier's events already tell: the parcel went back to the
    sender, or it was scanned as delivered (to someone)."""
    latest = {event.kind: event for event in order.tracking_events.all()}
    if TrackingEvent.Kind.RETURNED in latest:
        return "returned_to_seller"
    if TrackingEvent.Kind.DELIVERED in latest:
        return "delivered_not_received"
    return None


def cleaned_for_session(form: forms.Form) -> dict[str, Any]:
    """Form values as the session can store them (text, lists, booleans)."""
    values = {}
    for name, value in form.cleaned_data.items():
        if name in NOT_ANSWERS:
            continue
        values[name] = str(value) if isinstance(value, Decimal) else value
    return values


def raw_for_session(form: forms.Form) -> dict[str, Any]:
    """What the buyer typed, unvalidated, so that Back keeps even a half-filled step."""
    values: dict[str, Any] = {"_draft": True}
    for name, field in form.fields.items():
        if name in NOT_ANSWERS:
            continue
        widget_value = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        if widget_value not in (None, "", []):
            values[name] = widget_value
    return values
