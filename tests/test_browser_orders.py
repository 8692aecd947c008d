from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from core.demo import DEMO_PASSWORD
from orders.models import Order

from .conftest import browser_login

pytestmark = pytest.mark.browser


def test_demo_buyer_opens_an_order_and_sees_when_protection_ends(browser_page, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = False
    page = browser_page
    browser_login(page, "buyer", DEMO_PASSWORD)
    page.get_by_role("link", name="Мои заказы").first.click()
    page.wait_for_url("**/account/orders/")
    expect(page.get_by_role("heading", name="Мои заказы")).to_be_visible()
    # The demo buyer has more orders than one page shows: find this one by its number.
    page.get_by_label("Номер заказа или товар").fill("8100 0000 0000 0001")
    page.get_by_label("Номер заказа или товар").press("Enter")
    page.get_by_role("link", name="Заказ 8100000000000001").click()
    page.wait_for_url("**/account/orders/8100000000000001/")
    order = Order.objects.get(number="8100000000000001")
    ends_local = timezone.localtime(order.protection_due_at, timezone=ZoneInfo("Europe/Moscow"))
    protection_text = page.get_by_test_id("protection-ends").inner_text()
    assert "Защита действует до" in protection_text
    assert f"{ends_local.day} " in protection_text and f"{ends_local:%H:%M}" in protection_text
