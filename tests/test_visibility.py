"""Who may see what: one filter per model (`Order.objects.visible_to(user)` and the same for
disputes, their files, reports, report files and appeal files) scopes every page and download to
the person asking. A stranger gets 404 on every URL that takes an order's number, an id or a
file's token, as for something that does not exist."""

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import blocking
from accounts.models import AccountAppealFile, BlockReason
from core import files
from disputes import services as dispute_services
from disputes.models import Attachment, Dispute
from orders.models import Order, ProtectionExtension
from reports import services as report_services
from reports.models import Report, ReportFile

from .disputes_helpers import open_dispute, png_file
from .factories import OrderFactory, SellerFactory, StaffFactory, UserFactory, arbitrator, support_agent
from .test_reports import file_report, item_link

pytestmark = pytest.mark.django_db


def _stored(model, owner) -> int:
    result = files.uploads_store(model=model, owner_id=owner.pk, files=[png_file()])
    assert not result.errors
    return result.stored[0].pk


@pytest.fixture
def world(order, buyer, seller):
    """An order with everything that has a URL of its own: a dispute with a posted file, a
    pending extension, a report with both sides' evidence, and an appeal with a file."""
    dispute = open_dispute(order)
    dispute_services.message_post(
        dispute=dispute, user=buyer, text="Фото коробки", attachment_ids=[_stored(Attachment, buyer)]
    )
    extension = ProtectionExtension.objects.create(order=order, days=5, reason="Посылка задерживается")
    report = file_report(buyer, order=order, link=item_link(order), files=[_stored(ReportFile, buyer)])
    report_services.report_notify(report=report, staff=support_agent())
    report_services.report_answer(
        report=report, user=seller, text="Мы ничего такого не писали.", attachment_ids=[_stored(ReportFile, seller)]
    )
    blocked = UserFactory()
    blocking.account_block(user=blocked, staff=support_agent(), reason=BlockReason.FRAUD, note="", now=timezone.now())
    blocking.account_appeal_file(
        user=blocked, text="Это ошибка, я ничего не нарушал.", attachment_ids=[_stored(AccountAppealFile, blocked)]
    )
    return {
        "order": order,
        "dispute": dispute,
        "attachment": Attachment.objects.get(message__dispute=dispute),
        "extension": extension,
        "report": report,
        "reporter_file": ReportFile.objects.get(report=report, side=ReportFile.Side.REPORTER),
        "answer_file": ReportFile.objects.get(report=report, side=ReportFile.Side.REPORTED),
        "appeal_file": AccountAppealFile.objects.get(owner=blocked),
    }


# Every URL that takes an id, a number or a token, by what it names; `world` fills in its values.
ORDER_URLS = {
    "orders:detail": lambda w: {"number": w["order"].number},
    "orders:confirm": lambda w: {"number": w["order"].number},
    "orders:item_image": lambda w: {"number": w["order"].number, "item_id": w["order"].items.all()[0].pk},
    "orders:cancel": lambda w: {"number": w["order"].number},
    "orders:cancel_agree": lambda w: {"number": w["order"].number},
    "orders:ship": lambda w: {"number": w["order"].number},
    "orders:extension_create": lambda w: {"number": w["order"].number},
    "orders:extension_decide": lambda w: {"number": w["order"].number, "extension_id": w["extension"].pk},
    "disputes:wizard_start": lambda w: {"number": w["order"].number},
    "disputes:wizard": lambda w: {"number": w["order"].number, "step": "received"},
}
DISPUTE_URLS = {
    f"disputes:{name}": lambda w: {"pk": w["dispute"].pk}
    for name in (
        "detail",
        "offer_create",
        "offer_accept",
        "offer_refuse",
        "message_create",
        "cancel",
        "escalate",
        "return_ship",
        "return_confirm",
        "evidence_answer",
        "appeal",
    )
}
DISPUTE_FILE_URLS = {"disputes:attachment": lambda w: {"token": w["attachment"].token}}
REPORT_URLS = {
    "reports:detail": lambda w: {"pk": w["report"].pk},
    "reports:answer": lambda w: {"pk": w["report"].pk},
}
REPORT_FILE_URLS = {
    "reports:file": lambda w: {"token": w["reporter_file"].token},
}
APPEAL_FILE_URLS = {"accounts:blocked_file": lambda w: {"token": w["appeal_file"].token}}
CHECKED = {
    **ORDER_URLS,
    **DISPUTE_URLS,
    **DISPUTE_FILE_URLS,
    **REPORT_URLS,
    **REPORT_FILE_URLS,
    **APPEAL_FILE_URLS,
}
# URLs with a parameter that names nothing of a person's: why each is not checked here.
NOT_PERSONAL = {
    "accounts:signup_confirm": "a signed sign-up link (tests/test_signin.py)",
    "accounts:password_reset_confirm": "Django's password reset link",
    "faq:search_open": "a public article, counted for the search log",
    "faq:preview": "staff preview of an article (tests/test_faq.py)",
    "faq:category": "the public help centre",
    "faq:article": "the public help centre",
    "faq:vote": "the public help centre",
    "faq:vote_comment": "the public help centre",
    "faq_image": "a picture in a public article (tests/test_faq.py)",
}


