"""Every change to a report: filing (with merging and the hourly limit), notifying the reported
party, its answer, the deadline sweeps, and support's decision with an optional sanction.

Each change of status goes through `_move`: on the locked report row (only that row), after the
rulebook was asked under the lock, it writes the status with the fields that change with it and
records the event; the e-mails are queued in the same transaction (sent after commit by the
outbox). The reporter never appears in anything the reported party reads.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import blocking
from accounts.emails import email_queue
from accounts.models import BlockReason, Store, User
from core.errors import ActionRefused
from core.rules import save_move
from core.throttle import Throttle, minutes_to_wait
from orders.models import Order, OrderItem

from . import rules
from .links import ProductLink
from .models import Report, ReportEvent, ReportFile
from .reasons import REASONS, ReportType
from .rules import Action, Role

BLOCK_REASON_FOR_TYPE = {
    ReportType.COUNTERFEIT: BlockReason.COUNTERFEIT,
    ReportType.PROHIBITED: BlockReason.COUNTERFEIT,
    ReportType.OFF_PLATFORM: BlockReason.OFF_PLATFORM,
    ReportType.OTHER: BlockReason.SPAM,
}


def report_rate() -> Throttle:
    return Throttle("reports", settings.REPORTS_PER_HOUR, 3600)


_record = ReportEvent.record


def _lock(report_id: int) -> Report:
    return Report.objects.select_for_update(of=("self",)).get(pk=report_id)


def _move(
    report: Report,
    move: str,
    *,
    event: str,
    actor: User | None,
    now: datetime,
    changes: dict[str, Any] | None = None,
    **details: Any,
) -> None:
    """The only way a report's status changes: `move` (a rules.TRANSITIONS key) with the fields
    that change with it, saved alone, and the event `event` for the timeline."""
    _allowed, target = rules.TRANSITIONS[move]
    save_move(report, target, rules.move_refusal(move, report), changes, stamp=())
    _record(report, event, actor, now, **details)


def _tell_reporter(report: Report, what: str, now: datetime) -> None:
    email_queue(
        user=report.reporter,
        template="report_update",
        context={"report": report, "what": what},
        dedupe_key=f"report:{report.pk}:{what}:reporter:{now.isoformat()}",
    )


def _tell_reported(report: Report, what: str, now: datetime) -> None:
    if report.reported_user is None:
        return
    email_queue(
        user=report.reported_user,
        template="report_against",
        context={"report": report, "what": what},
        dedupe_key=f"report:{report.pk}:{what}:reported:{now.isoformat()}",
    )


# --- filing -------------------------------------------------------------------------------------


def report_target(
    *, reporter: User, order: Order | None, link: ProductLink | None
) -> tuple[User | None, Store | None, str]:
    """Whom a report is about: from an order, the other party (the store for its buyer, the buyer for
    its seller); from a product link, the store that sells it if the marketplace knows it."""
    if order is not None:
        if order.buyer_id == reporter.pk:
            return order.store.owner, order.store, ""
        return order.buyer, None, ""
    if link is not None:
        item = (
            OrderItem.objects.filter(item_id=link.item_id).select_related("order__store__owner").order_by("-pk").first()
        )
        if item is not None:
            return item.order.store.owner, item.order.store, item.title
    return None, None, ""


def _same_report(*, reporter: User, order: Order | None, link: ProductLink | None) -> Report | None:
    """The reporter's open report of the same listing (or the same order, without a listing)."""
    open_reports = Report.objects.filter(reporter=reporter).exclude(status=Report.Status.CLOSED)
    if link is not None:
        return open_reports.filter(item_id=link.item_id).order_by("created_at").first()
    if order is not None:
        return open_reports.filter(order=order, item_id="").order_by("created_at").first()
    return None


def report_rate_refusal(reporter: User) -> str | None:
    if wait := report_rate().retry_after(str(reporter.pk)):
        return _(
            "Вы отправили много жалоб за час. Новую можно будет подать через %(minutes)d мин.; "
            "уже поданные мы рассматриваем."
        ) % {"minutes": minutes_to_wait(wait)}
    return None


