from typing import Any, ClassVar, Self

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import StoredFile, TimelineEvent, choice_label
from core.rules import Role

# Zones offered in settings: Russia's own zones first (most buyers), then a few neighbours.
TIME_ZONE_CHOICES = [
    ("Europe/Kaliningrad", _("Калининград (UTC+2)")),
    ("Europe/Moscow", _("Москва (UTC+3)")),
    ("Europe/Samara", _("Самара (UTC+4)")),
    ("Asia/Yekaterinburg", _("Екатеринбург (UTC+5)")),
    ("Asia/Omsk", _("Омск (UTC+6)")),
    ("Asia/Novosibirsk", _("Новосибирск (UTC+7)")),
    ("Asia/Krasnoyarsk", _("Красноярск (UTC+7)")),
    ("Asia/Irkutsk", _("Иркутск (UTC+8)")),
    ("Asia/Yakutsk", _("Якутск (UTC+9)")),
    ("Asia/Vladivostok", _("Владивосток (UTC+10)")),
    ("Asia/Magadan", _("Магадан (UTC+11)")),
    ("Asia/Kamchatka", _("Камчатка (UTC+12)")),
    ("Europe/Minsk", _("Минск (UTC+3)")),
    ("Asia/Almaty", _("Алматы (UTC+5)")),
    ("Europe/Kyiv", _("Киев (UTC+2/+3)")),
    ("Asia/Shanghai", _("Пекин (UTC+8)")),
    ("UTC", _("UTC")),
]


class BlockReason(models.TextChoices):
    FRAUD = "fraud", _("Мошенничество с заказами или возвратами")
    DISPUTE_ABUSE = "dispute_abuse", _("Злоупотребление спорами: заведомо ложные требования")
    COUNTERFEIT = "counterfeit", _("Продажа подделок или запрещённых товаров")
    OFF_PLATFORM = "off_platform", _("Попытки увести покупателей на оплату вне площадки")
    SPAM = "spam", _("Спам, фишинг или рассылка вредоносных ссылок")
    SECURITY = "security", _("Подозрение на взлом: аккаунт защищён до проверки")
    OTHER = "other", _("Другое нарушение правил (подробности в пояснении)")


