"""What a person reads about a report: the status badge and the line under it, per side (the
reporter, or the reported party who must answer). The report page reads them from here."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.templatetags.deadlines import deadline

from .models import Report

S = Report.Status


@dataclass(frozen=True)
class ReportText:
    status: str
    line: SafeString


def _with_date(text: str, moment: datetime | None, *, countdown: bool = True) -> SafeString:
    return mark_safe(conditional_escape(text) % {"date": deadline(moment, countdown=countdown)})


def present(report: Report, *, as_reporter: bool) -> ReportText:
    if report.status == S.CLOSED:
        status = f"{report.get_status_display()}: {report.get_outcome_display().lower()}"
    elif not as_reporter and report.status == S.AWAITING_ANSWER:
        status = _("Ожидает вашего ответа")
    else:
        status = str(report.get_status_display())
    if report.status == S.SUBMITTED:
        line = conditional_escape(
            _("Жалоба получена. Поддержка проверит её и, если нужно, попросит другую сторону ответить.")
        )
    elif report.status == S.AWAITING_ANSWER and as_reporter:
        line = _with_date(
            _("Другая сторона уведомлена и может ответить до %(date)s. Потом жалобу рассмотрит поддержка."),
            report.answer_due_at,
        )
    elif report.status == S.AWAITING_ANSWER:
        line = _with_date(
            _("На вас подана жалоба. Ответьте до %(date)s: после этой даты поддержка решит по тому, что есть."),
            report.answer_due_at,
        )
    elif report.status == S.PROCESSING:
        line = conditional_escape(_("Поддержка рассматривает жалобу и сообщит решение письмом и на этой странице."))
    else:
        line = _with_date(_("Решение принято %(date)s."), report.closed_at, countdown=False)
    return ReportText(status=status, line=line)
