"""The lifecycle of uploaded files: checked before anything is stored, stored under random
names, deleted with their row, and swept when nothing claimed them within a day."""

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Sum
from django.db.models.fields.files import FieldFile
from django.db.models.signals import post_delete
from django.http import FileResponse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .errors import ActionRefused
from .models import StoredFile
from .rules import Rulebook
from .storage import STORAGE_ERRORS, StorageUnavailable, open_for_streaming
from .sweeps import DeadlineSweep, register_deadlines
from .throttle import Throttle, minutes_to_wait
from .uploads import CleanFile, ImageBatch, UploadLimits, inspect_evidence

logger = logging.getLogger(__name__)

STREAM_BLOCK_BYTES = 64 * 1024


def upload_models() -> list[type[StoredFile]]:
    """Every concrete model of uploaded evidence, whichever app it belongs to."""
    return [model for model in apps.get_models() if issubclass(model, StoredFile)]


def upload_limits() -> UploadLimits:
    return UploadLimits(
        image_bytes=settings.UPLOAD_IMAGE_MAX_BYTES,
        video_bytes=settings.UPLOAD_VIDEO_MAX_BYTES,
        pdf_bytes=settings.UPLOAD_PDF_MAX_BYTES,
    )


def upload_rate() -> Throttle:
    return Throttle("uploads", settings.UPLOAD_RATE_FILES_PER_HOUR, 3600)


def unclaimed_bytes(owner_id: int) -> int:
    """What a user has stored that no message or report has taken yet, over every upload model."""
    total = 0
    for model in upload_models():
        total += (
            model._default_manager.filter(model.unclaimed(), owner_id=owner_id).aggregate(total=Sum("size"))["total"]
            or 0
        )
    return total


@dataclass
class StoredUploads:
    stored: list[Any] = field(default_factory=list)
    # One message per refused file, "name: why", for the form field.
    errors: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [item.pk for item in self.stored]


