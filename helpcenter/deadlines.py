"""Every deadline sweep, by name: the beat schedule and `manage.py deadlines` both read this."""

from collections.abc import Callable
from datetime import datetime

from celery.schedules import crontab
from django.conf import settings

from helpcenter.sweeps import SweepResult


def _outbox(now: datetime) -> SweepResult:
    from accounts.emails import email_send_due

    return SweepResult("outbox", email_send_due())


def sweeps() -> dict[str, tuple[Callable[[datetime], SweepResult], str]]:
    from disputes import sweeps as dispute_sweeps
    from orders import sweeps as order_sweeps

    return {
        "protection-reminders": (order_sweeps.send_confirm_reminders, "«Подтвердите получение» перед концом защиты"),
        "protection-expiry": (order_sweeps.complete_expired_orders, "конец защиты без спора: заказ завершён"),
        "seller-silence": (
            dispute_sweeps.grant_for_seller_silence,
            "5 дней без ответа продавца: требование удовлетворено",
        ),
        "auto-claim": (dispute_sweeps.escalate_unresolved, "15 дней без решения: спор становится претензией"),
        "return-deadlines": (dispute_sweeps.close_unreturned, "10 дней на отправку возврата"),
        "claim-deadlines": (dispute_sweeps.flag_undecided_claims, "претензии без решения 15 и 60 дней"),
        "appeal-windows": (dispute_sweeps.finalize_decisions, "7 дней на апелляцию: решение окончательное"),
        "refunds": (dispute_sweeps.retry_refunds, "возвраты, которые не дошли до исполнителя"),
        "outbox": (_outbox, "письма, которые не ушли с первого раза"),
    }


DAILY = {"arbitration-digest": "ежедневная сводка арбитрам (07:00 UTC)"}


def daily_sweeps() -> dict[str, Callable[[datetime], SweepResult]]:
    from disputes.sweeps import send_claim_digest

    return {"arbitration-digest": send_claim_digest}


def beat_schedule() -> dict:
    names = [
        "protection-reminders", "protection-expiry", "seller-silence", "auto-claim", "return-deadlines",
        "claim-deadlines", "appeal-windows", "refunds", "outbox",
    ]  # fmt: skip
    schedule = {
        f"sweep-{name}": {
            "task": "helpcenter.tasks.run_sweep",
            "schedule": settings.DEADLINE_SWEEP_SECONDS,
            "args": (name,),
            # A sweep that could not start within its own interval is dropped, not piled up.
            "options": {"expires": settings.DEADLINE_SWEEP_SECONDS},
        }
        for name in names
    }
    schedule["daily-arbitration-digest"] = {
        "task": "helpcenter.tasks.run_sweep",
        "schedule": crontab(hour=7, minute=0),
        "args": ("arbitration-digest",),
    }
    return schedule


def run(name: str, now: datetime) -> SweepResult:
    if name in DAILY:
        return daily_sweeps()[name](now)
    return sweeps()[name][0](now)
