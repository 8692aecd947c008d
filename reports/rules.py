"""Who may do what to a report now: the reports rulebook (core.rules.Rulebook) the services, the
pages, the admin and the sweeps ask. Filing, and what a decision may say, are checked by the plain
functions at the end (there is no report yet, or they judge the decision's terms)."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import User
from core import rules as core_rules
from core.rules import Permit, Role, Rulebook, allow, is_due, refuse

from .models import Report

__all__ = ["Permit", "Role"]

S = Report.Status


class Action(StrEnum):
    ANSWER = "answer"
    NOTIFY = "notify"
    TAKE = "take"
    CLOSE = "close"
    # Deadlines, taken by the sweeps.
    REMIND = "remind"
    CLOSE_ANSWER_WINDOW = "close_answer_window"


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


def role_of(report: Report, user: User) -> Role:
    """The part `user` plays on the site's report page: a party first, then staff."""
    roles = roles_of(report, user)
    return next((role for role in (Role.REPORTER, Role.REPORTED, Role.STAFF) if role in roles), Role.NONE)


def staff_role(user: User) -> Role:
    """The part `user` plays in admin, where support acts on reports."""
    return core_rules.staff_role(user, ("reports.handle_report", Role.STAFF))


@dataclass(frozen=True)
class Facts:
    """The report's rules need nothing beyond its row."""


book: Rulebook[Report, Facts] = Rulebook(
    "report", no_facts=Facts(), page_actions=(Action.ANSWER, Action.NOTIFY, Action.TAKE, Action.CLOSE)
)
permit = book.permit
refusal = book.refusal
require = book.require
allowed = book.allowed


def move_refusal(move: str, report: Report) -> str | None:
    """Why the report cannot make `move` (a TRANSITIONS key) from its status, or None."""
    allowed, _target = TRANSITIONS[move]
    if report.status in allowed:
        return None
    if report.status == S.CLOSED:
        return _("Жалоба уже закрыта.")
    return _("Сейчас это сделать нельзя: жалоба в статусе «%(status)s».") % {"status": report.get_status_display()}


def _in_status_for(move: str, report: Report) -> Permit:
    return refuse(message) if (message := move_refusal(move, report)) else allow()


SUPPORT_ONLY = _lazy("Рассматривать жалобы может только сотрудник поддержки с таким правом.")


@book.rule(Action.ANSWER, by=Role.REPORTED, otherwise=_lazy("Ответить может только тот, на кого подана жалоба."))
def _answer(report: Report, role: Role, now: datetime, facts: Facts) -> Permit:
    if report.answered_at is not None:
        return refuse(_("Вы уже ответили на эту жалобу."))
    if message := move_refusal("answer", report):
        return refuse(message)
    if is_due(report.answer_due_at, now):
        return refuse(_("Срок ответа прошёл: жалобу рассматривают с тем, что уже есть."))
    return allow(closes_at=report.answer_due_at)


@book.rule(Action.NOTIFY, by=Role.STAFF, otherwise=SUPPORT_ONLY)
def _notify(report: Report, role: Role, now: datetime, facts: Facts) -> Permit:
    if not (may := _in_status_for("notify", report)):
        return may
    if report.reported_user_id is None:
        return refuse(_("Неизвестно, чей это товар: уведомить некого. Рассмотрите жалобу без ответа стороны."))
    return allow()


@book.rule(Action.TAKE, by=Role.STAFF, otherwise=SUPPORT_ONLY)
def _take(report: Report, role: Role, now: datetime, facts: Facts) -> Permit:
    return _in_status_for("take", report)


@book.rule(Action.CLOSE, by=Role.STAFF, otherwise=SUPPORT_ONLY)
def _close(report: Report, role: Role, now: datetime, facts: Facts) -> Permit:
    return _in_status_for("close", report)


def _awaiting_answer_until(report: Report, now: datetime, deadline: datetime | None) -> Permit:
    """A deadline of a report still waiting for the reported party's answer, once it has passed."""
    if report.status != S.AWAITING_ANSWER or deadline is None:
        return refuse(_("Жалоба уже в другом статусе."))
    if not is_due(deadline, now):
        return refuse(_("Срок ещё не наступил."), opens_at=deadline)
    return allow()


@book.rule(Action.REMIND, by=Role.SYSTEM)
def _remind(report: Report, role: Role, now: datetime, facts: Facts) -> Permit:
    """A day before the answer deadline, the reported party is reminded once."""
    return _awaiting_answer_until(report, now, report.reminder_due_at)


@book.rule(Action.CLOSE_ANSWER_WINDOW, by=Role.SYSTEM)
def _close_answer_window(report: Report, role: Role, now: datetime, facts: Facts) -> Permit:
    """The answer deadline passed without an answer: the report goes to processing."""
    return _awaiting_answer_until(report, now, report.answer_due_at)


book.deadline(Action.REMIND, "reminder_due_at", lambda: Report.objects.filter(status=S.AWAITING_ANSWER))
book.deadline(Action.CLOSE_ANSWER_WINDOW, "answer_due_at", lambda: Report.objects.filter(status=S.AWAITING_ANSWER))


# --- filing, and what a decision may say -------------------------------------------------------


def notice_given(report: Report, now: datetime) -> bool:
    """The reported party was told and has answered, or its time to answer is over."""
    if report.notified_at is None:
        return False
    return report.answered_at is not None or (report.answer_due_at is not None and now >= report.answer_due_at)


def close_terms_refusal(report: Report, now: datetime, *, outcome: str, sanction: str, may_block: bool) -> str | None:
    """What support's decision may say: an outcome, no finding against a party still within its
    time to answer, and a measure only where sanction_refusal allows one."""
    if outcome not in Report.Outcome.values:
        return _("Выберите итог: нарушение подтвердилось или нет.")
    # A party still within its time to answer is not found at fault before it is heard.
    if outcome == Report.Outcome.UPHELD and report.status == S.AWAITING_ANSWER and not notice_given(report, now):
        return _("Сторона ещё может ответить до %(date)s: признать нарушение можно после ответа или срока.") % {
            "date": formats.date_format(timezone.localtime(report.answer_due_at), "j E Y, H:i T")
            if report.answer_due_at
            else ""
        }
    if sanction:
        return sanction_refusal(report, now, outcome=outcome, sanction=sanction, may_block=may_block)
    return None


def sanction_refusal(report: Report, now: datetime, *, outcome: str, sanction: str, may_block: bool) -> str | None:
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
    if sanction == Report.Sanction.ACCOUNT_BLOCKED and not may_block:
        return _("Блокировать аккаунты может только сотрудник с таким правом.")
    return None


def file_refusal(*, reporter: User, reported_user: User | None, has_subject: bool) -> str | None:
    if not has_subject:
        return _("Укажите, на что жалоба: вставьте ссылку на товар или начните со страницы заказа.")
    if reported_user is not None and reported_user.pk == reporter.pk:
        return _("Нельзя пожаловаться на самого себя.")
    return None
