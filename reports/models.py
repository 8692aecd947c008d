from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.models import StoredFile, TimelineEvent, choice_label
from core.rules import Role

from .reasons import REASONS, Reason, ReportType


class ReportQuerySet(models.QuerySet["Report"]):
    """Whose reports: the one filter every list, page and selector scopes reports by."""

    def filed_by(self, user: User) -> Self:
        return self.filter(reporter=user)

    def against(self, user: User) -> Self:
        # The reported party sees a report only once it was told about it.
        return self.filter(reported_user=user, notified_at__isnull=False)

    def visible_to(self, user: User) -> Self:
        """The reports `user` may open: those they filed, those against them once they were told,
        or all of them for staff who handle reports. Anyone else finds nothing: a 404."""
        if user.has_perm("reports.handle_report"):
            return self.all()
        return self.filed_by(user) | self.against(user)


class Report(models.Model):
    """A report of a listing or a party: who reported whom, why, and how it was handled.

    The reported party (a store's owner or a buyer) never learns who reported it: its pages,
    e-mails and timeline show neither the reporter nor the order the report came from.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Подана")
        AWAITING_ANSWER = "awaiting_answer", _("Ожидает ответа другой стороны")
        PROCESSING = "processing", _("На рассмотрении")
        CLOSED = "closed", _("Закрыта")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Нарушение подтвердилось")
        NOT_UPHELD = "not_upheld", _("Нарушение не подтвердилось")

    class Sanction(models.TextChoices):
        NONE = "", _("Без мер")
        WARNING = "warning", _("Предупреждение")
        LISTING_REMOVED = "listing_removed", _("Товар снят с продажи")
        ACCOUNT_BLOCKED = "account_blocked", _("Аккаунт заблокирован")

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports_filed", verbose_name=_("заявитель")
    )
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reports_against",
        null=True,
        blank=True,
        verbose_name=_("на кого"),
    )
    store = models.ForeignKey(
        "accounts.Store",
        on_delete=models.PROTECT,
        related_name="reports",
        null=True,
        blank=True,
        verbose_name=_("магазин"),
    )
    # The order the report was started from (seen by the reporter and staff only).
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="reports",
        null=True,
        blank=True,
        verbose_name=_("заказ"),
    )
    item_id = models.CharField(_("номер товара"), max_length=20, blank=True, db_index=True)
    listing_url = models.URLField(_("ссылка на товар"), max_length=200, blank=True)
    listing_title = models.CharField(_("товар"), max_length=255, blank=True)
    report_type = models.CharField(_("вид жалобы"), max_length=24, choices=ReportType.choices)
    reason = models.CharField(
        _("причина"), max_length=32, choices=[(code, reason.label) for code, reason in REASONS.items()]
    )
    description = models.TextField(_("описание"), max_length=4000)
    status = models.CharField(_("статус"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    created_at = models.DateTimeField(_("подана"), db_index=True)
    notified_at = models.DateTimeField(_("сторона уведомлена"), null=True, blank=True)
    answer_due_at = models.DateTimeField(_("ответить до"), null=True, blank=True, db_index=True)
    reminder_due_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    answer = models.TextField(_("ответ стороны"), blank=True, max_length=4000)
    answered_at = models.DateTimeField(_("сторона ответила"), null=True, blank=True)
    outcome = models.CharField(_("итог"), max_length=12, choices=Outcome.choices, blank=True)
    decision_reason = models.TextField(_("объяснение решения"), blank=True)
    sanction = models.CharField(_("меры"), max_length=16, choices=Sanction.choices, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("сотрудник"),
    )
    closed_at = models.DateTimeField(_("закрыта"), null=True, blank=True)
    get_report_type_display = choice_label("report_type")
    get_reason_display = choice_label("reason")
    get_status_display = choice_label("status")
    get_outcome_display = choice_label("outcome")
    get_sanction_display = choice_label("sanction")

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("жалоба")
        verbose_name_plural = _("жалобы")
        ordering = ["-created_at", "-pk"]
        permissions = [("handle_report", _("Может рассматривать жалобы и применять меры"))]
        indexes = [
            models.Index(fields=["reporter", "-created_at"], name="report_reporter_idx"),
            models.Index(fields=["reported_user", "-created_at"], name="report_reported_idx"),
        ]

    def __str__(self) -> str:
        return str(_("Жалоба №%(number)s") % {"number": self.pk})

    @property
    def reason_entry(self) -> Reason | None:
        return REASONS.get(self.reason)


class ReportEvent(TimelineEvent):
    """One step of a report, for its history and the staff audit."""

    subject_field = "report"

    class Kind(models.TextChoices):
        FILED = "filed", _("жалоба подана")
        ADDED = "added", _("заявитель дополнил жалобу")
        NOTIFIED = "notified", _("сторона уведомлена")
        REMINDED = "reminded", _("напоминание об ответе")
        ANSWERED = "answered", _("сторона ответила")
        DEADLINE_PASSED = "deadline_passed", _("срок ответа прошёл")
        TAKEN = "taken", _("взята в работу")
        CLOSED = "closed", _("решение принято")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("что произошло"), max_length=16, choices=Kind.choices)
    # Unlike the other timelines, a report's keeps its people: an account that filed, answered or
    # handled a report cannot be deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("кто"),
    )
    get_kind_display = choice_label("kind")

    class Meta(TimelineEvent.Meta):
        verbose_name = _("событие жалобы")
        verbose_name_plural = _("события жалоб")

    @classmethod
    def role_of(cls, subject: Report, actor: Any) -> Role:
        if actor.pk == subject.reporter_id:
            return Role.REPORTER
        return Role.REPORTED if actor.pk == subject.reported_user_id else Role.STAFF


class ReportFileQuerySet(models.QuerySet["ReportFile"]):
    def visible_to(self, user: User) -> Self:
        """The files `user` may download: each side its own; the reported party also the reporter's
        evidence (it must know what it answers); staff who handle reports all of them. A file no
        report has taken yet is nobody's to download."""
        filed = self.filter(report__isnull=False)
        if user.has_perm("reports.handle_report"):
            return filed
        told = Q(report__reported_user=user, report__notified_at__isnull=False)
        reporters_evidence = Q(side=ReportFile.Side.REPORTER) & (Q(report__reporter=user) | told)
        return filed.filter(reporters_evidence | Q(side=ReportFile.Side.REPORTED) & told)


class ReportFile(StoredFile):
    """Evidence attached to a report, by the reporter or by the reported party with its answer."""

    class Side(models.TextChoices):
        REPORTER = "reporter", _("заявитель")
        REPORTED = "reported", _("сторона, на которую жалуются")

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="files", null=True, blank=True, verbose_name=_("жалоба")
    )
    side = models.CharField(_("чей файл"), max_length=12, choices=Side.choices, blank=True)
    get_kind_display = choice_label("kind")

    upload_folder = "reports"

    objects = ReportFileQuerySet.as_manager()

    class Meta(StoredFile.Meta):
        verbose_name = _("файл жалобы")
        verbose_name_plural = _("файлы жалоб")

    @classmethod
    def unclaimed(cls) -> Q:
        return Q(report__isnull=True)
