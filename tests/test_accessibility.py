"""Every page type, as each person who uses it, at phone and desktop width, in Russian and English,
checked by axe-core in Chromium: a critical or serious violation fails the test, moderate and
minor ones are printed. The HTML the server sends (what a visitor without JavaScript gets) is
checked too, once per person: scripts removed, loaded into a page that runs only axe; and the
same HTML goes through the Nu HTML checker (vnu.jar, `make vnu` fetches it), where any error fails.

Run alone: `make test PYTEST_ARGS="tests/test_accessibility.py -s"` (-s shows the moderate list).
"""

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import axe_playwright_python  # type: ignore[import-untyped]
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from core.demo import DEMO_PASSWORD

from .conftest import browser_login

pytestmark = pytest.mark.browser

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
FAILING = ("critical", "serious")
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
VNU_JAR = Path(os.environ.get("VNU_JAR", Path(__file__).resolve().parent.parent / "var" / "vnu" / "vnu.jar"))


def _html_errors(pages: dict[str, str], folder: Path) -> list[str]:
    """The Nu HTML checker's errors for each page's served HTML (one Java start for all of them)."""
    if not VNU_JAR.exists() or not shutil.which("java"):
        if os.environ.get("CI"):
            pytest.fail(f"vnu.jar ({VNU_JAR}) or java missing; .ci/run installs both")
        print(f"\nNu HTML checker skipped: run `make vnu` (needs java) to fetch {VNU_JAR}")
        return []
    files = {}
    for index, (url, html) in enumerate(pages.items()):
        path = folder / f"page{index}.html"
        path.write_text(html)
        files[str(path)] = url
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or "{}").get("messages", [])
    return [
        f"{files.get(message.get('url', '').removeprefix('file:'), message.get('url'))} "
        f"line {message.get('lastLine')}: {message.get('message')} «{message.get('extract', '').strip()[:80]}»"
        for message in messages
        if message.get("type") == "error"
    ]


class Flow:
    """A page reached by pressing buttons (a confirmation after a POST, a wizard step that needs
    the earlier answers): `steps(page, base_url)` leaves the browser on it."""

    def __init__(self, name: str, steps: Callable[[Any, str], None]) -> None:
        self.name = name
        self.steps = steps


def _wizard_to(step: str, number: str) -> Flow:
    """The dispute wizard walked in the browser up to `step` (not-as-described, full refund)."""

    def steps(page: Any, base_url: str) -> None:
        page.goto(f"{base_url}{reverse('disputes:wizard', args=[number, 'received'])}")
        page.check("input[name=received][value=yes]")
        page.click("button[name=next]")
        if step == "problem":
            return
        page.locator("input[name=problems]").first.check()
        page.click("button[name=next]")
        if step == "refund":
            return
        page.check("input[name=refund_type][value=full]")
        page.locator("input[name=return_item]").last.check()
        page.click("button[name=next]")
        if step == "request":
            return
        page.fill("textarea[name=request_text]", "Корпус треснул при доставке, фото прилагаю к спору.")
        page.click("button[name=next]")
        page.wait_for_url("**/summary/")

    return Flow(f"wizard {step} {number}", steps)


def _press(name: str, path: Callable[[], str], button: str) -> Flow:
    def steps(page: Any, base_url: str) -> None:
        page.goto(base_url + path())
        with page.expect_navigation():
            page.locator(button).first.click()

    return Flow(name, steps)