def _display_name(uploaded: UploadedFile) -> str:
    name = (uploaded.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return get_valid_filename(name)[:100] or "file"


def upload_display_name(uploaded: UploadedFile) -> str:
    """The name a stored upload is shown under (StoredFile.display_name), from the uploaded file."""
    return _display_name(uploaded)


def uploads_store(
    *,
    model: type[StoredFile],
    owner_id: int,
    files: Sequence[UploadedFile],
    too_large: Sequence[str] = (),
    already_kept: int = 0,
) -> StoredUploads:
    """Check a form's files and store the good ones for their owner until a message takes them.

    The whole batch is refused (ActionRefused, nothing stored) when it has more files than a
    message may carry, when the owner uploaded too many files this hour, or when it would pass
    the owner's quota of unclaimed bytes. Otherwise each bad file gets its own message and the
    good ones are stored. `too_large` are names the upload handler already cut off.

    Called outside any transaction (views are not atomic): each row must be committed before its
    object is written (_store_checked). A storage that fails refuses the batch (ActionRefused).
    """
    chosen = len(files) + len(too_large)
    limit = settings.UPLOAD_MAX_FILES
    if already_kept + chosen > limit:
        raise ActionRefused(
            ngettext(
                "К одному сообщению можно приложить не больше %(limit)d файла, а выбрано %(chosen)d.",
                "К одному сообщению можно приложить не больше %(limit)d файлов, а выбрано %(chosen)d.",
                limit,
            )
            % {"limit": limit, "chosen": already_kept + chosen}
        )
    result = StoredUploads(errors=[_("%(name)s: файл слишком большой.") % {"name": name} for name in too_large])
    if not files:
        return result
    rate = upload_rate()
    if wait := rate.retry_after(str(owner_id)):
        raise ActionRefused(
            _("Вы загрузили слишком много файлов за час. Попробуйте снова через %(minutes)d мин.")
            % {"minutes": minutes_to_wait(wait)}
        )
    quota = settings.UPLOAD_UNCLAIMED_QUOTA_BYTES
    if unclaimed_bytes(owner_id) + sum(uploaded.size or 0 for uploaded in files) > quota:
        raise ActionRefused(
            _(
                "Неотправленных файлов набралось больше %(limit)d МБ. Отправьте или уберите уже загруженные файлы "
                "и попробуйте снова."
            )
            % {"limit": quota // (1024 * 1024)}
        )
    limits = upload_limits()
    checked: list[tuple[str, CleanFile]] = []
    with ImageBatch() as images:
        for uploaded in files:
            rate.hit(str(owner_id))
            name = _display_name(uploaded)
            try:
                checked.append((name, inspect_evidence(uploaded, limits=limits, images=images)))
            except ValidationError as error:
                result.errors.extend(f"{name}: {message}" for message in error.messages)
    # Stored once every file is checked: the request holds no image slot while it waits for the storage.
    for name, clean in checked:
        try:
            result.stored.append(_store_checked(model, owner_id=owner_id, display_name=name, clean=clean))
        except StorageUnavailable:
            # The rows of this batch stay, unclaimed: the sweep deletes them and whatever of their
            # objects was written, once the storage answers again.
            raise ActionRefused(
                _(
                    "Сейчас не получается сохранить файлы. Ваш текст остался в форме: отправьте его без файлов "
                    "или попробуйте ещё раз через несколько минут."
                )
            ) from None
    return result


def _store_checked(model: type[StoredFile], *, owner_id: int, display_name: str, clean: CleanFile) -> StoredFile:
    """A checked file's row, then its object. The row is committed first: a request that dies
    before or while the object is written leaves an unclaimed row, which the unclaimed-uploads
    sweep deletes together with whatever of the object was written. The other order left an
    object no row pointed to, which nothing would ever delete.

    Raises StorageUnavailable when the storage fails; the row stays for the sweep."""
    token = secrets.token_hex(16)
    item = model(
        owner_id=owner_id,
        token=token,
        kind=clean.kind,
        content_type=clean.content_type,
        extension=clean.extension,
        display_name=display_name,
        size=clean.size,
        width=clean.width,
        height=clean.height,
    )
    file_field = item.file.field
    item.file.name = file_field.generate_filename(item, f"{token}.{clean.extension}")
    item.save()
    try:
        written = item.file.storage.save(item.file.name, cast(File, clean.content), max_length=file_field.max_length)
    except STORAGE_ERRORS as error:
        logger.error("upload storage failed for %s %s: %r", model._meta.label, item.pk, error)
        raise StorageUnavailable from error
    if written != item.file.name:  # the storage picked another name (never seen: the names are random)
        item.file.name = written
        item.save(update_fields=["file"])
    return item


def attachment_discard(*, attachment: StoredFile) -> None:
    """Delete an uploaded file and its row together."""
    attachment.delete()


def attachments_discard_unclaimed(*, model: type[StoredFile], owner_id: int, ids: list[int]) -> int:
    """Delete those of `ids` that are still the owner's and unclaimed (a refused form, "убрать")."""
    doomed = list(model._default_manager.filter(model.unclaimed(), owner_id=owner_id, pk__in=ids))
    for item in doomed:
        attachment_discard(attachment=item)
    return len(doomed)


def _delete_stored_file(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    # Django deletes rows, never their files. The file goes once the deletion is committed, so a
    # rolled-back delete keeps it; this also covers rows deleted by a cascade.
    for model_field in instance._meta.concrete_fields:
        if isinstance(model_field, models.FileField):
            stored = getattr(instance, model_field.attname)
            if stored and stored.name:
                storage, name = stored.storage, stored.name
                transaction.on_commit(partial(storage.delete, name), robust=True)


def files_follow_rows(model: type[models.Model]) -> None:
    """Delete a model's stored files whenever its rows are deleted (any FileField or ImageField)."""
    post_delete.connect(_delete_stored_file, sender=model, dispatch_uid=f"files_follow_rows:{model._meta.label}")


def upload_discard_unclaimed(*, upload: StoredFile, now: datetime) -> bool:
    """Delete an upload nothing claimed in time, file and row; the sweep hands it over locked, picked
    by the deadline's own condition (unclaimed, uploaded before the cutoff), and a message or a
    report that claims it at the same moment waits for the lock and then finds nothing to claim."""
    # The object first, while the row is locked: should the storage fail, the row stays and the next
    # run tries again, instead of a deleted row leaving its object behind. A row whose object was
    # never written (its request died first) deletes cleanly: deleting a missing object is no error.
    if upload.file.name:
        upload.file.storage.delete(upload.file.name)
    attachment_discard(attachment=upload)
    return True


# Uploads have one deadline, a day unclaimed (core.rules' shape, over every app's upload model).
uploads = Rulebook[StoredFile, None]("upload", no_facts=None).deadline(
    "discard_unclaimed",
    "uploaded_at",
    lambda: [model._default_manager.filter(model.unclaimed()) for model in upload_models()],
    after=lambda: timedelta(hours=settings.UPLOAD_UNCLAIMED_HOURS),
)
register_deadlines(
    uploads,
    DeadlineSweep(
        "unclaimed-uploads",
        "discard_unclaimed",
        upload_discard_unclaimed,
        "upload",
        "загруженные файлы, которые никто не отправил за сутки, удаляются",
        related=(),  # the service gets the row the sweep locked
    ),
)


def streamed_file_response(stored: FieldFile, **options: Any) -> FileResponse:
    """A FileResponse that reads the stored file in blocks as it is sent, from the disk or the bucket."""
    body, length = open_for_streaming(stored)
    response = FileResponse(body, **options)
    # FileResponse finds a file's length on disk, not in a network stream.
    if length is not None:
        response["Content-Length"] = str(length)
    # Fewer, larger reads from the bucket than FileResponse's default 4 KB.
    response.block_size = STREAM_BLOCK_BYTES
    return response


def stored_file_response(item: StoredFile, *, filename: str | None = None) -> FileResponse:
    """Send a stored file to someone already allowed to see it: images inline, everything else as
    a download, never sniffed, in a sandbox. `filename` replaces the uploaded name where it must not
    be shown (a reporter's file seen by the party it reports)."""
    response = streamed_file_response(
        item.file,
        content_type=item.content_type,
        as_attachment=item.kind != StoredFile.Kind.IMAGE,
        filename=filename or item.display_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
