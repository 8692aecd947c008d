"""The order and dispute pages as a buyer and a seller click through them on a phone, with and
without JavaScript: confirming receipt asks first, the refund step hides the amount for a full
refund, contradicting reasons are refused, a return shows where to send it, and the agreed amount
is what the lists show."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from disputes import services
from disputes.models import Dispute, Offer
from orders.models import Order

from .conftest import browser_login
from .disputes_helpers import open_dispute, seller_counter_offer
from .factories import PASSWORD, OrderFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def people(transactional_db):
    return UserFactory(username="olga", password=PASSWORD), SellerFactory(username="gadget-shop", password=PASSWORD)


@pytest.mark.parametrize("javascript", [True, False])
def test_confirming_receipt_asks_first_with_both_dates(request, people, javascript):
    page = request.getfixturevalue("browser_page" if javascript else "browser_page_no_js")
    buyer, seller = people
    order = OrderFactory(buyer=buyer, store=seller.store)
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/orders/{order.number}/")
    page.get_by_role("link", name="Я получил(а) заказ").click()
    expect(page.get_by_text("Подтверждение нельзя отменить")).to_be_visible()
    expect(page.get_by_text("после подтверждения — только 15 дней")).to_be_visible()
    page.get_by_role("link", name="Нет, вернуться к заказу").click()
    order.refresh_from_db()
    assert order.status == Order.Status.IN_TRANSIT
    page.get_by_role("link", name="Я получил(а) заказ").click()
    page.get_by_role("button", name="Да, товар у меня — подтвердить").click()
    page.get_by_text("Спасибо! Получение подтверждено.").wait_for()
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


@pytest.mark.parametrize("javascript", [True, False])
def test_the_refund_step_hides_the_amount_for_a_full_refund(request, people, javascript):
    page = request.getfixturevalue("browser_page" if javascript else "browser_page_no_js")
    buyer, seller = people
    order = OrderFactory(buyer=buyer, store=seller.store)
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/disputes/new/{order.number}/received/")
    assert page.get_by_test_id("wizard-step").inner_text() == "Шаг 1 из 5"
    page.get_by_label("Да, но он не такой, как в описании").check()
    page.get_by_role("button", name="Дальше").click()
    assert page.get_by_test_id("wizard-step").inner_text() == "Шаг 2 из 5"
    page.get_by_label("Посылка пустая").check()
    page.get_by_label("Подделка").check()
    page.get_by_role("button", name="Дальше").click()
    expect(page.get_by_text("нельзя выбрать вместе")).to_be_visible()
    page.get_by_label("Подделка").uncheck()
    page.get_by_role("button", name="Дальше").click()
    assert page.get_by_test_id("wizard-step").inner_text() == "Шаг 3 из 5"
    page.get_by_label("Полный возврат").check()
    expect(page.get_by_label("Сумма частичного возврата, USD")).to_be_hidden()
    page.get_by_label("Частичный возврат").check()
    expect(page.get_by_label("Сумма частичного возврата, USD")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_return_shows_the_buyer_where_to_send_it_and_lists_show_the_agreed_amount(request, people, javascript):
    browser_page = request.getfixturevalue("browser_page" if javascript else "browser_page_no_js")
    buyer, seller = people
    order = OrderFactory(buyer=buyer, store=seller.store)
    dispute = open_dispute(order, refund_type="partial", amount=Decimal("20"), return_item=True)
    services.offer_make(
        dispute=dispute, user=seller, refund_type="partial", amount=Decimal("15"), return_required=True, note="15 $"
    )
    page = browser_page
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/disputes/{dispute.pk}/")
    page.get_by_role("button", name="Принять предложение: 15,00").click()
    expect(page.get_by_text("Вы отправите товар продавцу")).to_be_visible()
    page.get_by_role("button", name="Да, принять").click()
    page.get_by_text("Куда отправить").wait_for()
    assert seller.store.return_address.split(",")[0] in page.get_by_test_id("return-address").inner_text()
    assert Dispute.objects.get().status == Dispute.Status.AWAITING_RETURN
    assert Offer.objects.get(status="accepted").amount == 15
    page.goto(f"{page.base_url}/account/disputes/")
    amount = page.get_by_test_id("dispute-amount").inner_text().replace("\xa0", " ")
    assert "согласовано 15,00 $" in amount and "просили 20,00 $" in amount


@pytest.mark.parametrize("javascript", [True, False])
def test_escalating_to_a_claim_asks_first_and_going_back_changes_nothing(request, people, javascript):
    page = request.getfixturevalue("browser_page" if javascript else "browser_page_no_js")
    buyer, seller = people
    opened = timezone.now() - timedelta(days=4)
    dispute = open_dispute(
        OrderFactory(buyer=buyer, store=seller.store, days_since_shipment=14),
        refund_type="partial",
        amount=Decimal("20"),
        now=opened,
    )
    seller_counter_offer(dispute, amount="10", now=opened)
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/disputes/{dispute.pk}/")
    page.get_by_role("button", name="Передать в претензию").click()
    expect(page.get_by_role("heading", name="Передать спор в претензию?")).to_be_visible()
    expect(page.get_by_text("вернуть спор к переговорам будет нельзя")).to_be_visible()
    page.get_by_role("link", name="Нет, вернуться к спору").click()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.NEGOTIATING
    page.get_by_role("button", name="Передать в претензию").click()
    page.get_by_role("button", name="Да, передать арбитру").click()
    page.get_by_text("Спор передан в претензию. Решение примет арбитр.").wait_for()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.CLAIM
