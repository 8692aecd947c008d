"""Blocked accounts: what the blocked user sees and may still do, the appeal with evidence, staff
blocking and answering in admin with the right permission only, and disputes that wait instead of
going against a party who cannot answer."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts import blocking
from accounts.models import AccountAppeal, AccountAppealFile, AccountEvent, BlockReason, User
from core.demo import DEMO_PASSWORD
from core.errors import ActionRefused
from disputes import claims, services
from disputes.models import Claim, Decision, Dispute, Message
from orders.models import Refund

from .disputes_helpers import decide, escalate, html_as_jpeg, open_dispute, stored_files
from .factories import PASSWORD, OrderFactory, StaffFactory, UserFactory, arbitrator, support_agent

pytestmark = pytest.mark.django_db
S = Dispute.Status
MINUTE = timedelta(minutes=1)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTE = "По заказам 8100000000000003 и 8100000000000007 открыты споры «посылка пустая», а почта вручила их с весом."
APPEAL_TEXT = "Посылки действительно пришли пустыми: прилагаю видео распаковки и акт почты о вскрытии."
KEEP_ANSWER = "Видео обрезано до вскрытия коробки, акт почты не относится к этим заказам."


def head_of_arbitration(**kwargs) -> User:
    return StaffFactory(groups=["arbitration_heads"], **kwargs)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def jpeg_file(name: str = "unboxing.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), "purple").save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def block(user: User, *, staff: User | None = None, reason: str = BlockReason.DISPUTE_ABUSE) -> User:
    return blocking.account_block(user=user, staff=staff or support_agent(), reason=reason, note=NOTE)


def unblock(user: User) -> User:
    return blocking.account_unblock(user=user, staff=support_agent())


def appeal_files_on_disk(settings) -> list:
    return stored_files("appeals")


def appeal_file_rows_match_disk(settings) -> bool:
    return sorted(str(item.file.name) for item in AccountAppealFile.objects.all()) == appeal_files_on_disk(settings)


@pytest.fixture
def blocked_buyer(buyer, support_user):
    return block(buyer, staff=support_user)


@pytest.fixture
def file_appeal(django_capture_on_commit_callbacks):
    """The blocked user sends the appeal form from the block page, as the browser does."""

    def send(user: User, *, text: str = APPEAL_TEXT, evidence=None):
        client = signed_in(user)
        data = {"text": text}
        if evidence is not None:
            data["evidence"] = evidence
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:blocked"), data)
        return client, response

    return send


@pytest.fixture
def answer_appeal(django_capture_on_commit_callbacks):
    """Staff answer an appeal with the buttons under it in admin."""

    def send(staff: User, appeal: AccountAppeal, *, decision: str, answer: str = ""):
        with django_capture_on_commit_callbacks(execute=True):
            return signed_in(staff).post(
                reverse("admin:accounts_accountappeal_answer", args=[appeal.pk]),
                {"decision": decision, "answer": answer},
                follow=True,
            )

    return send


# --- what a blocked user sees and may do ---------------------------------------------------------


def test_a_blocked_user_signs_in_with_the_right_password_and_reads_why(client, blocked_buyer, support_user):
    response = client.post(
        reverse("accounts:login"), {"username": blocked_buyer.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:blocked")
    page = response.content.decode()
    assert "Ваш аккаунт заблокирован" in page
    assert "Злоупотребление спорами: заведомо ложные требования" in page
    assert "По заказам 8100000000000003 и 8100000000000007" in page
    assert "Обжаловать блокировку" in page
    assert "Неверн" not in page and "неверн" not in page
    # The user reads why, not which member of staff did it.
    assert support_user.username not in page


def test_a_wrong_password_for_a_blocked_account_is_still_a_wrong_password(client, blocked_buyer):
    response = client.post(reverse("accounts:login"), {"username": blocked_buyer.username, "password": "guess"})
    assert response.status_code == 200
    assert "Ваш аккаунт заблокирован" not in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "page",
    ["home", "settings", "my_disputes", "dispute", "wizard", "my_orders", "order", "admin"],
)
def test_a_blocked_user_is_led_from_every_other_page_to_the_block_page(blocked_buyer, seller, page):
    order = OrderFactory(buyer=blocked_buyer, store=seller.store)
    disputed = OrderFactory(buyer=blocked_buyer, store=seller.store)
    dispute = open_dispute(disputed)
    url = {
        "home": reverse("accounts:home"),
        "settings": reverse("accounts:settings"),
        "my_disputes": reverse("disputes:list"),
        "dispute": reverse("disputes:detail", args=[dispute.pk]),
        "wizard": reverse("disputes:wizard_start", args=[order.number]),
        "my_orders": reverse("orders:list"),
        "order": reverse("orders:detail", args=[order.number]),
        "admin": reverse("admin:index"),
    }[page]
    response = signed_in(blocked_buyer).get(url)
    assert (response.status_code, response["Location"]) == (302, reverse("accounts:blocked"))


def test_a_blocked_user_cannot_write_into_a_dispute(blocked_buyer, seller):
    dispute = open_dispute(OrderFactory(buyer=blocked_buyer, store=seller.store))
    before = Message.objects.filter(dispute=dispute).count()
    response = signed_in(blocked_buyer).post(
        reverse("disputes:message_create", args=[dispute.pk]), {"text": "Я всё равно напишу"}
    )
    assert response["Location"] == reverse("accounts:blocked")
    assert Message.objects.filter(dispute=dispute).count() == before


def test_the_help_centre_stays_readable_while_blocked(blocked_buyer):
    client = signed_in(blocked_buyer)
    assert client.get(reverse("faq:index")).status_code == 200
    assert client.get(reverse("home")).status_code == 200
    # Article images live outside the faq namespace: a missing one is a 404, not the block page.
    assert client.get(reverse("faq_image", args=["0" * 32, "png"])).status_code == 404
    # The block page links the article on blocked accounts, and it opens.
    page = client.get(reverse("accounts:blocked")).content.decode()
    article = reverse("faq:article", args=["zhaloby-i-akkaunt", "akkaunt-zablokirovan"])
    assert f'href="{article}"' in page
    assert "Аккаунт заблокирован: что делать" in client.get(article).content.decode()


def test_a_blocked_user_signs_out(blocked_buyer):
    client = signed_in(blocked_buyer)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("accounts:blocked"))["Location"].startswith(reverse("accounts:login"))


def test_a_blocked_user_resets_the_password_and_signs_in_to_the_block_page(
    client, blocked_buyer, django_capture_on_commit_callbacks
):
    assert signed_in(blocked_buyer).get(reverse("accounts:password_reset")).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": blocked_buyer.email})
    assert [message.to for message in mail.outbox] == [[blocked_buyer.email]]
    found = re.search(r"https?://[^/]+(/\S+)", str(mail.outbox[0].body))
    assert found is not None
    link = found.group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Fresh-pass-2026", "new_password2": "Fresh-pass-2026"}
    )
    response = client.post(
        reverse("accounts:login"), {"username": blocked_buyer.username, "password": "Fresh-pass-2026"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:blocked")


def test_a_user_who_is_not_blocked_never_sees_the_block_page(login, buyer):
    assert login(buyer).get(reverse("accounts:blocked"))["Location"] == reverse("accounts:home")
    with pytest.raises(ActionRefused, match="не заблокирован"):
        blocking.account_appeal_file(user=buyer, text=APPEAL_TEXT)


# --- the appeal ---------------------------------------------------------------------------------


def test_a_blocked_user_appeals_with_a_photo_and_is_mailed_that_it_arrived(blocked_buyer, file_appeal, settings):
    mail.outbox.clear()
    client, response = file_appeal(blocked_buyer, evidence=jpeg_file())
    assert response["Location"] == reverse("accounts:blocked")
    appeal = AccountAppeal.objects.get(user=blocked_buyer)
    assert (appeal.status, appeal.text) == (AccountAppeal.Status.PENDING, APPEAL_TEXT)
    photo = appeal.files.get()
    assert (photo.display_name, photo.content_type, photo.owner) == ("unboxing.jpg", "image/jpeg", blocked_buyer)
    assert appeal_file_rows_match_disk(settings) and len(appeal_files_on_disk(settings)) == 1

    [letter] = mail.outbox
    assert letter.to == [blocked_buyer.email]
    assert letter.subject == "Мы получили ваше обжалование блокировки"
    assert "Ваше обращение о блокировке аккаунта получено" in letter.body
    assert f"{settings.SITE_URL}/account/blocked/" in letter.body

    page = client.get(reverse("accounts:blocked")).content.decode()
    assert "Обращение отправлено" in page
    assert "На рассмотрении" in page and APPEAL_TEXT in page
    assert "Ваше обжалование уже на рассмотрении: дождитесь ответа." in page
    assert reverse("accounts:blocked_file", args=[photo.token]) in page
    assert 'name="text"' not in page  # no second form while the first appeal waits
    event = AccountEvent.objects.filter(user=blocked_buyer).latest("pk")
    assert (event.kind, event.actor, event.details) == (
        AccountEvent.Kind.APPEAL_FILED,
        blocked_buyer,
        {"appeal": appeal.pk},
    )


def test_a_second_appeal_waits_until_the_first_is_answered(blocked_buyer, file_appeal, settings):
    file_appeal(blocked_buyer, evidence=jpeg_file())
    mail.outbox.clear()
    _client, response = file_appeal(blocked_buyer, text="Второе обращение: " + APPEAL_TEXT, evidence=jpeg_file("2.jpg"))
    assert response["Location"] == reverse("accounts:blocked")
    assert AccountAppeal.objects.filter(user=blocked_buyer).count() == 1
    assert AccountAppealFile.objects.count() == 1 and appeal_file_rows_match_disk(settings)
    assert mail.outbox == []
    with pytest.raises(ActionRefused, match="уже на рассмотрении"):
        blocking.account_appeal_file(user=blocked_buyer, text=APPEAL_TEXT)


@pytest.mark.parametrize(
    ("text", "evidence", "message"),
    [
        ("Разблокируйте", jpeg_file, "хотя бы 30 символов"),
        (APPEAL_TEXT, html_as_jpeg, "photo.jpg:"),
    ],
)
def test_a_refused_appeal_form_keeps_nothing(blocked_buyer, file_appeal, settings, text, evidence, message):
    _client, response = file_appeal(blocked_buyer, text=text, evidence=evidence())
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AccountAppeal.objects.exists()
    assert not AccountAppealFile.objects.exists() and appeal_files_on_disk(settings) == []
    assert mail.outbox == []


def test_an_appeal_file_opens_for_its_owner_and_staff_who_may_block_only(blocked_buyer, file_appeal):
    file_appeal(blocked_buyer, evidence=jpeg_file())
    photo = AccountAppealFile.objects.get()
    url = reverse("accounts:blocked_file", args=[photo.token])
    for allowed in (blocked_buyer, support_agent(), head_of_arbitration()):
        response = signed_in(allowed).get(url)
        assert response.status_code == 200, allowed
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response.getvalue()[:3] == b"\xff\xd8\xff"
    for stranger in (UserFactory(), arbitrator(), StaffFactory(groups=["finance"])):
        assert signed_in(stranger).get(url).status_code == 404, stranger
    assert Client().get(url)["Location"].startswith(reverse("accounts:login"))
    assert signed_in(blocked_buyer).get(reverse("accounts:blocked_file", args=["0" * 32])).status_code == 404


def test_an_unblocked_user_still_opens_their_own_appeal_file(blocked_buyer, file_appeal):
    file_appeal(blocked_buyer, evidence=jpeg_file())
    unblock(blocked_buyer)
    photo = AccountAppealFile.objects.get()
    assert signed_in(blocked_buyer).get(reverse("accounts:blocked_file", args=[photo.token])).status_code == 200


# --- staff: blocking ------------------------------------------------------------------------------


def test_support_blocks_a_user_from_the_admin_user_page_and_the_user_is_mailed_why(
    buyer, support_user, django_capture_on_commit_callbacks
):
    staff = signed_in(support_user)
    user_page = staff.get(reverse("admin:accounts_user_change", args=[buyer.pk])).content.decode()
    block_url = reverse("admin:accounts_user_block", args=[buyer.pk])
    assert "Не заблокирован" in user_page and block_url in user_page
    form = staff.get(block_url).content.decode()
    assert "Причина (её прочтёт пользователь)" in form and "Подозрение на взлом" in form
    mail.outbox.clear()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = staff.post(block_url, {"reason": BlockReason.FRAUD, "note": NOTE}, follow=True)
    assert "Аккаунт заблокирован; пользователю отправлено письмо с причиной." in response.content.decode()

    buyer.refresh_from_db()
    assert (buyer.blocked_at, buyer.block_reason, buyer.block_note) == (NOW, BlockReason.FRAUD, NOTE)
    event = AccountEvent.objects.get(user=buyer)
    assert (event.kind, event.actor, event.created_at) == (AccountEvent.Kind.BLOCKED, support_user, NOW)
    assert event.details == {"reason": {"old": None, "new": "fraud"}, "note": NOTE}

    [letter] = mail.outbox
    assert letter.to == [buyer.email]
    assert letter.subject == "Ваш аккаунт заблокирован"
    assert "Причина: Мошенничество с заказами или возвратами" in letter.body
    assert NOTE in letter.body
    assert "Войти по-прежнему можно" in letter.body and "/account/blocked/" in letter.body
    assert support_user.username not in letter.body

    # The user page now says so, offers the way back and lists who did what.
    user_page = staff.get(reverse("admin:accounts_user_change", args=[buyer.pk])).content.decode()
    assert "Заблокирован: Мошенничество с заказами или возвратами (2 марта 2026, 12:00 MSK)" in user_page
    assert reverse("admin:accounts_user_unblock", args=[buyer.pk]) in user_page
    assert "причина: было «—», стало «Мошенничество с заказами или возвратами»" in user_page


def test_a_refused_block_is_said_on_the_form_which_keeps_what_was_typed(buyer, support_user):
    response = signed_in(support_user).post(
        reverse("admin:accounts_user_block", args=[buyer.pk]), {"reason": BlockReason.OTHER, "note": ""}
    )
    page = response.content.decode()
    assert "Для причины «Другое» напишите пояснение" in page
    assert '<option value="other" selected>' in page
    buyer.refresh_from_db()
    assert not buyer.is_blocked and not AccountEvent.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("group", ["arbitrators", "finance"])
def test_staff_without_the_block_right_get_403_and_no_button(blocked_buyer, group):
    other = UserFactory()
    staff = signed_in(StaffFactory(groups=[group]))
    assert staff.get(reverse("admin:accounts_user_block", args=[other.pk])).status_code == 403
    assert staff.post(reverse("admin:accounts_user_block", args=[other.pk]), {"reason": "spam"}).status_code == 403
    assert staff.post(reverse("admin:accounts_user_unblock", args=[blocked_buyer.pk])).status_code == 403
    other.refresh_from_db()
    blocked_buyer.refresh_from_db()
    assert not other.is_blocked and blocked_buyer.is_blocked
    page = staff.get(reverse("admin:accounts_user_change", args=[blocked_buyer.pk])).content.decode()
    assert "Заблокирован: Злоупотребление спорами" in page
    assert reverse("admin:accounts_user_unblock", args=[blocked_buyer.pk]) not in page


def test_a_signed_in_user_who_is_not_staff_never_reaches_the_block_view(buyer):
    other = UserFactory()
    response = signed_in(buyer).post(reverse("admin:accounts_user_block", args=[other.pk]), {"reason": "spam"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    other.refresh_from_db()
    assert not other.is_blocked


def test_what_staff_may_not_block(support_user, buyer):
    admin = StaffFactory(is_superuser=True)
    with pytest.raises(ActionRefused, match="Свой аккаунт"):
        block(support_user, staff=support_user)
    with pytest.raises(ActionRefused, match="администратора"):
        block(admin, staff=support_user)
    with pytest.raises(ActionRefused, match="Выберите причину"):
        blocking.account_block(user=buyer, staff=support_user, reason="ugly", note="")
    with pytest.raises(ActionRefused, match="Для причины «Другое» напишите пояснение"):
        blocking.account_block(user=buyer, staff=support_user, reason=BlockReason.OTHER, note="  ")
    block(buyer, staff=support_user)
    with pytest.raises(ActionRefused, match="уже заблокирован"):
        block(buyer, staff=support_user)
    with pytest.raises(ActionRefused, match="только сотрудник"):
        block(UserFactory(), staff=arbitrator())
    assert AccountEvent.objects.filter(kind=AccountEvent.Kind.BLOCKED).count() == 1


def test_head_of_arbitration_blocks_and_unblocks_from_the_user_page(buyer, django_capture_on_commit_callbacks):
    head = signed_in(head_of_arbitration())
    with django_capture_on_commit_callbacks(execute=True):
        head.post(reverse("admin:accounts_user_block", args=[buyer.pk]), {"reason": "spam", "note": ""})
    buyer.refresh_from_db()
    assert buyer.block_reason == BlockReason.SPAM
    with django_capture_on_commit_callbacks(execute=True):
        head.post(reverse("admin:accounts_user_unblock", args=[buyer.pk]), {"answer": "Проверили, ошибка фильтра."})
    buyer.refresh_from_db()
    assert not buyer.is_blocked and (buyer.block_reason, buyer.block_note) == ("", "")
    assert [message.subject for message in mail.outbox][-2:] == [
        "Ваш аккаунт заблокирован",
        "Ваш аккаунт разблокирован",
    ]
    assert "Проверили, ошибка фильтра." in mail.outbox[-1].body
    assert list(AccountEvent.objects.filter(user=buyer).values_list("kind", flat=True)) == ["blocked", "unblocked"]


# --- staff: answering an appeal -----------------------------------------------------------------


@pytest.fixture
def appeal(blocked_buyer, file_appeal):
    file_appeal(blocked_buyer, evidence=jpeg_file())
    mail.outbox.clear()
    return AccountAppeal.objects.get(user=blocked_buyer)


def test_support_reads_the_appeal_with_its_evidence_and_the_answer_buttons(appeal, support_user):
    page = signed_in(support_user).get(reverse("admin:accounts_accountappeal_change", args=[appeal.pk]))
    html = page.content.decode()
    assert APPEAL_TEXT in html and NOTE in html and "Злоупотребление спорами" in html
    assert reverse("accounts:blocked_file", args=[appeal.files.get().token]) in html
    assert "Разблокировать аккаунт" in html and "Оставить блокировку" in html
    # The answer form sits after the change form: a form nested inside another is dropped by
    # browsers, and the buttons would submit nothing.
    main_form_end = html.index("</form>", html.index('id="accountappeal_form"'))
    assert html.index('<form id="appeal-answer"') > main_form_end
    listing = signed_in(support_user).get(reverse("admin:accounts_accountappeal_changelist")).content.decode()
    assert blocked_name(appeal) in listing


def blocked_name(appeal: AccountAppeal) -> str:
    return appeal.user.username


@pytest.mark.parametrize("staff_kind", ["support", "arbitration_heads"])
def test_staff_unblock_on_an_appeal_and_the_user_uses_the_site_again(appeal, answer_appeal, staff_kind):
    staff = support_agent() if staff_kind == "support" else head_of_arbitration()
    response = answer_appeal(staff, appeal, decision="unblock", answer="Видео подтверждает: посылки были пустыми.")
    assert "Аккаунт разблокирован; пользователю отправлено письмо." in response.content.decode()
    appeal.refresh_from_db()
    assert (appeal.status, appeal.decided_by) == (AccountAppeal.Status.UNBLOCKED, staff)
    assert appeal.answer == "Видео подтверждает: посылки были пустыми."
    user = User.objects.get(pk=appeal.user_id)
    assert not user.is_blocked

    [letter] = mail.outbox
    assert (letter.to, letter.subject) == ([user.email], "Ваш аккаунт разблокирован")
    assert "заказы и споры снова доступны" in letter.body
    assert "Видео подтверждает: посылки были пустыми." in letter.body

    client = signed_in(user)
    assert client.get(reverse("disputes:list")).status_code == 200
    assert client.get(reverse("accounts:blocked"))["Location"] == reverse("accounts:home")
    event = AccountEvent.objects.filter(user=user).latest("pk")
    assert (event.kind, event.actor) == (AccountEvent.Kind.UNBLOCKED, staff)
    assert event.details["reason"] == {"old": "dispute_abuse", "new": None}


def test_staff_keep_the_block_with_an_answer_the_user_reads_and_may_appeal_again(
    appeal, answer_appeal, support_user, file_appeal
):
    response = answer_appeal(support_user, appeal, decision="keep", answer="Коротко")
    assert "хотя бы 20 символов" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == AccountAppeal.Status.PENDING and mail.outbox == []

    response = answer_appeal(support_user, appeal, decision="keep", answer=KEEP_ANSWER)
    assert "Блокировка оставлена; пользователь увидит ответ." in response.content.decode()
    appeal.refresh_from_db()
    assert (appeal.status, appeal.answer, appeal.decided_by) == (
        AccountAppeal.Status.REJECTED,
        KEEP_ANSWER,
        support_user,
    )
    user = User.objects.get(pk=appeal.user_id)
    assert user.is_blocked
    [letter] = mail.outbox
    assert (letter.to, letter.subject) == ([user.email], "Блокировка аккаунта оставлена")
    assert "Ответ сотрудника:" in letter.body and KEEP_ANSWER in letter.body
    assert "/account/blocked/" in letter.body

    page = signed_in(user).get(reverse("accounts:blocked")).content.decode()
    assert "Блокировка оставлена" in page and KEEP_ANSWER in page
    assert 'name="text"' in page  # the form is back: new evidence, new appeal
    file_appeal(user, text="Новые доказательства: " + APPEAL_TEXT)
    assert AccountAppeal.objects.filter(user=user, status=AccountAppeal.Status.PENDING).count() == 1


def test_arbitrators_cannot_answer_appeals(appeal, answer_appeal):
    olga = arbitrator()
    assert signed_in(olga).get(reverse("admin:accounts_accountappeal_change", args=[appeal.pk])).status_code == 403
    response = answer_appeal(olga, appeal, decision="unblock")
    assert response.status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == AccountAppeal.Status.PENDING
    assert User.objects.get(pk=appeal.user_id).is_blocked
    with pytest.raises(ActionRefused, match="только сотрудник с правом блокировки"):
        blocking.account_appeal_unblock(appeal=appeal, staff=olga, answer="")


def test_an_appeal_is_answered_once(appeal, support_user):
    blocking.account_appeal_reject(appeal=appeal, staff=support_user, answer=KEEP_ANSWER)
    with pytest.raises(ActionRefused, match="уже рассмотрено"):
        blocking.account_appeal_unblock(appeal=appeal, staff=head_of_arbitration(), answer="")
    with pytest.raises(ActionRefused, match="уже рассмотрено"):
        blocking.account_appeal_reject(appeal=appeal, staff=support_user, answer=KEEP_ANSWER)
    assert User.objects.get(pk=appeal.user_id).is_blocked


def test_unblocking_from_the_user_page_closes_the_waiting_appeal(appeal, support_user):
    signed_in(support_user).post(
        reverse("admin:accounts_user_unblock", args=[appeal.user_id]), {"answer": "Сняли после проверки."}
    )
    appeal.refresh_from_db()
    assert (appeal.status, appeal.answer, appeal.decided_by) == (
        AccountAppeal.Status.UNBLOCKED,
        "Сняли после проверки.",
        support_user,
    )


def test_deleting_an_appeal_deletes_its_files(appeal, settings, django_capture_on_commit_callbacks):
    assert len(appeal_files_on_disk(settings)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        appeal.delete()
    assert not AccountAppealFile.objects.exists() and appeal_files_on_disk(settings) == []


# --- disputes with a blocked party ------------------------------------------------------------


@pytest.fixture
def taken_claim(order):
    dispute = escalate(open_dispute(order))
    olga = arbitrator(username="olga")
    claims.claim_take(dispute=dispute, arbitrator=olga)
    return dispute, olga


@pytest.mark.parametrize(
    ("blocked_party", "refused", "allowed", "message"),
    [
        ("buyer", ["seller"], "buyer", "Аккаунт покупателя заблокирован"),
        ("seller", ["buyer", "split"], "seller", "Аккаунт продавца заблокирован"),
    ],
)
def test_no_claim_decision_goes_against_a_blocked_party(taken_claim, blocked_party, refused, allowed, message):
    dispute, olga = taken_claim
    block(dispute.buyer if blocked_party == "buyer" else dispute.store.owner)
    for winner in refused:
        with pytest.raises(ActionRefused, match=message):
            decide(dispute, arbitrator=olga, winner=winner, amount="10" if winner == "split" else None)
    assert not Decision.objects.exists()
    decide(dispute, arbitrator=olga, winner=allowed)
    assert Decision.objects.get().winner == allowed


def test_the_claim_page_refuses_a_decision_against_a_blocked_buyer_with_the_reason(taken_claim):
    dispute, olga = taken_claim
    block(dispute.buyer)
    data = {"winner": "seller", "reason": "Продавец прислал фото упаковки с весом; видео распаковки нет. " * 2}
    response = signed_in(olga).post(reverse("admin:disputes_claim_decide", args=[dispute.claim.pk]), data)
    assert "Аккаунт покупателя заблокирован: решение против него можно принять после разблокировки." in (
        response.content.decode()
    )
    signed_in(olga).post(reverse("admin:disputes_claim_decide", args=[dispute.claim.pk]), {**data, "confirmed": "yes"})
    assert not Decision.objects.exists()


def test_a_blocked_seller_does_not_lose_for_silence_until_unblocked(dispute_factory, run_sweep):
    dispute = dispute_factory()
    block(dispute.store.owner)
    assert run_sweep("seller-silence", dispute.seller_answer_due_at + MINUTE).changed == 0
    dispute.refresh_from_db()
    assert dispute.status == S.AWAITING_SELLER and not Refund.objects.exists()
    unblock(dispute.store.owner)
    assert run_sweep("seller-silence", dispute.seller_answer_due_at + 2 * MINUTE).changed == 1
    dispute.refresh_from_db()
    assert dispute.status == S.REFUNDED


def test_a_blocked_buyer_still_wins_for_a_silent_seller(dispute_factory, run_sweep):
    dispute = dispute_factory()
    block(dispute.buyer)
    assert run_sweep("seller-silence", dispute.seller_answer_due_at + MINUTE).changed == 1
    dispute.refresh_from_db()
    assert dispute.status == S.REFUNDED


def test_an_unshipped_return_does_not_close_a_blocked_buyers_dispute_until_unblocked(dispute_factory, run_sweep):
    dispute = dispute_factory()
    offer = services.offer_make(
        dispute=dispute, user=dispute.store.owner, refund_type="full", amount=None, return_required=True, note="верните"
    )
    services.offer_accept(dispute=dispute, offer_id=offer.pk, user=dispute.buyer)
    dispute.refresh_from_db()
    block(dispute.buyer)
    assert run_sweep("return-deadlines", dispute.return_due_at + MINUTE).changed == 0
    dispute.refresh_from_db()
    assert dispute.status == S.AWAITING_RETURN
    unblock(dispute.buyer)
    assert run_sweep("return-deadlines", dispute.return_due_at + 2 * MINUTE).changed == 1
    dispute.refresh_from_db()
    assert dispute.status == S.CLOSED


def test_a_decision_against_a_blocked_buyer_becomes_final_only_after_unblocking(taken_claim, run_sweep):
    dispute, olga = taken_claim
    decide(dispute, arbitrator=olga, winner="seller")
    claim = Claim.objects.get(dispute=dispute)
    assert claim.appeal_due_at is not None
    block(dispute.buyer)
    assert run_sweep("appeal-windows", claim.appeal_due_at + MINUTE).changed == 0
    assert Claim.objects.get(pk=claim.pk).stage == Claim.Stage.DECIDED
    unblock(dispute.buyer)
    assert run_sweep("appeal-windows", claim.appeal_due_at + 2 * MINUTE).changed == 1
    dispute.refresh_from_db()
    assert (dispute.status, Claim.objects.get(pk=claim.pk).stage) == (S.CLOSED, Claim.Stage.FINAL)


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_has_a_blocked_buyer_who_signs_in_to_the_reason_and_stays_unblocked_once_unblocked(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "blocked", "password": DEMO_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:blocked")
    page = response.content.decode()
    assert "Злоупотребление спорами" in page and "Пришлите видео распаковки" in page
    blocked = User.objects.get(username="blocked")
    assert AccountEvent.objects.get(user=blocked).actor == User.objects.get(username="support")
    unblock(blocked)
    call_command("seed_demo")
    assert not User.objects.get(username="blocked").is_blocked
