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
