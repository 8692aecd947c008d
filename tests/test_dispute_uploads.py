import io

import pytest
from django.urls import reverse
from PIL import Image

from disputes import services
from disputes.models import Attachment

from .disputes_helpers import (
    decompression_bomb,
    html_as_jpeg,
    jpeg_with_gps,
    mp4_file,
    open_dispute,
    pdf_file,
    png_file,
    store_upload,
    stored_files,
    svg_file,
    truncated_jpeg,
)
from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (html_as_jpeg, "Это не картинка"),
        (svg_file, "Такой файл не подходит"),
        (decompression_bomb, "слишком большая в пикселях"),
        (truncated_jpeg, "повреждён"),
        (lambda: pdf_file(catalog=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "скрипты"),
    ],
    ids=["html-named-jpg", "svg", "decompression-bomb", "truncated-jpeg", "pdf-with-javascript"],
)
def test_bad_files_are_refused_with_a_reason(buyer, upload, message, settings):
    with pytest.raises(ValueError, match=message):
        store_upload(buyer, upload())
    assert not Attachment.objects.exists()
    assert stored_files() == []


def test_oversized_image_is_refused(buyer, settings):
    settings.UPLOAD_IMAGE_MAX_BYTES = 200
    with pytest.raises(ValueError, match="Файл больше"):
        store_upload(buyer, png_file(size=(300, 300)))


def test_oversized_upload_is_cut_off_while_it_is_received(login, buyer, settings):
    settings.UPLOAD_VIDEO_MAX_BYTES = 1024
    settings.FAQ_IMAGE_MAX_BYTES = 1024
    from .factories import OrderFactory

    dispute = open_dispute(OrderFactory(buyer=buyer))
    response = login(buyer).post(
        reverse("disputes:message_create", args=[dispute.pk]), {"text": "видео", "evidence": [mp4_file(size=50_000)]}
    )
    assert response.status_code == 400
    assert "unboxing.mp4: файл слишком большой" in response.content.decode()
    assert not Attachment.objects.exists()


def test_a_file_named_with_a_path_is_stored_under_a_random_name(buyer):
    attachment = store_upload(buyer, png_file(name="../../x.png"))
    stored_name = str(attachment.file.name)
    assert ".." not in stored_name and "x.png" not in stored_name
    assert stored_name.startswith(f"disputes/{buyer.pk}/")
    assert attachment.display_name == "x.png"


def test_images_are_reencoded_without_location(buyer):
    upload = jpeg_with_gps()
    assert Image.open(io.BytesIO(upload.read())).getexif().get(0x8825)
    attachment = store_upload(buyer, upload)
    with attachment.file.open("rb") as stored:
        image = Image.open(stored)
        assert image.format == "JPEG"
        assert not image.getexif()


def test_video_and_pdf_are_accepted_by_content_whatever_their_name(buyer):
    video = store_upload(buyer, mp4_file(name="clip.txt"))
    pdf = store_upload(buyer, pdf_file(name="scan.jpg"))
    assert (video.kind, video.content_type) == ("video", "video/mp4")
    assert (pdf.kind, pdf.content_type) == ("pdf", "application/pdf")


def _posted_file(buyer, upload):
    from .factories import OrderFactory

    dispute = open_dispute(OrderFactory(buyer=buyer))
    attachment = store_upload(buyer, upload)
    services.message_post(dispute=dispute, user=buyer, text="", attachment_ids=[attachment.pk])
    return dispute, attachment


def test_files_are_served_to_buyer_seller_and_staff_only(client, buyer):
    dispute, attachment = _posted_file(buyer, png_file())
    url = reverse("disputes:attachment", args=[attachment.token])
    for user, status in ((buyer, 200), (dispute.store.owner, 200), (UserFactory(), 404)):
        client.force_login(user)
        assert client.get(url).status_code == status
    client.logout()
    assert client.get(url).status_code == 302


def test_images_are_shown_inline_and_everything_else_downloads(client, buyer):
    _, image = _posted_file(buyer, png_file())
    _, video = _posted_file(buyer, mp4_file())
    client.force_login(buyer)
    image_response = client.get(reverse("disputes:attachment", args=[image.token]))
    video_response = client.get(reverse("disputes:attachment", args=[video.token]))
    assert image_response["Content-Type"] == "image/png"
    assert "attachment" not in image_response.get("Content-Disposition", "")
    assert video_response["Content-Disposition"].startswith("attachment")
    for response in (image_response, video_response):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]


def test_an_unposted_upload_is_visible_only_to_its_owner(client, buyer):
    attachment = store_upload(buyer, png_file())
    client.force_login(UserFactory())
    assert client.get(reverse("disputes:attachment", args=[attachment.token])).status_code == 404


def test_someone_elses_upload_cannot_be_claimed_into_my_message(buyer):
    from .factories import OrderFactory

    stranger_file = store_upload(UserFactory(), png_file())
    dispute = open_dispute(OrderFactory(buyer=buyer))
    message = services.message_post(dispute=dispute, user=buyer, text="моё", attachment_ids=[stranger_file.pk])
    assert message.attachments.count() == 0


def test_an_image_just_over_the_pixel_limit_is_refused(buyer, monkeypatch):
    """Between Pillow's warning and its error: refused all the same."""
    from core import uploads

    monkeypatch.setattr(uploads, "MAX_LOSSLESS_PIXELS", 32 * 24 - 1)
    with pytest.raises(ValueError, match="Картинка слишком большая"):
        store_upload(buyer, png_file(size=(32, 24)))
