"""Signing in with the marketplace account (OpenID Connect), against a real OpenID provider started
for these tests (tests/oidc_provider/: django-oauth-toolkit in its own process)."""

import pytest
from django.contrib.auth import get_user
from django.test import Client
from django.urls import reverse

from accounts.models import User

from .factories import PASSWORD, StaffFactory, UserFactory
from .marketplace import NUMBER, ago, event, post_event, shipped
from .oidc import Account, Provider, running_provider

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/oidc/callback/"
ANNA = Account("mp-buyer-1", "anna-marketplace-password", "anna@example.com", "Анна")
NEWCOMER = Account("mp-newcomer-7", "newcomer-password", "new@example.com", "Ира")
STAFF = Account("mp-staff-1", "staff-password", "staff@example.com", "Ольга")


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with running_provider(
        tmp_path_factory.mktemp("oidc"), redirect_uris=[CALLBACK], accounts=[ANNA, NEWCOMER, STAFF]
    ) as running:
        yield running


@pytest.fixture
def marketplace_sign_in(provider: Provider, settings) -> Provider:
    provider.configure(settings)
    return provider


def sign_in(client: Client, provider: Provider, account: Account, next_url: str = ""):
    start = client.get(reverse("oidc_authentication_init") + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302 and start["Location"].startswith(provider.url + "/o/authorize/")
    answer = provider.sign_in(start["Location"], account)
    return client.get(reverse("oidc_authentication_callback"), answer)


def test_a_buyer_the_feed_made_signs_in_with_the_marketplace_account_and_sees_the_order(client, marketplace_sign_in):
    post_event(client, event("paid", at=ago(days=3)))
    post_event(client, shipped(at=ago(days=2)))
    fed = User.objects.get(marketplace_id=ANNA.id)
    assert not fed.has_usable_password()
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Войти через аккаунт Маркет" in page
    done = sign_in(client, marketplace_sign_in, ANNA, next_url=f"/account/orders/{NUMBER}/")
    assert done.status_code == 302 and done["Location"] == f"/account/orders/{NUMBER}/"
    assert get_user(client) == fed
    assert NUMBER in client.get(f"/account/orders/{NUMBER}/").content.decode()
    assert User.objects.filter(marketplace_id=ANNA.id).count() == 1


def test_someone_the_feed_never_named_gets_a_buyers_account_on_first_sign_in(client, marketplace_sign_in):
    sign_in(client, marketplace_sign_in, NEWCOMER)
    user = get_user(client)
    assert user.is_authenticated
    assert (user.marketplace_id, user.email, user.first_name, user.role) == (
        NEWCOMER.id,
        NEWCOMER.email,
        NEWCOMER.name,
        User.Role.BUYER,
    )
    assert not user.has_usable_password()
    # Signing in again finds the same account.
    client.logout()
    sign_in(client, marketplace_sign_in, NEWCOMER)
    assert User.objects.filter(marketplace_id=NEWCOMER.id).count() == 1


def test_staff_never_sign_in_through_the_marketplace(client, marketplace_sign_in):
    StaffFactory(username="olga", marketplace_id=STAFF.id, groups=["arbitrators"])
    done = sign_in(client, marketplace_sign_in, STAFF)
    assert done.status_code == 302 and done["Location"] == reverse("accounts:login")
    assert not get_user(client).is_authenticated
    page = client.get(done["Location"]).content.decode()
    assert "Не получилось войти через аккаунт площадки" in page


def test_local_passwords_still_sign_in_beside_the_marketplace(client, marketplace_sign_in):
    UserFactory(username="demo-like", marketplace_id="mp-demo-like")
    assert client.login(username="demo-like", password=PASSWORD)


def test_a_provider_that_does_not_answer_sends_the_buyer_back_with_a_message(client, marketplace_sign_in, settings):
    start = client.get(reverse("oidc_authentication_init"))
    answer = marketplace_sign_in.sign_in(start["Location"], ANNA)
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/o/token/"  # nothing listens there
    done = client.get(reverse("oidc_authentication_callback"), answer)
    assert done["Location"] == reverse("accounts:login")
    assert not get_user(client).is_authenticated


def test_a_forged_callback_signs_no_one_in(client, marketplace_sign_in):
    client.get(reverse("oidc_authentication_init"))
    response = client.get(reverse("oidc_authentication_callback"), {"code": "made-up", "state": "made-up"})
    assert response.status_code == 400
    assert not get_user(client).is_authenticated


def test_without_configuration_there_is_no_button_and_the_urls_are_404(client):
    assert "oidc" not in client.get(reverse("accounts:login")).content.decode()
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404


def test_a_password_sign_in_never_reaches_the_provider(client, marketplace_sign_in, monkeypatch):
    from accounts import oidc

    def must_not_run(*args, **kwargs):
        raise AssertionError("the OpenID backend was asked about a password")

    monkeypatch.setattr(oidc.OIDCAuthenticationBackend, "authenticate", must_not_run)
    assert not client.login(username="nobody", password="wrong")
