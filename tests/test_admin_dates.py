"""Every date and time on admin's lists and pages names its zone: the staff member's own (their
account's time zone), whether Django writes it (list columns, read-only fields) or our templates
and columns do (the claims queue, the claim page, the report page)."""

import html
import re
import zoneinfo
from datetime import datetime

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from .factories import StaffFactory

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "orders", "faq", "disputes", "reports", "core"}
ZONE = "Asia/Vladivostok"
# A time of day; an ISO offset's own "+00:00" is not one.
TIME = re.compile(r"(?<![\d+\-:])\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?![\d:])")
ISO_OFFSET = re.compile(r"[+-]\d\d:\d\d")


def _visible_text(page: str) -> str:
    page = re.sub(r"(?s)<(script|style|textarea|select)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _times_without_zone(text: str, zone_name: str) -> list[str]:
    return [
        text[max(found.start() - 30, 0) : found.end() + 10].strip()
        for found in TIME.finditer(text)
        if not text[found.end() :].lstrip().startswith(zone_name) and not ISO_OFFSET.match(text, found.end())
    ]


@pytest.fixture
def staff_far_east(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = False
    user = StaffFactory(is_superuser=True, username="admin-far-east", time_zone=ZONE)
    client.force_login(user)
    return client


def test_every_time_on_admin_lists_and_pages_names_the_staff_members_zone(staff_far_east):
    client = staff_far_east
    zone_name = datetime.now(zoneinfo.ZoneInfo(ZONE)).strftime("%Z")  # what the format's "T" writes
    assert zone_name == "+10"
    missing: dict[str, list[str]] = {}
    pages = 0
    for model, _model_admin in admin.site._registry.items():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        info = (model._meta.app_label, model._meta.model_name)
        urls = [reverse("admin:{}_{}_changelist".format(*info))]
        if info == ("disputes", "claim"):
            urls[0] += "?decision=all"
        first = model._default_manager.order_by("-pk").first()
        if first is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
        for url in urls:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="ru")
            assert response.status_code == 200, url
            pages += 1
            if found := _times_without_zone(_visible_text(response.content.decode()), zone_name):
                missing[url] = found
    assert pages > 20
    assert missing == {}
