"""When the item goes back, the offer, the pages and the agreement e-mail say who pays the return
postage: the buyer, unless the seller offered to refund it up to an amount."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import OutgoingEmail
from core.errors import ActionRefused
from core.models import OutgoingWebhook
from disputes import services
from disputes.models import Dispute

from .disputes_helpers import open_dispute
from .mail_helpers import rendered

pytestmark = pytest.mark.django_db


def offer_with_return(dispute, seller, *, postage: str | None):
    return services.offer_make(
        dispute=dispute,
        user=seller,
        refund_type="partial",
        amount=Decimal("20"),
        return_required=True,
        return_postage_limit=Decimal(postage) if postage else None,
        note="Верните товар, проверим.",
    )


def page_text(client, url: str) -> str:
    return client.get(url).content.decode().replace("\xa0", " ")


def test_the_sellers_offer_to_cover_postage_is_on_the_page_the_confirmation_and_in_the_mail(
    login, order, buyer, seller, settings
):
    settings.MARKETPLACE_WEBHOOK_URL = "https://marketplace.example/hooks"
    dispute = open_dispute(order)
    offer = offer_with_return(dispute, seller, postage="5.00")
    client = login(buyer)
    detail = reverse("disputes:detail", args=[dispute.pk])
    assert "продавец возместит её до 5,00 $" in page_text(client, detail)
    confirm = client.post(reverse("disputes:offer_accept", args=[dispute.pk]), {"offer": offer.pk})
    assert "продавец возместит её до 5,00 $" in confirm.content.decode().replace("\xa0", " ")
    services.offer_accept(dispute=dispute, offer_id=offer.pk, user=buyer)
    dispute.refresh_from_db()
    assert (dispute.status, dispute.return_postage_limit) == (Dispute.Status.AWAITING_RETURN, Decimal("5.00"))
    assert "продавец возместит её до 5,00 $" in page_text(client, detail)
    buyer_mail = rendered(OutgoingEmail.objects.filter(to_address=buyer.email).latest("pk"))
    seller_mail = rendered(OutgoingEmail.objects.filter(to_address=seller.email).latest("pk"))
    assert "продавец возместит её до 5,00 $" in buyer_mail.body.replace("\xa0", " ")
    assert "Вы возмещаете покупателю пересылку товара обратно — до 5,00 $" in seller_mail.body.replace("\xa0", " ")
    decided = OutgoingWebhook.objects.get(kind="dispute.refund_decided").payload["data"]
    assert decided["return_postage_paid_by_seller_up_to"] == {"amount": "5.00", "currency": "USD"}


def test_without_an_offer_to_cover_it_the_buyer_is_told_they_pay_the_postage(login, order, buyer, seller):
    dispute = open_dispute(order)
    offer = offer_with_return(dispute, seller, postage=None)
    services.offer_accept(dispute=dispute, offer_id=offer.pk, user=buyer)
    text = page_text(login(buyer), reverse("disputes:detail", args=[dispute.pk]))
    assert "Пересылку обратно оплачиваете вы: продавец не предложил её возместить." in text


def test_covering_postage_without_a_return_is_refused_by_the_service_and_next_to_the_field(login, order, buyer, seller):
    dispute = open_dispute(order)
    with pytest.raises(ActionRefused, match="только если товар возвращается"):
        services.offer_make(
            dispute=dispute,
            user=seller,
            refund_type="partial",
            amount=Decimal("20"),
            return_required=False,
            return_postage_limit=Decimal("5"),
            note="x",
        )
    response = login(seller).post(
        reverse("disputes:offer_create", args=[dispute.pk]),
        {"refund_type": "partial", "amount": "20", "return_postage_limit": "1 000", "note": "Моё пояснение"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="offer-postage-error"' in page and "только если товар возвращается" in page
    assert "Моё пояснение" in page


def history(client, url: str) -> str:
    text = page_text(client, url)
    return text[text.index("История спора") :]


def test_the_history_keeps_each_offers_return_and_postage_after_a_new_offer_replaced_it(login, order, buyer, seller):
    dispute = open_dispute(order)
    offer_with_return(dispute, seller, postage="5.00")
    services.offer_make(
        dispute=dispute,
        user=seller,
        refund_type="partial",
        amount=Decimal("15"),
        return_required=False,
        note="Без возврата.",
    )
    for reader in (buyer, seller):
        lines = history(login(reader), reverse("disputes:detail", args=[dispute.pk]))
        assert "товар вернуть продавцу" in lines
        assert "Пересылку обратно оплачивает покупатель, продавец возмещает её до 5,00 $." in lines
        # The later offer had no return: its line says only the amount.
        assert lines.count("товар вернуть продавцу") == 1
