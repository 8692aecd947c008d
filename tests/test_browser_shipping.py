"""Before shipment, as the buyer and the seller click through it on a phone, with and without
JavaScript: the buyer asks to cancel, the seller stays silent, the sweep runs at the deadline, and
the buyer sees the order cancelled and the money back; the seller sees the request and its deadline."""

from datetime import timedelta

import pytest
from django.core import mail
from playwright.sync_api import expect

from core import sweeps
from orders.models import Order, OrderCancellation

from .conftest import browser_login
from .factories import PASSWORD, OrderFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def people(transactional_db):
    return UserFactory(username="olga", password=PASSWORD), SellerFactory(username="gadget-shop", password=PASSWORD)


@pytest.mark.parametrize("javascript", [True, False])
def test_buyer_cancels_an_unshipped_order_the_silent_seller_cannot_stall_it(request, people, javascript):
    page = request.getfixturevalue("browser_page" if javascript else "browser_page_no_js")
    buyer, seller = people
    order = OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store, handling_days=7)
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/orders/{order.number}/")
    assert "Продавец должен отправить заказ до" in page.get_by_test_id("ship-by").inner_text()
    page.get_by_label("Нашёл(ла) дешевле").check()
    page.get_by_label("Пояснение для продавца").fill("Увидела тот же рюкзак дешевле")
    page.get_by_role("button", name="Попросить отменить заказ").click()
    page.get_by_text("Просьба отправлена продавцу.").wait_for()
    request_box = page.get_by_test_id("cancellation").inner_text()
    assert "Продавец должен ответить до" in request_box and "осталось 2 д 23 ч" in request_box
    assert [message.to for message in mail.outbox] == [[seller.email]]

    # The seller sees the request with its deadline and both ways out, and says nothing.
    seller_page = page.context.browser.new_page(viewport={"width": 390, "height": 844}, java_script_enabled=javascript)
    seller_page.base_url = page.base_url
    browser_login(seller_page, "gadget-shop")
    seller_page.goto(f"{page.base_url}/account/orders/{order.number}/")
    seller_box = seller_page.get_by_test_id("cancellation").inner_text()
    assert "Увидела тот же рюкзак дешевле" in seller_box and "Согласиться на отмену" in seller_box
    expect(seller_page.get_by_role("button", name="Заказ отправлен")).to_be_visible()
    seller_page.close()

    cancellation = OrderCancellation.objects.get(order=order)
    assert sweeps.run("cancellations", cancellation.respond_by - timedelta(minutes=1)).changed == 0
    assert sweeps.run("cancellations", cancellation.respond_by + timedelta(minutes=1)).changed == 1

    page.reload()
    cancelled = page.get_by_test_id("order-cancelled").inner_text()
    assert "Продавец не ответил на просьбу отменить заказ вовремя" in cancelled
    refund_state = page.get_by_test_id("refund-state").inner_text()
    assert "25,00" in refund_state and "отправлены вам" in refund_state and "3–20 дней" in refund_state
    assert not page.get_by_role("link", name="Открыть спор").count()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert sorted(message.to[0] for message in mail.outbox[1:]) == sorted([buyer.email, seller.email])
