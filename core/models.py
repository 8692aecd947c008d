import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import gettext_lazy as _

from .rules import Role


def choice_label(field_name: str) -> Callable[[models.Model], Any]:
    """A model's get_<field_name>_display(), written in its class body after the field:
    `get_status_display = choice_label("status")`. Django adds its own only to a model that
    defines none (django.db.models.Field.contribute_to_class; overriding it is supported since
    Django 3.0, ticket #30931), and this one answers the same: the label in the current language,
    or the value as stored when it has none.

    Django's own builds a dict of the field's choices on every call, hashing each lazy label, which
    translates it: 70-80 microseconds for the 28 kinds of a dispute event (measured here), and a
    dispute page asks it for each message and event. This one looks the label up in a table built
    once per field: about 3 microseconds."""

    def get_display(self: models.Model) -> Any:
        field = self._meta.get_field(field_name)
        value = getattr(self, field_name)
        return force_str(_choice_labels(field).get(make_hashable(value), value), strings_only=True)

    get_display.__name__ = get_display.__qualname__ = f"get_{field_name}_display"
    return get_display


def choice_label_of(model: type[models.Model], field_name: str, value: Any) -> Any:
    """What choice_label(field_name) answers for a row whose field holds `value`, for a value read
    without its model instance (a list read as plain columns)."""
    field = model._meta.get_field(field_name)
    return force_str(_choice_labels(field).get(make_hashable(value), value), strings_only=True)


@functools.cache
def _choice_labels(field: Any) -> dict[Any, Any]:
    # Labels stay lazy: force_str above translates them into the language of each request.
    return dict(make_hashable(field.flatchoices))


def stored_file_path(instance: Any, filename: str) -> str:
    # Never the uploaded name: a random token, grouped by owner, outside the static web root.
    return f"{instance.upload_folder}/{instance.owner_id}/{instance.token}.{instance.extension}"