@transaction.atomic(durable=True)
def report_file(
    *,
    reporter: User,
    order: Order | None,
    link: ProductLink | None,
    reason: str,
    description: str,
    attachment_ids: list[int],
    now: datetime | None = None,
) -> tuple[Report, bool]:
    """File a report, or add to the reporter's open report of the same listing. Returns the report
    and whether it was new."""
    now = now or timezone.now()
    if reason not in REASONS:
        raise ActionRefused(_("Выберите причину жалобы."))
    reported_user, store, listing_title = report_target(reporter=reporter, order=order, link=link)
    if message := rules.file_refusal(
        reporter=reporter, reported_user=reported_user, has_subject=order is not None or link is not None
    ):
        raise ActionRefused(message)
    existing = _same_report(reporter=reporter, order=order, link=link)
    if existing is not None:
        report = _lock(existing.pk)
        _claim_files(report, reporter, attachment_ids, ReportFile.Side.REPORTER)
        _record(
            report,
            ReportEvent.Kind.ADDED,
            reporter,
            now,
            reason=reason,
            description=description.strip(),
            files=len(attachment_ids),
        )
        if report.status == Report.Status.AWAITING_ANSWER:
            _tell_reported(report, "added", now)  # it may still answer, and should meet the addition too
        return report, False
    if message := report_rate_refusal(reporter):
        raise ActionRefused(message)
    report_rate().hit(str(reporter.pk))
    if order is not None and link is None:
        listing_title = ""
    report = Report.objects.create(
        reporter=reporter,
        reported_user=reported_user,
        store=store,
        order=order,
        item_id=link.item_id if link else "",
        listing_url=link.url if link else "",
        listing_title=listing_title,
        report_type=REASONS[reason].type,
        reason=reason,
        description=description.strip(),
        created_at=now,
    )
    _claim_files(report, reporter, attachment_ids, ReportFile.Side.REPORTER)
    _record(report, ReportEvent.Kind.FILED, reporter, now, files=len(attachment_ids))
    _tell_reporter(report, "filed", now)
    return report, True


def _claim_files(report: Report, owner: User, attachment_ids: list[int], side: str) -> None:
    if attachment_ids:
        ReportFile.objects.filter(pk__in=attachment_ids, owner=owner, report__isnull=True).update(
            report=report, side=side
        )


# --- the reported party --------------------------------------------------------------------------


@transaction.atomic(durable=True)
def report_notify(*, report: Report, staff: User, now: datetime | None = None) -> Report:
    """Support sends the report to the reported party, who has REPORT_ANSWER_DAYS to answer."""
    now = now or timezone.now()
    report = _lock(report.pk)
    rules.require(Action.NOTIFY, report, rules.staff_role(staff), now)
    answer_due_at = now + timedelta(days=settings.REPORT_ANSWER_DAYS)
    _move(
        report,
        "notify",
        event=ReportEvent.Kind.NOTIFIED,
        actor=staff,
        now=now,
        changes={
            "notified_at": now,
            "answer_due_at": answer_due_at,
            "reminder_due_at": answer_due_at - timedelta(hours=settings.REPORT_REMINDER_HOURS),
            "handled_by": report.handled_by or staff,
        },
        due=answer_due_at.isoformat(),
    )
    _tell_reporter(report, "notified", now)
    _tell_reported(report, "notified", now)
    return report


@transaction.atomic(durable=True)
def report_answer(
    *, report: Report, user: User, text: str, attachment_ids: list[int], now: datetime | None = None
) -> Report:
    now = now or timezone.now()
    report = _lock(report.pk)
    rules.require(Action.ANSWER, report, rules.role_of(report, user), now)
    _move(
        report,
        "answer",
        event=ReportEvent.Kind.ANSWERED,
        actor=user,
        now=now,
        changes={"answer": text.strip(), "answered_at": now, "reminder_due_at": None},
        files=len(attachment_ids),
    )
    _claim_files(report, user, attachment_ids, ReportFile.Side.REPORTED)
    _tell_reporter(report, "processing", now)
    return report