def _pages_for(role: str) -> list[Callable[[], str] | Flow]:
    """The page types `role` meets, as functions giving each URL in the active language, or as
    flows of button presses that end on one."""
    from disputes.models import Claim, Dispute
    from faq.models import Article
    from orders.models import Order, Refund
    from reports.models import Report

    def dispute(number: str) -> int:
        return Dispute.objects.get(order__number=number).pk

    article = Article.objects.filter(status="published").select_related("category").order_by("pk").first()
    assert article is not None
    # An article whose tinted note holds a link (the note's background once made it 4.2:1).
    note_with_link = Article.objects.select_related("category").get(slug="tamozhnya-i-akty-pochty")
    public = [
        lambda: reverse("home"),
        lambda: reverse("faq:index"),
        lambda: reverse("faq:category", args=[article.category.slug]),
        lambda: reverse("faq:article", args=[article.category.slug, article.slug]),
        lambda: reverse("faq:article", args=[note_with_link.category.slug, note_with_link.slug]),
        lambda: reverse("faq:search") + "?q=вернуть+деньги",
        lambda: reverse("faq:search") + "?q=ъъъъ",
    ]
    if role == "anonymous":
        return [
            *public,
            lambda: reverse("accounts:login"),
            lambda: reverse("accounts:signup"),
            lambda: reverse("accounts:password_reset"),
        ]
    if role == "buyer":
        buyer_report = Report.objects.filter(reporter__username="buyer").order_by("pk").first()
        assert buyer_report is not None
        return [
            lambda: reverse("accounts:home"),
            lambda: reverse("accounts:settings"),
            lambda: reverse("accounts:password_change"),
            lambda: reverse("orders:list"),
            lambda: reverse("orders:list") + "?status=disputed",
            lambda: reverse("orders:detail", args=["8100000000000001"]),  # stalled parcel, all actions
            lambda: reverse("orders:detail", args=["8100000000000014"]),  # awaiting shipment: cancel form
            lambda: reverse("orders:detail", args=["8100000000000015"]),  # cancelled and refunded
            lambda: reverse("orders:confirm", args=["8100000000000001"]),
            lambda: reverse("orders:support") + "?order=8100000000000001",
            lambda: reverse("disputes:list"),
            lambda: reverse("disputes:detail", args=[dispute("8100000000000007")]),  # seller's counter-offer
            lambda: reverse("disputes:detail", args=[dispute("8100000000000010")]),  # claim, evidence asked
            lambda: reverse("disputes:appeal", args=[dispute("8100000000000011")]),  # the countdown on a tinted box
            lambda: reverse("disputes:wizard", args=["8100000000000016", "received"]),
            _wizard_to("problem", "8100000000000017"),
            _wizard_to("refund", "8100000000000017"),
            _wizard_to("request", "8100000000000017"),
            _wizard_to("summary", "8100000000000017"),
            _press(
                "accept an offer: the question first",
                lambda: reverse("disputes:detail", args=[dispute("8100000000000007")]),
                "form[action$='/offers/accept/'] button[type=submit]",
            ),
            _press(
                "escalate: the question first",
                lambda: reverse("disputes:detail", args=[dispute("8100000000000007")]),
                "form[action$='/escalate/'] button[type=submit]",
            ),
            lambda: reverse("reports:list"),
            lambda: reverse("reports:new"),
            lambda: reverse("reports:detail", args=[buyer_report.pk]),
        ]
    if role == "seller":
        report_against_seller = Report.objects.filter(reported_user__username="seller").order_by("pk").first()
        assert report_against_seller is not None
        seller_dispute = Dispute.objects.filter(store__owner__username="seller").order_by("-opened_at").first()
        assert seller_dispute is not None
        return [
            lambda: reverse("accounts:home"),
            lambda: reverse("orders:store_list"),
            lambda: reverse("orders:detail", args=["8100000000000006"]),  # ship form
            lambda: reverse("disputes:store_list"),
            lambda: reverse("disputes:store_record"),
            lambda: reverse("accounts:store_returns"),
            lambda: reverse("reports:against_me"),
            lambda: reverse("reports:detail", args=[report_against_seller.pk]),  # the answer form
            lambda: reverse("disputes:detail", args=[seller_dispute.pk]),
        ]
    claim = Claim.objects.order_by("pk").first()
    order = Order.objects.get(number="8100000000000001")
    assert claim is not None
    if role == "arbitrator":
        return [
            lambda: reverse("admin:index"),
            lambda: reverse("admin:disputes_claim_changelist"),
            lambda: reverse("admin:disputes_claim_change", args=[claim.pk]),
            lambda: reverse("admin:disputes_store_record", args=[order.store_id]),
            lambda: reverse("admin:orders_order_change", args=[order.pk]),
            lambda: reverse("admin:disputes_dispute_changelist"),
            lambda: reverse("admin:disputes_dispute_change", args=[claim.dispute_id]),
            lambda: reverse("admin:orders_order_changelist"),
            lambda: reverse("admin:disputes_attachment_changelist"),
            lambda: reverse("admin:disputes_policyruleswitch_changelist"),
            lambda: reverse("admin:disputes_policyruleswitch_report"),
        ]
    if role == "finance":
        refund = Refund.objects.order_by("pk").first()
        assert refund is not None
        return [
            lambda: reverse("admin:index"),
            lambda: reverse("admin:orders_refund_changelist"),
            lambda: reverse("admin:orders_refund_change", args=[refund.pk]),
        ]
    if role == "blocked":
        return [lambda: reverse("accounts:blocked"), *public[:2]]
    assert role == "support"
    return [
        lambda: reverse("admin:index"),
        lambda: reverse("admin:faq_article_changelist"),
        lambda: reverse("admin:faq_article_change", args=[article.pk]),
        lambda: reverse("admin:faq_help_gaps"),
        lambda: reverse("admin:reports_report_changelist"),
        lambda: reverse("admin:orders_supportrequest_changelist"),
        lambda: reverse("admin:orders_trackingevent_add"),
        lambda: reverse("admin:accounts_store_change", args=[order.store_id]),
        lambda: reverse("admin:accounts_user_changelist"),
        lambda: reverse("admin:accounts_user_change", args=[order.buyer_id]),
        lambda: reverse("admin:accounts_accountappeal_changelist"),
        lambda: reverse("admin:faq_category_changelist"),
    ]


