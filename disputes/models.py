from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.models import BuyerSellerQuerySet, User
from core.models import ROLE_LABELS, BuyerSellerEvent, StoredFile, choice_label, stored_file_path
from core.money import money_lazy
from core.rules import Role


class DisputeQuerySet(BuyerSellerQuerySet["Dispute"]):
    staff_permission = "disputes.view_dispute"


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

    # A dispute is about one item of its order; each item has at most one dispute, ever (the
    # marketplace's rule), so an order of a watch and a strap may have two. `item` is empty only
    # for an order without item rows, which then has at most one dispute.
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="disputes", verbose_name=_("заказ")
    )
    item = models.OneToOneField(
        "orders.OrderItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispute",
        verbose_name=_("товар"),
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
    # What the buyer paid for the item, with its share of shipping, when the dispute opened: every
    # refund of this dispute (request, offer, decision) is bounded by it.
    paid_amount = models.DecimalField(_("оплачено за товар"), max_digits=12, decimal_places=2)
    return_item = models.BooleanField(_("покупатель готов вернуть товар"), default=False)
    request_text = models.TextField(_("требование покупателя"), max_length=4000)
    status = models.CharField(
        _("статус"), max_length=20, choices=Status.choices, default=Status.AWAITING_SELLER, db_index=True
    )
    opened_at = models.DateTimeField(_("открыт"))
    # Deadlines the server keeps; each is indexed for the sweep that acts on it.
    seller_answer_due_at = models.DateTimeField(_("продавец должен ответить до"), null=True, blank=True, db_index=True)
    escalation_opens_at = models.DateTimeField(_("можно передать в претензию с"))
    auto_claim_due_at = models.DateTimeField(_("станет претензией"), null=True, blank=True, db_index=True)
    return_due_at = models.DateTimeField(_("вернуть товар до"), null=True, blank=True, db_index=True)
    # The agreed outcome once an offer is accepted.
    resolved_amount = models.DecimalField(_("сумма к возврату"), max_digits=12, decimal_places=2, null=True, blank=True)
    return_required = models.BooleanField(_("товар нужно вернуть"), default=False)
    # The agreed offer's return postage: the seller refunds the buyer's postage up to this amount
    # (None: the buyer pays it).
    return_postage_limit = models.DecimalField(
        _("продавец возмещает пересылку до"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    resolved_at = models.DateTimeField(_("решён"), null=True, blank=True)
    return_tracking_number = models.CharField(_("трек-номер возврата"), max_length=64, blank=True)
    refund_completed_at = models.DateTimeField(_("деньги возвращены"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("передан в претензию"), null=True, blank=True)
    # The store's record (disputes/store_record.py) counts these: when the seller first acted on the
    # dispute (an offer, an answer, a message), and whether the request was granted for silence.
    seller_answered_at = models.DateTimeField(_("продавец ответил"), null=True, blank=True)
    seller_silent = models.BooleanField(_("продавец не ответил вовремя"), default=False, db_default=False)
    closed_at = models.DateTimeField(_("закрыт"), null=True, blank=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)
    get_kind_display = choice_label("kind")
    get_refund_type_display = choice_label("refund_type")
    get_status_display = choice_label("status")

    objects = DisputeQuerySet.as_manager()

    class Meta:
        verbose_name = _("спор")
        verbose_name_plural = _("споры")
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["buyer", "-opened_at"]), models.Index(fields=["store", "-opened_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(requested_amount__gt=0), name="dispute_amount_positive"),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(item__isnull=True), name="one_dispute_per_order_without_items"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} ({self.get_status_display()})"

    def return_postage_text(self, viewer: str) -> StrOrPromise:
        """Who pays for sending the item back under the agreed outcome, in `viewer`'s words."""
        if not self.return_required:
            return ""
        return return_postage_sentence(self.return_postage_limit, self.currency, viewer)


def return_postage_sentence(limit: Decimal | None, currency: str, viewer: str) -> StrOrPromise:
    """Who pays for sending the item back: the buyer, unless the seller offered to refund the
    postage up to `limit`. Worded for `viewer` (a core.rules.Role: the buyer, the seller, or anyone
    else such as staff); lazy, so an e-mail reads it in its recipient's language."""
    if limit:
        amount = money_lazy(limit, currency)
        if viewer == "buyer":
            text = _("Пересылку обратно оплачиваете вы, а продавец возместит её до {amount}: сохраните чек почты.")
        elif viewer == "seller":
            text = _("Вы возмещаете покупателю пересылку товара обратно — до {amount}.")
        else:
            text = _("Пересылку обратно оплачивает покупатель, продавец возмещает её до {amount}.")
        return format_lazy(text, amount=amount)
    if viewer == "buyer":
        return _("Пересылку обратно оплачиваете вы: продавец не предложил её возместить.")
    if viewer == "seller":
        return _("Пересылку обратно оплачивает покупатель: вы не предлагали её возместить.")
    return _("Пересылку обратно оплачивает покупатель.")


class Offer(models.Model):
    """A proposed outcome: the buyer's request is the first; a counter-offer supersedes it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("ждёт ответа")
        ACCEPTED = "accepted", _("принято")
        REFUSED = "refused", _("отклонено")
        SUPERSEDED = "superseded", _("заменено новым")
        # Still pending when the parties stopped negotiating (a claim, or the buyer cancelled).
        LAPSED = "lapsed", _("не действует: переговоры закончились")

    class Role(models.TextChoices):
        BUYER = "buyer", _("покупатель")
        SELLER = "seller", _("продавец")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="offers", verbose_name=_("спор"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("автор")
    )
    role = models.CharField(_("кто предложил"), max_length=8, choices=Role.choices)
    refund_type = models.CharField(_("возврат"), max_length=8, choices=Dispute.RefundType.choices)
    amount = models.DecimalField(_("сумма"), max_digits=12, decimal_places=2)
    return_required = models.BooleanField(_("товар нужно вернуть"), default=False)
    # With a return: the seller offers to refund the buyer's return postage up to this amount.
    return_postage_limit = models.DecimalField(
        _("продавец возместит пересылку до"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    note = models.TextField(_("пояснение"), blank=True, max_length=4000)
    status = models.CharField(_("статус"), max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("предложено"), auto_now_add=True)
    decided_at = models.DateTimeField(_("ответ дан"), null=True, blank=True)
    get_role_display = choice_label("role")
    get_refund_type_display = choice_label("refund_type")
    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("предложение")
        verbose_name_plural = _("предложения")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispute"], condition=models.Q(status="pending"), name="one_pending_offer_per_dispute"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="offer_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(return_postage_limit__isnull=True) | models.Q(return_postage_limit__gt=0),
                name="offer_postage_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.amount}"

    def return_postage_text(self, currency: str, viewer: str) -> StrOrPromise:
        """Who would pay for sending the item back under this offer, in `viewer`'s words."""
        if not self.return_required:
            return ""
        return return_postage_sentence(self.return_postage_limit, currency, viewer)


class Message(models.Model):
    """A message on the dispute page; the buyer's request, offer notes, answers to an
    arbitrator's evidence request and appeals are messages too (they carry the files)."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("требование")
        MESSAGE = "message", _("сообщение")
        OFFER = "offer", _("предложение")
        EVIDENCE = "evidence", _("доказательства")
        ANSWER = "answer", _("ответ на запрос арбитра")
        APPEAL = "appeal", _("апелляция")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="messages", verbose_name=_("спор"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("автор")
    )
    kind = models.CharField(_("вид"), max_length=12, choices=Kind.choices, default=Kind.MESSAGE)
    text = models.TextField(_("текст"), blank=True, max_length=4000)
    # A video too large to upload (a long unboxing) stays on a hosting site: the page shows this
    # as a plain link, never embedded. Only http(s) URLs are accepted (disputes/links.py).
    link = models.URLField(_("ссылка на видео"), max_length=500, blank=True, db_default="")
    evidence_request = models.ForeignKey(
        "EvidenceRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="answers",
        verbose_name=_("ответ на запрос доказательств"),
    )
    created_at = models.DateTimeField(_("отправлено"), auto_now_add=True)
    get_kind_display = choice_label("kind")

    class Meta:
        verbose_name = _("сообщение")
        verbose_name_plural = _("сообщения")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.dispute_id}: {self.text[:40]}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Referenced by migration 0001; new files are named by core.models.stored_file_path."""
    return stored_file_path(instance, filename)


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def visible_to(self, user: User) -> Self:
        """The files `user` may download: a posted file for its dispute's buyer and seller and for
        staff who may read dispute files; a file not posted yet for its owner alone."""
        not_posted_own = Q(message__isnull=True, owner=user)
        if user.has_perm("disputes.view_attachment"):
            return self.filter(not_posted_own | Q(message__isnull=False))
        parties = user.party_filter(buyer="message__dispute__buyer", store="message__dispute__store")
        return self.filter(not_posted_own | parties)


class Attachment(StoredFile):
    """Evidence on a dispute: claimed by the message it was sent with."""

    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("сообщение"),
    )
    get_kind_display = choice_label("kind")

    upload_folder = "disputes"

    objects = AttachmentQuerySet.as_manager()

    class Meta(StoredFile.Meta):
        verbose_name = _("файл")
        verbose_name_plural = _("файлы")

    @classmethod
    def unclaimed(cls) -> Q:
        return Q(message__isnull=True)


class DisputeEvent(BuyerSellerEvent):
    """Who did what and when: the dispute's timeline and its audit trail."""

    subject_field = "dispute"

    class Kind(models.TextChoices):
        OPENED = "opened", _("Покупатель открыл спор")
        OFFER_MADE = "offer_made", _("Новое предложение")
        OFFER_ACCEPTED = "offer_accepted", _("Предложение принято")
        OFFER_REFUSED = "offer_refused", _("Предложение отклонено")
        MESSAGE = "message", _("Новое сообщение")
        RETURN_REQUESTED = "return_requested", _("Товар нужно отправить продавцу обратно")
        RETURN_SHIPPED = "return_shipped", _("Покупатель отправил товар обратно")
        RETURN_RECEIVED = "return_received", _("Продавец получил товар")
        REFUND_STARTED = "refund_started", _("Началась подготовка к возврату денег")
        REFUND_COMPLETED = "refund_completed", _("Деньги возвращены покупателю")
        ESCALATED = "escalated", _("Спор передан в претензию")
        CANCELLED = "cancelled", _("Покупатель отменил спор")
        CLOSED = "closed", _("Спор закрыт")
        SELLER_SILENT = "seller_silent", _("Продавец не ответил вовремя: требование покупателя удовлетворено")
        RETURN_NOT_SHIPPED = "return_not_shipped", _("Товар не отправлен обратно вовремя: спор закрыт без возврата")
        CLAIM_FLAGGED = "claim_flagged", _("Претензия долго ждёт решения: напоминание арбитрам")
        CLAIM_OVERDUE = "claim_overdue", _("Претензия просрочена: руководителю арбитража отправлено письмо")
        CLAIM_TAKEN = "claim_taken", _("Арбитр взял претензию в работу")
        EVIDENCE_REQUESTED = "evidence_requested", _("Арбитр запросил доказательства")
        EVIDENCE_ANSWERED = "evidence_answered", _("Сторона ответила на запрос арбитра")
        EVIDENCE_CLOSED = "evidence_closed", _("Ответы на запрос арбитра собраны: арбитр изучает доказательства")
        RECLASSIFIED = "reclassified", _("Арбитр уточнил причину спора")
        DECIDED = "decided", _("Арбитр принял решение")
        APPEALED = "appealed", _("Подана апелляция")
        APPEAL_DECIDED = "appeal_decided", _("Решение по апелляции принято: оно окончательное")
        DECISION_FINAL = "decision_final", _("Срок обжалования прошёл: решение окончательное")
        REFUND_CONFIRMED = "refund_confirmed", _("Платёжная система подтвердила возврат")
        REFUND_FLAGGED = "refund_flagged", _("Возврат задерживается: отмечен для проверки")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="events", verbose_name=_("спор"))
    kind = models.CharField(_("что произошло"), max_length=24, choices=Kind.choices)
    get_kind_display = choice_label("kind")

    class Meta(BuyerSellerEvent.Meta):
        verbose_name = _("событие спора")
        verbose_name_plural = _("события споров")

    def role_label(self) -> str:
        """Staff who act in a dispute's claim are its arbitrators; other staff (a refund confirmed
        by hand) are support."""
        if self.actor_role == Role.STAFF and self.kind in ARBITRATOR_KINDS:
            return str(ROLE_LABELS[Role.ARBITRATOR])
        return super().role_label()


# What only an arbitrator does to a dispute (disputes/claims.py).
ARBITRATOR_KINDS = frozenset(
    {
        DisputeEvent.Kind.CLAIM_TAKEN,
        DisputeEvent.Kind.EVIDENCE_REQUESTED,
        DisputeEvent.Kind.EVIDENCE_CLOSED,
        DisputeEvent.Kind.RECLASSIFIED,
        DisputeEvent.Kind.DECIDED,
        DisputeEvent.Kind.APPEAL_DECIDED,
    }
)


class Winner(models.TextChoices):
    BUYER = "buyer", _("в пользу покупателя")
    SELLER = "seller", _("в пользу продавца")
    SPLIT = "split", _("частично в пользу покупателя")


class Claim(models.Model):
    """A dispute under arbitration: its stage, who handles it, and its deadlines.

    The dispute stays "claim" while the claim runs; when the decision becomes final the
    dispute moves on (refund, return of the item, or closed).
    """

    class Stage(models.TextChoices):
        PROCESSING = "processing", _("Передана арбитру")
        AWAITING_PARTIES = "awaiting_parties", _("Арбитр ждёт доказательства")
        INVESTIGATION = "investigation", _("Арбитр изучает доказательства")
        DECIDED = "decided", _("Решение принято, можно обжаловать")
        APPEAL = "appeal", _("Апелляция на рассмотрении")
        FINAL = "final", _("Решение окончательное")

    dispute = models.OneToOneField(Dispute, on_delete=models.PROTECT, related_name="claim", verbose_name=_("спор"))
    # Indexed for the arbitrators' queue: its row count (filtered by stage) reads only the index.
    stage = models.CharField(_("этап"), max_length=20, choices=Stage.choices, default=Stage.PROCESSING, db_index=True)
    opened_at = models.DateTimeField(_("открыта"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_claims",
        verbose_name=_("арбитр"),
    )
    assigned_at = models.DateTimeField(_("взята в работу"), null=True, blank=True)
    # Deadlines, each swept: flagged after CLAIM_DECISION_FLAG_DAYS without a decision, overdue
    # after CLAIM_DECISION_OVERDUE_DAYS, an evidence request's answer, the appeal window.
    flag_due_at = models.DateTimeField(
        _("отметить «долго без решения» в"), null=True, blank=True, db_index=True, editable=False
    )
    overdue_due_at = models.DateTimeField(
        _("станет просроченной в"), null=True, blank=True, db_index=True, editable=False
    )
    evidence_due_at = models.DateTimeField(_("доказательства до"), null=True, blank=True, db_index=True)
    appeal_due_at = models.DateTimeField(_("обжаловать до"), null=True, blank=True, db_index=True)
    flagged_at = models.DateTimeField(_("долго без решения с"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("просрочена с"), null=True, blank=True)
    final_at = models.DateTimeField(_("решение окончательное с"), null=True, blank=True)
    # The nearest date that matters at this stage, kept with every save: the queue's order.
    next_due_at = models.DateTimeField(_("ближайший срок"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("изменена"), auto_now=True)
    get_stage_display = choice_label("stage")

    class Meta:
        verbose_name = _("претензия")
        verbose_name_plural = _("претензии")
        ordering = ["opened_at", "pk"]
        permissions = [("decide_claim", _("Может принимать решения по претензиям и апелляциям"))]
        indexes = [
            models.Index(fields=["next_due_at", "opened_at"], name="claim_queue_idx"),
            # The queue's default page (undecided claims, rules.UNDECIDED, in its order): read from
            # the index in order and stopped after a page, instead of skipping the decided claims
            # that sort first (1,500 of them on the bench data). The stages are written out here,
            # where Claim.Stage is not in scope; tests/test_admin_claim_kept.py checks they match.
            models.Index(
                fields=["next_due_at", "opened_at", "id"],
                condition=models.Q(stage__in=["processing", "awaiting_parties", "investigation"]),
                name="claim_undecided_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Спор №%(number)s: %(stage)s") % {"number": self.dispute_id, "stage": self.get_stage_display()})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.next_due_at = self.nearest_due()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "next_due_at"}
        super().save(*args, **kwargs)

    def nearest_due(self) -> "datetime | None":
        if self.stage == self.Stage.AWAITING_PARTIES:
            return self.evidence_due_at
        if self.stage == self.Stage.DECIDED:
            return self.appeal_due_at
        if self.stage in (self.Stage.PROCESSING, self.Stage.INVESTIGATION):
            return self.flag_due_at or self.overdue_due_at
        return None


class Decision(models.Model):
    """An arbitrator's decision on a claim. Never edited: a mistake is corrected only by the
    decision on an appeal, which is a second row and final."""

    class Kind(models.TextChoices):
        FIRST = "first", _("решение")
        APPEAL = "appeal", _("решение по апелляции")

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("претензия"))
    kind = models.CharField(_("вид"), max_length=8, choices=Kind.choices)
    winner = models.CharField(_("решение"), max_length=8, choices=Winner.choices)
    amount = models.DecimalField(_("сумма возврата"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("валюта"), max_length=3)
    return_required = models.BooleanField(_("товар вернуть продавцу"), default=False)
    reason = models.TextField(_("обоснование"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("арбитр")
    )
    decided_at = models.DateTimeField(_("принято"))
    # The arbitration policy's reading when the decision was taken (disputes/policy.py): the rule
    # it recommended, whether the arbitrator followed it (null: no recommendation), and, if not, why.
    recommended_rule = models.CharField(_("рекомендовало правило"), max_length=40, blank=True, db_default="")
    followed_recommendation = models.BooleanField(_("по рекомендации"), null=True, blank=True)
    deviation_reason = models.TextField(_("почему не по рекомендации"), blank=True, db_default="")
    get_kind_display = choice_label("kind")
    get_winner_display = choice_label("winner")

    class Meta:
        verbose_name = _("решение по претензии")
        verbose_name_plural = _("решения по претензиям")
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "kind"], name="one_decision_of_each_kind_per_claim"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="decision_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.get_winner_display()}"


class Appeal(models.Model):
    """The one appeal a claim may have, filed by either party within the appeal window."""

    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="appeal", verbose_name=_("претензия"))
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("подал")
    )
    role = models.CharField(_("сторона"), max_length=8, choices=Offer.Role.choices)
    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="appeal")
    filed_at = models.DateTimeField(_("подана"))
    get_role_display = choice_label("role")

    class Meta:
        verbose_name = _("апелляция")
        verbose_name_plural = _("апелляции")

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.get_role_display()}"


class EvidenceRequest(models.Model):
    """An arbitrator asks one or both parties for more evidence by a deadline."""

    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="evidence_requests", verbose_name=_("претензия")
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("арбитр")
    )
    of_buyer = models.BooleanField(_("у покупателя"), default=False)
    of_seller = models.BooleanField(_("у продавца"), default=False)
    text = models.TextField(_("что нужно прислать"), max_length=4000)
    due_at = models.DateTimeField(_("ответить до"))
    created_at = models.DateTimeField(_("запрошено"))
    buyer_answered_at = models.DateTimeField(_("покупатель ответил"), null=True, blank=True)
    seller_answered_at = models.DateTimeField(_("продавец ответил"), null=True, blank=True)
    closed_at = models.DateTimeField(_("закрыт"), null=True, blank=True)

    class Meta:
        verbose_name = _("запрос доказательств")
        verbose_name_plural = _("запросы доказательств")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(of_buyer=True) | models.Q(of_seller=True), name="asks_someone"),
            models.UniqueConstraint(
                fields=["claim"], condition=models.Q(closed_at__isnull=True), name="one_open_evidence_request"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.text[:40]}"


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


class PolicyRuleSwitch(models.Model):
    """A rule of the arbitration policy switched off or back on: who, when and why. The latest row
    of a rule is its state; a rule without rows is on."""

    rule = models.CharField(_("правило"), max_length=40, db_index=True)
    enabled = models.BooleanField(_("включено"))
    reason = models.TextField(_("почему"), max_length=1000)
    switched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("кто")
    )
    switched_at = models.DateTimeField(_("когда"))

    class Meta:
        verbose_name = _("переключение правила")
        verbose_name_plural = _("переключения правил")
        ordering = ["-switched_at", "-pk"]
        permissions = [("switch_policy_rule", _("Может выключать и включать правила рекомендаций"))]

    def __str__(self) -> str:
        return f"{self.rule}: {'on' if self.enabled else 'off'}"