class StoredFile(models.Model):
    """An uploaded file that passed core.uploads' checks, stored under a random name.

    Each app has its own concrete model (dispute evidence, report evidence) with a link to what
    claims the file. Until a message or report claims it, the file waits for its owner (a form
    with a validation error keeps the files already sent); the unclaimed-uploads sweep deletes
    what nothing claimed within a day. Deleting a row deletes its file (core.files).
    """

    class Kind(models.TextChoices):
        IMAGE = "image", _("картинка")
        VIDEO = "video", _("видео")
        PDF = "pdf", _("PDF")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("загрузил")
    )
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=stored_file_path, max_length=200)
    kind = models.CharField(_("вид"), max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=64)
    extension = models.CharField(max_length=8)
    display_name = models.CharField(_("имя файла"), max_length=120)
    size = models.PositiveBigIntegerField(_("размер, байт"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(_("загружен"), auto_now_add=True, db_index=True)

    # The folder under MEDIA_ROOT for this model's files.
    upload_folder = "uploads"

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.display_name

    @classmethod
    def unclaimed(cls) -> Q:
        """The rows no message or report has taken yet."""
        raise NotImplementedError


class OutgoingWebhook(models.Model):
    """A signed notice to the marketplace (core/webhooks.py): written in the transaction that
    records the fact, posted after commit, retried by a sweep with growing delays until the
    receiver answers 2xx. `event_id` never changes, so a receiver that got it twice (it answered,
    the answer was lost) can tell."""

    class Status(models.TextChoices):
        PENDING = "pending", _("ждёт отправки")
        DELIVERED = "delivered", _("доставлено")
        FAILED = "failed", _("не доставлено, попытки кончились")

    event_id = models.CharField(_("номер события"), max_length=64, unique=True)
    # One fact, one notice: a service that runs twice finds the key taken and queues nothing more.
    dedupe_key = models.CharField(_("ключ факта"), max_length=160, unique=True)
    kind = models.CharField(_("событие"), max_length=40)
    url = models.URLField(_("адрес"), max_length=500)
    payload = models.JSONField(_("содержимое"))
    status = models.CharField(_("статус"), max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("попыток"), default=0)
    next_attempt_at = models.DateTimeField(_("следующая попытка"))
    last_error = models.CharField(_("последняя ошибка"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("создано"))
    delivered_at = models.DateTimeField(_("доставлено"), null=True, blank=True)

    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("уведомление площадке")
        verbose_name_plural = _("уведомления площадке")
        ordering = ["-created_at", "-pk"]
        permissions = [("resend_outgoingwebhook", _("Может отправлять уведомления площадке снова"))]
        indexes = [
            # The retry sweep reads only notices still waiting, by when they are due.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="webhook_pending_due_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


# The words for who acted in a timeline a party reads. Staff who may write appear as support;
# an app whose staff events are arbitrators' says so in its own `role_label()`.
ROLE_LABELS = {
    Role.BUYER: _("Покупатель"),
    Role.SELLER: _("Продавец"),
    Role.REPORTER: _("Заявитель"),
    Role.REPORTED: _("Сторона жалобы"),
    Role.ARBITRATOR: _("Арбитр"),
    Role.STAFF: _("Поддержка"),
    Role.OBSERVER: _("Поддержка"),
    Role.SYSTEM: _("Система"),
}


class TimelineEvent(models.Model):
    """One entry of a timeline and its audit trail: who (the actor and the role they acted in),
    what (a kind and its details) and when.

    Each app's concrete event names what the event is about in `subject_field` (a foreign key it
    declares), redeclares `kind` with its own choices, and says in `role_of()` which role an actor
    plays there. `record()` is the one way to write an event.
    """

    subject_field: ClassVar[str]

    kind = models.CharField(_("что произошло"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("кто"),
    )
    # Kept in the database too, so code from before the column (a deploy in progress) still writes.
    actor_role = models.CharField(_("в роли"), max_length=16, blank=True, db_default="")
    # What changed, for the timeline and the audit: amounts, offers, and for staff actions the
    # old and new values ({"old": ..., "new": ...}).
    details = models.JSONField(_("подробности"), default=dict, blank=True)
    created_at = models.DateTimeField(_("когда"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        kind = self._meta.get_field("kind")
        assert isinstance(kind, models.Field)
        return str(dict(kind.flatchoices).get(self.kind, self.kind))

    def role_label(self) -> str:
        """Who acted, as the parties read it on their pages: the role stored with the event, never
        a login (staff see names on their own screens)."""
        stored = self.actor_role or (Role.SYSTEM if self.actor_id is None else Role.STAFF)
        role = Role(stored) if stored in Role.__members__.values() else Role.STAFF
        return str(ROLE_LABELS.get(role, ROLE_LABELS[Role.STAFF]))

    @classmethod
    def role_of(cls, subject: Any, actor: Any) -> Role:
        """The role `actor` (never None) plays in `subject`; read only what the caller has loaded."""
        raise NotImplementedError

    @classmethod
    def record(cls, subject: Any, kind: str, actor: Any, at: datetime | None = None, /, **details: Any) -> Self:
        """Write the event: `kind` happened to `subject`, done by `actor` (None for the system) at
        `at` (now by default), with `details` for the timeline and the audit."""
        role = Role.SYSTEM if actor is None else cls.role_of(subject, actor)
        return cls._default_manager.create(
            **{cls.subject_field: subject},
            kind=kind,
            actor=actor,
            actor_role=role,
            details=details,
            created_at=at or timezone.now(),
        )


class BuyerSellerEvent(TimelineEvent):
    """A timeline of something between a buyer and a store (an order, a dispute): the subject has
    `buyer_id` and `store`, and whoever is neither acted as staff."""

    class Meta(TimelineEvent.Meta):
        abstract = True

    @classmethod
    def role_of(cls, subject: Any, actor: Any) -> Role:
        if actor.pk == subject.buyer_id:
            return Role.BUYER
        # Only a seller's account owns a store: buyers and staff cost no store lookup.
        if actor.is_seller and actor.pk == subject.store.owner_id:
            return Role.SELLER
        return Role.STAFF
