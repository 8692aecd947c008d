import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import tasks
from accounts.emails import email_queue
from accounts.models import OutgoingEmail, Store, User
from core import sweeps

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _link(body: object) -> str:
    found = re.search(r"https?://[^/]+(/\S+)", str(body))
    assert found, body
    return found.group(1)


def _finish_sign_up(client, body: object):
    """Open the link from the "finish signing up" letter and choose the password."""
    link = _link(body)
    typed_at_sign_up = client.get(link).context["form"].initial
    return client.post(link, {**typed_at_sign_up, "password1": "Very-long-pass-42", "password2": "Very-long-pass-42"})


def test_buyer_signs_up_and_lands_in_the_personal_account(client, django_capture_on_commit_callbacks):
    # Sign-up now ends at "check your mail" whoever owns the address (accounts.auth); the account
    # exists once the link in the letter is opened and a password chosen.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:signup"), {"username": "maria", "email": "maria@example.com", "role": "buyer"}
        )
    assert response["Location"] == reverse("accounts:signup_sent")
    assert not User.objects.filter(username="maria").exists()
    response = _finish_sign_up(client, mail.outbox[0].body)
    assert response["Location"] == reverse("accounts:home")
    assert "Личный кабинет" in client.get(response["Location"]).content.decode()
    assert User.objects.get(username="maria").role == User.Role.BUYER


def test_seller_signs_up_with_a_store(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:signup"),
            {"username": "shop", "email": "shop@example.com", "role": "seller", "store_name": "Лучший магазин"},
        )
    _finish_sign_up(client, mail.outbox[0].body)
    assert Store.objects.get(owner__username="shop").name == "Лучший магазин"


def test_seller_sign_up_without_store_name_keeps_what_was_typed(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "shop",
            "email": "shop@example.com",
            "role": "seller",
            "password1": "Very-long-pass-42",
            "password2": "Very-long-pass-42",
        },
    )
    page = response.content.decode()
    assert "Укажите название магазина" in page
    assert 'value="shop@example.com"' in page
    assert not User.objects.filter(username="shop").exists()


