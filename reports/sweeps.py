from datetime import datetime

from django.db.models import QuerySet

from core.sweeps import SweepResult, register, sweep

from . import services
from .models import Report


def due_reminders(now: datetime) -> QuerySet[Report]:
    return Report.objects.filter(status=Report.Status.AWAITING_ANSWER, reminder_due_at__lte=now)


def due_answer_deadlines(now: datetime) -> QuerySet[Report]:
    return Report.objects.filter(status=Report.Status.AWAITING_ANSWER, answer_due_at__lte=now)


@register("report-reminders", description="напоминание ответить на жалобу за день до срока")
def remind_reported_parties(now: datetime) -> SweepResult:
    return sweep(
        "report-reminders",
        due_reminders,
        lambda pk, at: services.report_remind(report_id=pk, now=at),
        now=now,
        order_by="reminder_due_at",
    )


@register("report-answer-deadlines", description="срок ответа на жалобу прошёл: жалоба переходит на рассмотрение")
def close_answer_windows(now: datetime) -> SweepResult:
    return sweep(
        "report-answer-deadlines",
        due_answer_deadlines,
        lambda pk, at: services.report_close_answer_window(report_id=pk, now=at),
        now=now,
        order_by="answer_due_at",
    )
