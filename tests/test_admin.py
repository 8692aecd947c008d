import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from .factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_every_admin_list_and_change_page_opens(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = False
    client.force_login(StaffFactory(is_superuser=True))
    for model in admin.site._registry:
        if model._meta.app_label not in {"accounts", "orders", "faq", "disputes"}:
            continue
        info = (model._meta.app_label, model._meta.model_name)
        assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200, info
        first = model._default_manager.first()
        if first is not None:
            response = client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            assert response.status_code == 200, info
    assert apps.get_model("disputes", "Dispute").objects.exists()


def test_an_evidence_file_in_admin_opens_through_the_page_that_checks_access(client):
    from django.core.files.storage import default_storage

    from .disputes_helpers import open_dispute, png_file, store_upload
    from .factories import OrderFactory, SellerFactory, UserFactory, arbitrator

    buyer = UserFactory(username="evidence-owner")
    dispute = open_dispute(OrderFactory(buyer=buyer, store=SellerFactory().store))
    attachment = store_upload(buyer, png_file())
    attachment.message = dispute.messages.get()
    attachment.save(update_fields=["message"])
    client.force_login(arbitrator(username="admin-reader"))
    page = client.get(reverse("admin:disputes_attachment_change", args=[attachment.pk])).content.decode()
    view_url = reverse("disputes:attachment", args=[attachment.token])
    assert f'href="{view_url}"' in page
    assert default_storage.url(attachment.file.name) not in page
    assert client.get(view_url).status_code == 200
