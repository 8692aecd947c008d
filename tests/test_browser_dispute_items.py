"""A buyer on a phone opens a dispute about one item of an order of two (demo order …02: a watch
and a strap), with and without JavaScript: the refund above the strap's price is refused next to
the field, the order page then shows the strap's dispute, and the watch can still get its own."""

from decimal import Decimal

import pytest

from disputes.models import Dispute

from .conftest import browser_login
from .factories import PASSWORD, OrderFactory, OrderItemFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False])
def test_a_dispute_about_the_strap_leaves_the_watch_its_own(request, transactional_db, javascript):
    page = request.getfixturevalue("browser_page" if javascript else "browser_page_no_js")
    buyer = UserFactory(username="olga", password=PASSWORD)
    seller = SellerFactory(username="gadget-shop", password=PASSWORD)
    order = OrderFactory(
        number="8100000000000002", buyer=buyer, store=seller.store, item=None, total_amount=Decimal("45.90")
    )
    watch = OrderItemFactory(order=order, title="Смарт-часы с пульсометром", unit_price=Decimal("39.50"))
    strap = OrderItemFactory(order=order, title="Ремешок силиконовый", quantity=2, unit_price=Decimal("3.20"))
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/orders/{order.number}/")
    page.get_by_role("link", name="Открыть спор", exact=True).first.click()

    assert page.get_by_test_id("wizard-step").inner_text() == "Шаг 1 из 6"
    page.get_by_label("Ремешок силиконовый").check()
    page.get_by_role("button", name="Дальше").click()
    assert page.get_by_test_id("wizard-step").inner_text() == "Шаг 2 из 6"
    assert "Ремешок силиконовый" in page.get_by_test_id("wizard-item").inner_text()
    page.get_by_label("Да, но он не такой, как в описании").check()
    page.get_by_role("button", name="Дальше").click()
    page.get_by_label("Товар или упаковка повреждены").check()
    page.get_by_role("button", name="Дальше").click()
    assert "6,40" in page.get_by_test_id("wizard-paid").inner_text()
    page.get_by_label("Частичный возврат").check()
    amount = page.get_by_label("Сумма частичного возврата, USD")
    amount.fill("10")
    page.get_by_role("button", name="Дальше").click()
    assert amount.get_attribute("aria-invalid") == "true"
    assert "Нельзя вернуть больше, чем заплачено за товар: 6,40" in page.locator("#amount-error").inner_text()
    assert amount.input_value() == "10"  # what was typed stays
    amount.fill("5,50")
    page.get_by_role("button", name="Дальше").click()
    page.get_by_label("Ваше требование своими словами").fill("Один ремешок порвался по шву в первый же день.")
    page.get_by_role("button", name="Дальше").click()
    page.get_by_role("button", name="Открыть спор").click()
    page.get_by_text("Спор открыт.").wait_for()
    dispute = Dispute.objects.get(order=order)
    assert (dispute.item_id, dispute.requested_amount) == (strap.pk, Decimal("5.50"))

    page.goto(f"{page.base_url}/account/orders/{order.number}/")
    assert "Спор" in page.get_by_test_id(f"item-dispute-{strap.pk}").inner_text()
    assert page.get_by_test_id(f"item-open-dispute-{strap.pk}").count() == 0
    page.get_by_test_id(f"item-open-dispute-{watch.pk}").click()
    assert page.get_by_test_id("wizard-step").inner_text() == "Шаг 2 из 6"
    assert "Смарт-часы" in page.get_by_test_id("wizard-item").inner_text()
    page.get_by_label("Нет, товар не пришёл").check()
    page.get_by_role("button", name="Дальше").click()
    page.locator("input[name=problem]").first.check()
    page.get_by_role("button", name="Дальше").click()
    page.get_by_label("Ваше требование своими словами").fill("Часы так и не пришли, трек стоит на месте.")
    page.get_by_role("button", name="Дальше").click()
    page.get_by_role("button", name="Открыть спор").click()
    page.get_by_text("Спор открыт.").wait_for()
    watch_dispute = Dispute.objects.get(item=watch)
    assert watch_dispute.requested_amount == Decimal("39.50")
    assert Dispute.objects.filter(order=order).count() == 2
