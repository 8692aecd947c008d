"""Reads of reports: each user sees only the reports they filed, and those against them once they
were notified; anyone else gets 404. The reported party's view never carries the reporter."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import User

from .models import Report, ReportEvent, ReportFile
from .rules import Role


def reports_filed_by(user: User) -> QuerySet[Report]:
    return Report.objects.filed_by(user).select_related("store").order_by("-created_at", "-pk")


def reports_against(user: User) -> QuerySet[Report]:
    return Report.objects.against(user).order_by("-notified_at", "-pk")


def report_get(*, user: User, pk: int) -> Report:
    """The report with its events and files, in a fixed number of queries; 404 for anyone who is
    not its reporter, the notified reported party or staff who handle reports."""
    try:
        return (
            Report.objects.visible_to(user)
            .select_related("store", "order", "reporter", "reported_user", "handled_by")
            .prefetch_related(
                Prefetch("events", queryset=ReportEvent.objects.select_related("actor")),
                Prefetch("files", queryset=ReportFile.objects.order_by("uploaded_at", "pk")),
            )
            .get(pk=pk)
        )
    except Report.DoesNotExist:
        raise Http404 from None


def report_file_get(*, user: User, token: str) -> ReportFile:
    """A report's file for whoever may see it: each side its own files; the reported party also the
    reporter's evidence (it must know what it answers); staff everything. 404 otherwise."""
    try:
        return ReportFile.objects.visible_to(user).get(token=token)
    except ReportFile.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class HistoryLine:
    event: ReportEvent
    text: str


def history_for(report: Report, *, role: Role) -> list[HistoryLine]:
    """The report's history in words, as this viewer may read it: the reported party does not see
    the filing (it would tell who and when) nor the reporter's additions."""
    lines = []
    for event in report.events.all():
        kind = event.kind
        if role == Role.REPORTED and kind in (ReportEvent.Kind.FILED, ReportEvent.Kind.ADDED):
            continue
        texts: dict[str, str] = {
            ReportEvent.Kind.FILED: _("Жалоба подана."),
            ReportEvent.Kind.ADDED: _("Вы дополнили жалобу: %(text)s") % {"text": event.details.get("description", "")},
            ReportEvent.Kind.NOTIFIED: _(
                "Стороне, на которую жалоба, отправлено уведомление; у неё есть время ответить."
            )
            if role != Role.REPORTED
            else _("Вы получили уведомление о жалобе."),
            ReportEvent.Kind.REMINDED: _("Напоминание об ответе отправлено."),
            ReportEvent.Kind.ANSWERED: _("Сторона ответила на жалобу.")
            if role != Role.REPORTED
            else _("Вы ответили на жалобу."),
            ReportEvent.Kind.DEADLINE_PASSED: _("Срок ответа прошёл без ответа."),
            ReportEvent.Kind.TAKEN: _("Жалоба на рассмотрении у поддержки."),
            ReportEvent.Kind.CLOSED: _("Решение принято."),
        }
        lines.append(HistoryLine(event, texts.get(kind) or event.get_kind_display()))
    return lines


def additions_for_reported(report: Report) -> list[str]:
    """What the reporter added to the report, for the party it is about: the texts alone (neither
    who nor when), so that its answer can meet everything the report says."""
    return [
        event.details.get("description", "")
        for event in report.events.all()
        if event.kind == ReportEvent.Kind.ADDED and event.details.get("description")
    ]
