"""A field's error is tied to its control: the control says it is invalid and points at the error
text (aria-describedby), so a screen reader reads the reason when the field is reached."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from .disputes_helpers import open_dispute
from .factories import OrderFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict[str, str]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        attributes["_tag"] = tag
        self.elements.append(attributes)
        if tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._open.append(attributes.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("input", "br", "img", "meta", "link", "hr") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            if element_id:
                self.texts.setdefault(element_id, []).append(data)


def assert_errors_tied(html: str) -> list[str]:
    """Every invalid control points at an error that has text, and every error block is pointed
    at by some control; returns the error texts."""
    parsed = _Elements()
    parsed.feed(html)
    described = {
        target for element in parsed.elements for target in element.get("aria-describedby", "").split() if target
    }
    invalid = [element for element in parsed.elements if "is-invalid" in element.get("class", "").split()]
    assert invalid, "no field was marked invalid"
    errors = []
    for control in invalid:
        assert control.get("aria-invalid") == "true", control
        targets = control.get("aria-describedby", "").split()
        texts = [" ".join(parsed.texts.get(target, [])).strip() for target in targets]
        assert any(texts), f"{control.get('name')}: aria-describedby {targets} points at no error text"
        errors += [text for text in texts if text]
    blocks = [
        element
        for element in parsed.elements
        if {"invalid-feedback"} & set(element.get("class", "").split())
        or element.get("class", "") == "text-danger small"
    ]
    for block in blocks:
        assert block.get("id") in described, f"error block without a control pointing at it: {block}"
    return errors


@pytest.fixture
def dispute(db):
    seller = SellerFactory(username="form-shop")
    return open_dispute(OrderFactory(buyer=UserFactory(username="form-buyer"), store=seller.store))


def test_an_empty_message_on_the_dispute_page_is_tied_to_the_message_box(client, dispute):
    client.force_login(dispute.buyer)
    response = client.post(reverse("disputes:message_create", args=[dispute.pk]), {"text": ""})
    assert response.status_code == 400
    assert assert_errors_tied(response.content.decode())


def test_a_bad_offer_amount_is_tied_to_the_amount_box(client, dispute):
    client.force_login(dispute.store.owner)
    response = client.post(
        reverse("disputes:offer_create", args=[dispute.pk]),
        {"refund_type": "partial", "amount": "много", "note": "Предлагаем часть."},
    )
    assert response.status_code == 400
    html = response.content.decode()
    errors = assert_errors_tied(html)
    assert 'id="offer-amount"' in html and any(errors)


def test_a_wizard_step_without_an_answer_ties_the_error_to_its_question(client):
    buyer = UserFactory(username="wizard-buyer")
    order = OrderFactory(buyer=buyer, store=SellerFactory(username="wizard-shop").store)
    client.force_login(buyer)
    response = client.post(reverse("disputes:wizard", args=[order.number, "received"]), {})
    html = response.content.decode()
    assert 'aria-describedby="received-error"' in html and 'id="received-error"' in html


def test_a_too_short_request_in_the_wizard_is_tied_to_its_box(client):
    buyer = UserFactory(username="wizard-buyer-2")
    order = OrderFactory(buyer=buyer, store=SellerFactory(username="wizard-shop-2").store, tracking_number="")
    client.force_login(buyer)
    wizard = "disputes:wizard"
    client.post(reverse(wizard, args=[order.number, "received"]), {"received": "no"})
    client.post(reverse(wizard, args=[order.number, "problem"]), {"problem": "no_tracking"})
    response = client.post(reverse(wizard, args=[order.number, "request"]), {"request_text": "коротко"})
    assert assert_errors_tied(response.content.decode())


def test_a_bad_orders_filter_ties_each_error_to_its_box_and_keeps_what_was_typed(client):
    buyer = UserFactory(username="filter-buyer")
    client.force_login(buyer)
    typed = "наушники " * 12
    html = client.get(reverse("orders:list"), {"q": typed, "status": "lost"}).content.decode()
    errors = assert_errors_tied(html)
    assert len(errors) == 2
    assert f'value="{typed}"' in html


def test_the_orders_filter_keeps_the_chosen_status(client):
    client.force_login(UserFactory(username="filter-buyer-2"))
    html = client.get(reverse("orders:list"), {"status": "disputed"}).content.decode()
    assert '<option value="disputed" selected>' in html
    assert '<option value="" selected>' not in html
