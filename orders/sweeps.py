from accounts.emails import handoff_batched
from core.sweeps import DeadlineSweep, register_deadlines

from . import payments, rules, services, shipping
from .rules import Action

register_deadlines(
    rules.book,
    DeadlineSweep(
        "protection-reminders",
        Action.REMIND_CONFIRM,
        services.order_send_confirm_reminder,
        "order_id",
        "«Подтвердите получение» за несколько дней до конца защиты",
    ),
    DeadlineSweep(
        "protection-expiry",
        Action.COMPLETE,
        services.order_complete_expired,
        "order_id",
        "конец защиты без спора: заказ завершён",
    ),
    DeadlineSweep(
        "refunds",
        Action.SEND_REFUND,
        payments.refund_send,
        "refund_id",
        "возвраты, которые не дошли до платёжной системы, отправляются снова",
    ),
    DeadlineSweep(
        "stale-refunds",
        Action.FLAG_STALE_REFUND,
        payments.refund_flag_stale,
        "refund_id",
        "возвраты, которые слишком долго готовятся, отмечаются для сотрудников",
    ),
    DeadlineSweep(
        "cancellations",
        Action.EXPIRE_CANCELLATION,
        shipping.cancellation_expire,
        "order_id",
        "продавец не ответил на просьбу отменить заказ: заказ отменён, деньги вернутся",
    ),
    DeadlineSweep(
        "shipping-deadlines",
        Action.EXPIRE_UNSHIPPED,
        shipping.order_expire_unshipped,
        "order_id",
        "заказ не отправлен в срок отправки: заказ отменён, деньги вернутся",
    ),
    handoff=handoff_batched,
)
