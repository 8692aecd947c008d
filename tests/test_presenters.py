"""What people saw (issue 23): each page and e-mail tells the state as it is, to the reader's side.

The texts come from orders/presenters.py and disputes/presenters.py; these tests read them where
people read them (the pages through the test client, the e-mails as rendered for the recipient).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import OutgoingEmail
from disputes import claims, services
from disputes.models import Dispute, Offer
from disputes.rules import local_date
from orders import payments, shipping
from orders.models import Order, Refund, TrackingEvent

from .disputes_helpers import REASON, decide, escalate, open_dispute
from .factories import OrderFactory, arbitrator
from .mail_helpers import rendered


def _page(client, user, name: str, *args) -> str:
    client.force_login(user)
    return client.get(reverse(name, args=args)).content.decode()


def _mails(user, template: str = "") -> list[str]:
    rows = OutgoingEmail.objects.filter(recipient=user)
    if template:
        rows = rows.filter(template=template)
    return [f"{mail.subject}\n{mail.body}" for mail in map(rendered, rows.order_by("pk"))]


def _scan(order: Order, kind: str, days_after: int) -> None:
    assert order.shipped_at is not None
    TrackingEvent.objects.create(
        order=order,
        kind=kind,
        happened_at=order.shipped_at + timedelta(days=days_after),
        location="Шэньчжэнь",
        source=TrackingEvent.Source.CARRIER,
        external_id=f"scan-{order.number}-{kind}-{days_after}",
        received_at=order.shipped_at + timedelta(days=days_after),
    )


def _accept_with_return(dispute: Dispute) -> Dispute:
    services.offer_accept(
        dispute=dispute,
        offer_id=dispute.offers.get(status=Offer.Status.PENDING).pk,
        user=dispute.store.owner,
    )
    dispute.refresh_from_db()
    return dispute


# --- the order page ---------------------------------------------------------------------------


def test_scans_listed_without_a_tracking_number_do_not_sit_under_not_given(client, buyer, seller):
    order = OrderFactory(buyer=buyer, store=seller.store, tracking_number="")
    for day, kind in enumerate(("accepted", "in_transit", "arrived")):
        _scan(order, kind, day)
    page = _page(client, buyer, "orders:detail", order.number)
    assert page.count("Прибыло в страну назначения") == 1
    assert "Продавец не указал трек-номер</span>" not in page
    assert "события ниже передала площадка по номеру заказа" in page


def test_a_tracking_number_is_shown_above_its_scans(client, order, buyer):
    _scan(order, "in_transit", 1)
    page = _page(client, buyer, "orders:detail", order.number)
    assert f"<code>{order.tracking_number}</code>" in page
    assert page.index(order.tracking_number) < page.index("Отслеживание посылки")


def test_a_parcel_returning_to_the_seller_gets_a_warning_banner(client, order, buyer):
    _scan(order, "in_transit", 1)
    _scan(order, "returned", 3)
    page = _page(client, buyer, "orders:detail", order.number)
    assert 'data-testid="tracking-returned"' in page
    assert "Посылка возвращается продавцу" in page and "Открыть спор" in page


def test_the_seller_reads_the_parcel_banner_in_the_sellers_words(client, order, seller):
    _scan(order, "in_transit", 1)
    _scan(order, "returned", 3)
    page = _page(client, seller, "orders:detail", order.number)
    assert "Посылка возвращается продавцу" in page and "Покупатель может открыть спор" in page
    assert "до вас она не дойдёт" not in page and "откройте спор" not in page


def test_confirm_receipt_says_it_shortens_protection_only_when_the_new_end_is_earlier(client, buyer, seller):
    far = OrderFactory(buyer=buyer, store=seller.store, protection_days=60, days_since_shipment=5)
    near = OrderFactory(buyer=buyer, store=seller.store, protection_days=12, days_since_shipment=10)
    far_page = _page(client, buyer, "orders:confirm", far.number)
    near_page = _page(client, buyer, "orders:confirm", near.number)
    assert "сокращает защиту покупателя" in far_page and "только" in far_page
    assert "сокращает защиту покупателя" not in near_page and "Защиту оно не сокращает" in near_page


def test_a_cancelled_order_says_cancelled_once_with_one_refund_state_and_the_mail_says_it_once(
    client, buyer, seller, django_capture_on_commit_callbacks
):
    order = OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store)
    shipping.order_cancel_request(order=order, buyer=buyer, reason="changed_mind", note="")
    with django_capture_on_commit_callbacks(execute=True):
        shipping.order_cancel_agree(order=order, seller=seller)
    page = _page(client, buyer, "orders:detail", order.number)
    main = page.split("<main", 1)[1]
    assert main.count("банк зачислит их за 3–20 дней") == 1
    assert "Отменён, деньги возвращаются" not in main and main.count('data-testid="refund-state"') == 1
    assert 'id="protection-heading"' not in main  # no second "Заказ отменён" in the protection box
    (mail,) = _mails(buyer, "order_cancelled")
    assert mail.count("3–20 дней") == 1 and "отправлены вам" in mail


# --- the dispute page -------------------------------------------------------------------------


def test_after_a_refund_with_return_is_accepted_the_buyer_is_not_told_nothing_to_do(client, order, buyer):
    dispute = _accept_with_return(open_dispute(order, return_item=True))
    page = _page(client, buyer, "disputes:detail", dispute.pk)
    assert "Отправьте товар продавцу с трек-номером до" in page
    assert "Сейчас действий не требуется" not in page


def test_once_the_return_is_shipped_the_buyer_has_nothing_to_do_and_is_told_what_comes_next(client, order, buyer):
    dispute = _accept_with_return(open_dispute(order, return_item=True))
    services.return_ship(dispute=dispute, buyer=buyer, tracking_number="RR123456789CN")
    page = _page(client, buyer, "disputes:detail", dispute.pk)
    next_step = page.split('data-testid="next-step"', 1)[1].split("</section>", 1)[0]
    assert "Сейчас действий не требуется." in next_step
    assert "продавец подтвердит, что получил его" in next_step


def test_after_a_decision_the_deadlines_say_appeal_not_review_and_nothing_was_agreed(client, order, buyer):
    dispute = escalate(open_dispute(order))
    decide(dispute)
    page = _page(client, buyer, "disputes:detail", dispute.pk)
    deadlines = page.split('data-testid="deadlines"', 1)[1].split("</ul>", 1)[0]
    assert "Решение можно обжаловать до" in deadlines
    assert "рассматривает арбитр" not in deadlines and "15–60" not in deadlines
    assert "О чём договорились" not in page


def test_a_split_decision_tells_the_buyer_what_they_asked_for_in_their_own_words(client, order, buyer, seller):
    dispute = escalate(open_dispute(order))
    decide(dispute, winner="split", amount="5.00")
    to_buyer = _page(client, buyer, "disputes:detail", dispute.pk)
    to_seller = _page(client, seller, "disputes:detail", dispute.pk)
    assert "Вы просили" in to_buyer and "Покупатель просил" not in to_buyer
    assert "Покупатель просил" in to_seller and "Вы просили" not in to_seller


def test_after_the_final_appeal_the_order_page_says_where_the_money_went(client, order, buyer, seller):
    dispute = escalate(open_dispute(order))
    first = arbitrator(username="first-arb")
    decide(dispute, arbitrator=first)
    claims.appeal_file(dispute=dispute, user=seller, reason="Не согласен: покупатель прислал чужие фотографии.")
    claims.appeal_decide(
        dispute=dispute, arbitrator=arbitrator(), winner="buyer", amount=None, return_required=False, reason=REASON
    )
    refund = Refund.objects.get(order=order, purpose=Refund.Purpose.DISPUTE)
    payments.refund_confirm(refund_id=refund.pk, confirmed_by=Refund.ConfirmedBy.GATEWAY)
    dispute_page = _page(client, buyer, "disputes:detail", dispute.pk)
    order_page = _page(client, buyer, "orders:detail", order.number)
    for page in (dispute_page, order_page):
        assert "пока спор не закончится" not in page and "отправлены вам" in page
    assert "О чём договорились" not in dispute_page and "рассматривает арбитр" not in dispute_page
    assert "Апелляцию рассматривает" not in dispute_page
    assert "Вам возвращается" in dispute_page and "Покупателю возвращается" not in dispute_page


def test_the_buyers_own_offer_is_labelled_as_theirs(client, order, buyer, seller):
    dispute = open_dispute(order)
    services.offer_make(
        dispute=dispute, user=seller, refund_type="partial", amount=Decimal("5"), return_required=False, note="5"
    )
    services.offer_make(
        dispute=dispute, user=buyer, refund_type="full", amount=None, return_required=True, note="Верну товар"
    )
    buyer_page = _page(client, buyer, "disputes:detail", dispute.pk)
    seller_page = _page(client, seller, "disputes:detail", dispute.pk)
    buyer_offer = buyer_page.split('id="offer-heading"', 1)[1].split("</section>", 1)[0]
    seller_offer = seller_page.split('id="offer-heading"', 1)[1].split("</section>", 1)[0]
    assert ">Ваше предложение<" in buyer_offer and "вы возвращаете товар продавцу" in buyer_offer
    assert "Предложение продавца" not in buyer_offer and "нужно вернуть" not in buyer_offer
    assert ">Предложение покупателя<" in seller_offer and "покупатель возвращает вам товар" in seller_offer


def test_reclassifying_mails_both_parties_and_keeps_the_buyers_reason_under_the_request(client, order, buyer, seller):
    dispute = escalate(open_dispute(order, problems=["not_working"]))
    olga = arbitrator(username="olga")
    claims.claim_take(dispute=dispute, arbitrator=olga)
    claims.claim_reclassify(
        dispute=dispute, arbitrator=olga, problems=["poor_quality"], note="На видео товар работает, но плохо собран."
    )
    for user in (buyer, seller):
        (mail,) = [text for text in _mails(user) if "уточнил причину" in text]
        assert "Почему: На видео товар работает, но плохо собран." in mail
    page = _page(client, buyer, "disputes:detail", dispute.pk)
    request_block = page.split('data-testid="buyer-problems"', 1)[1].split("</ul>", 1)[0]
    assert "Не работает или работает неправильно" in request_block
    assert "Низкое качество" not in request_block
    assert 'data-testid="reclassified"' in page


# --- e-mails ----------------------------------------------------------------------------------


def test_the_offer_mail_says_what_happens_to_the_item_and_who_pays_the_postage(order, buyer, seller):
    dispute = open_dispute(order, return_item=True)
    services.offer_make(
        dispute=dispute,
        user=seller,
        refund_type=Dispute.RefundType.FULL,
        amount=None,
        return_required=True,
        return_postage_limit=Decimal("5.00"),
        note="Верните товар, пересылку возместим.",
        attachment_ids=[],
    )
    (to_buyer,) = [text for text in _mails(buyer) if "Продавец предложил" in text]
    assert "вы возвращаете товар продавцу" in to_buyer
    assert "продавец возместит её до 5,00" in to_buyer


def test_the_refund_mail_tells_the_buyer_the_money_went_to_them(order, buyer, seller):
    dispute = open_dispute(order)
    services.offer_accept(dispute=dispute, offer_id=dispute.offers.get(status=Offer.Status.PENDING).pk, user=seller)
    refund = Refund.objects.get(order=order, purpose=Refund.Purpose.DISPUTE)
    payments.refund_confirm(refund_id=refund.pk, confirmed_by=Refund.ConfirmedBy.GATEWAY)
    (to_buyer,) = [text for text in _mails(buyer) if "завершён" in text]
    (to_seller,) = [text for text in _mails(seller) if "завершён" in text]
    assert "отправлены вам" in to_buyer and "покупателю" not in to_buyer
    assert "отправлены покупателю" in to_seller


def test_the_agreement_mail_gives_the_return_address_and_date_and_the_seller_its_own_side(order, buyer, seller):
    dispute = _accept_with_return(open_dispute(order, return_item=True))
    (to_buyer,) = [text for text in _mails(buyer) if "Вы договорились" in text]
    (to_seller,) = [text for text in _mails(seller) if "Вы договорились" in text]
    assert "решён" not in to_buyer + to_seller  # agreed, not settled: the item and the money still travel
    assert "отправьте товар продавцу" in to_buyer
    assert seller.store.return_address in to_buyer
    assert "Отправить товар и указать трек нужно до" in to_buyer and "MSK" in to_buyer
    assert "покупатель отправит вам товар" in to_seller and "отправьте товар продавцу" not in to_seller
    # The seller is not told to send the item to his own address.
    assert "Куда отправить товар" not in to_seller
    assert "Покупатель должен отправить товар и указать трек до" in to_seller
    assert dispute.return_due_at is not None


def test_the_seller_silence_mail_says_why_the_seller_lost(order, buyer, seller):
    dispute = open_dispute(order)
    assert dispute.seller_answer_due_at is not None
    with time_machine.travel(dispute.seller_answer_due_at + timedelta(minutes=1), tick=False):
        services.dispute_grant_for_seller_silence(dispute_id=dispute.pk)
    (to_seller,) = [text for text in _mails(seller) if "не ответили" in text]
    (to_buyer,) = [text for text in _mails(buyer) if "не ответил" in text]
    assert "Вы не ответили на спор" in to_seller and "поэтому требование покупателя удовлетворено" in to_seller
    assert "Продавец не ответил на спор" in to_buyer and "ваше требование удовлетворено" in to_buyer


def test_the_decision_mail_names_the_readers_own_side(order, buyer, seller):
    dispute = escalate(open_dispute(order, return_item=True))
    decide(dispute, return_required=True)
    (to_buyer,) = _mails(buyer, "claim_decision")
    (to_seller,) = _mails(seller, "claim_decision")
    assert "Вам возвращается" in to_buyer and "Товар нужно отправить продавцу" in to_buyer
    assert "Покупателю возвращается" in to_seller and "Покупатель отправит вам товар" in to_seller
    assert "отправить продавцу" not in to_seller


@pytest.mark.parametrize(("zone", "name"), [("Europe/Moscow", "MSK"), ("Asia/Vladivostok", "+10")])
def test_dates_in_flash_messages_name_their_zone(order, zone, name):
    """The flash after opening a dispute and the rulebook's refusals give dates through local_date."""
    dispute = open_dispute(order)
    assert dispute.seller_answer_due_at is not None
    with timezone.override(zone):
        assert local_date(dispute.seller_answer_due_at).endswith(f" {name}")
