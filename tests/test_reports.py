"""Reports: filing from an order or a product link, every reason, evidence files, the reported
party's answer and deadline, support's decision and sanctions, privacy, the hourly limit and
merging, and 404 for everyone else."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import OutgoingEmail
from core import sweeps
from core.errors import ActionRefused
from reports import services
from reports.links import ProductLink
from reports.models import Report, ReportEvent, ReportFile
from reports.reasons import REASONS

from .disputes_helpers import html_as_jpeg, png_file, stored_files
from .factories import OrderFactory, SellerFactory, UserFactory, support_agent
from .mail_helpers import rendered

pytestmark = pytest.mark.django_db

DESCRIPTION = "Продавец просит перевести деньги на карту напрямую, минуя площадку."


def sent(since: int = 0) -> list[OutgoingEmail]:
    """The e-mails queued (in the outbox table, sent after commit) after the row `since`, as they will read."""
    return [rendered(email) for email in OutgoingEmail.objects.filter(pk__gt=since).order_by("pk")]


def last_mail_id() -> int:
    return OutgoingEmail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def item_link(order) -> ProductLink:
    item_id = order.items.all()[0].item_id
    return ProductLink(item_id=item_id, url=f"https://aliexpress.ru/item/{item_id}.html")


def file_report(reporter, order=None, link=None, reason="pay_outside", now=None, files=()):
    report, _created = services.report_file(
        reporter=reporter,
        order=order,
        link=link,
        reason=reason,
        description=DESCRIPTION,
        attachment_ids=list(files),
        now=now,
    )
    return report


@pytest.fixture
def support(db):
    return support_agent(username="support-vera")


@pytest.fixture
def notified(order, buyer, support):
    report = file_report(buyer, order=order, link=item_link(order))
    return services.report_notify(report=report, staff=support)


# --- filing -------------------------------------------------------------------------------------


def test_buyer_reports_the_seller_from_an_order_and_sees_it_on_my_reports(order, buyer, seller, login):
    client = login(buyer)
    page = client.get(reverse("reports:new") + f"?order={order.number}")
    assert page.status_code == 200
    assert seller.store.name in page.content.decode()
    item_id = order.items.all()[0].item_id
    response = client.post(
        reverse("reports:new") + f"?order={order.number}",
        {"order": order.number, "item": item_id, "reason": "pay_outside", "description": DESCRIPTION},
    )
    report = Report.objects.get()
    assert response.status_code == 302
    assert (report.reported_user, report.store, report.item_id) == (seller, seller.store, item_id)
    assert report.status == Report.Status.SUBMITTED
    listing = client.get(reverse("reports:list")).content.decode()
    assert f"Жалоба № {report.pk}" in listing and "Подана" in listing
    assert [message.to_address for message in sent()] == [buyer.email]


def test_a_pasted_link_is_checked_and_its_item_id_shown_back(buyer, login):
    client = login(buyer)
    first = client.get(reverse("reports:new"))
    assert "Ссылка на товар" in first.content.decode()
    bad = client.get(reverse("reports:new"), {"link": "https://aliexpress.ru.phish.example/item/1005001234567890.html"})
    assert bad.status_code == 400
    assert "не на AliExpress" in bad.content.decode()
    assert "aliexpress.ru.phish.example" in bad.content.decode()  # what was typed stays in the field
    good = client.get(reverse("reports:new"), {"link": "https://m.aliexpress.com/item/1005009876543210.html?spm=1#x"})
    text = good.content.decode()
    assert good.status_code == 200
    assert "Товар № 1005009876543210" in text
    assert "продавца мы не знаем" in text


def test_a_link_to_a_listing_sold_here_finds_its_store(order, buyer, seller, login):
    stranger = UserFactory()
    client = login(stranger)
    item_id = order.items.all()[0].item_id
    link = f"https://aliexpress.ru/item/{item_id}.html"
    assert seller.store.name in client.get(reverse("reports:new"), {"link": link}).content.decode()
    client.post(reverse("reports:new"), {"link": link, "reason": "misleading_price", "description": DESCRIPTION})
    report = Report.objects.get()
    assert (report.reporter, report.reported_user, report.order, report.item_id) == (stranger, seller, None, item_id)


def test_a_listing_nobody_ordered_here_is_reported_without_a_party(buyer, support):
    link = ProductLink(item_id="1005000000000001", url="https://aliexpress.ru/item/1005000000000001.html")
    report = file_report(buyer, link=link, reason="phishing")
    assert report.reported_user is None
    with pytest.raises(ActionRefused, match="уведомить некого"):
        services.report_notify(report=report, staff=support)
    services.report_take(report=report, staff=support)
    services.report_close(report=report, staff=support, outcome="upheld", reason="Ссылка ведёт на поддельную оплату.")
    with pytest.raises(ActionRefused):
        services.report_close(
            report=report, staff=support, outcome="upheld", reason="Ссылка ведёт на поддельную оплату."
        )


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_every_reason_files_a_report_of_its_type(reason, order, buyer, login):
    client = login(buyer)
    client.post(
        reverse("reports:new") + f"?order={order.number}",
        {"order": order.number, "item": "", "reason": reason, "description": DESCRIPTION},
    )
    report = Report.objects.get()
    assert (report.reason, report.report_type) == (reason, REASONS[reason].type)


def test_every_reason_is_explained_on_the_form(order, buyer, login):
    text = login(buyer).get(reverse("reports:new") + f"?order={order.number}").content.decode()
    for reason in REASONS.values():
        assert str(reason.label) in text
        assert str(reason.explanation).split(":")[0][:30] in text.replace("&#x27;", "'").replace("&quot;", '"')


def test_a_seller_reports_a_buyer_only_with_reasons_that_fit_a_buyer(order, buyer, seller, login):
    client = login(seller)
    text = client.get(reverse("reports:new") + f"?order={order.number}").content.decode()
    assert "Пожаловаться на покупателя" in text
    for seller_only in (
        "Товар в чужой категории",
        "Ложные характеристики",
        "Поддельные сертификаты или документы",
        "Выдуманные отзывы",
        "Просит подтвердить получение раньше времени",
    ):
        assert seller_only not in text, seller_only
    assert "Зовёт договариваться вне площадки" in text and "Фишинг" in text
    refused = client.post(
        reverse("reports:new") + f"?order={order.number}",
        {"order": order.number, "reason": "wrong_category", "description": DESCRIPTION},
    )
    assert refused.status_code == 400
    client.post(
        reverse("reports:new") + f"?order={order.number}",
        {"order": order.number, "reason": "contact_outside", "description": DESCRIPTION},
    )
    assert Report.objects.get().reported_user == buyer


def test_a_short_description_is_refused_next_to_the_field_and_kept(order, buyer, login):
    response = login(buyer).post(
        reverse("reports:new") + f"?order={order.number}",
        {"order": order.number, "reason": "spam", "description": "Плохо"},
    )
    assert response.status_code == 400
    assert "report-description-error" in response.content.decode()
    assert ">Плохо</textarea>" in response.content.decode()
    assert not Report.objects.exists()


def test_nobody_reports_an_order_that_is_not_theirs(order, login, support):
    assert login(UserFactory()).get(reverse("reports:new") + f"?order={order.number}").status_code == 404
    # Staff may read the order but are not a party to it.
    assert login(support).get(reverse("reports:new") + f"?order={order.number}").status_code == 404


def test_a_report_about_nothing_is_refused(buyer, login):
    response = login(buyer).post(reverse("reports:new"), {"reason": "spam", "description": DESCRIPTION})
    assert response.status_code == 400
    assert "на что жалоба" in response.content.decode()
    assert not Report.objects.exists()


def test_a_seller_cannot_report_its_own_listing(order, seller):
    with pytest.raises(ActionRefused, match="самого себя"):
        file_report(seller, link=item_link(order))


# --- files --------------------------------------------------------------------------------------


def test_report_files_are_checked_stored_with_the_report_and_nothing_is_left_behind(order, buyer, login, settings):
    client = login(buyer)
    url = reverse("reports:new") + f"?order={order.number}"
    refused = client.post(
        url,
        {"order": order.number, "reason": "fake_brand", "description": DESCRIPTION, "evidence": [html_as_jpeg()]},
    )
    assert refused.status_code == 400
    assert "evidence" in refused.context["form"].errors
    assert stored_files() == [] and not ReportFile.objects.exists()
    client.post(
        url, {"order": order.number, "reason": "fake_brand", "description": DESCRIPTION, "evidence": [png_file()]}
    )
    stored = ReportFile.objects.get()
    assert stored.report == Report.objects.get() and stored.side == ReportFile.Side.REPORTER
    assert len(stored_files()) == 1
    Report.objects.all().delete()
    assert ReportFile.objects.count() == 0


def test_too_many_files_store_nothing(order, buyer, login, settings):
    response = login(buyer).post(
        reverse("reports:new") + f"?order={order.number}",
        {
            "order": order.number,
            "reason": "fake_brand",
            "description": DESCRIPTION,
            "evidence": [png_file(f"{n}.png") for n in range(settings.UPLOAD_MAX_FILES + 1)],
        },
    )
    assert response.status_code == 400
    assert stored_files() == [] and not Report.objects.exists()


def test_unclaimed_report_uploads_are_swept_after_a_day(buyer, settings):
    from core import files

    files.uploads_store(model=ReportFile, owner_id=buyer.pk, files=[png_file()])
    assert len(stored_files()) == 1
    sweeps.run("unclaimed-uploads", timezone.now() + timedelta(hours=settings.UPLOAD_UNCLAIMED_HOURS, minutes=1))
    assert not ReportFile.objects.exists()


# --- the reported party ---------------------------------------------------------------------------


def test_the_reported_party_sees_nothing_before_notice_and_answers_after(order, buyer, seller, support, login):
    report = file_report(buyer, order=order, link=item_link(order))
    client = login(seller)
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 404
    assert f"№ {report.pk}" not in client.get(reverse("reports:against_me")).content.decode()
    services.report_notify(report=report, staff=support)
    page = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "В чём вас обвиняют" in page and "Ответить на жалобу" in page
    report.refresh_from_db()
    assert report.answer_due_at == report.notified_at + timedelta(days=5)
    client.post(
        reverse("reports:answer", args=[report.pk]),
        {"text": "Мы никогда не просим оплату вне площадки, это ошибка.", "evidence": [png_file("chat.png")]},
    )
    report.refresh_from_db()
    assert report.status == Report.Status.PROCESSING and report.answered_at is not None
    assert ReportFile.objects.get(side=ReportFile.Side.REPORTED).report == report
    assert "Ответить на жалобу" not in client.get(reverse("reports:detail", args=[report.pk])).content.decode()


def test_the_reporter_cannot_answer_its_own_report(notified, buyer):
    with pytest.raises(ActionRefused):
        services.report_answer(report=notified, user=buyer, text="x" * 30, attachment_ids=[])


def test_an_answer_after_the_deadline_is_refused(notified, seller):
    with pytest.raises(ActionRefused, match="Срок ответа прошёл"):
        services.report_answer(
            report=notified, user=seller, text="x" * 30, attachment_ids=[], now=notified.answer_due_at
        )


def test_the_reminder_goes_a_day_before_the_deadline_not_a_minute_earlier(notified, seller):
    remind_at = notified.answer_due_at - timedelta(hours=24)
    before = last_mail_id()
    sweeps.run("report-reminders", remind_at - timedelta(minutes=1))
    assert sent(before) == []
    sweeps.run("report-reminders", remind_at + timedelta(minutes=1))
    sweeps.run("report-reminders", remind_at + timedelta(minutes=2))
    assert [message.to_address for message in sent(before)] == [seller.email]
    assert "Напоминание" in sent(before)[0].subject


def test_the_answer_deadline_moves_the_report_to_processing_a_minute_after_not_before(notified, buyer):
    due = notified.answer_due_at
    sweeps.run("report-answer-deadlines", due - timedelta(minutes=1))
    notified.refresh_from_db()
    assert notified.status == Report.Status.AWAITING_ANSWER
    before = last_mail_id()
    sweeps.run("report-answer-deadlines", due + timedelta(minutes=1))
    notified.refresh_from_db()
    assert notified.status == Report.Status.PROCESSING
    assert ReportEvent.objects.filter(report=notified, kind=ReportEvent.Kind.DEADLINE_PASSED).count() == 1
    assert [message.to_address for message in sent(before)] == [buyer.email]


# --- support's decision and sanctions -------------------------------------------------------------


def test_only_support_with_the_right_decides(notified, buyer, seller):
    for user in (buyer, seller, UserFactory(is_staff=True)):
        with pytest.raises(ActionRefused):
            services.report_close(report=notified, staff=user, outcome="not_upheld", reason="x" * 40)


def test_no_one_is_found_at_fault_while_they_may_still_answer(notified, support):
    with pytest.raises(ActionRefused, match="ещё может ответить"):
        services.report_close(report=notified, staff=support, outcome="upheld", reason="Нарушение подтвердилось.")
    services.report_close(
        report=notified, staff=support, outcome="upheld", reason="Нарушение подтвердилось.", now=notified.answer_due_at
    )


def test_no_sanction_without_notice(order, buyer, seller, support):
    report = file_report(buyer, order=order, link=item_link(order))
    services.report_take(report=report, staff=support)
    with pytest.raises(ActionRefused, match="только после уведомления"):
        services.report_close(
            report=report, staff=support, outcome="upheld", reason="Нарушение подтвердилось.", sanction="warning"
        )
    report.refresh_from_db()
    assert report.status == Report.Status.PROCESSING


def test_a_sanction_needs_an_upheld_report(notified, support):
    with pytest.raises(ActionRefused, match="только если нарушение подтвердилось"):
        services.report_close(
            report=notified,
            staff=support,
            outcome="not_upheld",
            reason="Нарушение не подтвердилось.",
            sanction="warning",
            now=notified.answer_due_at,
        )


def test_upheld_with_a_block_blocks_the_account_through_the_blocked_account_flow(notified, seller, buyer, support):
    services.report_answer(report=notified, user=seller, text="Это не так, мы не просили.", attachment_ids=[])
    before = last_mail_id()
    services.report_close(
        report=notified,
        staff=support,
        outcome="upheld",
        reason="Переписка подтверждает просьбу.",
        sanction="account_blocked",
    )
    seller.refresh_from_db()
    assert seller.is_blocked and seller.block_reason == "off_platform"
    assert f"жалобе №{notified.pk}" in seller.block_note
    recipients = sorted(message.to_address for message in sent(before))
    assert recipients == sorted([buyer.email, seller.email, seller.email])  # decision to both, the block notice


def test_removing_a_listing_marks_it_for_the_next_reporter(notified, seller, support, login):
    services.report_close(
        report=notified,
        staff=support,
        outcome="upheld",
        reason="Товар продаётся с обманом покупателей.",
        sanction="listing_removed",
        now=notified.answer_due_at,
    )
    assert services.listing_removed(notified.item_id)
    page = login(UserFactory()).get(reverse("reports:new"), {"link": notified.listing_url}).content.decode()
    assert "уже снят с продажи" in page


def test_both_sides_see_the_outcome_and_reason(notified, buyer, seller, support, client):
    reason = "Переписка подтверждает просьбу оплатить напрямую."
    services.report_close(
        report=notified, staff=support, outcome="upheld", reason=reason, sanction="warning", now=notified.answer_due_at
    )
    for user in (buyer, seller):
        client.force_login(user)
        page = client.get(reverse("reports:detail", args=[notified.pk])).content.decode()
        assert "Нарушение подтвердилось" in page and reason in page and "предупреждение" in page


def test_every_status_change_mails_the_reporter(order, buyer, support, seller):
    report = file_report(buyer, order=order, link=item_link(order))
    services.report_notify(report=report, staff=support)
    services.report_answer(report=report, user=seller, text="Мы не просили оплату напрямую.", attachment_ids=[])
    services.report_close(report=report, staff=support, outcome="not_upheld", reason="Доказательств просьбы нет.")
    to_reporter = [message.subject for message in sent() if message.to_address == buyer.email]
    number = report.pk
    assert to_reporter == [
        f"Жалоба № {number} подана",
        f"Жалоба № {number}: другая сторона уведомлена",
        f"Жалоба № {number} на рассмотрении у поддержки",
        f"Решение по жалобе № {number}",
    ]


def test_a_closed_report_cannot_move_again(notified, support):
    services.report_close(report=notified, staff=support, outcome="not_upheld", reason="Доказательств нарушения нет.")
    for action in (
        lambda: services.report_notify(report=notified, staff=support),
        lambda: services.report_take(report=notified, staff=support),
    ):
        with pytest.raises(ActionRefused, match="уже закрыта"):
            action()


# --- privacy ---------------------------------------------------------------------------------------


def test_the_reported_party_never_learns_who_reported(order, buyer, seller, support, client):
    report = file_report(buyer, order=order, link=item_link(order), files=[])
    before = last_mail_id()
    services.report_notify(report=report, staff=support)
    client.force_login(seller)
    pages = [
        client.get(reverse("reports:detail", args=[report.pk])).content.decode(),
        client.get(reverse("reports:against_me")).content.decode(),
    ]
    services.report_close(report=report, staff=support, outcome="not_upheld", reason="Доказательств нарушения нет.")
    pages.append(client.get(reverse("reports:detail", args=[report.pk])).content.decode())
    mails = [f"{message.subject}\n{message.body}" for message in sent(before) if message.to_address == seller.email]
    assert len(mails) == 2
    for text in pages + mails:
        for secret in (buyer.username, buyer.email, buyer.first_name, order.number):
            assert secret not in text


def test_the_reported_party_sees_the_reporters_files_without_their_names(order, buyer, seller, support, client):
    from core import files

    stored = files.uploads_store(model=ReportFile, owner_id=buyer.pk, files=[png_file("anna-petrova-chat.png")])
    report = file_report(buyer, order=order, link=item_link(order), files=stored.ids)
    services.report_notify(report=report, staff=support)
    client.force_login(seller)
    page = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "anna-petrova" not in page and "Файл 1" in page
    token = ReportFile.objects.get().token
    response = client.get(reverse("reports:file", args=[token]))
    assert response.status_code == 200
    assert "anna-petrova" not in response.get("Content-Disposition", "")


# --- abuse control -------------------------------------------------------------------------------


def test_a_second_report_of_the_same_listing_joins_the_first(order, buyer):
    first = file_report(buyer, order=order, link=item_link(order))
    second, created = services.report_file(
        reporter=buyer,
        order=None,
        link=item_link(order),
        reason="fake_brand",
        description="Ещё и логотип чужого бренда.",
        attachment_ids=[],
    )
    assert (second.pk, created) == (first.pk, False)
    assert Report.objects.count() == 1
    added = ReportEvent.objects.get(kind=ReportEvent.Kind.ADDED)
    assert added.details["description"] == "Ещё и логотип чужого бренда."


def add_to_report(reporter, order, text):
    """The reporter reports the same listing again: the text is added to the open report."""
    services.report_file(
        reporter=reporter, order=None, link=item_link(order), reason="pay_outside", description=text, attachment_ids=[]
    )


def test_an_addition_while_the_party_may_answer_shows_on_its_page_and_is_mailed_to_it(
    notified, order, buyer, seller, login
):
    before = last_mail_id()
    add_to_report(buyer, order, "Ещё он прислал номер карты в личном сообщении.")
    to_seller = [mail for mail in sent(before) if mail.to_address == seller.email]
    assert [mail.subject for mail in to_seller] == [f"Жалоба № {notified.pk} на вас дополнена"]
    assert "Заявитель дополнил жалобу" in to_seller[0].body and buyer.username not in to_seller[0].body
    page = login(seller).get(reverse("reports:detail", args=[notified.pk])).content.decode()
    assert "Дополнения к жалобе" in page and "Ещё он прислал номер карты в личном сообщении." in page
    assert buyer.username not in page and buyer.email not in page


def test_an_addition_before_the_party_is_asked_mails_no_one_but_shows_once_it_is(order, buyer, seller, support, login):
    report = file_report(buyer, order=order, link=item_link(order))
    before = last_mail_id()
    add_to_report(buyer, order, "Дополнение.")
    assert [mail for mail in sent(before) if mail.to_address == seller.email] == []
    services.report_notify(report=report, staff=support)
    page = login(seller).get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert 'data-testid="report-addition">Дополнение.<' in page


@pytest.mark.usefixtures("caches_in_memory")
def test_reports_per_hour_are_limited_with_a_clear_message(buyer, settings, login):
    settings.REPORTS_PER_HOUR = 2
    client = login(buyer)
    for n in range(2):
        client.post(
            reverse("reports:new"),
            {
                "link": f"https://aliexpress.ru/item/100500000000000{n}.html",
                "reason": "spam",
                "description": DESCRIPTION,
            },
        )
    refused = client.post(
        reverse("reports:new"),
        {"link": "https://aliexpress.ru/item/1005000000000009.html", "reason": "spam", "description": DESCRIPTION},
    )
    assert refused.status_code == 400
    assert "много жалоб за час" in refused.content.decode()
    assert DESCRIPTION in refused.content.decode()
    assert Report.objects.count() == 2
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        client.post(
            reverse("reports:new"),
            {"link": "https://aliexpress.ru/item/1005000000000009.html", "reason": "spam", "description": DESCRIPTION},
        )
    assert Report.objects.count() == 3


def test_nobody_else_sees_a_report_or_its_files(notified, client):
    from core import files

    stored = files.uploads_store(model=ReportFile, owner_id=notified.reporter_id, files=[png_file()])
    ReportFile.objects.filter(pk__in=stored.ids).update(report=notified, side=ReportFile.Side.REPORTER)
    token = ReportFile.objects.get().token
    client.force_login(UserFactory())
    assert client.get(reverse("reports:detail", args=[notified.pk])).status_code == 404
    assert client.get(reverse("reports:file", args=[token])).status_code == 404
    assert client.post(reverse("reports:answer", args=[notified.pk]), {"text": "x" * 30}).status_code == 404
    client.force_login(SellerFactory())
    assert client.get(reverse("reports:detail", args=[notified.pk])).status_code == 404


# --- fixed query counts ------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_report_lists_and_the_admin_queue_stay_at_a_fixed_number_of_queries(buyer, seller, support, client, settings):
    settings.REPORTS_PER_HOUR = 100

    def add_reports(count):
        for _ in range(count):
            order = OrderFactory(buyer=buyer, store=seller.store)
            services.report_notify(report=file_report(buyer, order=order, link=item_link(order)), staff=support)

    add_reports(2)
    client.force_login(buyer)
    mine_few = _queries(client, reverse("reports:list"))
    client.force_login(seller)
    against_few = _queries(client, reverse("reports:against_me"))
    client.force_login(support)
    queue_few = _queries(client, reverse("admin:reports_report_changelist"))
    page_few = _queries(client, reverse("admin:reports_report_change", args=[Report.objects.earliest("pk").pk]))
    add_reports(12)
    client.force_login(buyer)
    assert _queries(client, reverse("reports:list")) == mine_few
    client.force_login(seller)
    assert _queries(client, reverse("reports:against_me")) == against_few
    client.force_login(support)
    assert _queries(client, reverse("admin:reports_report_changelist")) == queue_few
    assert _queries(client, reverse("admin:reports_report_change", args=[Report.objects.earliest("pk").pk])) == page_few


def test_support_decides_in_admin_and_the_page_shows_both_sides(notified, seller, support, client):
    services.report_answer(report=notified, user=seller, text="Мы не просили оплату напрямую.", attachment_ids=[])
    client.force_login(support)
    page = client.get(reverse("admin:reports_report_change", args=[notified.pk])).content.decode()
    assert DESCRIPTION in page and "Мы не просили оплату напрямую." in page
    short = client.post(
        reverse("admin:reports_report_close", args=[notified.pk]),
        {"outcome": "upheld", "reason": "Да.", "sanction": ""},
    )
    assert short.status_code == 400
    client.post(
        reverse("admin:reports_report_close", args=[notified.pk]),
        {"outcome": "upheld", "reason": "Переписка подтверждает нарушение.", "sanction": "warning"},
    )
    notified.refresh_from_db()
    assert (notified.status, notified.outcome, notified.sanction) == ("closed", "upheld", "warning")
    assert ReportEvent.objects.get(kind=ReportEvent.Kind.CLOSED).actor == support


def test_staff_without_the_right_cannot_open_the_queue(notified, client, arbitrator_user):
    client.force_login(arbitrator_user)
    assert client.get(reverse("admin:reports_report_changelist")).status_code == 403
    assert client.post(reverse("admin:reports_report_notify", args=[notified.pk])).status_code in (403, 404)


def test_order_and_dispute_pages_offer_the_report_to_each_party(order, buyer, seller, client):
    from .disputes_helpers import open_dispute

    dispute = open_dispute(order)
    report_url = reverse("reports:new") + f"?order={order.number}"
    for user, label in ((buyer, "Пожаловаться на продавца"), (seller, "Пожаловаться на покупателя")):
        client.force_login(user)
        for page in (reverse("orders:detail", args=[order.number]), reverse("disputes:detail", args=[dispute.pk])):
            text = client.get(page).content.decode()
            assert label in text and report_url in text.replace("&amp;", "&")


def test_the_admin_history_names_people_as_the_rest_of_admin_does(notified, support, buyer, client):
    support.first_name, support.last_name = "Вера", "Смирнова"
    support.save(update_fields=["first_name", "last_name"])
    client.force_login(support)
    page = client.get(reverse("admin:reports_report_change", args=[notified.pk])).content.decode()
    history = page[page.index("<tbody>", page.index("История")) :]
    assert "<td>Вера Смирнова</td>" in history and f"<td>{support.username}</td>" not in history
    assert f"<td>{buyer.get_full_name() or buyer.username}</td>" in history
