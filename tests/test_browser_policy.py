"""The arbitration policy in Chromium: an arbitrator reads the rules' recommendation beside the
decision form, asks the buyer for exactly the missing unboxing video with one click, and then
decides against the recommendation, which asks why and records it."""

from decimal import Decimal

import pytest
from django.conf import settings
from playwright.sync_api import expect

from disputes import claims, policy
from disputes.models import Decision, EvidenceRequest, Message

from .conftest import _new_page, browser_login
from .disputes_helpers import REASON, escalate, open_dispute, png_file, store_upload
from .factories import OrderFactory, SellerFactory, UserFactory, arbitrator

pytestmark = pytest.mark.browser

WHY_NOT = "Фото показывают заводскую царапину, о которой сказано в описании товара."


def test_arbitrator_sees_the_recommendation_requests_the_video_and_decides_against_it(
    chromium_browser, live_server, shipped_data
):
    seller = SellerFactory(username="gadget-shop")
    buyer = UserFactory(username="anna")
    arbitrator(username="olga")
    order = OrderFactory(buyer=buyer, store=seller.store, total_amount=Decimal("40.00"))
    dispute = open_dispute(
        order,
        problems=["damaged"],
        refund_type="partial",
        amount=Decimal("10.00"),
        request_text="Корпус поцарапан, фото прилагаю. Прошу вернуть 10 $.",
    )
    message = Message.objects.create(dispute=dispute, author=buyer, text="Фото царапины")
    photo = store_upload(buyer, png_file())
    photo.message = message
    photo.save()
    dispute = escalate(dispute)

    context, page = _new_page(chromium_browser, live_server.url)
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, "olga")
    page.goto(f"{page.base_url}/admin/disputes/claim/{dispute.claim.pk}/change/")
    page.get_by_role("button", name="Взять в работу").click()

    # The recommendation, the rule with its facts linked to the photo, and what is missing.
    assert "частично в пользу покупателя" in page.get_by_test_id("recommendation").inner_text().lower()
    expect(page.get_by_text("Частично соответствует описанию, есть фото")).to_be_visible()
    assert page.get_by_role("link", name="фото товара").get_attribute("href") == f"#message-{message.pk}"
    expect(page.get_by_text("Повреждён, есть видео распаковки: нет видео распаковки")).to_be_visible()
    # One click asks the buyer for the video, with the text and the deadline filled in.
    page.get_by_role("button", name="Попросить у покупателя: видео распаковки").click()
    expect(page.get_by_text("Запрос отправлен сторонам.")).to_be_visible()
    request = EvidenceRequest.objects.get()
    assert (request.of_buyer, request.of_seller, request.text) == (
        True,
        False,
        str(policy.REQUEST_TEXTS[policy.Evidence.UNBOXING_VIDEO]),
    )
    assert (request.due_at - request.created_at).days == settings.CLAIM_EVIDENCE_DAYS

    # The buyer answers without a video; the arbitrator decides for the seller.
    claims.evidence_answer(dispute=dispute, user=buyer, text="Видео не снимала, есть только фото.")
    page.reload()
    page.get_by_label("в пользу продавца").check()
    page.get_by_label("Обоснование (его прочтут обе стороны)").fill(REASON)
    page.get_by_role("button", name="Проверить и отправить…").click()
    expect(page.get_by_text("Решение расходится с рекомендацией правил")).to_be_visible()
    assert page.get_by_label("Обоснование (его прочтут обе стороны)").input_value() == REASON
    page.get_by_label("Если решаете не так, как рекомендуют правила").fill(WHY_NOT)
    page.get_by_role("button", name="Проверить и отправить…").click()
    page.get_by_role("button", name="Подтвердить решение").click()
    expect(page.get_by_text("Решение записано")).to_be_visible()
    decision = Decision.objects.get()
    assert (decision.winner, decision.recommended_rule, decision.followed_recommendation) == (
        "seller",
        "partly_as_described",
        False,
    )
    assert decision.deviation_reason == WHY_NOT
    context.close()
