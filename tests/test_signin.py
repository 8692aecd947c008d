"""Signing in, password reset and sign-up: throttled, and silent about which addresses have accounts."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import tasks
from accounts.demo import seed_users
from accounts.models import OutgoingEmail, Store, User
from core import sweeps
from core.demo import DEMO_PASSWORD

from .factories import PASSWORD, SellerFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "Fresh-pass-2026"


@pytest.fixture(autouse=True)
def _limits(settings):
    # The shipped numbers, stated here so the tests read on their own.
    settings.SIGNIN_FAILURES_PER_ACCOUNT_ADDRESS = 5
    settings.SIGNIN_FAILURES_PER_ADDRESS = 20
    settings.SIGNIN_WINDOW_MINUTES = 15
    settings.PASSWORD_RESET_PER_ADDRESS = 10
    settings.PASSWORD_RESET_PER_EMAIL = 3
    settings.PASSWORD_RESET_WINDOW_MINUTES = 60
    settings.SIGNUP_PER_ADDRESS = 10
    settings.SIGNUP_PER_EMAIL = 3
    settings.SIGNUP_WINDOW_MINUTES = 60
    settings.SIGNUP_LINK_HOURS = 48


@pytest.fixture
def jobs(monkeypatch):
    """The jobs the reset and sign-up pages hand to Celery, recorded instead of run."""
    handed = []
    for name in ("password_reset_mail", "sign_up_mail"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda name=name, **kwargs: handed.append((name, kwargs)))
    return handed


def sign_in(client, login, password, address="10.0.0.1"):
    return client.post(reverse("accounts:login"), {"username": login, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return client.get(reverse("accounts:home")).status_code == 200


def link_in(body: object) -> str:
    found = re.search(r"https?://[^/]+(/\S+)", str(body))
    assert found, body
    return found.group(1)


# --- signing in --------------------------------------------------------------------------------


@pytest.mark.usefixtures("caches_in_memory")
def test_wrong_passwords_are_throttled_then_even_the_right_one_waits(client, buyer):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            assert "Неверный логин, адрес почты или пароль" in sign_in(client, buyer.username, "guess").content.decode()
        fifth = sign_in(client, buyer.username, "guess").content.decode()
        assert "Слишком много неудачных попыток входа. Попробуйте снова через 15 минут" in fifth
        refused = sign_in(client, buyer.username, PASSWORD)
        assert refused.status_code == 200
        assert "через 15 минут" in refused.content.decode()
        assert not signed_in(client)
    with time_machine.travel(START + timedelta(minutes=14), tick=False):
        assert "через 1 минуту" in sign_in(client, buyer.username, PASSWORD).content.decode()
    with time_machine.travel(START + timedelta(minutes=15, seconds=1), tick=False):
        assert sign_in(client, buyer.username, PASSWORD).status_code == 302
        assert signed_in(client)


def test_wrong_passwords_from_many_addresses_only_delay_the_right_one_from_another(client, buyer):
    # The hard block is per account and address (tests/test_signin_limits.py): per account, five
    # wrong passwords from anywhere ask the next try to wait, and never refuse the right password.
    with time_machine.travel(START, tick=False) as clock:
        for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"):
            sign_in(client, buyer.username, "guess", address=address)
        waiting = sign_in(client, buyer.username, PASSWORD, address="10.9.9.9").content.decode()
        assert "Подождите 2 секунды и войдите снова" in waiting
        clock.shift(timedelta(seconds=2))
        assert sign_in(client, buyer.username, PASSWORD, address="10.9.9.9").status_code == 302


def test_sign_in_by_email_shares_the_counter_with_the_username(client, buyer):
    assert sign_in(client, buyer.email.upper(), PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for login in (buyer.username, buyer.email, buyer.username, buyer.email, buyer.username):
        sign_in(client, login, "guess")
    assert "через 15 минут" in sign_in(client, buyer.email, PASSWORD).content.decode()


def test_an_unknown_login_is_answered_and_throttled_like_a_real_one(client, buyer):
    answers = {sign_in(client, login, "guess").content.decode().count("Неверный логин") for login in ("nobody", "anna")}
    assert answers == {1}
    for _ in range(4):
        sign_in(client, "nobody", "guess")
        sign_in(client, buyer.username, "guess")
    assert "через 15 минут" in sign_in(client, "nobody", "guess").content.decode()
    assert "через 15 минут" in sign_in(client, buyer.username, "guess").content.decode()


def test_one_address_guessing_many_accounts_is_stopped_and_others_are_not(client, buyer):
    for number in range(20):
        sign_in(client, f"victim{number}", "guess", address="10.6.6.6")
    assert "через 15 минут" in sign_in(client, buyer.username, PASSWORD, address="10.6.6.6").content.decode()
    assert not signed_in(client)
    assert sign_in(client, buyer.username, PASSWORD, address="10.0.0.2").status_code == 302


def test_signing_in_to_ones_own_account_does_not_reset_the_address_counter(client, buyer):
    other = UserFactory()
    for number in range(19):
        sign_in(client, f"victim{number}", "guess")
    assert sign_in(client, buyer.username, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    sign_in(client, "victim-last", "guess")
    assert "через 15 минут" in sign_in(client, other.username, PASSWORD).content.decode()


def test_a_blocked_user_still_signs_in_and_is_shown_the_block(client, buyer):
    User.objects.filter(pk=buyer.pk).update(blocked_at=timezone.now(), block_reason="spam")
    response = sign_in(client, buyer.username, PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("accounts:home"))["Location"] == reverse("accounts:blocked")


def test_the_admin_sign_in_is_throttled_too(client):
    staff = StaffFactory(is_superuser=True)
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": staff.username, "password": "guess"}, REMOTE_ADDR="10.0.0.1")
    client.post(reverse("admin:login"), {"username": staff.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_demo_logins_work(client, settings):
    settings.DEBUG = True
    seed_users(timezone.now())
    for username in ("buyer", "seller", "arbitrator", "support"):
        assert sign_in(client, username, DEMO_PASSWORD).status_code == 302, username
        client.post(reverse("accounts:logout"))
    assert sign_in(client, "buyer@example.com", DEMO_PASSWORD).status_code == 302


# --- password reset ----------------------------------------------------------------------------


def reset(client, email, address="10.0.0.1"):
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_a_reset_request_does_the_same_work_for_a_known_and_an_unknown_address(client, buyer, jobs):
    answers = []
    for email in (buyer.email, "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries:
            response = reset(client, email)
        answers.append((response.status_code, response["Location"], [query["sql"] for query in queries]))
    assert answers[0] == answers[1] == (302, reverse("accounts:password_reset_done"), [])
    assert [(name, kwargs["email"]) for name, kwargs in jobs] == [
        ("password_reset_mail", buyer.email),
        ("password_reset_mail", "nobody@example.com"),
    ]
    page = client.get(reverse("accounts:password_reset_done")).content.decode()
    assert "Если такой адрес у нас есть" in page
    assert OutgoingEmail.objects.count() == 0


def test_the_reset_letter_waits_in_the_outbox_while_smtp_is_down(
    client, buyer, monkeypatch, django_capture_on_commit_callbacks
):
    def smtp_down(self):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(locmem.EmailBackend, "open", smtp_down)
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        reset(client, buyer.email)
    letter = OutgoingEmail.objects.get()
    assert (letter.to_address, letter.status, letter.attempts) == (buyer.email, OutgoingEmail.Status.PENDING, 1)
    assert mail.outbox == []

    monkeypatch.undo()
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        assert sweeps.run("outbox", timezone.now()).changed == 1
        assert mail.outbox[0].extra_headers["Message-ID"].startswith("<outbox.")
        form_page = client.get(link_in(mail.outbox[0].body), follow=True)
        client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert client.login(username=buyer.username, password=NEW_PASSWORD)


def test_an_unknown_address_gets_no_letter_and_the_same_page(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = reset(client, "nobody@example.com")
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == [] and OutgoingEmail.objects.count() == 0


def test_reset_requests_are_throttled_per_typed_address_and_per_client(client, buyer, jobs):
    for _ in range(3):
        assert reset(client, buyer.email).status_code == 302
    fourth = reset(client, buyer.email.upper())
    assert "Попробуйте снова через 60 минут" in fourth.content.decode()
    for number in range(7):
        assert reset(client, f"someone{number}@example.com").status_code == 302
    assert "через 60 минут" in reset(client, "fresh@example.com").content.decode()
    assert reset(client, "fresh@example.com", address="10.0.0.2").status_code == 302
    assert len(jobs) == 11


def test_completing_a_reset_lets_the_owner_in_past_a_strangers_guesses(
    client, buyer, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            sign_in(client, buyer.username, "guess", address="10.6.6.6")
        assert "Подождите 2 секунды" in sign_in(client, buyer.username, PASSWORD).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            reset(client, buyer.email)
        form_page = client.get(link_in(mail.outbox[0].body), follow=True)
        client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        # The new password starts every count afresh, the stranger's address included.
        assert sign_in(client, buyer.username, NEW_PASSWORD).status_code == 302
        client.post(reverse("accounts:logout"))
        assert sign_in(Client(), buyer.username, NEW_PASSWORD, address="10.6.6.6").status_code == 302


# --- signing up --------------------------------------------------------------------------------


def sign_up(client, address="10.0.0.1", **fields):
    data = {"username": "maria", "email": "maria@example.com", "role": "buyer", **fields}
    return client.post(reverse("accounts:signup"), data, REMOTE_ADDR=address)


def finish(client, link, password="Very-long-pass-42", **fields):
    typed = client.get(link).context["form"].initial
    return client.post(link, {**typed, "password1": password, "password2": password, **fields})


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_letter(client, buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        taken = sign_up(client, email=buyer.email.upper(), username="newcomer")
        fresh = sign_up(client, email="maria@example.com", username="maria")
    assert taken["Location"] == fresh["Location"] == reverse("accounts:signup_sent")
    page = client.get(taken["Location"]).content.decode()
    assert "Проверьте почту" in page and "занят" not in page
    assert not User.objects.filter(username__in=["newcomer", "maria"]).exists()

    to_owner, to_newcomer = mail.outbox
    assert to_owner.to == [buyer.email]
    assert "У вас уже есть аккаунт" in to_owner.body and f"Ваш логин: {buyer.username}" in to_owner.body
    assert reverse("accounts:password_reset") in to_owner.body
    assert to_newcomer.to == ["maria@example.com"]
    assert reverse("accounts:signup_confirm", args=["x"]).rsplit("x/", 1)[0] in to_newcomer.body


def test_a_sign_up_request_does_the_same_work_whoever_has_the_address(client, buyer, jobs):
    work = []
    for email in (buyer.email, "maria@example.com"):
        with CaptureQueriesContext(connection) as queries:
            response = sign_up(client, email=email)
        work.append((response["Location"], len(queries), any(email in query["sql"] for query in queries)))
    assert work[0] == work[1] == (reverse("accounts:signup_sent"), 1, False)
    assert [kwargs["email"] for _, kwargs in jobs] == [buyer.email, "maria@example.com"]


def test_the_link_creates_the_account_once(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    link = link_in(mail.outbox[0].body)
    response = finish(client, link)
    assert response["Location"] == reverse("accounts:home")
    user = User.objects.get(username="maria")
    assert (user.email, user.role, user.check_password("Very-long-pass-42")) == ("maria@example.com", "buyer", True)
    client.post(reverse("accounts:logout"))
    again = client.get(link).content.decode()
    assert "уже есть аккаунт: ссылка использована" in again
    assert User.objects.filter(email="maria@example.com").count() == 1


def test_the_link_expires(client, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    link = link_in(mail.outbox[0].body)
    with time_machine.travel(START + timedelta(hours=49), tick=False):
        response = client.get(link)
    assert response.status_code == 400
    assert "Ссылка устарела" in response.content.decode()


def test_a_tampered_link_creates_nothing(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    link = link_in(mail.outbox[0].body)
    tampered = link[:-3] + "xx/"
    assert client.get(tampered).status_code == 400
    assert (
        client.post(
            tampered, {"username": "maria", "password1": "Long-pass-4242", "password2": "Long-pass-4242"}
        ).status_code
        == 400
    )
    assert not User.objects.exists()


def test_a_username_taken_before_the_link_is_opened_can_be_changed_there(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client)
    link = link_in(mail.outbox[0].body)
    UserFactory(username="maria", email="someone-else@example.com")
    assert "Этот логин уже занят" in finish(client, link).content.decode()
    assert finish(client, link, username="maria2")["Location"] == reverse("accounts:home")
    assert User.objects.get(email="maria@example.com").username == "maria2"


def test_a_taken_username_is_said_at_once_and_at_signs_are_refused(client, buyer, jobs):
    assert "Этот логин уже занят" in sign_up(client, username=buyer.username.upper()).content.decode()
    assert "без @" in sign_up(client, username="maria@example.com").content.decode()
    assert jobs == []


def test_a_store_name_with_markup_arrives_literally_and_becomes_the_store(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, username="tom", email="tom@example.com", role="seller", store_name="Tom & Jerry <shop>")
    body = mail.outbox[0].body
    assert "Магазин: Tom & Jerry <shop>" in body and "&amp;" not in body and "&lt;" not in body
    finish(client, link_in(body))
    assert Store.objects.get(owner__username="tom").name == "Tom & Jerry <shop>"


def test_a_store_name_taken_is_said_on_the_form(client, jobs):
    SellerFactory(store__name="Best Gadgets")
    page = sign_up(client, role="seller", store_name="best gadgets").content.decode()
    assert "Магазин с таким названием уже есть" in page
    assert jobs == []


def test_sign_ups_are_throttled_per_address_and_per_client(client, jobs):
    for _ in range(3):
        assert sign_up(client).status_code == 302
    assert "Попробуйте снова через 60 минут" in sign_up(client).content.decode()
    for number in range(7):
        assert sign_up(client, email=f"user{number}@example.com", username=f"user{number}").status_code == 302
    assert "через 60 минут" in sign_up(client, email="late@example.com", username="late").content.decode()
    assert sign_up(client, email="late@example.com", username="late", address="10.0.0.2").status_code == 302
    assert len(jobs) == 11


def test_the_reset_and_sign_up_letters_go_out_even_when_the_broker_is_down(
    client, buyer, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.password_reset_mail, "delay", broker_down)
    monkeypatch.setattr(tasks.sign_up_mail, "delay", broker_down)
    monkeypatch.setattr(tasks.send_emails, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        reset(client, buyer.email)
        sign_up(client)
    assert sorted(OutgoingEmail.objects.values_list("to_address", flat=True)) == [buyer.email, "maria@example.com"]
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert sweeps.run("outbox", timezone.now()).changed == 2
