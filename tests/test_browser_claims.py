"""A claim followed through in Chromium by everyone it concerns: the buyer and the seller on the
site, two arbitrators in admin."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from disputes.models import Claim, Dispute

from .conftest import _new_page, browser_login
from .disputes_helpers import open_dispute
from .factories import OrderFactory, SellerFactory, UserFactory, arbitrator
from .test_browser_disputes import photo

pytestmark = pytest.mark.browser

REASON = (
    "Видео распаковки показывает трещину на корпусе, продавец не прислал фото упаковки перед отправкой. "
    "Возвращается часть стоимости, товар остаётся у покупателя."
)


@pytest.fixture
def as_user(chromium_browser, live_server, shipped_data):
    """A signed-in phone-sized page per person; desktop width for staff in admin."""
    contexts = []

    def open_as(username: str, *, desktop: bool = False):
        context, page = _new_page(chromium_browser, live_server.url)
        if desktop:
            page.set_viewport_size({"width": 1280, "height": 900})
        contexts.append(context)
        browser_login(page, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_a_claim_from_escalation_to_the_final_appeal_decision(as_user, tmp_path):
    seller = SellerFactory(username="gadget-shop")
    buyer = UserFactory(username="anna")
    arbitrator(username="olga")
    arbitrator(username="ivan")
    order = OrderFactory(buyer=buyer, store=seller.store)
    dispute = open_dispute(order, now=timezone.now() - timedelta(days=4))
    url = f"/account/disputes/{dispute.pk}/"

    # The seller refuses with a counter-offer.
    shop = as_user("gadget-shop")
    shop.goto(shop.base_url + url)
    shop.get_by_label("Частичный возврат").check()
    shop.locator("#offer-amount").fill("5")
    shop.get_by_label("Пояснение").fill("Трещина мелкая, предлагаем 5 $.")
    shop.get_by_role("button", name="Отправить предложение").click()
    shop.wait_for_url(f"**{url}")

    # The buyer escalates: it is day 4, so the button is there.
    anna = as_user("anna")
    anna.goto(anna.base_url + url)
    anna.get_by_role("button", name="Передать в претензию").click()
    expect(anna.get_by_text("Переговоры между покупателем и продавцом закончатся")).to_be_visible()
    anna.get_by_role("button", name="Да, передать арбитру").click()
    anna.wait_for_url(f"**{url}")
    assert anna.get_by_test_id("claim-stage").inner_text() == "Передана арбитру"

    # Olga takes it from the queue and asks the buyer for the unboxing video.
    olga = as_user("olga", desktop=True)
    olga.goto(olga.base_url + "/admin/disputes/claim/")
    olga.get_by_role("link", name=order.number).click()
    olga.get_by_role("button", name="Взять в работу").click()
    olga.get_by_role("checkbox", name="У покупателя").check()
    olga.get_by_label("Что нужно прислать (увидят стороны)").fill("Пришлите видео распаковки без монтажа.")
    olga.get_by_role("button", name="Запросить").click()
    expect(olga.get_by_text("Арбитр ждёт доказательства").first).to_be_visible()

    # The buyer answers with a file.
    anna.goto(anna.base_url + url)
    expect(anna.get_by_text("Пришлите видео распаковки без монтажа.")).to_be_visible()
    anna.get_by_label("Ваш ответ арбитру").fill("Видео распаковки прилагаю.")
    anna.locator("#answer-files").set_input_files(str(photo(tmp_path)))
    anna.get_by_role("button", name="Отправить ответ арбитру").click()
    anna.get_by_text("Ответ отправлен арбитру.").wait_for()
    assert anna.get_by_test_id("claim-stage").inner_text() == "Арбитр изучает доказательства"

    # Olga decides, after seeing exactly what the parties will read.
    olga.reload()
    olga.get_by_label("частично в пользу покупателя").check()
    olga.get_by_label("Сумма возврата, USD").fill("10")
    olga.get_by_label("Обоснование (его прочтут обе стороны)").fill(REASON)
    olga.get_by_role("button", name="Проверить и отправить…").click()
    expect(olga.get_by_text("Так решение увидят покупатель и продавец")).to_be_visible()
    expect(olga.get_by_text(REASON)).to_be_visible()
    olga.get_by_role("button", name="Подтвердить решение").click()
    expect(olga.get_by_text("Решение записано")).to_be_visible()

    # Both parties see the decision; the buyer appeals.
    for page in (anna, shop):
        page.goto(page.base_url + url)
        decision = page.get_by_test_id("decision")
        assert "частично в пользу покупателя" in decision.inner_text().lower()
        assert "10,00" in decision.inner_text() and REASON in decision.inner_text()
        expect(page.get_by_role("link", name="Обжаловать решение")).to_be_visible()
    anna.get_by_role("link", name="Обжаловать решение").click()
    anna.get_by_label("С чем вы не согласны и почему").fill("Трещина через весь корпус, телефоном нельзя пользоваться.")
    anna.get_by_role("button", name="Подать апелляцию").click()
    anna.get_by_text("Апелляция подана.").wait_for()
    assert anna.get_by_test_id("claim-stage").inner_text() == "Апелляция на рассмотрении"

    # Olga cannot decide her own decision's appeal; Ivan can.
    olga.reload()
    expect(olga.get_by_text("Апелляцию рассматривает другой арбитр")).to_be_visible()
    assert olga.get_by_role("button", name="Проверить и отправить…").count() == 0
    ivan = as_user("ivan", desktop=True)
    ivan.goto(ivan.base_url + f"/admin/disputes/claim/{dispute.claim.pk}/change/")
    ivan.get_by_label("в пользу покупателя", exact=True).check()
    ivan.get_by_label("Обоснование (его прочтут обе стороны)").fill(REASON.replace("часть стоимости", "вся стоимость"))
    ivan.get_by_role("button", name="Проверить и отправить…").click()
    ivan.get_by_role("button", name="Подтвердить решение").click()
    expect(ivan.get_by_text("Решение по апелляции записано")).to_be_visible()

    # Both parties see the final outcome, and the money is back (the payment system pays at once here).
    for page in (anna, shop):
        page.goto(page.base_url + url)
        assert page.get_by_test_id("claim-stage").inner_text() == "Решение окончательное"
        assert page.get_by_test_id("claim-state").inner_text() == ("Решение исполнено: деньги возвращены покупателю.")
        assert page.get_by_test_id("dispute-status").inner_text() == "Возврат завершён"
        assert "Решение по апелляции" in page.get_by_test_id("decision").inner_text()
        assert page.get_by_role("link", name="Обжаловать решение").count() == 0
    dispute.refresh_from_db()
    assert (dispute.status, Claim.objects.get(dispute=dispute).stage) == (Dispute.Status.REFUNDED, "final")
