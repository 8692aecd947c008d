"""Demo disputes: one waiting for the seller, one with a counter-offer, one refunded; and claims
where the arbitration policy's rules agree with the arbitrator (the watches), where the arbitrator
decided against them with a reason (the jacket), and where they cannot judge for lack of the
unboxing video (the phone, whose video the arbitrator asked for)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from core.demo import demo_step
from orders.models import Order, OrderEvent, Refund
from orders.payments import refund_send

from . import claims
from . import services as dispute_services
from .models import Dispute, DisputeEvent, ExchangeRate, Message, Offer

# What the services date by the wall clock rather than by their `now`, and the column that holds it.
_CLOCKED: tuple[tuple[models.Manager[Any], str], ...] = (
    (DisputeEvent.objects, "created_at"),
    (Message.objects, "created_at"),
    (Offer.objects, "created_at"),
    (OrderEvent.objects, "created_at"),
    (Refund.objects, "requested_at"),
)


def _at[T](moment: datetime, action: Callable[..., T], /, **arguments: Any) -> T:
    """Run one step of a demo story as of `moment`: the service gets it as its `now`, and the rows
    it dated by the wall clock are dated `moment` too, so that every page's history, headers and
    deadlines tell the same story."""
    marks = [rows.aggregate(last=Max("pk"))["last"] or 0 for rows, _column in _CLOCKED]
    started = timezone.now()
    result = action(now=moment, **arguments)
    for (rows, column), mark in zip(_CLOCKED, marks, strict=True):
        rows.filter(pk__gt=mark).update(**{column: moment})
    Dispute.objects.filter(seller_answered_at__gte=started).update(seller_answered_at=moment)
    return result


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
    _at(
        now - timedelta(days=1),
        dispute_services.dispute_open,
        order=bedding,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["wrong_attributes", "poor_quality"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("1500.00"),
        request_text="Заказывала сатин цвета «шампань», пришёл серый поплин, швы расходятся. Прошу вернуть 1500 ₽.",
    )
    # A not-received dispute opened four days ago; the seller answered the same day with a counter-offer.
    lamp = Order.objects.get(number="8100000000000007")
    lamp_dispute = _at(
        now - timedelta(days=4),
        dispute_services.dispute_open,
        order=lamp,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_RECEIVED,
        problems=["in_transit_protection_ending"],
        request_text="Трек не обновляется 12 дней, посылка застряла на сортировке. Прошу вернуть деньги.",
    )
    _at(
        now - timedelta(days=4) + timedelta(hours=5),
        dispute_services.offer_make,
        dispute=lamp_dispute,
        user=users["seller2"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("10.00"),
        return_required=False,
        note="Посылка в пути, скоро придёт. Можем вернуть 10 € за задержку.",
    )
    # A dispute the seller accepted: refunded.
    sneakers = Order.objects.get(number="8100000000000009")
    sneakers_dispute = _at(
        now - timedelta(days=6),
        dispute_services.dispute_open,
        order=sneakers,
        buyer=users["buyer2"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["damaged"],
        request_text="Подошва отклеилась при первой примерке, фото прилагаю.",
    )
    offer = sneakers_dispute.offers.get()
    accepted = now - timedelta(days=5)
    _at(accepted, dispute_services.offer_accept, dispute=sneakers_dispute, offer_id=offer.pk, user=users["seller2"])
    # The payment system confirms at once in development (PAYMENT_GATEWAY="simulated").
    _at(accepted + timedelta(minutes=5), refund_send, refund_id=Refund.objects.get(order=sneakers).pk)
    _seed_claims(now)


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
    dispute = _at(
        opened,
        dispute_services.dispute_open,
        order=phone,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["empty_parcel"],
        request_text="Вместо телефона в коробке лежал дешёвый чехол. Прошу вернуть деньги полностью.",
    )
    _at(
        opened + timedelta(days=1),
        dispute_services.offer_make,
        dispute=dispute,
        user=users["seller"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("20.00"),
        return_required=False,
        note="Мы отправили телефон, вес посылки в треке верный. Можем вернуть 20 $.",
    )
    _at(opened + timedelta(days=4), dispute_services.dispute_escalate, dispute=dispute, user=users["buyer"])
    _at(now - timedelta(days=3), claims.claim_take, dispute=dispute, arbitrator=olga)
    _at(
        now - timedelta(days=3),
        claims.claim_reclassify,
        dispute=dispute,
        arbitrator=olga,
        problems=["wrong_attributes"],
        note="В коробке был чехол, а не пустота: это «пришёл другой товар».",
    )
    _at(
        now - timedelta(days=2),
        claims.evidence_request,
        dispute=dispute,
        arbitrator=olga,
        of_buyer=True,
        of_seller=False,
        text="Пришлите непрерывное видео распаковки и фото этикетки с весом посылки.",
        days_given=5,
    )

    # A jacket of the wrong colour: decided two days ago, half refunded; the appeal window is open.
    jacket = Order.objects.get(number="8100000000000011")
    opened = now - timedelta(days=30)
    dispute = _at(
        opened,
        dispute_services.dispute_open,
        order=jacket,
        buyer=users["buyer"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["wrong_attributes", "poor_quality"],
        request_text="Куртка серая вместо чёрной, подкладки нет. Прошу вернуть полную стоимость.",
    )
    _unboxing_link(dispute, users["buyer"], "https://video.example/jacket-unboxing", opened)
    _at(opened + timedelta(days=3), dispute_services.dispute_escalate, dispute=dispute, user=users["buyer"])
    _at(now - timedelta(days=5), claims.claim_take, dispute=dispute, arbitrator=olga)
    _at(
        now - timedelta(days=2),
        claims.claim_decide,
        dispute=dispute,
        arbitrator=olga,
        winner="split",
        amount=Decimal("2745.00"),
        return_required=False,
        reason=reason,
        # The rules recommend a full refund (a different item on the video): the arbitrator says why not.
        deviation_reason="Куртка того же фасона и размера, её можно носить: справедлива половина.",
    )

    # Smart watches: decided for the buyer; the seller appealed, another arbitrator must decide.
    watch = Order.objects.get(number="8100000000000012")
    opened = now - timedelta(days=35)
    dispute = _at(
        opened,
        dispute_services.dispute_open,
        order=watch,
        buyer=users["buyer2"],
        kind=Dispute.Kind.NOT_AS_DESCRIBED,
        problems=["not_working"],
        request_text="Часы не заряжаются с первого дня, видео прилагаю.",
    )
    # The video follows the rules' reading: the decision below agrees with it.
    _unboxing_link(dispute, users["buyer2"], "https://video.example/watch-not-charging", opened)
    _at(opened + timedelta(days=4), dispute_services.dispute_escalate, dispute=dispute, user=users["buyer2"])
    _at(now - timedelta(days=8), claims.claim_take, dispute=dispute, arbitrator=olga)
    _at(
        now - timedelta(days=4),
        claims.claim_decide,
        dispute=dispute,
        arbitrator=olga,
        winner="buyer",
        amount=None,
        return_required=False,
        reason=(
            "На видео часы не реагируют на зарядку с двумя разными кабелями; продавец не прислал "
            "доказательств, что отправил исправный товар. Возвращается полная стоимость."
        ),
    )
    _at(
        now - timedelta(days=3),
        claims.appeal_file,
        dispute=dispute,
        user=users["seller"],
        reason="Покупатель заряжал часы неподходящим адаптером: в инструкции указан ток 1 А.",
    )

    # A coffee grinder that never came: the claim opened by itself yesterday and waits in the queue.
    grinder = Order.objects.get(number="8100000000000013")
    opened = now - timedelta(days=16)
    dispute = _at(
        opened,
        dispute_services.dispute_open,
        order=grinder,
        buyer=users["buyer2"],
        kind=Dispute.Kind.NOT_RECEIVED,
        problems=["in_transit_protection_ending"],
        request_text="Трек стоит на «Прибыло в страну назначения» три недели. Прошу вернуть деньги.",
    )
    _at(
        opened + timedelta(days=2),
        dispute_services.offer_make,
        dispute=dispute,
        user=users["seller2"],
        refund_type=Dispute.RefundType.PARTIAL,
        amount=Decimal("5.00"),
        return_required=False,
        note="Посылка в пути, подождите ещё немного.",
    )
    _at(now - timedelta(days=1), dispute_services.dispute_auto_claim, dispute_id=dispute.pk)


def _unboxing_link(dispute: Dispute, buyer: User, link: str, opened: datetime) -> None:
    """The buyer's video, linked from a hosting site (the arbitration policy reads it as the unboxing video)."""
    _at(
        opened + timedelta(hours=2),
        dispute_services.message_post,
        dispute=dispute,
        user=buyer,
        text="Видео распаковки по ссылке.",
        link=link,
    )


DEMO_CLAIM_USERS = ["buyer", "buyer2", "seller", "seller2", "arbitrator"]
