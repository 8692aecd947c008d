"""A buyer who arrived by the marketplace's order feed signs in with the marketplace account (a real
OpenID provider started for the test) and opens a dispute on the fed order; the marketplace hears
of it."""

import pytest

from disputes.models import Dispute
from orders.models import Order

from .marketplace import NUMBER, ago, event, post_event, shipped
from .oidc import Account, running_provider
from .webhook_receiver import start_receiver

pytestmark = pytest.mark.browser

ANNA = Account("mp-buyer-1", "anna-marketplace-password", "anna@example.com", "Анна")


def test_a_fed_buyer_signs_in_with_the_marketplace_and_opens_a_dispute(
    browser_page, live_server, client, settings, tmp_path
):
    post_event(client, event("paid", at=ago(days=6)))
    post_event(client, shipped(at=ago(days=4)))
    receiver, server = start_receiver("browser-test-secret")
    settings.MARKETPLACE_WEBHOOK_URL, settings.MARKETPLACE_WEBHOOK_SECRET = receiver.url, "browser-test-secret"
    with running_provider(tmp_path, redirect_uris=[f"{live_server.url}/oidc/callback/"], accounts=[ANNA]) as provider:
        provider.configure(settings)
        page = browser_page
        page.goto(f"{page.base_url}/account/login/")
        page.get_by_role("link", name="Войти через аккаунт Маркет").click()
        page.wait_for_url(f"{provider.url}/**")
        page.get_by_label("Login").fill(ANNA.id)
        page.get_by_label("Password").fill(ANNA.password)
        page.get_by_role("button", name="Sign in to the marketplace").click()
        page.wait_for_url(f"{page.base_url}/account/")

        page.goto(f"{page.base_url}/account/orders/{NUMBER}/")
        page.get_by_role("link", name="Открыть спор").click()
        page.get_by_label("Да, но он не такой, как в описании").check()
        page.get_by_role("button", name="Дальше").click()
        page.get_by_label("Не работает или работает неправильно").check()
        page.get_by_role("button", name="Дальше").click()
        page.get_by_label("Полный возврат").check()
        page.get_by_label("Нет, оставлю товар у себя").check()
        page.get_by_role("button", name="Дальше").click()
        page.get_by_label("Ваше требование своими словами").fill("Левый наушник не включается с первого дня.")
        page.get_by_role("button", name="Дальше").click()
        page.wait_for_url("**/summary/")
        page.get_by_role("button", name="Открыть спор").click()
        page.wait_for_url("**/account/disputes/*/")
        assert page.get_by_test_id("dispute-status").inner_text() == "Ждёт ответа продавца"
    server.shutdown()
    server.server_close()
    dispute = Dispute.objects.get(order__number=NUMBER)
    assert dispute.buyer == Order.objects.get(number=NUMBER).buyer
    assert dispute.buyer.marketplace_id == ANNA.id and not dispute.buyer.has_usable_password()
    assert [request.payload["type"] for request in receiver.requests] == ["dispute.opened"]
    assert receiver.requests[0].payload["data"]["buyer_id"] == ANNA.id
