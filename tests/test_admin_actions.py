"""Staff screens in admin run their services one way (core.admin_actions.AdminActionsMixin): every
button and form address is behind a Django permission, not `is_staff`; anything but a POST goes
back to the page; a refusal is said on the page or next to the form that keeps what was typed.
The admin code stays small: no module over 300 lines, no hand-written `except ActionRefused`, no
`# type: ignore` on request.user."""

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import URLPattern, reverse

from disputes.models import Claim
from reports.models import Report

from .disputes_helpers import escalate, open_dispute
from .factories import StaffFactory, arbitrator, support_agent

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "core", "disputes", "faq", "orders", "reports")
DJANGO_SCREENS = {"changelist", "add", "change", "delete", "history", "autocomplete", "password_change"}


def staff_action_patterns() -> list[URLPattern]:
    """The addresses project model admins add to Django's own screens."""
    found = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in APPS:
            continue
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        for pattern in model_admin.get_urls():
            name = pattern.name if isinstance(pattern, URLPattern) else None
            if name and name.removeprefix(prefix) not in DJANGO_SCREENS:
                found.append(pattern)
    return found


def test_the_staff_actions_are_found():
    names = {pattern.name for pattern in staff_action_patterns()}
    assert {
        "disputes_claim_take",
        "disputes_claim_decide_appeal",
        "disputes_store_record",
        "reports_report_close",
        "accounts_user_block",
        "accounts_accountappeal_answer",
        "faq_help_gaps",
    } <= names


@pytest.mark.parametrize("pattern", staff_action_patterns(), ids=lambda pattern: pattern.name)
def test_staff_without_the_permission_get_403_from_every_staff_action(client, pattern):
    """Signed in to admin (is_staff) but in no group: every button, form and page an admin adds
    answers 403, whatever the method, before it looks for the row."""
    client.force_login(StaffFactory(username="staff-without-groups"))
    url = reverse(f"admin:{pattern.name}", kwargs=dict.fromkeys(pattern.pattern.converters, 1))
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "spam", "decision": "unblock", "winner": "seller"}).status_code == 403


def test_a_button_address_opened_by_link_goes_back_to_the_page_and_changes_nothing(client, order):
    dispute = escalate(open_dispute(order))
    claim = dispute.claim
    client.force_login(arbitrator(username="olga"))
    response = client.get(reverse("admin:disputes_claim_take", args=[claim.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:disputes_claim_change", args=[claim.pk])
    assert Claim.objects.get(pk=claim.pk).assigned_to is None


def test_a_refused_button_is_said_on_the_page_it_returns_to(client, order):
    dispute = escalate(open_dispute(order))
    olga = arbitrator(username="olga")
    client.force_login(olga)
    take = reverse("admin:disputes_claim_take", args=[dispute.claim.pk])
    client.post(take)
    page = client.post(take, follow=True).content.decode()
    assert '<li class="error">Претензия уже у вас.</li>' in page
    assert Claim.objects.get(pk=dispute.claim.pk).assigned_to == olga


def test_a_refused_report_decision_is_said_on_its_form_which_keeps_what_was_typed(client, order, buyer):
    from .test_reports import file_report, item_link

    report = file_report(buyer, order=order, link=item_link(order))
    client.force_login(support_agent(username="support-vera"))
    reason = "Переписка подтверждает, что продавец просил оплату на карту."
    response = client.post(
        reverse("admin:reports_report_close", args=[report.pk]),
        {"outcome": "upheld", "reason": reason, "sanction": "warning"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert '<ul class="errorlist"><li>Меры можно применить только после уведомления' in page
    assert reason in page
    report.refresh_from_db()
    assert report.status == Report.Status.SUBMITTED


def test_support_notifies_the_reported_party_with_the_button_and_reads_that_it_was_done(client, order, buyer):
    from .test_reports import file_report, item_link

    report = file_report(buyer, order=order, link=item_link(order))
    client.force_login(support_agent(username="support-vera"))
    page = client.post(reverse("admin:reports_report_notify", args=[report.pk]), follow=True).content.decode()
    assert '<li class="success">Сторона уведомлена; срок ответа записан.</li>' in page
    report.refresh_from_db()
    assert report.status == Report.Status.AWAITING_ANSWER and report.notified_at is not None
    page = client.post(reverse("admin:reports_report_notify", args=[report.pk]), follow=True).content.decode()
    assert '<li class="error">Сейчас это сделать нельзя' in page


# --- the admin code's shape --------------------------------------------------------------------


def admin_modules() -> list[Path]:
    modules = []
    for app in APPS:
        modules += [ROOT / app / "admin.py"] if (ROOT / app / "admin.py").exists() else []
        modules += sorted((ROOT / app / "admin").glob("*.py"))
    modules += sorted((ROOT / "core").glob("admin*.py"))
    return modules


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_admin_modules_are_found():
    names = {relative(path) for path in admin_modules()}
    assert {"core/admin.py", "core/admin_actions.py", "reports/admin.py", "faq/admin.py"} <= names
    assert any(name.startswith("disputes/admin") for name in names)
    assert any(name.startswith("accounts/admin") for name in names)
    assert any(name.startswith("orders/admin") for name in names)


@pytest.mark.parametrize("path", admin_modules(), ids=relative)
def test_no_admin_module_is_over_300_lines(path):
    assert len(path.read_text().splitlines()) <= 300


@pytest.mark.parametrize("path", admin_modules(), ids=relative)
def test_admin_code_reads_request_user_without_type_ignores(path):
    lines = [line for line in path.read_text().splitlines() if "request.user" in line and "type: ignore" in line]
    assert lines == []


@pytest.mark.parametrize("path", admin_modules(), ids=relative)
def test_admin_screens_leave_refusals_to_the_admin_actions_mixin(path):
    if relative(path) == "core/admin_actions.py":
        pytest.skip("the mixin itself")
    assert not re.search(r"except\s+\(?[\w., ]*ActionRefused", path.read_text())
