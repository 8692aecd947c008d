from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from core.errors import ActionRefused
from core.rules import Role
from disputes import services
from disputes.models import Dispute, DisputeEvent, Offer
from orders import rules as order_rules
from orders.models import Order, Refund

from .disputes_helpers import escalate, open_dispute
from .factories import OrderFactory, SellerFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Dispute.Status


def detail(dispute):
    return reverse("disputes:detail", args=[dispute.pk])


# --- opening: the one-dispute rule and the windows ---------------------------------------------


def test_buyer_opens_a_dispute_and_the_seller_is_told(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(order)
    assert dispute.status == S.AWAITING_SELLER
    assert dispute.requested_amount == order.total_amount
    assert dispute.seller_answer_due_at == dispute.opened_at + timedelta(days=5)
    assert dispute.escalation_opens_at == dispute.opened_at + timedelta(days=3)
    assert dispute.auto_claim_due_at == dispute.opened_at + timedelta(days=15)
    assert [message.to for message in mail.outbox] == [[order.store.owner.email]]
    assert dispute.events.get().kind == DisputeEvent.Kind.OPENED
    assert dispute.offers.get().role == Offer.Role.BUYER


def test_the_seller_is_told_the_date_to_answer_by_in_their_time_zone(order, django_capture_on_commit_callbacks):
    seller = order.store.owner
    seller.time_zone = "Asia/Vladivostok"
    seller.save(update_fields=["time_zone"])
    opened = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        open_dispute(order, now=opened)
    # Five days later, 15:30 UTC, is 01:30 the next day in Vladivostok (UTC+10).
    assert "требование покупателя будет удовлетворено автоматически. Ответить нужно до 9 декабря 2026, 01:30" in (
        mail.outbox[-1].body
    )


def test_an_order_has_only_one_dispute(order):
    open_dispute(order)
    with pytest.raises(ActionRefused, match="только один раз"):
        open_dispute(order)
    assert Dispute.objects.count() == 1


def test_a_cancelled_dispute_cannot_be_reopened(order):
    dispute = open_dispute(order)
    services.dispute_cancel(dispute=dispute, buyer=order.buyer)
    with pytest.raises(ActionRefused, match="только один раз"):
        open_dispute(order)


def test_no_dispute_before_the_order_ships(buyer, seller):
    order = OrderFactory.awaiting_shipment(buyer=buyer, store=seller.store)
    with pytest.raises(ActionRefused, match="отправит"):
        open_dispute(order)


def test_no_dispute_after_protection_ends(order):
    with (
        time_machine.travel(order.protection_due_at + timedelta(minutes=1)),
        pytest.raises(ActionRefused, match="закончился"),
    ):
        open_dispute(order)


def test_dispute_can_be_opened_a_minute_before_protection_ends(order):
    with time_machine.travel(order.protection_due_at - timedelta(minutes=1)):
        assert open_dispute(order).status == S.AWAITING_SELLER


def test_dispute_window_is_15_days_after_confirming_receipt(buyer, seller):
    confirmed_at = timezone.now() - timedelta(days=2)
    order = OrderFactory.confirmed(buyer=buyer, store=seller.store, confirmed_at=confirmed_at)
    with time_machine.travel(confirmed_at + timedelta(days=15, minutes=-1)):
        assert order_rules.refusal(order_rules.Action.OPEN_DISPUTE, order, Role.BUYER, timezone.now()) is None
    with time_machine.travel(confirmed_at + timedelta(days=15, minutes=1)):
        assert "закончился" in str(
            order_rules.refusal(order_rules.Action.OPEN_DISPUTE, order, Role.BUYER, timezone.now())
        )


def test_only_the_buyer_opens_a_dispute(order, seller):
    with pytest.raises(ActionRefused, match="только покупатель заказа"):
        services.dispute_open(
            order=order, buyer=seller, kind="not_received", problems=["no_tracking"], request_text="x" * 30
        )


# --- amounts ---------------------------------------------------------------------------------


def test_partial_refund_is_in_the_order_currency(order):
    dispute = open_dispute(order, refund_type="partial", amount=Decimal("10.50"))
    assert (dispute.requested_amount, dispute.currency) == (Decimal("10.50"), "USD")


@pytest.mark.parametrize(
    ("bad_amount", "message"),
    [
        (Decimal("0"), "больше нуля"),
        (Decimal("-1"), "больше нуля"),
        (Decimal("25.01"), "Нельзя вернуть больше, чем заплачено за товар: 25,00"),
        (None, "Укажите сумму"),
    ],
)
def test_partial_refund_must_be_positive_and_at_most_what_was_paid(order, bad_amount, message):
    with pytest.raises(ActionRefused, match=message):
        open_dispute(order, refund_type="partial", amount=bad_amount)
    assert not Dispute.objects.exists()


def test_partial_refund_of_exactly_the_price_is_refused_by_the_service(order):
    """ "Partial" is less than was paid; the whole price is the full refund (the rulebook's words,
    whichever form or caller sends it)."""
    with pytest.raises(ActionRefused, match="Частичный возврат — меньше, чем заплачено за товар"):
        open_dispute(order, refund_type="partial", amount=Decimal("25.00"))
    assert open_dispute(order, refund_type="partial", amount=Decimal("24.99")).requested_amount == Decimal("24.99")


def test_not_received_always_asks_for_a_full_refund(order):
    dispute = open_dispute(order, kind="not_received", problems=["returned_to_seller"], refund_type="partial", amount=1)
    assert dispute.refund_type == "full" and dispute.requested_amount == order.total_amount


def test_counter_offer_cannot_exceed_the_price(dispute, seller):
    with pytest.raises(ActionRefused, match="Нельзя вернуть больше"):
        services.offer_make(
            dispute=dispute, user=seller, refund_type="partial", amount=Decimal("30"), return_required=False, note="x"
        )


# --- seller answers, offers, resolution -------------------------------------------------------


def test_seller_accepts_the_request_and_the_refund_completes(dispute, seller, django_capture_on_commit_callbacks):
    offer = dispute.offers.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_accept(dispute=dispute, offer_id=offer.pk, user=seller)
    dispute.refresh_from_db()
    assert dispute.status == S.REFUNDED
    assert dispute.resolved_amount == Decimal("25.00")
    assert Refund.objects.get(order=dispute.order).amount == Decimal("25.00")
    kinds = list(dispute.events.values_list("kind", flat=True))
    assert kinds == ["opened", "offer_accepted", "refund_started", "refund_completed"]


def test_accepted_offer_shows_preparing_refund_until_the_refund_runs(dispute, seller):
    services.offer_accept(dispute=dispute, offer_id=dispute.offers.get().pk, user=seller)
    dispute.refresh_from_db()
    assert dispute.status == S.REFUNDING
    assert dispute.get_status_display() == "Подготовка к возврату"


def test_seller_refuses_with_a_counter_offer_and_the_buyer_accepts(dispute, buyer, seller):
    counter = services.offer_make(
        dispute=dispute, user=seller, refund_type="partial", amount=Decimal("8"), return_required=False, note="Скидка"
    )
    dispute.refresh_from_db()
    assert dispute.status == S.NEGOTIATING
    assert dispute.seller_answer_due_at is None
    assert dispute.offers.get(role="buyer").status == Offer.Status.REFUSED
    services.offer_accept(dispute=dispute, offer_id=counter.pk, user=buyer)
    dispute.refresh_from_db()
    assert dispute.resolved_amount == Decimal("8.00")


def test_buyer_cannot_accept_their_own_offer(dispute, buyer):
    with pytest.raises(ActionRefused, match="только другая сторона"):
        services.offer_accept(dispute=dispute, offer_id=dispute.offers.get().pk, user=buyer)


def test_buyer_waits_for_the_seller_before_proposing(dispute, buyer):
    with pytest.raises(ActionRefused, match="Дождитесь"):
        services.offer_make(
            dispute=dispute, user=buyer, refund_type="full", amount=None, return_required=False, note="x"
        )


def test_buyer_refuses_and_proposes_again(dispute, buyer, seller):
    counter = services.offer_make(
        dispute=dispute, user=seller, refund_type="partial", amount=Decimal("5"), return_required=False, note="5"
    )
    services.offer_refuse(dispute=dispute, offer_id=counter.pk, user=buyer)
    proposal = services.offer_make(
        dispute=dispute, user=buyer, refund_type="partial", amount=Decimal("15"), return_required=False, note="15?"
    )
    services.offer_accept(dispute=dispute, offer_id=proposal.pk, user=seller)
    dispute.refresh_from_db()
    assert dispute.resolved_amount == Decimal("15.00")


def test_a_superseded_offer_cannot_be_accepted(dispute, buyer, seller):
    first = services.offer_make(
        dispute=dispute, user=seller, refund_type="partial", amount=Decimal("5"), return_required=False, note="5"
    )
    services.offer_make(
        dispute=dispute, user=seller, refund_type="partial", amount=Decimal("6"), return_required=False, note="6"
    )
    with pytest.raises(ActionRefused, match="уже не действует"):
        services.offer_accept(dispute=dispute, offer_id=first.pk, user=buyer)


def test_an_offer_pending_when_the_dispute_becomes_a_claim_lapses_and_says_so(dispute, buyer, seller):
    replaced = services.offer_make(
        dispute=dispute, user=seller, refund_type="partial", amount=Decimal("5"), return_required=False, note="5"
    )
    last = services.offer_make(
        dispute=dispute, user=seller, refund_type="partial", amount=Decimal("6"), return_required=False, note="6"
    )
    escalate(dispute)
    statuses = {offer.pk: offer.get_status_display() for offer in dispute.offers.all()}
    assert statuses[replaced.pk] == "заменено новым"
    assert statuses[last.pk] == "не действует: переговоры закончились"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_tells_lapsed_offers_from_replaced_ones_and_goes_back(needs_postgres):
    dispute = open_dispute(OrderFactory())
    seller = dispute.store.owner
    for amount in ("5", "6"):
        services.offer_make(
            dispute=dispute, user=seller, refund_type="partial", amount=Decimal(amount), return_required=False, note="?"
        )
    escalate(dispute)
    before = dict(dispute.offers.values_list("amount", "status"))
    try:
        _migrate([("disputes", "0023_claim_undecided_queue_index")])
        assert set(dispute.offers.values_list("status", flat=True)) == {"refused", "superseded"}
        _migrate([("disputes", "0024_offer_lapsed")])
        assert dict(dispute.offers.values_list("amount", "status")) == before
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert before[Decimal("6.00")] == "lapsed" and before[Decimal("5.00")] == "superseded"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_an_offer_accepted_twice_resolves_once(dispute, seller):
    offer_id = dispute.offers.get().pk
    services.offer_accept(dispute=dispute, offer_id=offer_id, user=seller)
    with pytest.raises(ActionRefused, match="уже не действует"):
        services.offer_accept(dispute=dispute, offer_id=offer_id, user=seller)
    assert dispute.events.filter(kind="offer_accepted").count() == 1


# --- returns ---------------------------------------------------------------------------------


def test_agreed_return_then_tracking_then_seller_confirms(dispute, buyer, seller):
    counter = services.offer_make(
        dispute=dispute, user=seller, refund_type="full", amount=None, return_required=True, note="Верните"
    )
    with time_machine.travel(timezone.now(), tick=False):
        services.offer_accept(dispute=dispute, offer_id=counter.pk, user=buyer)
        dispute.refresh_from_db()
        assert dispute.status == S.AWAITING_RETURN
        assert dispute.return_due_at == timezone.now() + timedelta(days=10)
    services.return_ship(dispute=dispute, buyer=buyer, tracking_number="RR123456789CN")
    dispute.refresh_from_db()
    assert (dispute.status, dispute.return_tracking_number) == (S.RETURN_SHIPPED, "RR123456789CN")
    services.return_confirm(dispute=dispute, seller=seller)
    dispute.refresh_from_db()
    assert dispute.status in (S.REFUNDING, S.REFUNDED)


def test_return_tracking_after_10_days_is_refused(dispute, buyer, seller):
    counter = services.offer_make(
        dispute=dispute, user=seller, refund_type="full", amount=None, return_required=True, note="Верните"
    )
    services.offer_accept(dispute=dispute, offer_id=counter.pk, user=buyer)
    dispute.refresh_from_db()
    with (
        time_machine.travel(dispute.return_due_at + timedelta(minutes=1)),
        pytest.raises(ActionRefused, match="истёк"),
    ):
        services.return_ship(dispute=dispute, buyer=buyer, tracking_number="RR1")


def test_seller_escalates_when_the_return_came_back_different(dispute, buyer, seller):
    counter = services.offer_make(
        dispute=dispute, user=seller, refund_type="full", amount=None, return_required=True, note="Верните"
    )
    services.offer_accept(dispute=dispute, offer_id=counter.pk, user=buyer)
    services.return_ship(dispute=dispute, buyer=buyer, tracking_number="RR123456789CN")
    services.dispute_escalate(dispute=dispute, user=seller)
    dispute.refresh_from_db()
    assert dispute.status == S.CLAIM


def test_seller_cannot_confirm_a_return_not_shipped(dispute, seller):
    with pytest.raises(ActionRefused, match="ещё не отправил"):
        services.return_confirm(dispute=dispute, seller=seller)


# --- cancel and escalate ----------------------------------------------------------------------


def test_buyer_cancels_and_the_seller_is_told(dispute, buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_cancel(dispute=dispute, buyer=buyer)
    dispute.refresh_from_db()
    assert dispute.status == S.CANCELLED and dispute.closed_at
    assert mail.outbox[-1].to == [dispute.store.owner.email]


def test_seller_cannot_cancel_the_buyers_dispute(dispute, seller):
    with pytest.raises(ActionRefused, match="только покупатель"):
        services.dispute_cancel(dispute=dispute, buyer=seller)


def test_buyer_cannot_escalate_before_day_3(dispute, buyer):
    with (
        time_machine.travel(dispute.escalation_opens_at - timedelta(minutes=1)),
        pytest.raises(ActionRefused, match="можно с"),
    ):
        services.dispute_escalate(dispute=dispute, user=buyer)


def test_buyer_escalates_from_day_3(dispute, buyer):
    with time_machine.travel(dispute.escalation_opens_at + timedelta(minutes=1)):
        services.dispute_escalate(dispute=dispute, user=buyer)
    dispute.refresh_from_db()
    assert dispute.status == S.CLAIM and dispute.auto_claim_due_at is None


def test_a_resolved_dispute_cannot_be_escalated_or_cancelled(dispute, buyer, seller):
    services.offer_accept(dispute=dispute, offer_id=dispute.offers.get().pk, user=seller)
    with time_machine.travel(timezone.now() + timedelta(days=4)), pytest.raises(ActionRefused, match="уже нельзя"):
        services.dispute_escalate(dispute=dispute, user=buyer)
    with pytest.raises(ActionRefused, match="другом состоянии"):
        services.dispute_cancel(dispute=dispute, buyer=buyer)


@pytest.mark.parametrize(
    ("status", "target"),
    [
        (S.REFUNDED, S.REFUNDING),  # money sent back is never "preparing" again
        (S.CANCELLED, S.NEGOTIATING),  # a cancelled dispute is never reopened
        (S.CLOSED, S.CLAIM),
        (S.CLAIM, S.NEGOTIATING),  # an arbitrator's case does not go back to bargaining
        (S.AWAITING_SELLER, S.REFUNDED),  # no refund without "preparing refund" first
        (S.AWAITING_RETURN, S.REFUNDING),  # the item must be shipped back first
        (S.REFUNDING, S.CANCELLED),
    ],
)
def test_a_move_the_dispute_flow_does_not_have_is_refused(dispute, status, target):
    dispute.status = status
    with pytest.raises(ActionRefused, match="другом состоянии"):
        services.dispute_transition(dispute, to=target, event="closed", actor=None)
    assert dispute.events.filter(kind="closed").count() == 0


def test_a_refund_handed_over_twice_is_paid_once(dispute, seller, django_capture_on_commit_callbacks):
    from orders import payments

    with django_capture_on_commit_callbacks(execute=True):
        services.offer_accept(dispute=dispute, offer_id=dispute.offers.get().pk, user=seller)
    refund = Refund.objects.get(order=dispute.order)
    assert payments.refund_send(refund_id=refund.pk) is False  # already sent and confirmed
    assert Refund.objects.filter(order=dispute.order).count() == 1
    assert dispute.events.filter(kind="refund_completed").count() == 1


# --- pages and access ------------------------------------------------------------------------


def test_dispute_page_shows_status_request_dates_and_timeline(login, dispute, buyer):
    page = login(buyer).get(detail(dispute)).content.decode()
    assert "Ждёт ответа продавца" in page
    assert "Не работает или работает неправильно" in page
    assert "Продавец должен ответить до" in page
    assert "Передать спор в претензию можно с" in page
    assert "Покупатель открыл спор" in page
    assert "disabled" in page  # the escalate button is shown, disabled, with its date


def test_seller_sees_accept_and_counter_offer_but_no_cancel(login, dispute, seller):
    page = login(seller).get(detail(dispute)).content.decode()
    assert "Принять требование" in page
    assert "Отказать и предложить свои условия" in page
    assert "Отменить спор" not in page


def test_buyer_sees_no_offer_form_while_the_seller_has_not_answered(login, dispute, buyer):
    page = login(buyer).get(detail(dispute)).content.decode()
    assert "Предложить свои условия" not in page
    assert "Отменить спор" in page


@pytest.mark.parametrize("who", ["stranger", "other_seller"])
def test_other_users_get_404_on_the_dispute_and_its_actions(client, dispute, who):
    intruder = UserFactory() if who == "stranger" else SellerFactory()
    client.force_login(intruder)
    assert client.get(detail(dispute)).status_code == 404
    offer = dispute.offers.get()
    for name in ("offer_accept", "offer_refuse", "escalate", "return_ship", "return_confirm", "message_create"):
        response = client.post(reverse(f"disputes:{name}", args=[dispute.pk]), {"offer": offer.pk, "text": "hi"})
        assert response.status_code == 404, name
    assert client.get(reverse("disputes:cancel", args=[dispute.pk])).status_code == 404
    dispute.refresh_from_db()
    assert dispute.status == S.AWAITING_SELLER and dispute.messages.count() == 1


def test_staff_status_alone_does_not_open_a_dispute(client, dispute):
    client.force_login(StaffFactory())
    assert client.get(detail(dispute)).status_code == 404


def test_another_buyer_cannot_open_the_wizard_on_someone_elses_order(client, order):
    client.force_login(UserFactory())
    assert client.get(reverse("disputes:wizard_start", args=[order.number])).status_code == 404


def test_cancel_asks_for_confirmation_with_the_warning(login, dispute, buyer):
    client = login(buyer)
    page = client.get(reverse("disputes:cancel", args=[dispute.pk])).content.decode()
    assert "никогда" in page and "пока деньги не вернулись" in page
    client.post(reverse("disputes:cancel", args=[dispute.pk]))  # no confirmation: nothing happens
    dispute.refresh_from_db()
    assert dispute.status == S.AWAITING_SELLER
    client.post(reverse("disputes:cancel", args=[dispute.pk]), {"confirm": "yes"})
    dispute.refresh_from_db()
    assert dispute.status == S.CANCELLED


def test_loser_of_a_race_gets_a_clear_message(login, dispute, buyer, seller):
    offer = dispute.offers.get()
    services.dispute_cancel(dispute=dispute, buyer=buyer)
    response = login(seller).post(reverse("disputes:offer_accept", args=[dispute.pk]), {"offer": offer.pk}, follow=True)
    assert "уже не действует" in response.content.decode() or "другом состоянии" in response.content.decode()


def test_order_page_offers_a_dispute_while_protection_runs(login, order, buyer):
    page = login(buyer).get(reverse("orders:detail", args=[order.number])).content.decode()
    assert reverse("disputes:wizard_start", args=[order.number]) in page


def test_order_page_says_why_no_dispute_can_be_opened(login, order, buyer):
    open_dispute(order)
    page = login(buyer).get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "только один раз" in page
    assert reverse("disputes:wizard_start", args=[order.number]) not in page


def test_my_disputes_lists_the_buyers_with_the_next_deadline(login, dispute, buyer):
    other = open_dispute(OrderFactory())
    page = login(buyer).get(reverse("disputes:list")).content.decode()
    assert dispute.order.number in page and other.order.number not in page
    assert "Продавец отвечает до" in page


def test_seller_lists_disputes_on_their_orders(login, dispute, seller):
    assert dispute.order.number in login(seller).get(reverse("disputes:store_list")).content.decode()


def test_messages_reach_the_other_party(login, dispute, buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login(buyer).post(reverse("disputes:message_create", args=[dispute.pk]), {"text": "Жду ответа"})
    assert dispute.messages.last().text == "Жду ответа"
    assert mail.outbox[-1].to == [dispute.store.owner.email]


def test_empty_message_is_refused_next_to_the_field(login, dispute, buyer):
    response = login(buyer).post(reverse("disputes:message_create", args=[dispute.pk]), {"text": "  "})
    assert response.status_code == 400
    assert "Напишите сообщение, приложите файл или ссылку на видео" in response.content.decode()


def test_bad_offer_amount_keeps_the_note(login, dispute, seller):
    response = login(seller).post(
        reverse("disputes:offer_create", args=[dispute.pk]),
        {"refund_type": "partial", "amount": "99", "note": "Моё пояснение"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Нельзя вернуть больше" in page and "Моё пояснение" in page
    assert dispute.offers.count() == 1


def test_dispute_page_queries_do_not_grow(client, dispute, buyer, seller):
    client.force_login(buyer)
    client.get(detail(dispute))  # warm the session
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(*, kept: bool) -> int:
        # Drawn afresh (nothing kept: the messages, files and events are read) and kept rendered.
        if not kept:
            caches["fragments"].clear()
        with CaptureQueriesContext(connection) as captured:
            client.get(detail(dispute))
        return len(captured)

    small = (queries(kept=False), queries(kept=True))
    for number in range(6):
        services.message_post(dispute=dispute, user=buyer if number % 2 else seller, text=f"Сообщение {number}")
    large = (queries(kept=False), queries(kept=True))
    assert large == small


def test_my_disputes_queries_do_not_grow(client, buyer, seller):
    client.force_login(buyer)
    open_dispute(OrderFactory(buyer=buyer, store=seller.store))
    client.get(reverse("disputes:list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(reverse("disputes:list"))
    for _ in range(5):
        open_dispute(OrderFactory(buyer=buyer, store=seller.store))
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("disputes:list"))
    assert len(large) == len(small)


def test_refused_open_leaves_no_half_written_dispute(order):
    order.status = Order.Status.COMPLETED
    order.save()
    with pytest.raises(ActionRefused, match="закончился"):
        open_dispute(order)
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("kind", "problems"),
    [
        ("not_received", []),
        ("not_received", ["no_tracking", "returned_to_seller"]),
        ("not_as_described", ["no_tracking"]),
    ],
)
def test_problems_must_fit_the_kind_of_dispute(order, kind, problems):
    with pytest.raises(ActionRefused, match="предложенных"):
        open_dispute(order, kind=kind, problems=problems)


def test_the_seller_is_emailed_the_return_tracking_number(dispute, buyer, seller, django_capture_on_commit_callbacks):
    counter = services.offer_make(
        dispute=dispute, user=seller, refund_type="full", amount=None, return_required=True, note="Верните"
    )
    services.offer_accept(dispute=dispute, offer_id=counter.pk, user=buyer)
    with django_capture_on_commit_callbacks(execute=True):
        services.return_ship(dispute=dispute, buyer=buyer, tracking_number="RR123456789CN")
    assert mail.outbox[-1].to == [seller.email]
    assert f"по заказу {dispute.order.number}, трек RR123456789CN" in mail.outbox[-1].body