def _named_patterns(patterns, namespace: str = "") -> list[tuple[str, list[str]]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if entry.namespace != "admin":  # staff pages: the admin signs them in first
                found += _named_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((namespace + entry.name, list(entry.pattern.converters)))
    return found


def test_every_url_that_takes_an_id_or_a_token_is_checked_for_strangers():
    with_parameters = {name for name, parameters in _named_patterns(get_resolver().url_patterns) if parameters}
    assert with_parameters - set(CHECKED) - set(NOT_PERSONAL) == set(), "add the new URL to this file"
    assert set(CHECKED) <= with_parameters


def _strangers():
    # A buyer with orders of their own, a seller with a store of its own, staff with no right here.
    other_order = OrderFactory()
    return [other_order.buyer, other_order.store.owner, StaffFactory()]


def _each_gets_404(client, urls, world) -> list[str]:
    failures = []
    for stranger in _strangers():
        client.force_login(stranger)
        for name, arguments in urls.items():
            url = reverse(name, kwargs=arguments(world))
            codes = {method: getattr(client, method)(url).status_code for method in ("get", "post")}
            # A POST-only page answers GET with 405 before it looks anything up.
            if not (set(codes.values()) <= {404, 405} and 404 in codes.values()):
                failures.append(f"{stranger.username} {name}: {codes}")
    return failures


@pytest.mark.parametrize(
    "urls",
    [ORDER_URLS, DISPUTE_URLS, DISPUTE_FILE_URLS, REPORT_URLS, REPORT_FILE_URLS, APPEAL_FILE_URLS],
    ids=["order", "dispute", "dispute-file", "report", "report-file", "appeal-file"],
)
def test_a_stranger_gets_404_on_every_url_of(urls, world, client):
    assert _each_gets_404(client, urls, world) == []


def test_the_parties_open_what_the_strangers_cannot(world, client, buyer, seller):
    client.force_login(buyer)
    for name in ("orders:detail", "disputes:detail", "disputes:attachment", "reports:detail", "reports:file"):
        assert client.get(reverse(name, kwargs=CHECKED[name](world))).status_code == 200, name
    client.force_login(seller)
    for name in ("orders:detail", "disputes:detail", "disputes:attachment", "reports:detail", "reports:file"):
        assert client.get(reverse(name, kwargs=CHECKED[name](world))).status_code == 200, name


# --- the filters themselves --------------------------------------------------------------------


def test_orders_and_disputes_are_visible_to_their_buyer_their_seller_and_staff_who_may_read(world, buyer, seller):
    order, dispute = world["order"], world["dispute"]
    other = OrderFactory()
    arbitrator_user = arbitrator()
    for user in (buyer, seller):
        assert list(Order.objects.visible_to(user)) == [order]
        assert list(Dispute.objects.visible_to(user)) == [dispute]
    assert set(Order.objects.visible_to(arbitrator_user)) == {order, other}
    assert list(Dispute.objects.visible_to(arbitrator_user)) == [dispute]
    for stranger in (other.buyer, other.store.owner, StaffFactory()):
        assert not Dispute.objects.visible_to(stranger).exists()
    assert list(Order.objects.visible_to(other.buyer)) == [other]
    assert (list(Order.objects.as_buyer(buyer)), list(Order.objects.as_seller(seller))) == ([order], [order])
    assert (list(Dispute.objects.as_buyer(seller)), list(Dispute.objects.as_seller(buyer))) == ([], [])


def test_a_dispute_file_is_its_parties_and_before_it_is_posted_its_owners_alone(world, buyer, seller):
    posted = world["attachment"]
    not_posted = Attachment.objects.get(pk=_stored(Attachment, buyer))
    assert set(Attachment.objects.visible_to(buyer)) == {posted, not_posted}
    assert list(Attachment.objects.visible_to(seller)) == [posted]
    assert list(Attachment.objects.visible_to(arbitrator())) == [posted]
    assert not Attachment.objects.visible_to(support_agent()).exists()  # support reads disputes, not their files


def test_a_report_is_its_reporters_and_once_told_the_reported_partys(order, buyer, seller):
    report = file_report(buyer, order=order, link=item_link(order), files=[_stored(ReportFile, buyer)])
    support = support_agent()
    assert list(Report.objects.visible_to(buyer)) == [report]
    assert not Report.objects.visible_to(seller).exists()
    assert not ReportFile.objects.visible_to(seller).exists()
    assert list(Report.objects.visible_to(support)) == [report]
    report_services.report_notify(report=report, staff=support)
    assert list(Report.objects.visible_to(seller)) == [report]
    assert list(ReportFile.objects.visible_to(seller)) == list(report.files.all())
    assert not Report.objects.visible_to(UserFactory()).exists()


def test_the_reporter_never_sees_the_answer_files_and_nobody_sees_a_file_no_report_took(world, buyer, seller):
    loose = ReportFile.objects.get(pk=_stored(ReportFile, buyer))
    assert list(ReportFile.objects.visible_to(buyer)) == [world["reporter_file"]]
    assert set(ReportFile.objects.visible_to(seller)) == {world["reporter_file"], world["answer_file"]}
    assert loose not in set(ReportFile.objects.visible_to(support_agent()))


def test_an_appeal_file_is_its_owners_and_for_staff_who_may_block(world):
    appeal_file = world["appeal_file"]
    assert list(AccountAppealFile.objects.visible_to(appeal_file.owner)) == [appeal_file]
    assert list(AccountAppealFile.objects.visible_to(support_agent())) == [appeal_file]
    assert not AccountAppealFile.objects.visible_to(SellerFactory()).exists()
    assert appeal_file.uploaded_at <= timezone.now() + timedelta(seconds=1)
