"""Uploads in a private S3 bucket (SeaweedFS, a real server): what lands there, who may read it
through the site, and that the bucket itself answers nobody without a valid signature."""

import time
import urllib.error
import urllib.request
from contextlib import closing
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.storage import PrivateS3Storage, open_for_streaming
from disputes import services
from disputes.models import Attachment, Message

from .disputes_helpers import mp4_file, pdf_file, png_file, store_upload, stored_files
from .factories import OrderItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def fetch(url: str) -> int:
    """The status a browser with no credentials gets from the bucket."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def object_key(storage: PrivateS3Storage, name: str) -> str:
    return f"{storage.location}/{name}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def posted(s3_storage, login, buyer, dispute):
    """A buyer's message with a photo, a video and a PDF, sent through the dispute page."""
    response = login(buyer).post(
        reverse("disputes:message_create", args=[dispute.pk]),
        {"text": "Фото, видео распаковки и акт почты", "evidence": [png_file(), mp4_file(size=300_000), pdf_file()]},
    )
    assert response.status_code == 302
    return {item.kind: item for item in Attachment.objects.filter(message__isnull=False)}


def test_files_sent_with_a_message_are_private_objects_in_the_bucket(s3_server, s3_storage, posted):
    client = s3_server.client()
    assert set(posted) == {"image", "video", "pdf"}
    for item in posted.values():
        key = object_key(s3_storage, item.file.name)
        assert client.head_object(Bucket=s3_server.bucket, Key=key)["ContentLength"] == item.size
        assert fetch(f"{s3_server.endpoint_url}/{s3_server.bucket}/{key}") == 403
    assert stored_files() == sorted(item.file.name for item in posted.values())


def test_both_parties_read_the_files_through_the_site_streamed_from_the_bucket(
    s3_server, s3_storage, posted, client, buyer, dispute
):
    for user in (buyer, dispute.store.owner):
        client.force_login(user)
        for item in posted.values():
            response = client.get(reverse("disputes:attachment", args=[item.token]))
            assert response.status_code == 200
            assert response["Content-Length"] == str(item.size)
            stored = s3_server.client().get_object(Bucket=s3_server.bucket, Key=object_key(s3_storage, item.file.name))
            assert body(response) == stored["Body"].read()
    # Read from the GetObject stream as it is sent, not downloaded whole into the web process first.
    stream, length = open_for_streaming(posted["video"].file)
    with closing(stream):
        assert type(stream).__module__.split(".")[0] == "botocore"
        assert length == posted["video"].size


def test_another_buyer_gets_404_and_a_visitor_is_sent_to_sign_in(s3_storage, posted, client):
    url = reverse("disputes:attachment", args=[posted["image"].token])
    client.logout()
    assert client.get(url).status_code == 302
    assert "/login/" in client.get(url)["Location"]
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


def test_a_signed_link_to_an_object_stops_working_when_it_expires(s3_storage, posted):
    name = posted["pdf"].file.name
    # What the storage signs by default (only Django admin asks it for links) lives two minutes.
    assert parse_qs(urlsplit(s3_storage.url(name)).query)["X-Amz-Expires"] == ["120"]
    link = s3_storage.url(name, expire=1)
    assert fetch(link) == 200
    time.sleep(2.2)
    assert fetch(link) == 403


def test_deleting_the_message_deletes_its_objects(s3_storage, posted, django_capture_on_commit_callbacks):
    names = [item.file.name for item in posted.values()]
    with django_capture_on_commit_callbacks(execute=True):
        Message.objects.filter(pk=posted["image"].message_id).delete()
    assert not Attachment.objects.exists()
    assert not any(s3_storage.exists(name) for name in names)
    assert stored_files() == []


def test_the_unclaimed_uploads_sweep_removes_objects_from_the_bucket(s3_storage, buyer, dispute, run_sweep):
    forgotten = store_upload(buyer, png_file("forgotten.png"))
    kept = store_upload(buyer, png_file("kept.png"))
    services.message_post(dispute=dispute, user=buyer, text="", attachment_ids=[kept.pk])
    assert run_sweep("unclaimed-uploads", forgotten.uploaded_at + timedelta(hours=25)).changed == 1
    assert not s3_storage.exists(forgotten.file.name)
    assert stored_files() == [kept.file.name]


def test_faq_pictures_and_item_photos_are_served_from_the_bucket(s3_storage, client, buyer, order):
    from faq.services import article_image_add

    from .test_faq import make_article, png_bytes

    image = article_image_add(
        article=make_article(status="published"), uploaded=SimpleUploadedFile("a.png", png_bytes((60, 40)))
    )
    assert (image.width, image.height) == (60, 40)
    response = client.get(reverse("faq_image", args=[image.token, "png"]))
    assert response.status_code == 200
    with image.image.open("rb") as stored:
        assert body(response) == stored.read()

    item = OrderItemFactory(order=order)
    item.image.save("item.png", SimpleUploadedFile("item.png", png_bytes()), save=True)
    url = reverse("orders:item_image", args=[order.number, item.pk])
    client.force_login(buyer)
    assert body(client.get(url)) == png_bytes()
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
