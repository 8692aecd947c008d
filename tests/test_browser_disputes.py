import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from disputes.models import Dispute

from .conftest import browser_login
from .factories import OrderFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def people(transactional_db):
    seller = SellerFactory(username="gadget-shop")
    buyer = UserFactory(username="olga")
    return buyer, seller


def photo(tmp_path):
    path = tmp_path / "broken.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_buyer_opens_a_not_received_dispute(browser_page, people):
    buyer, seller = people
    order = OrderFactory(buyer=buyer, store=seller.store, tracking_number="")
    page = browser_page
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/orders/{order.number}/")
    page.get_by_role("link", name="Открыть спор").click()
    page.get_by_label("Нет, товар не пришёл").check()
    page.get_by_role("button", name="Дальше").click()
    page.get_by_label("Продавец не дал трек-номер").check()
    page.get_by_role("button", name="Дальше").click()
    page.get_by_label("Ваше требование своими словами").fill("Трек-номера нет, продавец молчит уже месяц.")
    page.get_by_role("button", name="Дальше").click()
    expect(page.get_by_text("Продавец не дал трек-номер")).to_be_visible()
    page.get_by_role("button", name="Открыть спор").click()
    page.wait_for_url("**/account/disputes/*/")
    assert page.get_by_test_id("dispute-status").inner_text() == "Ждёт ответа продавца"
    expect(page.get_by_role("listitem").filter(has_text="Продавец должен ответить до")).to_be_visible()
    assert Dispute.objects.get(order=order).kind == "not_received"


def _open_partial_with_photo(page, order, tmp_path):
    page.goto(f"{page.base_url}/account/orders/{order.number}/")
    page.get_by_role("link", name="Открыть спор").click()
    page.get_by_label("Да, но он не такой, как в описании").check()
    page.get_by_role("button", name="Дальше").click()
    page.get_by_label("Товар или упаковка повреждены").check()
    page.get_by_role("button", name="Дальше").click()
    page.get_by_label("Частичный возврат").check()
    page.locator("input[name=amount]").fill("10")
    page.get_by_label("Нет, оставлю товар у себя").check()
    page.get_by_role("button", name="Дальше").click()
    page.get_by_label("Ваше требование своими словами").fill("Корпус треснул при доставке, фото прилагаю.")
    page.locator("input[name=evidence]").set_input_files(str(photo(tmp_path)))
    page.get_by_role("button", name="Дальше").click()
    page.wait_for_url("**/summary/")
    page.get_by_role("button", name="Открыть спор").click()
    page.wait_for_url("**/account/disputes/*/")


def _seller_counter_offers(page, dispute):
    browser_login(page, "gadget-shop")
    page.goto(f"{page.base_url}/account/disputes/{dispute.pk}/")
    page.get_by_label("Частичный возврат").check()
    page.locator("#offer-amount").fill("7")
    page.get_by_label("Пояснение").fill("Трещина небольшая, предлагаем 7 $.")
    page.get_by_role("button", name="Отправить предложение").click()
    page.wait_for_url(f"**/account/disputes/{dispute.pk}/")
    assert page.get_by_test_id("dispute-status").inner_text() == "Идут переговоры"


def test_partial_refund_with_photo_counter_offer_accepted_and_refunded(browser_page, people, tmp_path):
    buyer, seller = people
    order = OrderFactory(buyer=buyer, store=seller.store)
    page = browser_page
    browser_login(page, "olga")
    _open_partial_with_photo(page, order, tmp_path)
    dispute = Dispute.objects.get(order=order)
    assert dispute.messages.get().attachments.get().kind == "image"
    assert page.locator("img.attachment-thumb").count() == 1

    page.context.clear_cookies()
    _seller_counter_offers(page, dispute)

    page.context.clear_cookies()
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/disputes/{dispute.pk}/")
    assert "7,00" in page.get_by_test_id("offer-amount").inner_text()
    page.get_by_role("button", name="Принять предложение").click()
    expect(page.get_by_role("heading", name="Принять и закрыть спор?")).to_be_visible()
    page.get_by_role("button", name="Да, принять").click()
    page.wait_for_url(f"**/account/disputes/{dispute.pk}/")
    assert page.get_by_test_id("dispute-status").inner_text() in ("Подготовка к возврату", "Возврат завершён")
    expect(page.get_by_text("Деньги возвращены покупателю")).to_be_visible()


def test_the_same_flow_without_javascript(browser_page_no_js, people, tmp_path):
    buyer, seller = people
    order = OrderFactory(buyer=buyer, store=seller.store)
    page = browser_page_no_js
    browser_login(page, "olga")
    _open_partial_with_photo(page, order, tmp_path)
    dispute = Dispute.objects.get(order=order)
    assert dispute.requested_amount == 10
    assert dispute.messages.get().attachments.count() == 1
    page.context.clear_cookies()
    _seller_counter_offers(page, dispute)
    page.context.clear_cookies()
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/account/disputes/{dispute.pk}/")
    page.get_by_role("button", name="Принять предложение").click()
    page.get_by_role("button", name="Да, принять").click()
    assert page.get_by_test_id("dispute-status").inner_text() in ("Подготовка к возврату", "Возврат завершён")


def test_an_english_wizard_on_a_phone_keeps_each_label_beside_its_box_and_ru_goes_back(browser_page, people):
    buyer, seller = people
    order = OrderFactory(buyer=buyer, store=seller.store)
    page = browser_page
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/en/account/disputes/new/{order.number}/received/")
    page.get_by_label("No, the item has not arrived").check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("in-transit-protection")).to_contain_text("ask the seller to extend")
    for label in ("Customs is holding the parcel", "The delivery address on the order is wrong"):
        box = page.get_by_role("checkbox", name=label).bounding_box()
        text = page.locator("label", has_text=label).bounding_box()
        assert box and text
        assert text["x"] > box["x"] + box["width"] and abs(text["y"] - box["y"]) < box["height"], label
    page.get_by_role("button", name="RU").click()
    page.wait_for_url(f"**/account/disputes/new/{order.number}/problem/")
    assert "/en/" not in page.url
    expect(page.get_by_role("heading", name="Открыть спор")).to_be_visible()
