"""Error pages in the site's look and the reader's language: a missing or someone else's page
(404), a page the account has no right to (403), and an error of ours (500)."""

import pytest
from django.urls import reverse

from .factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_someone_elses_dispute_is_a_404_in_the_sites_look_with_a_way_on(login, dispute):
    stranger = UserFactory()
    response = login(stranger).get(reverse("disputes:detail", args=[dispute.pk]))
    page = response.content.decode()
    assert response.status_code == 404
    assert '<h1 class="h3">Страница не найдена</h1>' in page and 'href="/faq/"' in page
    assert "Защита покупателя" in page  # the site's header, not Django's bare page


def test_the_404_page_is_in_english_under_en(client):
    response = client.get("/en/faq/no-such-category/no-such-article/")
    page = response.content.decode()
    assert response.status_code == 404 and "Page not found" in page and 'lang="en"' in page


def test_staff_without_the_right_get_a_403_page_that_says_so(client):
    staff = StaffFactory()
    client.force_login(staff)
    response = client.get(reverse("admin:disputes_claim_changelist"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Нет доступа" in page and "попросите руководителя" in page


def test_an_error_of_ours_gets_a_plain_page_that_needs_no_request():
    from django.template.loader import get_template

    page = get_template("500.html").render()
    assert "Что-то пошло не так" in page and "/static/" in page and 'href="/"' in page
