from accounts.emails import handoff_batched
from core.sweeps import DeadlineSweep, register_deadlines

from . import rules, services
from .rules import Action

register_deadlines(
    rules.book,
    DeadlineSweep(
        "report-reminders",
        Action.REMIND,
        services.report_remind,
        "report_id",
        "напоминание ответить на жалобу за день до срока",
    ),
    DeadlineSweep(
        "report-answer-deadlines",
        Action.CLOSE_ANSWER_WINDOW,
        services.report_close_answer_window,
        "report_id",
        "срок ответа на жалобу прошёл: жалоба переходит на рассмотрение",
    ),
    handoff=handoff_batched,
)
