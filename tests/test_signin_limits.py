"""Sign-in limits that a stranger who knows the user name cannot turn against its owner (issue 21,
point 2): the hard block is per (account, address); per account only a growing, capped delay; a
device that signed in before is never held; the owner is mailed once per run of failures."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from accounts import signin_limits
from accounts.models import OutgoingEmail

from .factories import PASSWORD, StaffFactory, UserFactory
from .mail_helpers import rendered

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("caches_in_memory")]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ATTACKER = "10.6.6.6"
OWNER = "10.0.0.2"
BLOCKED = "Слишком много неудачных попыток входа. Попробуйте снова через 15 минут"
BLOCKED_FOR_A_WHILE = "Слишком много неудачных попыток входа. Попробуйте снова через"
WRONG = "Неверный логин, адрес почты или пароль."
DELAY = re.compile(r"Подождите (\d+) секунд[уы]? и войдите снова")
NEXT_TRY = re.compile(r"следующую можно сделать через (\d+) секунд")


@pytest.fixture(autouse=True)
def _limits(settings):
    # The shipped numbers, stated here so the tests read on their own.
    settings.SIGNIN_FAILURES_PER_ACCOUNT_ADDRESS = 5
    settings.SIGNIN_FAILURES_PER_ADDRESS = 20
    settings.SIGNIN_WINDOW_MINUTES = 15
    settings.SIGNIN_DELAY_AFTER_FAILURES = 5
    settings.SIGNIN_DELAY_FIRST_SECONDS = 2
    settings.SIGNIN_DELAY_MAX_SECONDS = 120
    settings.SIGNIN_STREAK_QUIET_MINUTES = 60
    settings.SIGNIN_NOTIFY_AFTER_FAILURES = 10
    settings.SIGNIN_DEVICE_COOKIE_DAYS = 180
    settings.SIGNIN_FAILURES_PER_DEVICE = 5


def sign_in(client, login, password, address):
    return client.post(reverse("accounts:login"), {"username": login, "password": password}, REMOTE_ADDR=address)


def page(response) -> str:
    return response.content.decode()


def signed_in_as(client) -> str | None:
    response = client.get(reverse("accounts:home"))
    return response.context["user"].username if response.status_code == 200 else None


def wait_asked(response) -> int:
    found = DELAY.search(page(response))
    assert found, page(response)
    return int(found.group(1))


def guess_from_fresh_addresses(login, count, clock, first=0):
    """A stranger with many addresses: one wrong password from each, each after the account's
    delay has passed, so every one is checked and counted."""
    for number in range(first, first + count):
        clock.shift(timedelta(seconds=121))
        assert WRONG in page(sign_in(Client(), login, "guess", f"10.6.{number // 250}.{number % 250 + 1}"))


# --- the stranger's address is blocked, the owner elsewhere is not ----------------------------------


def test_five_wrong_passwords_block_that_address_and_only_delay_the_owner_elsewhere(client, buyer):
    attacker, owner = Client(), Client()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            sign_in(attacker, buyer.username, "guess", ATTACKER)
        # The stranger's address is refused even the right password.
        refused = sign_in(attacker, buyer.username, PASSWORD, ATTACKER)
        assert BLOCKED in page(refused) and signed_in_as(attacker) is None

        # The owner, elsewhere, is asked to wait a couple of seconds: the password is not refused.
        first = sign_in(owner, buyer.username, PASSWORD, OWNER)
        assert wait_asked(first) == 2 and signed_in_as(owner) is None
        clock.shift(timedelta(seconds=2))
        assert sign_in(owner, buyer.username, PASSWORD, OWNER).status_code == 302
        assert signed_in_as(owner) == buyer.username

        # The stranger's block runs its 15 minutes regardless.
        clock.shift(timedelta(minutes=14))
        assert "через 1 минуту" in page(sign_in(attacker, buyer.username, PASSWORD, ATTACKER))


def test_a_stranger_who_never_stops_keeps_a_new_device_waiting_at_most_two_minutes(buyer):
    attacker, owner = Client(), Client()
    with time_machine.travel(START, tick=False) as clock:
        # Sustained guessing from many addresses: the account's delay has grown to its cap.
        guess_from_fresh_addresses(buyer.username, 12, clock)
        clock.shift(timedelta(seconds=121))
        assert WRONG in page(sign_in(attacker, buyer.username, "guess", ATTACKER))

        clock.shift(timedelta(seconds=1))
        asked = wait_asked(sign_in(owner, buyer.username, PASSWORD, OWNER))
        assert asked == 119 and signed_in_as(owner) is None
        # The stranger keeps asking, and is told to wait too; it comes back the instant the wait
        # ends, before the owner does, and spends that turn on a wrong password.
        clock.shift(timedelta(seconds=60))
        assert wait_asked(sign_in(attacker, buyer.username, "guess", ATTACKER)) == 59
        clock.shift(timedelta(seconds=59))
        assert WRONG in page(sign_in(attacker, buyer.username, "guess", ATTACKER))
        # The owner, back after the wait asked, is checked all the same, and is in.
        assert sign_in(owner, buyer.username, PASSWORD, OWNER).status_code == 302
        assert signed_in_as(owner) == buyer.username


def test_the_delay_grows_with_each_wrong_password_and_stops_at_two_minutes(buyer):
    with time_machine.travel(START, tick=False) as clock:
        waits = []
        for number in range(12):
            clock.shift(timedelta(seconds=121))
            response = sign_in(Client(), buyer.username, "guess", f"10.7.0.{number + 1}")
            found = NEXT_TRY.search(page(response))
            waits.append(int(found.group(1)) if found else 0)
    assert waits == [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 120, 120]


def test_tries_sent_all_at_once_get_only_the_allowed_number_checked(buyer):
    attempt = signin_limits.signin_try(request=None, login=buyer.username, account=buyer)
    admitted = []
    start = threading.Barrier(20)

    def one_try():
        start.wait()
        admitted.append(signin_limits.admit(attempt, START.timestamp()) is None)

    threads = [threading.Thread(target=one_try) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 5


# --- a device that signed in before -------------------------------------------------------------


def test_a_device_that_signed_in_before_gets_in_at_once_past_every_block(buyer):
    phone = Client()
    assert sign_in(phone, buyer.username, PASSWORD, OWNER).status_code == 302
    assert phone.cookies["signin_device"]["httponly"]
    phone.post(reverse("accounts:logout"))
    with time_machine.travel(START, tick=False) as clock:
        # A stranger with many addresses, the owner's own among them.
        guess_from_fresh_addresses(buyer.username, 20, clock)
        for _ in range(5):
            clock.shift(timedelta(seconds=121))
            sign_in(Client(), buyer.username, "guess", OWNER)
        assert BLOCKED_FOR_A_WHILE in page(sign_in(Client(), buyer.username, PASSWORD, OWNER))

        assert sign_in(phone, buyer.username, PASSWORD, OWNER).status_code == 302
        assert signed_in_as(phone) == buyer.username


def test_a_known_device_that_keeps_failing_is_treated_like_any_other(buyer):
    phone = Client()
    sign_in(phone, buyer.username, PASSWORD, OWNER)
    phone.post(reverse("accounts:logout"))
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            assert WRONG in page(sign_in(phone, buyer.username, "guess", OWNER))
        assert BLOCKED in page(sign_in(phone, buyer.username, "guess", OWNER))
        assert BLOCKED in page(sign_in(phone, buyer.username, PASSWORD, OWNER))
        assert signed_in_as(phone) is None


def device_cookie(client) -> dict:
    return signing.loads(client.cookies["signin_device"].value, salt=signin_limits.DEVICE_SALT)


def blocked_for_strangers(user) -> None:
    for _ in range(5):
        sign_in(Client(), user.username, "guess", OWNER)


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(lambda user: "x" * 60, id="made-up"),
        pytest.param(
            lambda user: signing.dumps(
                {"id": "mine", "a": {str(user.pk): [signin_limits.password_fingerprint(user), START.timestamp()]}},
                salt="accounts.sign-up",
            ),
            id="signed-for-something-else",
        ),
        pytest.param(
            lambda user: signing.dumps(
                {"id": "mine", "a": {str(user.pk): ["0" * 16, datetime.now(UTC).timestamp()]}},
                salt=signin_limits.DEVICE_SALT,
            ),
            id="signed-but-not-for-this-password",
        ),
    ],
)
def test_a_device_cookie_that_was_not_given_at_sign_in_counts_for_nothing(buyer, cookie):
    phone = Client()
    phone.cookies["signin_device"] = cookie(buyer)
    blocked_for_strangers(buyer)
    assert BLOCKED in page(sign_in(phone, buyer.username, PASSWORD, OWNER))
    assert signed_in_as(phone) is None


def test_a_device_cookie_names_only_the_accounts_signed_in_from_it(buyer):
    other = UserFactory()
    phone = Client()
    sign_in(phone, other.username, PASSWORD, OWNER)
    phone.post(reverse("accounts:logout"))
    assert list(device_cookie(phone)["a"]) == [str(other.pk)]
    blocked_for_strangers(buyer)
    assert BLOCKED in page(sign_in(phone, buyer.username, PASSWORD, OWNER))


def test_a_device_is_forgotten_after_180_days_without_signing_in(buyer):
    phone = Client()
    with time_machine.travel(START, tick=False):
        sign_in(phone, buyer.username, PASSWORD, OWNER)
        phone.post(reverse("accounts:logout"))
    with time_machine.travel(START + timedelta(days=179), tick=False):
        blocked_for_strangers(buyer)
        assert sign_in(phone, buyer.username, PASSWORD, OWNER).status_code == 302
        phone.post(reverse("accounts:logout"))
    # Signing in renewed it: 180 days from day 179.
    with time_machine.travel(START + timedelta(days=358), tick=False):
        blocked_for_strangers(buyer)
        assert sign_in(phone, buyer.username, PASSWORD, OWNER).status_code == 302
        phone.post(reverse("accounts:logout"))
    with time_machine.travel(START + timedelta(days=358 + 181), tick=False):
        blocked_for_strangers(buyer)
        assert BLOCKED in page(sign_in(phone, buyer.username, PASSWORD, OWNER))


def test_a_new_password_forgets_every_device_and_every_count(buyer):
    phone = Client()
    sign_in(phone, buyer.username, PASSWORD, OWNER)
    phone.post(reverse("accounts:logout"))
    blocked_for_strangers(buyer)
    buyer.set_password("Brand-new-pass-77")
    buyer.save()
    # The old device is a stranger now, but the strangers' count was for the old password.
    assert sign_in(Client(), buyer.username, "Brand-new-pass-77", OWNER).status_code == 302
    blocked_for_strangers(buyer)
    assert BLOCKED in page(sign_in(phone, buyer.username, "Brand-new-pass-77", OWNER))


# --- admin's sign-in ------------------------------------------------------------------------------


def admin_sign_in(client, login, password, address):
    return client.post(reverse("admin:login"), {"username": login, "password": password}, REMOTE_ADDR=address)


def test_admin_sign_in_says_too_many_attempts_and_lets_the_staff_member_in_elsewhere():
    staff = StaffFactory(is_superuser=True)
    attacker, owner = Client(), Client()
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(4):
            admin_sign_in(attacker, staff.username, "guess", ATTACKER)
        fifth = page(admin_sign_in(attacker, staff.username, "guess", ATTACKER))
        assert "Слишком много неудачных попыток входа с этого адреса. Попробуйте снова через 15 минут." in fifth
        sixth = page(admin_sign_in(attacker, staff.username, PASSWORD, ATTACKER))
        assert "Слишком много неудачных попыток входа с этого адреса. Попробуйте снова через 15 минут." in sixth
        assert attacker.get(reverse("admin:index")).status_code == 302

        asked = page(admin_sign_in(owner, staff.username, PASSWORD, OWNER))
        assert "Слишком много неудачных попыток входа в этот аккаунт" in asked and DELAY.search(asked)
        clock.shift(timedelta(seconds=2))
        assert admin_sign_in(owner, staff.username, PASSWORD, OWNER).status_code == 302
        assert owner.get(reverse("admin:index")).status_code == 200


def test_admin_sign_in_tells_the_next_wait_beside_the_wrong_password():
    staff = StaffFactory(is_superuser=True)
    with time_machine.travel(START, tick=False):
        for number in range(4):
            admin_sign_in(Client(), staff.username, "guess", f"10.8.0.{number + 1}")
        answer = page(admin_sign_in(Client(), staff.username, "guess", "10.8.0.9"))
    assert "Слишком много неудачных попыток входа в этот аккаунт: следующую можно сделать через 2 секунды." in answer


def test_admin_sign_in_sets_the_device_cookie_for_staff_only(buyer):
    staff = StaffFactory()
    browser = Client()
    admin_sign_in(browser, buyer.username, PASSWORD, OWNER)
    assert "signin_device" not in browser.cookies
    assert admin_sign_in(browser, staff.username, PASSWORD, OWNER).status_code == 302
    assert list(device_cookie(browser)["a"]) == [str(staff.pk)]


# --- the owner is told ----------------------------------------------------------------------------


def test_the_owner_is_mailed_once_per_run_of_wrong_passwords(buyer, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False) as clock, django_capture_on_commit_callbacks(execute=True):
        guess_from_fresh_addresses(buyer.username, 9, clock)
        assert mail.outbox == []
        guess_from_fresh_addresses(buyer.username, 1, clock, first=9)
        guess_from_fresh_addresses(buyer.username, 20, clock, first=10)
    letters = OutgoingEmail.objects.filter(template="signin_failures")
    assert [letter.recipient for letter in letters] == [buyer]
    [letter] = mail.outbox
    assert letter.to == [buyer.email]
    assert letter.subject == "Кто-то пытается войти в ваш аккаунт"
    # The run began with the first wrong password, 121 seconds after START; Moscow is UTC+3.
    assert f"С 2 марта 2026, 12:02 MSK в ваш аккаунт {buyer.username} пытались войти с неверным паролем 10 раз." in (
        letter.body
    )
    assert "не дольше 120 секунд" in letter.body
    assert reverse("accounts:password_reset") in letter.body

    # An hour without wrong passwords ends the run; the next run is told once more.
    with time_machine.travel(START + timedelta(hours=3), tick=False) as clock:
        guess_from_fresh_addresses(buyer.username, 12, clock, first=40)
    assert OutgoingEmail.objects.filter(template="signin_failures").count() == 2
    assert (
        "пытались войти с неверным паролем 10 раз"
        in rendered(OutgoingEmail.objects.filter(template="signin_failures").latest("pk")).body
    )


def test_a_login_that_names_no_account_is_held_the_same_way_and_mails_nobody(buyer):
    with time_machine.travel(START, tick=False) as clock:
        guess_from_fresh_addresses("nobody", 12, clock)
        asked = wait_asked(sign_in(Client(), "nobody", "guess", OWNER))
        guess_from_fresh_addresses(buyer.username, 12, clock, first=20)
        assert wait_asked(sign_in(Client(), buyer.username, "guess", OWNER)) == asked == 120
    assert list(OutgoingEmail.objects.filter(template="signin_failures").values_list("recipient", flat=True)) == [
        buyer.pk
    ]
