"""Before and during delivery: the buyer cancels an unshipped order, the seller's shipping
deadline, tracking events from the signed logistics webhook, and what the dispute takes from them."""

import json
import time
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.errors import ActionRefused
from core.signatures import signed_header
from disputes.models import Message
from orders import shipping
from orders.models import Order, OrderCancellation, OrderEvent, Refund, TrackingEvent

from .disputes_helpers import open_dispute
from .factories import OrderFactory, SellerFactory, UserFactory, arbitrator

pytestmark = pytest.mark.django_db
MINUTE = timedelta(minutes=1)


@pytest.fixture
def unshipped(buyer, seller):
    return OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store, handling_days=5)


def recipients() -> list[str]:
    return sorted(message.to[0] for message in mail.outbox)


# --- cancelling before shipment -----------------------------------------------------------------


def test_buyer_asks_to_cancel_and_sees_when_it_resolves(
    unshipped, buyer, seller, login, django_capture_on_commit_callbacks
):
    client = login(buyer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orders:cancel", args=[unshipped.number]), {"reason": "found_cheaper", "note": "Нашла у другого"}
        )
    assert response.status_code == 302
    cancellation = OrderCancellation.objects.get(order=unshipped)
    assert cancellation.status == "pending"
    assert cancellation.respond_by - cancellation.requested_at == timedelta(days=3)
    assert recipients() == [seller.email]
    assert "отменить заказ" in mail.outbox[0].subject and "Нашла у другого" in mail.outbox[0].body
    page = client.get(reverse("orders:detail", args=[unshipped.number])).content.decode()
    assert "Продавец должен ответить до" in page and "осталось 2 д 23 ч" in page
    assert "Попросить отменить заказ" not in page  # one request per order


