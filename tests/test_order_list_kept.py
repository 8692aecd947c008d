"""My orders keeps its filter form and its page links rendered per process (templates/orders/
order_list.html): what was typed, chosen, or how many pages there are shows on the next request."""

import pytest
from django.core.cache import caches
from django.urls import reverse

from .factories import OrderFactory
from .test_fragments import page_text, without_csrf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("caches_in_memory")]


def test_the_kept_filter_form_shows_what_was_typed_and_chosen_next(login, buyer, seller):
    OrderFactory(buyer=buyer, store=seller.store)
    client = login(buyer)
    url = reverse("orders:list")
    assert 'value=""' in page_text(client, url)
    first = page_text(client, url + "?q=наушники&status=confirmed")
    assert 'value="наушники"' in first and '<option value="confirmed" selected>' in first
    second = page_text(client, url + "?q=чехол&status=in_transit")
    assert 'value="чехол"' in second and '<option value="in_transit" selected>' in second
    assert 'value="наушники"' not in second and '<option value="confirmed" selected>' not in second


def test_the_kept_filter_form_shows_its_error_only_for_the_value_that_has_one(login, buyer):
    client = login(buyer)
    url = reverse("orders:list")
    refused = page_text(client, url + "?status=lost")
    assert 'id="id_status_error"' in refused
    assert 'id="id_status_error"' not in page_text(client, url + "?status=confirmed")
    # The same words in the reader's other language are another form.
    english = page_text(client, "/en" + url + "?status=lost")
    assert 'id="id_status_error"' in english and "Все статусы" not in english


def test_the_kept_page_links_follow_new_orders_and_the_filter(login, buyer, seller):
    for days in range(10):
        OrderFactory(buyer=buyer, store=seller.store, days_since_shipment=days)
    client = login(buyer)
    url = reverse("orders:list")
    assert "1 из 2" not in page_text(client, url)
    OrderFactory(buyer=buyer, store=seller.store)
    assert "1 из 2" in page_text(client, url)
    second = page_text(client, url + "?page=2")
    assert "2 из 2" in second and 'href="?page=1"' in second
    assert 'href="?status=in_transit&amp;page=1"' in page_text(client, url + "?status=in_transit&page=2")


def test_my_orders_with_everything_kept_is_the_page_drawn_afresh_and_costs_the_same_queries(
    client, login, buyer, seller, django_assert_num_queries
):
    for days in range(12):
        OrderFactory(buyer=buyer, store=seller.store, days_since_shipment=days)
    login(buyer)
    url = reverse("orders:list") + "?q=&page=2"
    caches["fragments"].clear()
    drawn = without_csrf(page_text(client, url))
    # The user and session, the count, the page's orders (no dispute: no disputes query).
    with django_assert_num_queries(4):
        kept = without_csrf(page_text(client, url))
    assert kept == drawn
