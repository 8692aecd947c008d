"""Staff rights on the site come from permissions given to groups (accounts/roles.py): reading a
dispute (view_dispute), reading its files (view_attachment) and writing into it (add_message)."""

import pytest
from django.core import mail
from django.urls import reverse

from disputes.models import Message

from .disputes_helpers import open_dispute, png_file, store_upload
from .factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispute_with_photo(order, buyer):
    dispute = open_dispute(order)
    photo = store_upload(buyer, png_file())
    from disputes import services

    services.message_post(dispute=dispute, user=buyer, text="Фото", attachment_ids=[photo.pk])
    return dispute, photo


def _page(client, dispute):
    return client.get(reverse("disputes:detail", args=[dispute.pk]))


def _post_message(client, dispute):
    return client.post(reverse("disputes:message_create", args=[dispute.pk]), {"text": "Пришлите видео распаковки"})


def test_support_reads_a_dispute_but_not_its_files_and_cannot_write_into_it(
    client, dispute_with_photo, support_user, django_capture_on_commit_callbacks
):
    dispute, photo = dispute_with_photo
    client.force_login(support_user)
    page = _page(client, dispute)
    assert page.status_code == 200
    assert 'name="text"' not in page.content.decode()  # no message form is offered
    assert client.get(reverse("disputes:attachment", args=[photo.token])).status_code == 404
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("disputes:message_create", args=[dispute.pk]), {"text": "Пришлите видео"}, follow=True
        )
    assert "Это не ваш спор" in response.content.decode()
    assert not Message.objects.filter(author=support_user).exists()
    assert mail.outbox == []


def test_an_arbitrator_reads_the_files_and_writes_to_both_parties(
    client, dispute_with_photo, arbitrator_user, django_capture_on_commit_callbacks
):
    dispute, photo = dispute_with_photo
    client.force_login(arbitrator_user)
    assert 'name="text"' in _page(client, dispute).content.decode()
    assert client.get(reverse("disputes:attachment", args=[photo.token])).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _post_message(client, dispute)
    assert Message.objects.filter(author=arbitrator_user, text="Пришлите видео распаковки").exists()
    assert sorted(message.to[0] for message in mail.outbox) == sorted([dispute.buyer.email, dispute.store.owner.email])


def test_staff_without_a_group_sees_nothing(client, dispute_with_photo):
    dispute, photo = dispute_with_photo
    client.force_login(StaffFactory())
    assert _page(client, dispute).status_code == 404
    assert client.get(reverse("disputes:attachment", args=[photo.token])).status_code == 404
    assert _post_message(client, dispute).status_code == 404
    assert client.get(reverse("orders:detail", args=[dispute.order.number])).status_code == 404