def report_remind(*, report_id: int, now: datetime) -> Report | None:
    """Sweep: a day before the answer deadline, the reported party is reminded once."""
    report = _lock(report_id)
    if rules.refusal(Action.REMIND, report, Role.SYSTEM, now):
        return None
    report.reminder_due_at = None
    report.save(update_fields=["reminder_due_at"])
    _record(report, ReportEvent.Kind.REMINDED, None, now)
    _tell_reported(report, "reminder", now)
    return report


def report_close_answer_window(*, report_id: int, now: datetime) -> Report | None:
    """Sweep: the answer deadline passed without an answer; the report goes to processing."""
    report = _lock(report_id)
    if rules.refusal(Action.CLOSE_ANSWER_WINDOW, report, Role.SYSTEM, now):
        return None
    _move(
        report,
        "answer_deadline",
        event=ReportEvent.Kind.DEADLINE_PASSED,
        actor=None,
        now=now,
        changes={"reminder_due_at": None},
    )
    _tell_reporter(report, "processing", now)
    return report


# --- support -----------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def report_take(*, report: Report, staff: User, now: datetime | None = None) -> Report:
    """Support handles the report without asking the reported party (nobody to ask, or spam)."""
    now = now or timezone.now()
    report = _lock(report.pk)
    rules.require(Action.TAKE, report, rules.staff_role(staff), now)
    _move(report, "take", event=ReportEvent.Kind.TAKEN, actor=staff, now=now, changes={"handled_by": staff})
    _tell_reporter(report, "processing", now)
    return report


@transaction.atomic(durable=True)
def report_close(
    *, report: Report, staff: User, outcome: str, reason: str, sanction: str = "", now: datetime | None = None
) -> Report:
    """Support's decision, with its reason (both parties read it) and an optional sanction."""
    now = now or timezone.now()
    report = _lock(report.pk)
    rules.require(Action.CLOSE, report, rules.staff_role(staff), now)
    may_block = staff.has_perm("accounts.block_user")
    if message := rules.close_terms_refusal(report, now, outcome=outcome, sanction=sanction, may_block=may_block):
        raise ActionRefused(message)
    reason = reason.strip()
    if len(reason) < settings.REPORT_DECISION_MIN_LENGTH:
        raise ActionRefused(
            _("Объясните решение хотя бы в %(count)d символах: его прочитают обе стороны.")
            % {"count": settings.REPORT_DECISION_MIN_LENGTH}
        )
    was_notified = report.notified_at is not None
    _move(
        report,
        "close",
        event=ReportEvent.Kind.CLOSED,
        actor=staff,
        now=now,
        changes={
            "outcome": outcome,
            "decision_reason": reason,
            "sanction": sanction,
            "handled_by": staff,
            "closed_at": now,
            "reminder_due_at": None,
        },
        outcome=outcome,
        sanction=sanction,
    )
    if sanction == Report.Sanction.ACCOUNT_BLOCKED:
        assert report.reported_user is not None
        blocking.account_block(
            user=report.reported_user,
            staff=staff,
            reason=BLOCK_REASON_FOR_TYPE.get(ReportType(report.report_type), BlockReason.OTHER),
            note=_("По жалобе №%(number)s: %(reason)s") % {"number": report.pk, "reason": reason},
            now=now,
        )
    _tell_reporter(report, "closed", now)
    if was_notified:
        _tell_reported(report, "closed", now)
    return report


def listing_removed(item_id: str) -> bool:
    """A listing support took down after an upheld report."""
    return bool(item_id) and Report.objects.filter(item_id=item_id, sanction=Report.Sanction.LISTING_REMOVED).exists()