def test_sign_in_and_sign_out(client, buyer):
    response = client.post(reverse("accounts:login"), {"username": buyer.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("accounts:home")).status_code == 302


def test_wrong_password_is_refused_with_a_message(client, buyer):
    response = client.post(reverse("accounts:login"), {"username": buyer.username, "password": "nope"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode() or "alert" in response.content.decode()


def test_password_reset_mails_a_link_that_sets_a_new_password(client, buyer, django_capture_on_commit_callbacks):
    # The letter now goes through the outbox, sent after commit (accounts.auth).
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": buyer.email})
    assert len(mail.outbox) == 1
    link = _link(mail.outbox[0].body)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Fresh-pass-2026", "new_password2": "Fresh-pass-2026"}
    )
    assert client.login(username=buyer.username, password="Fresh-pass-2026")


def test_account_page_links_only_the_sections_that_exist(login, buyer):
    page = login(buyer).get(reverse("accounts:home")).content.decode()
    assert reverse("orders:list") in page
    assert reverse("accounts:settings") in page
    assert reverse("orders:store_list") not in page


def test_seller_account_page_links_store_orders(login, seller):
    assert reverse("orders:store_list") in login(seller).get(reverse("accounts:home")).content.decode()


def test_settings_save_time_zone_and_marketing_choice(login, buyer):
    response = login(buyer).post(
        reverse("accounts:settings"),
        {
            "first_name": "Анна",
            "last_name": "",
            "email": buyer.email,
            "preferred_language": "en",
            "time_zone": "Asia/Novosibirsk",
            "marketing_emails": "",
        },
    )
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert (buyer.time_zone, buyer.preferred_language, buyer.marketing_emails) == ("Asia/Novosibirsk", "en", False)


def test_settings_refuse_an_email_taken_by_someone_else(login, buyer):
    UserFactory(email="taken@example.com")
    response = login(buyer).post(
        reverse("accounts:settings"),
        {"first_name": "Анна", "email": "taken@example.com", "preferred_language": "ru", "time_zone": "Europe/Moscow"},
    )
    assert "уже занят" in response.content.decode()


def test_switching_marketing_off_never_stops_service_mail(buyer, django_capture_on_commit_callbacks):
    buyer.marketing_emails = False
    buyer.save()
    with django_capture_on_commit_callbacks(execute=True):
        service = email_queue(user=buyer, template="test_notice", context={"text": "service"})
        marketing = email_queue(
            user=buyer, template="test_notice", context={"text": "sale"}, kind=OutgoingEmail.Kind.MARKETING
        )
    assert service is not None and marketing is None
    assert [message.body.strip() for message in mail.outbox] == ["service"]


def test_marketing_mail_goes_to_those_who_opted_in(buyer, django_capture_on_commit_callbacks):
    buyer.marketing_emails = True
    buyer.save()
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(user=buyer, template="test_notice", context={"text": "sale"}, kind=OutgoingEmail.Kind.MARKETING)
    assert len(mail.outbox) == 1


def test_the_same_mail_is_queued_once(buyer):
    email_queue(user=buyer, template="test_notice", context={"text": "a"}, dedupe_key="notice:1")
    assert email_queue(user=buyer, template="test_notice", context={"text": "a"}, dedupe_key="notice:1") is None
    assert OutgoingEmail.objects.count() == 1


def test_mail_the_broker_never_got_is_sent_by_the_outbox_sweep(buyer, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.send_emails, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email_queue(user=buyer, template="test_notice", context={"text": "later"})
    assert mail.outbox == []
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.PENDING
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert sweeps.run("outbox", timezone.now()).changed == 1
    assert [message.body.strip() for message in mail.outbox] == ["later"]
    assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT


def test_staff_groups_exist_with_their_permissions():
    arbitrators = Group.objects.get(name="arbitrators")
    support = Group.objects.get(name="support")
    assert arbitrators.permissions.filter(codename="view_order").exists()
    assert support.permissions.filter(codename="view_order").exists()
    assert not arbitrators.permissions.filter(codename="delete_order").exists()


def test_pages_are_in_russian_by_default_and_english_under_en(client):
    assert "Чем мы можем помочь?" in client.get("/").content.decode()
    english = client.get("/en/").content.decode()
    assert "How can we help?" in english
    assert 'lang="en"' in english


def test_language_switch_keeps_the_page(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/account/login/"})
    assert response["Location"] == "/en/account/login/"


def test_language_switch_from_an_english_page_back_to_russian_keeps_the_page(client):
    response = client.post(reverse("set_language"), {"language": "ru", "next": "/en/account/login/?next=/faq/"})
    assert response["Location"] == "/account/login/?next=/faq/"
    assert response.cookies["django_language"].value == "ru"
    assert "Войти" in client.get(response["Location"]).content.decode()


def test_language_switch_on_the_english_home_page_goes_to_the_russian_one(client):
    assert client.post(reverse("set_language"), {"language": "ru", "next": "/en/"})["Location"] == "/"


def test_pages_send_a_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "object-src 'none'" in policy


# --- the account of a signed-in session -------------------------------------------------------


def test_the_session_account_is_read_with_every_field_and_refused_when_it_cannot_sign_in(db):
    from accounts.auth import SignInBackend

    person = UserFactory(first_name="Анна", time_zone="Asia/Vladivostok", preferred_language="en")
    read = SignInBackend().get_user(person.pk)
    expected = User.objects.get(pk=person.pk)
    assert read is not None
    assert [getattr(read, field.attname) for field in User._meta.concrete_fields] == [
        getattr(expected, field.attname) for field in User._meta.concrete_fields
    ]
    assert SignInBackend().get_user(person.pk + 1000) is None
    assert SignInBackend().get_user("not a key") is None
    User.objects.filter(pk=person.pk).update(is_active=False)
    assert SignInBackend().get_user(person.pk) is None


def test_a_signed_in_page_reads_the_account_afresh_on_every_request(client, db):
    person = UserFactory()
    client.force_login(person)
    assert client.get(reverse("accounts:home")).status_code == 200
    User.objects.filter(pk=person.pk).update(is_active=False)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_each_session_signs_out_with_its_own_token_from_the_kept_header(db):
    from django.test import Client

    # The header's account links are kept rendered per language; the sign-out form's token is not.
    logout = reverse("accounts:logout")
    for person in (UserFactory(), UserFactory()):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(person)
        html = browser.get(reverse("accounts:home")).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html[html.index(f'action="{logout}"') :])
        assert token is not None
        assert browser.post(logout, {"csrfmiddlewaretoken": token.group(1)}).status_code == 302
        assert "_auth_user_id" not in browser.session
