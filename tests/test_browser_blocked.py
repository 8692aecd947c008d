"""A blocked buyer in Chromium: signs in, reads why, appeals with a photo; support unblocks in
admin and the buyer is back in the personal account."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from accounts import blocking
from accounts.models import AccountAppeal, BlockReason

from .conftest import _new_page
from .disputes_helpers import open_dispute
from .factories import PASSWORD, OrderFactory, SellerFactory, UserFactory, support_agent
from .test_browser_claims import as_user  # noqa: F401 - the fixture, for staff in admin

pytestmark = pytest.mark.browser

NOTE = "По трём заказам открыты споры «посылка пустая», а почта вручила их с весом больше 400 г."


@pytest.fixture
def blocked_buyer_page(chromium_browser, live_server, shipped_data):
    """A phone-sized page, not yet signed in (browser_login expects the personal account)."""
    context, page = _new_page(chromium_browser, live_server.url)
    yield page
    context.close()


def unboxing_photo(tmp_path):
    path = tmp_path / "unboxing.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_blocked_buyer_appeals_and_support_unblocks_in_admin(blocked_buyer_page, as_user, tmp_path):  # noqa: F811
    seller = SellerFactory(username="gadget-shop")
    buyer = UserFactory(username="anna")
    order = OrderFactory(buyer=buyer, store=seller.store)
    open_dispute(order)
    support = support_agent(username="support-denis")
    blocking.account_block(user=buyer, staff=support, reason=BlockReason.DISPUTE_ABUSE, note=NOTE)

    # The buyer signs in with the right password and lands on the block page, not on an error.
    anna = blocked_buyer_page
    anna.goto(anna.base_url + "/account/login/")
    anna.fill("input[name=username]", "anna")
    anna.fill("input[name=password]", PASSWORD)
    anna.get_by_role("button", name="Войти", exact=True).last.click()
    anna.wait_for_url("**/account/blocked/")
    expect(anna.get_by_role("heading", name="Ваш аккаунт заблокирован")).to_be_visible()
    assert anna.get_by_test_id("block-reason").inner_text() == "Злоупотребление спорами: заведомо ложные требования"
    expect(anna.get_by_text(NOTE)).to_be_visible()
    # My disputes leads back to the block page.
    anna.goto(anna.base_url + "/account/disputes/")
    anna.wait_for_url("**/account/blocked/")

    # The appeal, with a photo.
    anna.get_by_label("Почему блокировку нужно снять").fill(
        "Посылки пришли пустыми, вес в треке — это упаковка. Прилагаю фото вскрытой коробки."
    )
    anna.locator("#appeal-files").set_input_files(str(unboxing_photo(tmp_path)))
    anna.get_by_role("button", name="Отправить обращение").click()
    anna.get_by_text("Обращение отправлено.").wait_for()
    expect(anna.get_by_text("Ваше обжалование уже на рассмотрении: дождитесь ответа.")).to_be_visible()
    expect(anna.get_by_text("На рассмотрении", exact=True)).to_be_visible()
    expect(anna.get_by_role("link", name="unboxing.jpg")).to_be_visible()
    assert anna.get_by_role("button", name="Отправить обращение").count() == 0

    # Support opens the appeal in admin, sees the evidence and unblocks.
    denis = as_user("support-denis", desktop=True)
    denis.goto(denis.base_url + "/admin/accounts/accountappeal/")
    denis.get_by_role("link", name="anna").click()
    denis.wait_for_url("**/admin/accounts/accountappeal/*/change/")
    expect(denis.get_by_role("link", name="unboxing.jpg")).to_be_visible()
    expect(denis.get_by_text(NOTE)).to_be_visible()
    denis.get_by_label("Ответ пользователю (его прочтут на странице блокировки и в письме)").fill(
        "Фото подтверждает вскрытие в пути. Блокировка снята."
    )
    denis.get_by_role("button", name="Разблокировать аккаунт").click()
    denis.get_by_text("Аккаунт разблокирован; пользователю отправлено письмо.").wait_for()
    assert AccountAppeal.objects.get().status == AccountAppeal.Status.UNBLOCKED

    # The buyer reloads: the personal account again, and My disputes opens.
    anna.reload()
    anna.wait_for_url("**/account/")
    anna.get_by_role("link", name="Мои споры").first.click()
    anna.wait_for_url("**/account/disputes/")
    expect(anna.get_by_role("heading", name="Мои споры")).to_be_visible()
    expect(anna.get_by_text(order.number).first).to_be_visible()