class User(AbstractUser):
    class Role(models.TextChoices):
        BUYER = "buyer", _("Покупатель")
        SELLER = "seller", _("Продавец")

    role = models.CharField(_("роль"), max_length=16, choices=Role.choices, default=Role.BUYER)
    time_zone = models.CharField(_("часовой пояс"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/Moscow")
    preferred_language = models.CharField(
        _("язык писем"),
        max_length=8,
        choices=[("ru", _("Русский")), ("en", _("English"))],
        default="ru",
    )
    # Service mail (disputes, deadlines, decisions) is not a preference: it always goes out.
    marketing_emails = models.BooleanField(
        _("рекламные письма"),
        default=False,
        help_text=_("Акции, подборки и новости. Письма о заказах и спорах приходят всегда."),
    )

    # Only staff block an account (accounts/blocking.py); the user can still sign in, read the
    # reason and appeal. The reason is a code with words the user reads, and staff's own note.
    blocked_at = models.DateTimeField(_("заблокирован"), null=True, blank=True, editable=False)
    block_reason = models.CharField(
        _("причина блокировки"), max_length=24, choices=BlockReason.choices, blank=True, editable=False
    )
    block_note = models.TextField(_("пояснение для пользователя"), blank=True, editable=False)
    # The account's id on the marketplace beside this help centre: the order feed finds the buyer or
    # seller by it, and signing in with the marketplace account (OpenID Connect, its `sub`) too.
    marketplace_id = models.CharField(
        _("номер аккаунта на площадке"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    get_role_display = choice_label("role")
    get_block_reason_display = choice_label("block_reason")

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")
        permissions = [
            ("block_user", _("Может блокировать и разблокировать пользователей")),
            # Staff are the people who decide claims and keep deadlines moving: blocking one of
            # them takes this right as well (accounts/rules.py).
            ("block_staff", _("Может блокировать и разблокировать сотрудников")),
        ]

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None

    @property
    def is_seller(self) -> bool:
        return self.role == self.Role.SELLER

    @property
    def is_buyer(self) -> bool:
        return self.role == self.Role.BUYER

    def own_store(self) -> "Store | None":
        """The store this account sells from, if any. Only sellers have one, so for everyone
        else the answer costs no query (pages that show or filter by it are read by buyers)."""
        if not self.is_seller:
            return None
        return getattr(self, "store", None)

    def party_filter(self, *, buyer: str, store: str) -> models.Q:
        """The rows this account is a party to: as their buyer (the `buyer` lookup) or as their
        seller, through the store it owns (the `store` lookup). The one "buyer or seller" filter of
        the models the two share (orders, disputes, their files); for a buyer it costs no query."""
        condition = models.Q(**{buyer: self})
        if own := self.own_store():
            condition |= models.Q(**{store: own})
        return condition


class BuyerSellerQuerySet[M: models.Model](models.QuerySet[M]):
    """Rows between a buyer and a store (orders, disputes): whose they are and who may see them,
    the one filter every list, page and selector scopes them by."""

    # Staff with this permission see every row.
    staff_permission: ClassVar[str]

    def as_buyer(self, user: User) -> Self:
        return self.filter(buyer=user)

    def as_seller(self, user: User) -> Self:
        # By the store's owner: a seller's list needs no store lookup first.
        return self.filter(store__owner=user)

    def visible_to(self, user: User) -> Self:
        """The rows `user` may open: as the buyer, as the seller, or all of them for staff with
        `staff_permission`. Anyone else finds nothing, so a page answers 404 as for a missing row."""
        if user.has_perm(self.staff_permission):
            return self.all()
        return self.filter(user.party_filter(buyer="buyer", store="store"))


class Store(models.Model):
    owner = models.OneToOneField(User, on_delete=models.PROTECT, related_name="store", verbose_name=_("владелец"))
    name = models.CharField(_("название магазина"), max_length=120, unique=True)
    # Where buyers send items back; a resolution with a return needs it (disputes/rules.py).
    return_address = models.TextField(_("адрес для возвратов"), blank=True, max_length=1000)
    return_instructions = models.TextField(_("как отправить возврат"), blank=True, max_length=1000)
    # The store's id on the marketplace (the order feed finds the store by it).
    marketplace_id = models.CharField(
        _("номер магазина на площадке"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("магазин")
        verbose_name_plural = _("магазины")

    def __str__(self) -> str:
        return self.name


class OutgoingEmail(models.Model):
    """The outbox: every e-mail is a row first, so a broker outage delays mail but loses none."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("служебное")
        MARKETING = "marketing", _("рекламное")

    class Status(models.TextChoices):
        PENDING = "pending", _("ждёт отправки")
        # A worker has it (accounts.emails.email_send) until `lease_expires_at`; after that the
        # outbox sweep may send it again.
        SENDING = "sending", _("отправляется")
        SENT = "sent", _("отправлено")
        FAILED = "failed", _("не отправлено")

    recipient = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_address = models.EmailField()
    # What the mail says is stored as what it is about: the worker that sends it renders
    # emails/<template>_subject.txt and emails/<template>.txt in `language` with `context`
    # (accounts/mail_context.py) and keeps the result in subject and body for admin and audit.
    template = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=8, blank=True)
    context = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SERVICE)
    # One e-mail per fact: a sweep that runs twice finds the key taken and sends nothing more.
    dedupe_key = models.CharField(max_length=160, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    get_kind_display = choice_label("kind")
    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("письмо")
        verbose_name_plural = _("исходящие письма")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="outbox_pending_due_idx",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status="sending"),
                name="outbox_sending_lease_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to_address}: {self.subject or self.template}"


class AccountEvent(TimelineEvent):
    """Staff actions on an account and the user's appeals: who, what, when, old and new values."""

    subject_field = "user"

    class Kind(models.TextChoices):
        BLOCKED = "blocked", _("Аккаунт заблокирован")
        UNBLOCKED = "unblocked", _("Аккаунт разблокирован")
        APPEAL_FILED = "appeal_filed", _("Пользователь обжаловал блокировку")
        APPEAL_REJECTED = "appeal_rejected", _("Блокировка оставлена")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_events", verbose_name=_("аккаунт"))
    kind = models.CharField(_("что произошло"), max_length=16, choices=Kind.choices)
    get_kind_display = choice_label("kind")

    class Meta(TimelineEvent.Meta):
        verbose_name = _("событие аккаунта")
        verbose_name_plural = _("события аккаунтов")

    @classmethod
    def role_of(cls, subject: User, actor: Any) -> Role:
        # The account's own holder acts as what the account is (an appeal); anyone else is staff.
        return Role(subject.role) if actor.pk == subject.pk else Role.STAFF


class AccountAppeal(models.Model):
    """A blocked user's appeal of the block, with evidence; staff unblock or keep the block."""

    class Status(models.TextChoices):
        PENDING = "pending", _("На рассмотрении")
        UNBLOCKED = "unblocked", _("Аккаунт разблокирован")
        REJECTED = "rejected", _("Блокировка оставлена")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="block_appeals", verbose_name=_("аккаунт"))
    text = models.TextField(_("текст обращения"), max_length=4000)
    status = models.CharField(_("статус"), max_length=12, choices=Status.choices, default=Status.PENDING)
    filed_at = models.DateTimeField(_("подано"))
    answer = models.TextField(_("ответ сотрудника"), blank=True)
    decided_at = models.DateTimeField(_("рассмотрено"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("рассмотрел")
    )
    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("обжалование блокировки")
        verbose_name_plural = _("обжалования блокировок")
        ordering = ["-filed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="one_pending_block_appeal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_status_display()}"


class AccountAppealFileQuerySet(models.QuerySet["AccountAppealFile"]):
    def visible_to(self, user: User) -> Self:
        """An appeal's files are for their owner and staff who may block accounts."""
        return self.all() if user.has_perm("accounts.block_user") else self.filter(owner=user)


class AccountAppealFile(StoredFile):
    """Evidence attached to an appeal of a block."""

    appeal = models.ForeignKey(AccountAppeal, null=True, blank=True, on_delete=models.CASCADE, related_name="files")
    get_kind_display = choice_label("kind")

    upload_folder = "appeals"

    objects = AccountAppealFileQuerySet.as_manager()

    class Meta(StoredFile.Meta):
        verbose_name = _("файл обжалования")
        verbose_name_plural = _("файлы обжалований")

    @classmethod
    def unclaimed(cls) -> models.Q:
        return models.Q(appeal__isnull=True)