def test_a_cancel_request_without_a_reason_keeps_the_note_and_says_why(unshipped, buyer, login):
    response = login(buyer).post(reverse("orders:cancel", args=[unshipped.number]), {"note": "Моё пояснение"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Выберите причину отмены." in page and "Моё пояснение" in page
    assert not OrderCancellation.objects.exists()


def test_nobody_cancels_someone_elses_order(unshipped, login):
    stranger = UserFactory(username="stranger")
    response = login(stranger).post(reverse("orders:cancel", args=[unshipped.number]), {"reason": "other"})
    assert response.status_code == 404
    other_seller = SellerFactory(username="other-seller")
    shipping.order_cancel_request(order=unshipped, buyer=unshipped.buyer, reason="other")
    response = login(other_seller).post(reverse("orders:cancel_agree", args=[unshipped.number]))
    assert response.status_code == 404
    assert Order.objects.get(pk=unshipped.pk).status == "awaiting_shipment"


def test_a_shipped_order_cannot_be_cancelled(order, buyer):
    with pytest.raises(ActionRefused, match="ещё не отправлен"):
        shipping.order_cancel_request(order=order, buyer=buyer, reason="changed_mind")


def test_seller_agrees_and_the_order_is_cancelled_and_refunded(
    unshipped, buyer, seller, login, django_capture_on_commit_callbacks
):
    shipping.order_cancel_request(order=unshipped, buyer=buyer, reason="changed_mind")
    mail.outbox.clear()
    url = reverse("orders:cancel_agree", args=[unshipped.number])
    # The first press asks, saying what it does; nothing changes yet.
    asked = login(seller).post(url).content.decode().replace("\xa0", " ")
    assert "Согласиться на отмену заказа?" in asked and "покупателю вернётся 25,00 $" in asked
    unshipped.refresh_from_db()
    assert unshipped.status == "awaiting_shipment" and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        login(seller).post(url, {"confirm": "yes"})
    unshipped.refresh_from_db()
    assert (unshipped.status, unshipped.cancel_reason) == ("cancelled", "seller_agreed")
    refund = Refund.objects.get(order=unshipped)
    assert (refund.purpose, refund.amount, refund.status) == ("cancellation", unshipped.total_amount, "completed")
    assert recipients() == sorted([buyer.email, seller.email])
    page = login(buyer).get(reverse("orders:detail", args=[unshipped.number])).content.decode()
    assert "Продавец согласился отменить заказ." in page and "отправлены вам" in page
    # One refund state, said once (issue 23): the order's badge no longer says "деньги возвращаются" beside it.
    assert page.count("банк зачислит их за 3–20 дней") == 1
    assert '<span class="badge text-bg-light border fs-6 text-wrap" data-testid="order-status">Отменён</span>' in page


def test_a_silent_seller_is_not_waited_for_a_minute_before_the_deadline(unshipped, buyer, run_sweep):
    cancellation = shipping.order_cancel_request(order=unshipped, buyer=buyer, reason="changed_mind")
    mail.outbox.clear()
    assert run_sweep("cancellations", cancellation.respond_by - MINUTE).changed == 0
    assert Order.objects.get(pk=unshipped.pk).status == "awaiting_shipment"
    assert run_sweep("cancellations", cancellation.respond_by + MINUTE).changed == 1
    unshipped.refresh_from_db()
    cancellation.refresh_from_db()
    assert (unshipped.status, unshipped.cancel_reason, cancellation.status) == (
        "cancelled",
        "seller_silent",
        "seller_silent",
    )
    assert Refund.objects.filter(order=unshipped, purpose="cancellation").count() == 1
    assert recipients() == sorted([buyer.email, unshipped.store.owner.email])
    buyer_mail = next(message for message in mail.outbox if message.to == [buyer.email])
    assert "не ответил" in buyer_mail.body and "25,00" in buyer_mail.body and "отправлены вам" in buyer_mail.body
    assert run_sweep("cancellations", cancellation.respond_by + 2 * MINUTE).changed == 0  # done once


def test_shipping_in_time_overtakes_the_cancel_request(
    unshipped, buyer, seller, login, run_sweep, django_capture_on_commit_callbacks
):
    cancellation = shipping.order_cancel_request(order=unshipped, buyer=buyer, reason="changed_mind")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = login(seller).post(
            reverse("orders:ship", args=[unshipped.number]), {"tracking_number": "lp00999111222cn"}
        )
    assert response.status_code == 302
    unshipped.refresh_from_db()
    cancellation.refresh_from_db()
    assert (unshipped.status, unshipped.tracking_number, cancellation.status) == (
        "in_transit",
        "LP00999111222CN",
        "shipped",
    )
    assert unshipped.protection_due_at == unshipped.shipped_at + timedelta(days=unshipped.protection_days)
    assert recipients() == [buyer.email] and "отмена не состоялась" in mail.outbox[0].subject
    # The buyer's only mail about the shipment says until when a dispute can be opened.
    assert "Защита покупателя действует до " in mail.outbox[0].body
    assert run_sweep("cancellations", cancellation.respond_by + MINUTE).changed == 0
    assert not Refund.objects.filter(order=unshipped).exists()


def test_the_seller_cannot_ship_an_order_the_sweep_cancelled(unshipped, seller, run_sweep):
    assert run_sweep("shipping-deadlines", unshipped.ship_by + MINUTE).changed == 1
    with pytest.raises(ActionRefused, match="уже отменён"):
        shipping.order_ship(order=unshipped, seller=seller, tracking_number="LP00999111222CN")
    assert Order.objects.get(pk=unshipped.pk).status == "cancelled"


def test_an_order_shipped_first_is_left_alone_by_the_sweep(unshipped, seller, run_sweep):
    shipping.order_ship(order=unshipped, seller=seller, tracking_number="LP00999111222CN")
    mail.outbox.clear()
    assert run_sweep("shipping-deadlines", unshipped.ship_by + MINUTE).changed == 0
    assert Order.objects.get(pk=unshipped.pk).status == "in_transit" and not mail.outbox


# --- the seller's shipping deadline -------------------------------------------------------------


def test_an_order_not_shipped_by_its_handling_time_is_cancelled_and_the_buyer_told_why(
    unshipped, buyer, seller, run_sweep, login
):
    assert unshipped.ship_by == unshipped.paid_at + timedelta(days=5)
    mail.outbox.clear()
    assert run_sweep("shipping-deadlines", unshipped.ship_by - MINUTE).changed == 0
    assert run_sweep("shipping-deadlines", unshipped.ship_by + MINUTE).changed == 1
    unshipped.refresh_from_db()
    assert (unshipped.status, unshipped.cancel_reason) == ("cancelled", "not_shipped")
    assert recipients() == sorted([buyer.email, seller.email])
    buyer_mail = next(message for message in mail.outbox if message.to == [buyer.email])
    assert "не отправил заказ в срок" in buyer_mail.body and "отменён" in buyer_mail.subject
    assert OrderEvent.objects.filter(order=unshipped, kind="cancelled").count() == 1
    page = login(buyer).get(reverse("orders:detail", args=[unshipped.number])).content.decode()
    assert "не отправил заказ в срок" in page and "25,00" in page and "отправлены вам" in page
    assert "Открыть спор" not in page  # a cancelled order offers nothing to do


def test_the_order_page_shows_the_shipping_deadline_with_a_countdown(unshipped, buyer, seller, login):
    page = login(buyer).get(reverse("orders:detail", args=[unshipped.number])).content.decode()
    assert "Продавец должен отправить заказ до" in page and "осталось 3 д" in page
    page = login(seller).get(reverse("orders:detail", args=[unshipped.number])).content.decode()
    assert "Трек-номер посылки" in page and "Заказ отправлен" in page


def test_a_short_tracking_number_is_refused_next_to_the_field(unshipped, seller, login):
    response = login(seller).post(reverse("orders:ship", args=[unshipped.number]), {"tracking_number": "LP1"})
    assert response.status_code == 400
    assert "от 6 до 40 знаков, а здесь 3" in response.content.decode()
    assert Order.objects.get(pk=unshipped.pk).status == "awaiting_shipment"


# --- tracking events through the signed webhook -------------------------------------------------


def tracking_notice(order, *, event_id="trk-1", event="in_transit", happened_at=None, location="Москва, ММПО"):
    happened_at = happened_at or timezone.now() - timedelta(hours=2)
    return json.dumps(
        {
            "id": event_id,
            "tracking_number": order.tracking_number.lower(),
            "event": event,
            "happened_at": happened_at.isoformat(),
            "location": location,
        }
    ).encode()


def post_tracking(client, body, *, secret="test-tracking-secret", timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return client.post(
        reverse("tracking_webhook"),
        data=body,
        content_type="application/json",
        headers={"X-Tracking-Signature": signed_header(secret=secret, timestamp=timestamp, body=body)},
    )


def test_a_signed_tracking_event_is_recorded(client, order):
    response = post_tracking(client, tracking_notice(order))
    assert (response.status_code, response.json()) == (200, {"status": "processed"})
    event = TrackingEvent.objects.get(order=order)
    assert (event.kind, event.location, event.source) == ("in_transit", "Москва, ММПО", "carrier")


def test_a_wrongly_signed_tracking_event_changes_nothing(client, order):
    response = post_tracking(client, tracking_notice(order), secret="guessed")
    assert response.status_code == 401
    assert not TrackingEvent.objects.exists()


def test_a_replayed_tracking_event_changes_nothing(client, order):
    body = tracking_notice(order, event="delivered")
    post_tracking(client, body)
    order.refresh_from_db()
    before = (order.status, order.protection_due_at, TrackingEvent.objects.count())
    mail.outbox.clear()
    again = post_tracking(client, body)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    old = post_tracking(client, tracking_notice(order, event_id="trk-2"), timestamp=int(time.time()) - 3600)
    assert old.status_code == 401
    order.refresh_from_db()
    assert (order.status, order.protection_due_at, TrackingEvent.objects.count()) == before
    assert not mail.outbox


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (
            json.dumps(
                {
                    "id": "x",
                    "tracking_number": "NO-SUCH-PARCEL-1",
                    "event": "in_transit",
                    "happened_at": "2026-11-01T10:00:00+00:00",
                }
            ).encode(),
            404,
        ),
    ],
)
def test_a_tracking_notice_that_cannot_be_read_or_matched_is_refused(client, order, body, status):
    assert post_tracking(client, body).status_code == status
    assert not TrackingEvent.objects.exists()


def test_an_unknown_event_or_a_future_time_is_refused(client, order):
    assert post_tracking(client, tracking_notice(order, event="teleported")).status_code == 400
    future = tracking_notice(order, event_id="trk-9", happened_at=timezone.now() + timedelta(days=2))
    assert post_tracking(client, future).status_code == 400
    assert not TrackingEvent.objects.exists()


def test_delivered_starts_the_same_fifteen_day_window_as_confirming(
    client, order, buyer, django_capture_on_commit_callbacks
):
    delivered_at = timezone.now() - timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        post_tracking(client, tracking_notice(order, event="delivered", happened_at=delivered_at))
    order.refresh_from_db()
    assert order.status == "delivered" and order.delivered_at == delivered_at
    assert order.protection_due_at == delivered_at + timedelta(days=15)
    assert recipients() == [buyer.email] and "вручён" in mail.outbox[0].subject


def test_the_order_page_shows_tracking_in_the_viewers_zone_and_a_stalled_parcel(order, buyer, login):
    seen = timezone.now() - timedelta(days=12)
    shipping.tracking_event_record(
        order=order, kind="arrived", happened_at=seen, location="Москва, ММПО", source="staff"
    )
    page = login(buyer).get(reverse("orders:detail", args=[order.number])).content.decode()
    local = timezone.localtime(seen, timezone=ZoneInfo(buyer.time_zone))
    assert "Прибыло в страну назначения" in page and "Москва, ММПО" in page
    assert "Посылка давно не двигается" in page
    assert reverse("disputes:wizard_start", args=[order.number]) in page
    assert f"{local.day} " in page and f"{local:%H:%M}" in page  # in the buyer's zone, Moscow


def test_a_moving_parcel_is_not_called_stalled(order, buyer, login):
    shipping.tracking_event_record(
        order=order, kind="in_transit", happened_at=timezone.now() - timedelta(days=2), source="staff"
    )
    page = login(buyer).get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "В пути" in page and "Посылка давно не двигается" not in page


def test_staff_record_a_scan_in_admin_through_the_same_service(admin_client, order):
    scanned = timezone.localtime(timezone.now() - timedelta(minutes=5), ZoneInfo("Europe/Moscow"))
    response = admin_client.post(
        reverse("admin:orders_trackingevent_add"),
        {
            "order": order.pk,
            "kind": "delivered",
            # One moment for both boxes, in the zone admin reads them in (the staff member's own).
            "happened_at_0": f"{scanned:%Y-%m-%d}",
            "happened_at_1": f"{scanned:%H:%M:%S}",
            "location": "Отделение 101000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert order.status == "delivered"
    assert TrackingEvent.objects.get(order=order).source == "staff"


# --- what the dispute takes from tracking -------------------------------------------------------


def wizard_problem_page(client, order) -> str:
    client.post(reverse("disputes:wizard", args=[order.number, "received"]), {"received": "no", "next": "1"})
    return client.get(reverse("disputes:wizard", args=[order.number, "problem"])).content.decode()


@pytest.mark.parametrize(
    ("kind", "preselected"), [("returned", "returned_to_seller"), ("delivered", "delivered_not_received")]
)
def test_the_wizard_preselects_what_the_tracking_says(order, buyer, login, kind, preselected):
    shipping.tracking_event_record(
        order=order, kind=kind, happened_at=timezone.now() - timedelta(days=1), source="staff"
    )
    page = wizard_problem_page(login(buyer), order)
    assert f'value="{preselected}" checked' in page
    assert "По данным отслеживания" in page


def test_without_tracking_events_nothing_is_preselected(order, buyer, login):
    page = wizard_problem_page(login(buyer), order)
    assert "checked" not in page.split('name="problem"', 1)[1].split("</fieldset>", 1)[0]


def test_the_arbitrator_sees_the_tracking_events_on_the_claim(order, client):
    shipping.tracking_event_record(
        order=order,
        kind="customs",
        happened_at=timezone.now() - timedelta(days=4),
        location="Таможенный пост",
        source="staff",
    )
    dispute = open_dispute(order, kind="not_received", problems=["in_transit_protection_ending"])
    from disputes import services

    services.dispute_escalate(dispute=dispute, user=order.buyer, now=timezone.now() + timedelta(days=4))
    client.force_login(arbitrator())
    page = client.get(reverse("admin:disputes_claim_change", args=[dispute.claim.pk])).content.decode()
    assert "Отслеживание посылки" in page and "Таможенный пост" in page
    client.force_login(order.buyer)
    page = client.get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert "Таможенный пост" in page and "приложены к спору" in page


# --- a link to a video too large to upload -------------------------------------------------------


def test_a_video_link_is_evidence_shown_as_a_link_never_embedded(order, buyer, seller, login):
    dispute = open_dispute(order)
    client = login(seller)
    response = client.post(
        reverse("disputes:message_create", args=[dispute.pk]), {"text": "", "link": "https://youtu.be/abc123"}
    )
    assert response.status_code == 302
    message = Message.objects.get(dispute=dispute, link="https://youtu.be/abc123")
    assert message.kind == "evidence"
    page = login(buyer).get(reverse("disputes:detail", args=[dispute.pk])).content.decode()
    assert '<a href="https://youtu.be/abc123" rel="nofollow noopener noreferrer ugc" target="_blank">' in page
    assert "<iframe" not in page and "<video" not in page


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "ftp://example.com/video.mp4", "youtu be", "https://user:pw@example.com/v"]
)
def test_a_link_that_is_not_a_web_page_is_refused_and_the_text_kept(order, buyer, login, link):
    dispute = open_dispute(order)
    response = login(buyer).post(
        reverse("disputes:message_create", args=[dispute.pk]), {"text": "Видео распаковки", "link": link}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Видео распаковки" in page
    assert "https://" in page and not Message.objects.filter(dispute=dispute, kind="evidence").exists()


def test_the_wizard_request_carries_a_video_link(order, buyer):
    dispute = open_dispute(order, link="https://vk.com/video-1_2")
    assert dispute.messages.get(kind="request").link == "https://vk.com/video-1_2"
    with pytest.raises(ActionRefused):
        open_dispute(OrderFactory(buyer=buyer, store=order.store), link="javascript:alert(1)")


def test_money_of_a_cancellation_is_the_whole_order(unshipped, buyer, seller):
    shipping.order_cancel_request(order=unshipped, buyer=buyer, reason="other")
    shipping.order_cancel_agree(order=unshipped, seller=seller)
    assert Refund.objects.get(order=unshipped).amount == Decimal("25.00")


def test_the_sellers_account_lists_orders_to_ship_with_their_deadlines(unshipped, buyer, seller, login):
    other = OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store, handling_days=7)
    shipping.order_cancel_request(order=other, buyer=buyer, reason="wrong_address")
    page = login(seller).get(reverse("accounts:home")).content.decode()
    panel = page.split('data-testid="orders-to-ship"', 1)[1].split("</section>", 1)[0]
    assert unshipped.number in panel and "отправьте до" in panel
    assert other.number in panel and "покупатель просит отменить, ответьте до" in panel
    assert 'data-testid="orders-to-ship"' not in login(buyer).get(reverse("accounts:home")).content.decode()


def test_shipping_mails_the_buyer_the_tracking_number_and_protection_end(
    unshipped, buyer, seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shipping.order_ship(order=unshipped, seller=seller, tracking_number="LP00999111222CN")
    assert recipients() == [buyer.email]
    assert "отправлен" in mail.outbox[0].subject
    assert "LP00999111222CN" in mail.outbox[0].body and "MSK" in mail.outbox[0].body


def test_the_seller_is_told_in_their_own_words_why_the_order_was_cancelled(unshipped, seller, run_sweep):
    mail.outbox.clear()
    run_sweep("shipping-deadlines", unshipped.ship_by + MINUTE)
    seller_mail = next(message for message in mail.outbox if message.to == [seller.email])
    assert (
        "Вы не отправили заказ в срок" in seller_mail.body
        and "Отправлять этот заказ больше не нужно" in seller_mail.body
    )


def test_each_party_reads_the_shipping_and_cancellation_deadlines_as_its_own(unshipped, buyer, seller, client):
    shipping.order_cancel_request(order=unshipped, buyer=buyer, reason="changed_mind")
    url = reverse("orders:detail", args=[unshipped.number])
    client.force_login(seller)
    sellers = client.get(url).content.decode()
    assert "Отправьте заказ до" in sellers and "Если не отправить заказ к этому сроку" in sellers
    assert "Ответьте до" in sellers and "Продавец должен" not in sellers
    client.force_login(buyer)
    buyers = client.get(url).content.decode()
    assert "Продавец должен отправить заказ до" in buyers and "все деньги вернутся вам." in buyers
    assert "Продавец должен ответить до" in buyers
