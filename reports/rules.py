"""Who may do what to a report now: the one rulebook the services, the pages, the admin and the
sweeps ask. Each `<action>_refusal` returns why not, in words, or None when the action is allowed."""

from datetime import datetime
from enum import StrEnum

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .models import Report

S = Report.Status


class Role(StrEnum):
    REPORTER = "reporter"
    REPORTED = "reported"
    STAFF = "staff"


class Action(StrEnum):
    ANSWER = "answer"
    NOTIFY = "notify"
    TAKE = "take"
    CLOSE = "close"


# What each move needs the report to be in, and where it leads.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "notify": (frozenset({S.SUBMITTED}), S.AWAITING_ANSWER),
    "take": (frozenset({S.SUBMITTED}), S.PROCESSING),
    "answer": (frozenset({S.AWAITING_ANSWER}), S.PROCESSING),
    "answer_deadline": (frozenset({S.AWAITING_ANSWER}), S.PROCESSING),
    "close": (frozenset({S.SUBMITTED, S.AWAITING_ANSWER, S.PROCESSING}), S.CLOSED),
}


def roles_of(report: Report, user: User) -> set[Role]:
    roles = set()
    if report.reporter_id == user.pk:
        roles.add(Role.REPORTER)
    # The reported party sees the report only once it was told about it.
    if report.reported_user_id == user.pk and report.notified_at is not None:
        roles.add(Role.REPORTED)
    if user.has_perm("reports.handle_report"):
        roles.add(Role.STAFF)
    return roles


def may_see(report: Report, user: User) -> bool:
    return bool(roles_of(report, user))


def _wrong_status(move: str, report: Report) -> str | None:
    allowed, _target = TRANSITIONS[move]
    if report.status in allowed:
        return None
    if report.status == S.CLOSED:
        return _("Жалоба уже закрыта.")
    return _("Сейчас это сделать нельзя: жалоба в статусе «%(status)s».") % {"status": report.get_status_display()}


def answer_refusal(report: Report, user: User, now: datetime) -> str | None:
    if report.reported_user_id != user.pk or report.notified_at is None:
        return _("Ответить может только тот, на кого подана жалоба.")
    if report.answered_at is not None:
        return _("Вы уже ответили на эту жалобу.")
    if message := _wrong_status("answer", report):
        return message
    if report.answer_due_at is not None and now >= report.answer_due_at:
        return _("Срок ответа прошёл: жалобу рассматривают с тем, что уже есть.")
    return None


def _staff_refusal(user: User) -> str | None:
    if not user.has_perm("reports.handle_report"):
        return _("Рассматривать жалобы может только сотрудник поддержки с таким правом.")
    return None


def notify_refusal(report: Report, user: User) -> str | None:
    if message := _staff_refusal(user) or _wrong_status("notify", report):
        return message
    if report.reported_user_id is None:
        return _("Неизвестно, чей это товар: уведомить некого. Рассмотрите жалобу без ответа стороны.")
    return None


def take_refusal(report: Report, user: User) -> str | None:
    return _staff_refusal(user) or _wrong_status("take", report)


def notice_given(report: Report, now: datetime) -> bool:
    """The reported party was told and has answered, or its time to answer is over."""
    if report.notified_at is None:
        return False
    return report.answered_at is not None or (report.answer_due_at is not None and now >= report.answer_due_at)


def close_refusal(report: Report, user: User, now: datetime, *, outcome: str, sanction: str) -> str | None:
    if message := _staff_refusal(user) or _wrong_status("close", report):
        return message
    if outcome not in Report.Outcome.values:
        return _("Выберите итог: нарушение подтвердилось или нет.")
    # A party still within its time to answer is not found at fault before it is heard.
    if outcome == Report.Outcome.UPHELD and report.status == S.AWAITING_ANSWER and not notice_given(report, now):
        return _("Сторона ещё может ответить до %(date)s: признать нарушение можно после ответа или срока.") % {
            "date": formats.date_format(timezone.localtime(report.answer_due_at), "j E Y, H:i")
            if report.answer_due_at
            else ""
        }
    if sanction:
        return sanction_refusal(report, user, now, outcome=outcome, sanction=sanction)
    return None


def sanction_refusal(report: Report, user: User, now: datetime, *, outcome: str, sanction: str) -> str | None:
    """Measures only against a party that was notified and answered or let its time run out."""
    if sanction not in Report.Sanction.values:
        return _("Такой меры нет.")
    if outcome != Report.Outcome.UPHELD:
        return _("Меры применяются, только если нарушение подтвердилось.")
    if report.reported_user_id is None:
        return _("Неизвестно, чей это товар: применять меры не к кому.")
    if not notice_given(report, now):
        return _(
            "Меры можно применить только после уведомления: сторона должна получить жалобу и ответить или "
            "пропустить срок ответа."
        )
    if sanction == Report.Sanction.LISTING_REMOVED and not report.item_id:
        return _("В жалобе нет товара: снять с продажи нечего.")
    if sanction == Report.Sanction.ACCOUNT_BLOCKED and not user.has_perm("accounts.block_user"):
        return _("Блокировать аккаунты может только сотрудник с таким правом.")
    return None


def file_refusal(*, reporter: User, reported_user: User | None, has_subject: bool) -> str | None:
    if not has_subject:
        return _("Укажите, на что жалоба: вставьте ссылку на товар или начните со страницы заказа.")
    if reported_user is not None and reported_user.pk == reporter.pk:
        return _("Нельзя пожаловаться на самого себя.")
    return None


def allowed_actions(report: Report, user: User, now: datetime) -> dict[str, bool]:
    """The buttons a page draws for this user now."""
    return {
        Action.ANSWER: answer_refusal(report, user, now) is None,
        Action.NOTIFY: notify_refusal(report, user) is None,
        Action.TAKE: take_refusal(report, user) is None,
        Action.CLOSE: _staff_refusal(user) is None and _wrong_status("close", report) is None,
    }
