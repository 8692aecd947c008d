from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Dispute(models.Model):
    class Kind(models.TextChoices):
        NOT_RECEIVED = "not_received", _("Товар не получен")
        NOT_AS_DESCRIBED = "not_as_described", _("Товар не соответствует описанию")

    class Status(models.TextChoices):
        AWAITING_SELLER = "awaiting_seller", _("Ждёт ответа продавца")
        NEGOTIATING = "negotiating", _("Идут переговоры")
        AWAITING_RETURN = "awaiting_return", _("Ждёт возврата товара")
        RETURN_SHIPPED = "return_shipped", _("Товар отправлен продавцу")
        REFUNDING = "refunding", _("Подготовка к возврату")
        REFUNDED = "refunded", _("Возврат завершён")
        CLAIM = "claim", _("Претензия у арбитра")
        CANCELLED = "cancelled", _("Отменён покупателем")
        CLOSED = "closed", _("Закрыт без возврата")

    class RefundType(models.TextChoices):
        FULL = "full", _("Полный возврат")
        PARTIAL = "partial", _("Частичный возврат")

    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="dispute", verbose_name=_("заказ")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("покупатель")
    )
    store = models.ForeignKey(
        "accounts.Store", on_delete=models.PROTECT, related_name="disputes", verbose_name=_("продавец")
    )
    kind = models.CharField(_("тип"), max_length=24, choices=Kind.choices)
    # Not received: one problem and two flags. Not as described: one or more problems.
    problems = models.JSONField(_("проблемы"), default=list)
    held_by_customs = models.BooleanField(_("задержан таможней"), default=False)
    wrong_address = models.BooleanField(_("неверный адрес доставки"), default=False)
    refund_type = models.CharField(_("возврат"), max_length=8, choices=RefundType.choices, default=RefundType.FULL)
    requested_amount = models.DecimalField(
        _("запрошенная сумма"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField(_("валюта"), max_length=3)
    return_item = models.BooleanField(_("покупатель готов вернуть товар"), default=False)
    request_text = models.TextField(_("требование покупателя"), max_length=4000)
    status = models.CharField(
        _("статус"), max_length=20, choices=Status.choices, default=Status.AWAITING_SELLER, db_index=True
    )
    opened_at = models.DateTimeField(_("открыт"))
    # Deadlines the server keeps; each is indexed for the sweep that acts on it.
    seller_answer_due_at = models.DateTimeField(_("продавец должен ответить до"), null=True, blank=True, db_index=True)
    escalation_opens_at = models.DateTimeField(_("можно передать в претензию с"))
    auto_claim_at = models.DateTimeField(_("станет претензией"), null=True, blank=True, db_index=True)
    return_due_at = models.DateTimeField(_("вернуть товар до"), null=True, blank=True, db_index=True)
    # The agreed outcome once an offer is accepted.
    resolved_amount = models.DecimalField(_("сумма к возврату"), max_digits=12, decimal_places=2, null=True, blank=True)
    return_required = models.BooleanField(_("товар нужно вернуть"), default=False)
    resolved_at = models.DateTimeField(_("решён"), null=True, blank=True)
    return_tracking_number = models.CharField(_("трек-номер возврата"), max_length=64, blank=True)
    refund_completed_at = models.DateTimeField(_("деньги возвращены"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("передан в претензию"), null=True, blank=True)
    closed_at = models.DateTimeField(_("закрыт"), null=True, blank=True)
    # Claims: flagged to arbitrators after 15 days without a decision, overdue after 60.
    claim_flag_due_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    claim_overdue_due_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    claim_flagged_at = models.DateTimeField(_("без решения 15 дней"), null=True, blank=True)
    claim_overdue_at = models.DateTimeField(_("без решения 60 дней"), null=True, blank=True)
    # The arbitrator's decision, final once the 7-day appeal window passes.
    decision_winner = models.CharField(
        _("решение в пользу"), max_length=8, blank=True, choices=[("buyer", _("покупателя")), ("seller", _("продавца"))]
    )
    decision_amount = models.DecimalField(_("сумма по решению"), max_digits=12, decimal_places=2, null=True, blank=True)
    decision_reason = models.TextField(_("обоснование решения"), blank=True)
    decided_at = models.DateTimeField(_("решение принято"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appeal_deadline_at = models.DateTimeField(_("обжаловать до"), null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("спор")
        verbose_name_plural = _("споры")
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["buyer", "-opened_at"]), models.Index(fields=["store", "-opened_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(requested_amount__gt=0), name="dispute_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


OPEN_STATUSES = (Dispute.Status.AWAITING_SELLER, Dispute.Status.NEGOTIATING)
FINAL_STATUSES = (Dispute.Status.REFUNDED, Dispute.Status.CANCELLED, Dispute.Status.CLOSED)


class Offer(models.Model):
    """A proposed outcome: the buyer's request is the first; a counter-offer supersedes it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("ждёт ответа")
        ACCEPTED = "accepted", _("принято")
        REFUSED = "refused", _("отклонено")
        SUPERSEDED = "superseded", _("заменено новым")

    class Role(models.TextChoices):
        BUYER = "buyer", _("покупатель")
        SELLER = "seller", _("продавец")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="offers")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=8, choices=Role.choices)
    refund_type = models.CharField(max_length=8, choices=Dispute.RefundType.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    return_required = models.BooleanField(default=False)
    note = models.TextField(blank=True, max_length=4000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("предложение")
        verbose_name_plural = _("предложения")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispute"], condition=models.Q(status="pending"), name="one_pending_offer_per_dispute"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="offer_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.dispute_id}: {self.role} {self.amount}"


class Message(models.Model):
    """A message on the dispute page; the buyer's request and offer notes are messages too."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("требование")
        MESSAGE = "message", _("сообщение")
        OFFER = "offer", _("предложение")
        EVIDENCE = "evidence", _("доказательства")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.MESSAGE)
    text = models.TextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("сообщение")
        verbose_name_plural = _("сообщения")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id}: {self.text[:40]}"


def attachment_path(instance, filename: str) -> str:
    # Never the uploaded name: a random token, grouped by owner, outside the static web root.
    return f"disputes/{instance.owner_id}/{instance.token}.{instance.extension}"


class Attachment(models.Model):
    """An uploaded file, checked by content. Belongs to a message once the message is posted;
    until then it waits for its owner (the opening wizard keeps files across its steps)."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("картинка")
        VIDEO = "video", _("видео")
        PDF = "pdf", _("PDF")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=64)
    extension = models.CharField(max_length=8)
    display_name = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("файл")
        verbose_name_plural = _("файлы")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.display_name


class DisputeEvent(models.Model):
    """Who did what and when: the dispute's timeline and its audit trail."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Покупатель открыл спор")
        OFFER_MADE = "offer_made", _("Новое предложение")
        OFFER_ACCEPTED = "offer_accepted", _("Предложение принято")
        OFFER_REFUSED = "offer_refused", _("Предложение отклонено")
        MESSAGE = "message", _("Новое сообщение")
        RETURN_REQUESTED = "return_requested", _("Товар нужно вернуть продавцу в течение 10 дней")
        RETURN_SHIPPED = "return_shipped", _("Покупатель отправил товар обратно")
        RETURN_RECEIVED = "return_received", _("Продавец получил товар")
        REFUND_STARTED = "refund_started", _("Началась подготовка к возврату денег")
        REFUND_COMPLETED = "refund_completed", _("Деньги возвращены покупателю")
        ESCALATED = "escalated", _("Спор передан в претензию")
        CANCELLED = "cancelled", _("Покупатель отменил спор")
        CLOSED = "closed", _("Спор закрыт")
        SELLER_SILENT = "seller_silent", _("Продавец не ответил за 5 дней: требование покупателя удовлетворено")
        RETURN_NOT_SHIPPED = "return_not_shipped", _("Товар не отправлен за 10 дней: спор закрыт без возврата")
        CLAIM_FLAGGED = "claim_flagged", _("Претензия без решения 15 дней: напоминание арбитрам")
        CLAIM_OVERDUE = "claim_overdue", _("Претензия без решения 60 дней: просрочена")
        DECIDED = "decided", _("Арбитр принял решение")
        DECISION_FINAL = "decision_final", _("Срок обжалования прошёл: решение окончательное")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("событие спора")
        verbose_name_plural = _("события споров")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id}: {self.kind}"


class Refund(models.Model):
    """The money sent back: one row per dispute, written when the refund is executed."""

    dispute = models.OneToOneField(Dispute, on_delete=models.PROTECT, related_name="refund")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("возврат денег")
        verbose_name_plural = _("возвраты денег")

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency}"


class ExchangeRate(models.Model):
    """Roubles per unit of a currency, for showing the local equivalent beside an amount."""

    currency = models.CharField(_("валюта"), max_length=3, unique=True)
    rub_per_unit = models.DecimalField(_("рублей за единицу"), max_digits=12, decimal_places=4)
    as_of = models.DateField(_("на дату"))

    class Meta:
        verbose_name = _("курс валюты")
        verbose_name_plural = _("курсы валют")

    def __str__(self) -> str:
        return f"{self.currency}: {self.rub_per_unit}"