def _axe(page) -> list[dict]:
    page.evaluate(AXE_SOURCE)
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


def _without_scripts(html: str, base_url: str) -> str:
    """The page as the server sent it, scripts removed, with a base for its styles."""
    html = re.sub(r"<script\b.*?</script>", "", html, flags=re.S | re.I)
    return html.replace("<head>", f'<head><base href="{base_url}/">', 1)


@pytest.fixture
def demo_site(shipped_data, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = False


@pytest.mark.parametrize("role", ["anonymous", "buyer", "seller", "arbitrator", "support", "finance", "blocked"])
def test_every_page_has_no_critical_or_serious_accessibility_violation(
    role, demo_site, chromium_browser, live_server, tmp_path
):
    pages = _pages_for(role)
    served_pages: dict[str, str] = {}
    failures: list[str] = []
    notes: list[str] = []
    checked = 0
    for width_name, (width, height) in WIDTHS.items():
        for language in ("ru", "en"):
            context = chromium_browser.new_context(
                viewport={"width": width, "height": height}, locale=f"{language}-RU", bypass_csp=True
            )
            page = context.new_page()
            page.set_default_timeout(15000)
            page.base_url = live_server.url
            if role == "blocked":
                # A blocked account signs in onto the page that says why and how to appeal.
                page.goto(live_server.url + "/account/login/")
                page.fill("input[name=username]", role)
                page.fill("input[name=password]", DEMO_PASSWORD)
                with page.expect_navigation():
                    page.locator("main button[type=submit]").last.click()
            elif role != "anonymous":
                browser_login(page, role, DEMO_PASSWORD)
            with translation.override(language):
                urls = [entry if isinstance(entry, Flow) else entry() for entry in pages]
            for entry in urls:
                if isinstance(entry, Flow):
                    with translation.override(language):
                        entry.steps(page, live_server.url)
                    url = f"{page.url.removeprefix(live_server.url)} ({entry.name})"
                else:
                    url = entry
                    response = page.goto(live_server.url + url)
                    assert response is not None and response.status == 200, (url, response and response.status)
                variants = [("", page)]
                if width_name == "phone" and language == "ru" and not isinstance(entry, Flow):
                    served_pages[url] = context.request.get(live_server.url + url).text()
                    served = context.new_page()
                    served.set_content(_without_scripts(served_pages[url], live_server.url), wait_until="load")
                    variants.append((" [HTML as served, no JavaScript]", served))
                if width_name == "phone" and language == "ru" and "/admin/" not in url:
                    # The narrowest phones: nothing on the site may make the page scroll sideways
                    # (admin is the staff's desktop tool; its own tables scroll there).
                    page.set_viewport_size({"width": 320, "height": 640})
                    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                    if overflow > 0:
                        failures.append(f"{role} 320px {url}: the page scrolls sideways by {overflow}px")
                    page.set_viewport_size({"width": width, "height": height})
                for label, checked_page in variants:
                    checked += 1
                    for violation in _axe(checked_page):
                        line = (
                            f"{role} {width_name} {language} {url}{label}: {violation['impact']} {violation['id']} "
                            f"×{len(violation['nodes'])} {violation['nodes'][0]['target']} — {violation['help']}"
                        )
                        (failures if violation["impact"] in FAILING else notes).append(line)
                    if checked_page is not page:
                        checked_page.close()
            context.close()
    if notes:
        print(f"\n{len(notes)} moderate or minor findings for {role}:\n" + "\n".join(notes))
    assert checked >= len(pages) * 4
    failures += [f"{role} HTML: {error}" for error in _html_errors(served_pages, tmp_path)]
    assert not failures, "\n".join(failures)
