"""Every uploaded file has a lifecycle: counted before anything is stored, deleted with its row,
swept when nothing claimed it. After each request, the files on disk are exactly the rows."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from core import sweeps
from core.errors import ActionRefused
from disputes import services
from disputes.models import Attachment, Message

from .disputes_helpers import mp4_file, png_file, store_upload, stored_files

pytestmark = pytest.mark.django_db


def assert_disk_matches_rows(settings) -> None:
    assert stored_files() == sorted(str(attachment.file.name) for attachment in Attachment.objects.all())


def wizard_url(order, step):
    return reverse("disputes:wizard", args=[order.number, step])


def test_a_message_with_nine_files_is_refused_and_stores_none(login, dispute, buyer, settings):
    response = login(buyer).post(
        reverse("disputes:message_create", args=[dispute.pk]),
        {"text": "видео распаковки", "evidence": [mp4_file(name=f"part{n}.mp4") for n in range(9)]},
    )
    assert response.status_code == 400
    assert "не больше 8 файлов, а выбрано 9" in response.content.decode()
    assert not Attachment.objects.exists()
    assert_disk_matches_rows(settings)


def test_the_wizard_refuses_a_batch_over_the_limit_instead_of_keeping_part_of_it(login, order, buyer, settings):
    client = login(buyer)
    client.post(wizard_url(order, "received"), {"received": "no"})
    client.post(wizard_url(order, "problem"), {"problem": "delivered_not_received"})
    text = "Продавец не дал трек-номер, прошло 40 дней."
    client.post(
        wizard_url(order, "request"),
        {"request_text": text, "evidence": [png_file(f"{n}.png", size=(10 + n, 10)) for n in range(3)]},
    )
    assert Attachment.objects.count() == 3
    response = client.post(
        wizard_url(order, "request"),
        {"request_text": text, "evidence": [png_file(f"x{n}.png", size=(20 + n, 10)) for n in range(50)]},
    )
    assert "не больше 8 файлов, а выбрано 53" in response.content.decode()
    assert Attachment.objects.count() == 3
    assert_disk_matches_rows(settings)


def test_removing_a_file_in_the_wizard_deletes_the_file_too(
    login, order, buyer, settings, django_capture_on_commit_callbacks
):
    client = login(buyer)
    client.post(wizard_url(order, "received"), {"received": "no"})
    client.post(wizard_url(order, "problem"), {"problem": "delivered_not_received"})
    text = "Продавец не дал трек-номер, прошло 40 дней."
    client.post(
        wizard_url(order, "request"),
        {"request_text": text, "evidence": [png_file("a.png"), png_file("b.png", size=(10, 10))]},
    )
    doomed = Attachment.objects.get(display_name="a.png")
    doomed_name = str(doomed.file.name)
    with django_capture_on_commit_callbacks(execute=True):  # files go when the deletion commits
        client.post(wizard_url(order, "request"), {"request_text": text, "remove": [doomed.pk]})
    assert list(Attachment.objects.values_list("display_name", flat=True)) == ["b.png"]
    assert not default_storage.exists(doomed_name)
    assert_disk_matches_rows(settings)


def test_an_offer_refused_by_the_form_stores_no_file(login, dispute, seller, settings):
    response = login(seller).post(
        reverse("disputes:offer_create", args=[dispute.pk]),
        {"refund_type": "partial", "amount": "99", "note": "Скидка", "evidence": [png_file()]},
    )
    assert response.status_code == 400
    assert not Attachment.objects.exists()
    assert_disk_matches_rows(settings)


def test_an_offer_refused_by_the_service_leaves_no_upload(
    login, dispute, seller, settings, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise ActionRefused("Спор уже в другом состоянии: обновите страницу.")

    monkeypatch.setattr(services, "offer_make", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(seller).post(
            reverse("disputes:offer_create", args=[dispute.pk]),
            {"refund_type": "partial", "amount": "5", "note": "Скидка", "evidence": [png_file()]},
            follow=True,
        )
    assert "другом состоянии" in response.content.decode()
    assert not Attachment.objects.exists()
    assert_disk_matches_rows(settings)


def test_a_buyer_who_may_not_offer_yet_stores_nothing(login, dispute, buyer, settings):
    response = login(buyer).post(
        reverse("disputes:offer_create", args=[dispute.pk]),
        {"refund_type": "partial", "amount": "5", "note": "Давайте 5", "evidence": [png_file()]},
        follow=True,
    )
    assert "Дождитесь ответа продавца" in response.content.decode()
    assert not Attachment.objects.exists()
    assert_disk_matches_rows(settings)


def test_a_message_refused_by_the_service_leaves_no_upload(
    login, dispute, buyer, settings, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise ActionRefused("Спор закрыт, новые сообщения не принимаются.")

    monkeypatch.setattr(services, "message_post", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(buyer).post(
            reverse("disputes:message_create", args=[dispute.pk]), {"text": "фото", "evidence": [png_file()]}
        )
    assert "Спор закрыт" in response.content.decode()
    assert not Attachment.objects.exists()
    assert_disk_matches_rows(settings)


def test_a_posted_file_is_kept_and_deleted_with_its_message(
    dispute, buyer, settings, django_capture_on_commit_callbacks
):
    photo = store_upload(buyer, png_file())
    message = services.message_post(dispute=dispute, user=buyer, text="", attachment_ids=[photo.pk])
    assert_disk_matches_rows(settings)
    name = str(photo.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        Message.objects.filter(pk=message.pk).delete()  # the cascade takes the attachment row
    assert not default_storage.exists(name)
    assert_disk_matches_rows(settings)


def test_uploads_nothing_claimed_are_swept_after_a_day(buyer, dispute, settings, django_capture_on_commit_callbacks):
    forgotten = store_upload(buyer, png_file("forgotten.png"))
    kept = store_upload(buyer, png_file("kept.png"))
    services.message_post(dispute=dispute, user=buyer, text="", attachment_ids=[kept.pk])
    day_later = forgotten.uploaded_at + timedelta(hours=24)
    for moment, expected in ((day_later - timedelta(minutes=1), 0), (day_later + timedelta(minutes=1), 1)):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            assert sweeps.run("unclaimed-uploads", timezone.now()).changed == expected
    assert list(Attachment.objects.values_list("display_name", flat=True)) == ["kept.png"]
    assert_disk_matches_rows(settings)


def test_unclaimed_uploads_have_a_quota_per_user(login, dispute, buyer, settings):
    settings.UPLOAD_UNCLAIMED_QUOTA_BYTES = 1024
    store_upload(buyer, png_file(size=(200, 200)))
    with pytest.raises(ActionRefused, match="Неотправленных файлов набралось больше"):
        store_upload(buyer, png_file(size=(300, 300)))
    assert Attachment.objects.count() == 1
    assert_disk_matches_rows(settings)


def test_uploads_are_limited_per_user_per_hour(dispute, buyer, settings):
    settings.UPLOAD_RATE_FILES_PER_HOUR = 2
    store_upload(buyer, png_file("1.png"))
    store_upload(buyer, png_file("2.png"))
    with pytest.raises(ActionRefused, match="слишком много файлов за час"):
        store_upload(buyer, png_file("3.png"))
    assert Attachment.objects.count() == 2
