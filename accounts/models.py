from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

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

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")

    @property
    def is_seller(self) -> bool:
        return self.role == self.Role.SELLER

    @property
    def is_buyer(self) -> bool:
        return self.role == self.Role.BUYER


class Store(models.Model):
    owner = models.OneToOneField(User, on_delete=models.PROTECT, related_name="store", verbose_name=_("владелец"))
    name = models.CharField(_("название магазина"), max_length=120, unique=True)
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
        SENT = "sent", _("отправлено")
        FAILED = "failed", _("не отправлено")

    recipient = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_address = models.EmailField()
    subject = models.CharField(max_length=255)
    body = models.TextField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SERVICE)
    # One e-mail per fact: a sweep that runs twice finds the key taken and sends nothing more.
    dedupe_key = models.CharField(max_length=160, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("письмо")
        verbose_name_plural = _("исходящие письма")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="outbox_pending_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.to_address}: {self.subject}"
