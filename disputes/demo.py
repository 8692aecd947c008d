"""Demo disputes: one waiting for the seller, one with a counter-offer, one refunded; and claims
where the arbitration policy's rules agree with the arbitrator (the watches), where the arbitrator
decided against them with a reason (the jacket), and where they cannot judge for lack of the
unboxing video (the phone, whose video the arbitrator asked for)."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from accounts.models import User
from core.demo import demo_step
from orders.models import Order, Refund
from orders.payments import refund_send

from . import claims
from . import services as dispute_services
from .models import Dispute, DisputeEvent, ExchangeRate


@demo_step(30)
def seed_disputes(now: datetime) -> None:
    users = {user.username: user for user in User.objects.filter(username__in=["buyer", "buyer2", "seller2"])}
    for currency, rate in (("USD", "92.5000"), ("EUR", "100.1000")):
        ExchangeRate.objects.update_or_create(
            currency=currency, defaults={"rub_per_unit": Decimal(rate), "as_of": now.date()}
        )
    if Dispute.objects.exists():
        return
    # A not-as-described dispute waiting for the seller's answer, opened yesterday.
    bedding = Order.objects.get(number="8100000000000003")
    dispute_services.dispute_open(
        order=bedding,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["wrong_attributes", "poor_quality"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("1500.00"),
        request_text="Заказывала сатин цвета «шампань», пришёл серый поплин, швы расходятся. Прошу вернуть 1500 ₽.",
        now=now - timedelta(days=1),
    )
    # A not-received dispute in which the seller made a counter-offer four days ago.
    lamp = Order.objects.get(number="8100000000000007")
    lamp_dispute = dispute_services.dispute_open(
        order=lamp,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_RECEIVED,
        problems=["in_transit_protection_ending"],
        request_text="Трек не обновляется 12 дней, посылка застряла на сортировке. Прошу вернуть деньги.",
        now=now - timedelta(days=4),
    )
    dispute_services.offer_make(
        dispute=lamp_dispute,
        user=users["seller2"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("10.00"),
        return_required=False,
        note="Посылка в пути, скоро придёт. Можем вернуть 10 € за задержку.",
    )
    # A dispute the seller accepted: refunded.
    sneakers = Order.objects.get(number="8100000000000009")
    sneakers_dispute = dispute_services.dispute_open(
        order=sneakers,
        buyer=users["buyer2"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["damaged"],
        request_text="Подошва отклеилась при первой примерке, фото прилагаю.",
        now=now - timedelta(days=6),
    )
    offer = sneakers_dispute.offers.get()
    dispute_services.offer_accept(dispute=sneakers_dispute, offer_id=offer.pk, user=users["seller2"])
    # The payment system confirms at once in development (PAYMENT_GATEWAY="simulated").
    refund_send(refund_id=Refund.objects.get(order=sneakers).pk)
    _seed_claims(now)
    # The services stamp events and messages with the real time; spread each dispute's history
    # between its opening and an hour ago, in the order it happened. The seller's answer and what
    # came before it fit in the days the seller has to answer, as they would have happened.
    answer_window = timedelta(days=settings.DISPUTE_SELLER_ANSWER_DAYS) * 0.8
    for dispute in Dispute.objects.all():
        end = now - timedelta(hours=1)
        span = max(end - dispute.opened_at, timedelta(minutes=1))
        for related in (dispute.events, dispute.messages, dispute.offers):
            rows: list[Any] = list(related.order_by("pk"))
            for position, row in enumerate(rows):
                row.created_at = dispute.opened_at + span * (position + 1) / (len(rows) + 1)
            related.model._default_manager.bulk_update(rows, ["created_at"])
        if dispute.seller_answered_at is None:
            continue  # the seller never answered in the negotiation (silent, or escalated first)
        events: list[Any] = list(dispute.events.order_by("pk"))
        answer = next(i for i, event in enumerate(events) if event.actor_id == dispute.store.owner_id)
        head = min(span, answer_window)
        for position, event in enumerate(events[: answer + 1]):
            event.created_at = dispute.opened_at + head * (position + 1) / (answer + 2)
        for position, event in enumerate(events[answer + 1 :]):
            event.created_at = dispute.opened_at + head + (span - head) * (position + 1) / (len(events) - answer)
        DisputeEvent.objects.bulk_update(events, ["created_at"])
        Dispute.objects.filter(pk=dispute.pk).update(seller_answered_at=events[answer].created_at)


def _seed_claims(now: datetime) -> None:
    """Claims in the stages an arbitrator and the parties meet: waiting for evidence, decided
    with the appeal window open, under appeal, and new in the queue."""
    users = {user.username: user for user in User.objects.filter(username__in=DEMO_CLAIM_USERS)}
    olga = users["arbitrator"]
    reason = (
        "Продавец прислал фото упаковки с весом 190 г, покупатель — видео распаковки, где внутри куртка "
        "другого цвета и без подкладки. Товар не соответствует описанию, но куртку можно носить: "
        "возвращается половина стоимости, товар остаётся у покупателя."
    )

    # A phone that came as a cheap case: the buyer chose "empty parcel"; the arbitrator corrects
    # it and asks for the unboxing video.
    phone = Order.objects.get(number="8100000000000010")
    opened = now - timedelta(days=20)
    dispute = dispute_services.dispute_open(
        order=phone,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["empty_parcel"],
        request_text="Вместо телефона в коробке лежал дешёвый чехол. Прошу вернуть деньги полностью.",
        now=opened,
    )
    dispute_services.offer_make(
        dispute=dispute,
        user=users["seller"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("20.00"),
        return_required=False,
        note="Мы отправили телефон, вес посылки в треке верный. Можем вернуть 20 $.",
        now=opened + timedelta(days=1),
    )
    dispute_services.dispute_escalate(dispute=dispute, user=users["buyer"], now=opened + timedelta(days=4))
    claims.claim_take(dispute=dispute, arbitrator=olga, now=now - timedelta(days=3))
    claims.claim_reclassify(
        dispute=dispute,
        arbitrator=olga,
        problems=["wrong_attributes"],
        note="В коробке был чехол, а не пустота: это «пришёл другой товар».",
        now=now - timedelta(days=3),
    )
    claims.evidence_request(
        dispute=dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите непрерывное видео распаковки и фото этикетки с весом посылки.",
        days_given=5,
        now=now - timedelta(days=2),
    )

    # A jacket of the wrong colour: decided two days ago, half refunded; the appeal window is open.
    jacket = Order.objects.get(number="8100000000000011")
    opened = now - timedelta(days=30)
    dispute = dispute_services.dispute_open(
        order=jacket,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["wrong_attributes", "poor_quality"],
        request_text="Куртка серая вместо чёрной, подкладки нет. Прошу вернуть полную стоимость.",
        now=opened,
    )
    _unboxing_link(dispute, users["buyer"], "https://video.example/jacket-unboxing", opened)
    dispute_services.dispute_escalate(dispute=dispute, user=users["buyer"], now=opened + timedelta(days=3))
    claims.claim_take(dispute=dispute, arbitrator=olga, now=now - timedelta(days=5))
    claims.claim_decide(
        dispute=dispute,
        arbitrator=olga,
        winner="split",
        amount=Decimal("2745.00"),
        return_required=False,
        reason=reason,
        # The rules recommend a full refund (a different item on the video): the arbitrator says why not.
        deviation_reason="Куртка того же фасона и размера, её можно носить: справедлива половина.",
        now=now - timedelta(days=2),
    )

    # Smart watches: decided for the buyer; the seller appealed, another arbitrator must decide.
    watch = Order.objects.get(number="8100000000000012")
    opened = now - timedelta(days=35)
    dispute = dispute_services.dispute_open(
        order=watch,
        buyer=users["buyer2"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["not_working"],
        request_text="Часы не заряжаются с первого дня, видео прилагаю.",
        now=opened,
    )
    # The video follows the rules' reading: the decision below agrees with it.
    _unboxing_link(dispute, users["buyer2"], "https://video.example/watch-not-charging", opened)
    dispute_services.dispute_escalate(dispute=dispute, user=users["buyer2"], now=opened + timedelta(days=4))
    claims.claim_take(dispute=dispute, arbitrator=olga, now=now - timedelta(days=8))
    claims.claim_decide(
        dispute=dispute,
        arbitrator=olga,
        winner="buyer",
        amount=None,
        return_required=False,
        reason=(
            "На видео часы не реагируют на зарядку с двумя разными кабелями; продавец не прислал "
            "доказательств, что отправил исправный товар. Возвращается полная стоимость."
        ),
        now=now - timedelta(days=4),
    )
    claims.appeal_file(
        dispute=dispute,
        user=users["seller"],
        reason="Покупатель заряжал часы неподходящим адаптером: в инструкции указан ток 1 А.",
        now=now - timedelta(days=3),
    )

    # A coffee grinder that never came: the claim opened by itself yesterday and waits in the queue.
    grinder = Order.objects.get(number="8100000000000013")
    opened = now - timedelta(days=16)
    dispute = dispute_services.dispute_open(
        order=grinder,
        buyer=users["buyer2"],
        kind=Dispute.Kind.NOT_RECEIVED,
        problems=["in_transit_protection_ending"],
        request_text="Трек стоит на «Прибыло в страну назначения» три недели. Прошу вернуть деньги.",
        now=opened,
    )
    dispute_services.offer_make(
        dispute=dispute,
        user=users["seller2"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("5.00"),
        return_required=False,
        note="Посылка в пути, подождите ещё немного.",
        now=opened + timedelta(days=2),
    )
    dispute_services.dispute_auto_claim(dispute_id=dispute.pk, now=now - timedelta(days=1))


def _unboxing_link(dispute: Dispute, buyer: User, link: str, opened: datetime) -> None:
    """The buyer's video, linked from a hosting site (the arbitration policy reads it as the unboxing video)."""
    dispute_services.message_post(
        dispute=dispute, user=buyer, text="Видео распаковки по ссылке.", link=link, now=opened + timedelta(hours=2)
    )


DEMO_CLAIM_USERS = ["buyer", "buyer2", "seller", "seller2", "arbitrator"]
