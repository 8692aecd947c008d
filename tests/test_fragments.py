"""Rows kept rendered per process (core/fragments.py) and admin's kept app list
(helpcenter/admin_site.py): a page drawn from them is the page drawn afresh, and whatever a row
shows that changes shows at once."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.urls import reverse

from accounts.models import Store
from disputes import services as dispute_services

from .disputes_helpers import open_dispute
from .factories import OrderFactory, OrderItemFactory, StaffFactory


def page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def without_csrf(html: str) -> str:
    # The CSRF token differs on every answer, whatever is kept.
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_my_orders_from_kept_cards_is_the_page_drawn_afresh(client, login, buyer, seller):
    for number in range(3):
        order = OrderFactory(buyer=buyer, store=seller.store)
        case = OrderItemFactory(order=order, title=f"Чехол {number}")
    open_dispute(order, item_id=case.pk)
    login(buyer)
    url = reverse("orders:list")
    drawn = without_csrf(page_text(client, url))
    kept = without_csrf(page_text(client, url))
    caches["fragments"].clear()
    assert kept == drawn == without_csrf(page_text(client, url))
    assert "Чехол 2" in kept


def test_my_orders_card_shows_a_dispute_opened_after_it_was_kept(client, login, order):
    login(order.buyer)
    url = reverse("orders:list")
    assert 'data-testid="order-dispute"' not in page_text(client, url)
    open_dispute(order)
    assert 'data-testid="order-dispute"' in page_text(client, url)


def test_my_orders_card_shows_the_store_renamed_after_it_was_kept(client, login, order):
    login(order.buyer)
    url = reverse("orders:list")
    assert order.store.name in page_text(client, url)
    # A rename touches only the store's row, not the order's updated_at.
    Store.objects.filter(pk=order.store.pk).update(name="Новое имя магазина")
    assert "Новое имя магазина" in page_text(client, url)


def test_my_orders_card_kept_in_russian_is_not_shown_in_english(client, login, order):
    login(order.buyer)
    assert "Защита закончится через" in page_text(client, reverse("orders:list"))
    english = page_text(client, "/en" + reverse("orders:list"))
    assert "Защита закончится через" not in english
    assert "Protection ends in" in english


def test_seller_sees_the_buyer_on_a_card_the_buyer_had_kept(client, login, order):
    login(order.buyer)
    page_text(client, reverse("orders:list"))
    client.logout()
    login(order.store.owner)
    assert f"Покупатель: {order.buyer.username}" in page_text(client, reverse("orders:store_list"))


def test_dispute_page_from_kept_messages_is_the_page_drawn_afresh(client, login, order):
    dispute = open_dispute(order)
    dispute_services.message_post(dispute=dispute, user=order.store.owner, text="Пришлите фото, пожалуйста.")
    login(order.buyer)
    url = reverse("disputes:detail", args=[dispute.pk])
    drawn = without_csrf(page_text(client, url))
    kept = without_csrf(page_text(client, url))
    caches["fragments"].clear()
    assert kept == drawn == without_csrf(page_text(client, url))


def test_dispute_page_shows_a_new_message_and_a_renamed_store(client, login, order):
    dispute = open_dispute(order)
    dispute_services.message_post(dispute=dispute, user=order.store.owner, text="Пришлите фото, пожалуйста.")
    login(order.buyer)
    url = reverse("disputes:detail", args=[dispute.pk])
    old_name = order.store.name
    named = page_text(client, url).count(f"{old_name} · ")
    assert named == 1  # the seller's message is signed with the store's name
    Store.objects.filter(pk=order.store.pk).update(name="Новое имя магазина")
    dispute_services.message_post(dispute=dispute, user=order.buyer, text="Фото во вложении.")
    html = page_text(client, url)
    assert "Фото во вложении." in html
    # The seller's earlier message, kept, is signed with the store's new name.
    assert html.count("Новое имя магазина · ") == named
    assert f"{old_name} · " not in html


@pytest.mark.django_db
def test_admin_sidebar_follows_a_staff_members_new_group(client, login, django_capture_on_commit_callbacks):
    member = StaffFactory(groups=["arbitrators"])
    login(member)
    articles_link = reverse("admin:faq_article_changelist")
    assert articles_link not in page_text(client, reverse("admin:orders_order_changelist"))
    with django_capture_on_commit_callbacks(execute=True):  # the permission cache's new version
        member.groups.add(Group.objects.get(name="support"))
    assert articles_link in page_text(client, reverse("admin:orders_order_changelist"))


def test_the_kept_header_and_footer_follow_the_zone_the_language_and_signing_out(client, login, buyer):
    login(buyer)
    russian = page_text(client, reverse("orders:list"))
    assert 'href="/faq/"' in russian and "Справка" in russian and 'value="en"' in russian
    assert "Москва (UTC+3)" in russian
    buyer.time_zone = "Asia/Yekaterinburg"
    buyer.save(update_fields=["time_zone"])
    moved = page_text(client, reverse("orders:list"))
    assert "Екатеринбург (UTC+5)" in moved and "Москва (UTC+3)" not in moved
    assert reverse("accounts:settings") in moved
    english = page_text(client, "/en" + reverse("orders:list"))
    assert 'href="/en/faq/"' in english and 'value="ru"' in english and 'value="en"' not in english
    assert "Справка" not in english
    client.logout()
    visitor = page_text(client, "/faq/")
    assert "Москва (UTC+3)" in visitor and reverse("accounts:settings") not in visitor
