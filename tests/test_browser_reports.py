"""A report in Chromium, as each person meets it: a buyer reports a listing for search cheating,
support asks the seller, the seller answers with a file, support upholds it with a warning, and
both see the outcome."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from reports.models import Report

from .factories import OrderFactory, SellerFactory, UserFactory, support_agent
from .test_browser_claims import as_user  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

DESCRIPTION = "Телефон в объявлении «от 19 $», но за 19 $ продаётся только чехол; сам телефон стоит 240 $."


def price_screenshot(tmp_path):
    path = tmp_path / "price-list.png"
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), "orange").save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_listing_report_from_link_to_upheld_warning(as_user, tmp_path):  # noqa: F811
    seller = SellerFactory(username="gadget-shop")
    OrderFactory(store=seller.store)
    item_id = seller.store.orders.get().items.get().item_id
    UserFactory(username="anna")
    support_agent(username="support-denis")

    # The buyer pastes a mobile link with tracking junk; the item id comes back with the store.
    anna = as_user("anna")
    anna.get_by_role("link", name="Мои жалобы").click()
    anna.get_by_role("link", name="Пожаловаться на товар").click()
    anna.get_by_label("Ссылка на товар").fill("aliexpress.ru.evil.example/item/1.html")
    anna.get_by_role("button", name="Дальше").click()
    expect(anna.get_by_text("Это ссылка не на AliExpress")).to_be_visible()
    anna.get_by_label("Ссылка на товар").fill(f"https://m.aliexpress.ru/item/{item_id}.html?spm=a2g0o#reviews")
    anna.get_by_role("button", name="Дальше").click()
    expect(anna.get_by_text(f"Товар № {item_id}")).to_be_visible()
    expect(anna.get_by_text(f"Магазин: {seller.store.name}")).to_be_visible()
    anna.get_by_label("Цена вводит в заблуждение").check()
    anna.get_by_label("Опишите, что не так").fill(DESCRIPTION)
    anna.get_by_role("button", name="Отправить жалобу").click()
    anna.get_by_text("Жалоба подана. Мы напишем").wait_for()
    report = Report.objects.get()
    anna.get_by_role("link", name="Мои жалобы").first.click()
    expect(anna.get_by_role("link", name=f"Жалоба № {report.pk}")).to_be_visible()
    expect(anna.get_by_text("Подана", exact=True)).to_be_visible()
    # Support asks the seller to answer.
    denis = as_user("support-denis", desktop=True)
    denis.goto(denis.base_url + "/admin/reports/report/")
    denis.get_by_role("link", name=str(report.pk), exact=True).click()
    expect(denis.get_by_text(DESCRIPTION)).to_be_visible()
    denis.get_by_role("button", name="Уведомить сторону и ждать ответа").click()
    denis.get_by_text("Сторона уведомлена; срок ответа записан").wait_for()

    # The seller sees what it is accused of, not who, and answers with a file.
    shop = as_user("gadget-shop")
    shop.get_by_role("link", name="Жалобы на меня").click()
    expect(shop.get_by_text("Ожидает вашего ответа")).to_be_visible()
    shop.get_by_role("link", name=f"Жалоба № {report.pk}").click()
    expect(shop.get_by_text(DESCRIPTION)).to_be_visible()
    assert shop.get_by_text("anna").count() == 0
    shop.get_by_label("Ваш ответ").fill("Цена 19 $ указана для чехла, это отдельный вариант; исправим описание.")
    shop.locator("#answer-files").set_input_files(str(price_screenshot(tmp_path)))
    shop.get_by_role("button", name="Отправить ответ").click()
    shop.get_by_text("Ответ отправлен. Поддержка").wait_for()

    # Support reads both sides on one page and upholds it with a warning.
    denis.reload()
    assert denis.get_by_role("link", name="price-list.png").count() + denis.locator("img[alt='price-list.png']").count()
    denis.get_by_label("Нарушение подтвердилось").check()
    denis.get_by_label("Объяснение для обеих сторон").fill(
        "Самая низкая цена объявления относится к чехлу, а не к телефону: это обман поиска."
    )
    denis.get_by_label("Меры").select_option("warning")
    denis.get_by_role("button", name="Записать решение").click()
    denis.get_by_text("Решение записано;").wait_for()

    # Both see the outcome.
    for page in (anna, shop):
        page.goto(page.base_url + f"/account/reports/{report.pk}/")
        expect(page.get_by_role("heading", name="Решение поддержки")).to_be_visible()
        expect(page.get_by_text("это обман поиска")).to_be_visible()
        expect(page.get_by_text("предупреждение").first).to_be_visible()
