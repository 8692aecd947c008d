"""The dispute flow by keyboard alone, on a phone-sized page: signing in, the wizard from the
order page to the opened dispute, and a message on the dispute page, with Tab, Space, arrows and
Enter only. Every control reached shows a visible focus ring."""

import pytest

from disputes.models import Dispute

from .factories import PASSWORD, OrderFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.browser


def focused(page) -> dict:
    return page.evaluate(
        """() => {
            const element = document.activeElement;
            const style = getComputedStyle(element);
            return {
                tag: element.tagName.toLowerCase(),
                name: element.getAttribute("name") || "",
                value: element.getAttribute("value") || "",
                text: (element.innerText || element.value || "").trim(),
                ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
            };
        }"""
    )


def tab_to(page, matches, *, limit: int = 80) -> dict:
    """Press Tab until the focused element is the one wanted; fail if it is never reached."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            assert element["ring"], f"focus on {element} is not visible"
            return element
    raise AssertionError("not reachable with Tab")


def test_a_buyer_opens_a_dispute_and_writes_to_the_seller_with_the_keyboard_alone(browser_page, transactional_db):
    buyer = UserFactory(username="olga", password=PASSWORD)
    seller = SellerFactory(username="gadget-shop", password=PASSWORD)
    order = OrderFactory(buyer=buyer, store=seller.store, tracking_number="")
    page = browser_page

    page.goto(page.base_url + "/account/login/")
    tab_to(page, lambda element: element["name"] == "username")
    page.keyboard.type("olga")
    tab_to(page, lambda element: element["name"] == "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/account/")

    page.goto(f"{page.base_url}/account/orders/{order.number}/")
    tab_to(page, lambda element: element["tag"] == "a" and element["text"] == "Открыть спор")
    page.keyboard.press("Enter")
    page.wait_for_url("**/account/disputes/new/**")
    tab_to(page, lambda element: element["name"] == "received")
    page.keyboard.press("Space")  # the first answer: not received
    tab_to(page, lambda element: element["text"] == "Дальше")
    page.keyboard.press("Enter")
    page.wait_for_url("**/problem/")
    tab_to(page, lambda element: element["name"] == "problem")
    # The arrows move through a radio group; "the seller gave no tracking number" is offered here.
    for _ in range(6):
        if focused(page)["value"] == "no_tracking":
            break
        page.keyboard.press("ArrowDown")
    assert focused(page)["value"] == "no_tracking"
    tab_to(page, lambda element: element["text"] == "Дальше")
    page.keyboard.press("Enter")
    page.wait_for_url("**/request/")
    tab_to(page, lambda element: element["name"] == "request_text")
    page.keyboard.type("Трек-номера нет, продавец молчит уже месяц.")
    tab_to(page, lambda element: element["text"] == "Дальше")
    page.keyboard.press("Enter")
    page.wait_for_url("**/summary/")
    tab_to(page, lambda element: element["text"] == "Открыть спор" and element["tag"] == "button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/account/disputes/*/")
    dispute = Dispute.objects.get(order=order)
    assert dispute.problems == ["no_tracking"]

    tab_to(page, lambda element: element["name"] == "text")
    page.keyboard.type("Пришлите, пожалуйста, трек-номер.")
    tab_to(page, lambda element: element["tag"] == "button" and element["text"] == "Отправить")
    page.keyboard.press("Enter")
    page.get_by_text("Пришлите, пожалуйста, трек-номер.").wait_for()
    assert dispute.messages.filter(text="Пришлите, пожалуйста, трек-номер.").exists()
