""" "Мои споры" and "Споры магазина" keep each card rendered per process (disputes/views.py,
_dispute_cards) under every value it shows and its line's countdown: a list drawn from kept cards is
the list drawn afresh, whatever a card shows that changes shows on the next request, in the
reader's language and zone, and a reader never sees a card worded for another."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Store, User
from disputes.models import Claim, Dispute
from orders.models import OrderItem

from .disputes_helpers import escalate, open_dispute, seller_counter_offer
from .factories import (
    OrderFactory,
    OrderItemFactory,
    SellerFactory,
    StoreFactory,
    UserFactory,
    readers_of_every_kind,
)
from .page_helpers import page_html

pytestmark = pytest.mark.django_db


def listed(client, name: str = "disputes:list", *, language: str = "", query: str = "") -> str:
    return page_html(client, name, language=language, query=query)


def card(html: str, dispute: Dispute) -> str:
    start = html.index(f'/account/disputes/{dispute.pk}/"')
    return html[start : html.index("</article>", start)]


def test_my_disputes_from_kept_cards_is_the_list_drawn_afresh(client, login, buyer, seller):
    for number in range(3):
        order = OrderFactory(buyer=buyer, store=seller.store)
        item = OrderItemFactory(order=order, title=f"Чехол {number}")
        dispute = open_dispute(order, item_id=item.pk)
    seller_counter_offer(dispute, amount="3")
    login(buyer)
    drawn = listed(client)
    kept = listed(client)
    caches["fragments"].clear()
    assert kept == drawn == listed(client)
    assert "Чехол 2" in kept and "продавец предлагает" in kept


def test_a_kept_card_shows_a_new_status_set_without_touching_updated_at(client, login, dispute):
    login(dispute.buyer)
    assert "Ждёт ответа продавца" in card(listed(client), dispute)
    # A sweep's or a service's race-free UPDATE moves the status and leaves updated_at alone.
    Dispute.objects.filter(pk=dispute.pk).update(status=Dispute.Status.NEGOTIATING)
    html = card(listed(client), dispute)
    assert "Идут переговоры" in html and "Станет претензией" in html
    assert "Ждёт ответа продавца" not in html


def test_a_kept_card_shows_the_claims_new_stage(client, login, claim_dispute):
    login(claim_dispute.buyer)
    assert "Передана арбитру" in card(listed(client), claim_dispute)
    Claim.objects.filter(dispute=claim_dispute).update(stage=Claim.Stage.APPEAL)
    html = card(listed(client), claim_dispute)
    assert "Апелляция на рассмотрении" in html and "Апелляцию рассматривает другой арбитр." in html
    assert "Передана арбитру" not in html


def test_a_kept_card_shows_an_offer_made_after_it_was_kept(client, login, dispute):
    login(dispute.buyer)
    assert "продавец предлагает" not in card(listed(client), dispute)
    seller_counter_offer(dispute, amount="7")
    assert "продавец предлагает 7,00" in card(listed(client), dispute)


def test_a_kept_card_shows_the_renamed_store_and_the_edited_item(client, login, buyer, seller):
    order = OrderFactory(buyer=buyer, store=seller.store)
    item = OrderItemFactory(order=order, title="Часы")
    dispute = open_dispute(order, item_id=item.pk)
    login(buyer)
    listed(client)
    Store.objects.filter(pk=seller.store.pk).update(name="Новое имя магазина")
    OrderItem.objects.filter(pk=item.pk).update(title="Часы наручные")
    html = card(listed(client), dispute)
    assert "Новое имя магазина" in html and "Часы наручные" in html


def test_a_kept_cards_countdown_follows_the_clock(client, login, dispute):
    login(dispute.buyer)
    due = dispute.seller_answer_due_at
    with time_machine.travel(due - timedelta(hours=3, minutes=30), tick=False):
        first = card(listed(client), dispute)
        assert "осталось 3 ч 30 мин" in first
    with time_machine.travel(due - timedelta(hours=3, minutes=29), tick=False):
        assert "осталось 3 ч 29 мин" in card(listed(client), dispute)
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        passed = card(listed(client), dispute)
        assert "осталось" not in passed and "countdown" not in passed


def test_a_kept_card_is_worded_in_the_readers_language_and_zone(client, login, dispute):
    buyer = dispute.buyer
    login(buyer)
    moscow = card(listed(client), dispute)
    assert "MSK" in moscow and "Ждёт ответа продавца" in moscow
    english = card(listed(client, language="/en"), dispute)
    assert "Ждёт ответа продавца" not in english and "MSK" in english
    User.objects.filter(pk=buyer.pk).update(time_zone="Asia/Vladivostok")
    vladivostok = card(listed(client), dispute)
    assert "MSK" not in vladivostok
    local = timezone.localtime(dispute.seller_answer_due_at, timezone.get_fixed_timezone(10 * 60))
    assert f"{local:%H:%M}" in vladivostok


def test_the_seller_reads_the_buyers_name_on_a_card_the_buyer_had_kept(client, login, dispute):
    login(dispute.buyer)
    assert dispute.store.name in card(listed(client), dispute)
    client.logout()
    login(dispute.store.owner)
    store_card = card(listed(client, "disputes:store_list"), dispute)
    assert dispute.buyer.username in store_card and dispute.store.name not in store_card


def test_another_buyer_never_sees_a_card_kept_for_the_first(client, login, dispute):
    login(dispute.buyer)
    assert f"/account/disputes/{dispute.pk}/" in listed(client)
    client.logout()
    login(UserFactory())
    html = listed(client)
    assert f"/account/disputes/{dispute.pk}/" not in html
    assert "Споров нет." in html


def test_the_kept_page_links_follow_new_disputes(client, login, buyer):
    for _ in range(10):
        open_dispute(OrderFactory(buyer=buyer, store=SellerFactory().store))
    login(buyer)
    assert "1 из 2" not in listed(client)
    open_dispute(OrderFactory(buyer=buyer, store=SellerFactory().store))
    assert "1 из 2" in listed(client)
    assert "2 из 2" in listed(client, query="?page=2")
    assert "2 of 2" in listed(client, language="/en", query="?page=2")


def test_a_whole_order_dispute_shows_the_orders_first_item(client, login, buyer, seller):
    order = OrderFactory(buyer=buyer, store=seller.store)
    # Opened before disputes were per item (the order fed without items then): the whole order.
    OrderItem.objects.filter(order=order).delete()
    dispute = open_dispute(order)
    OrderItemFactory(order=order, title="Первый товар")
    OrderItemFactory(order=order, title="Второй товар")
    login(buyer)
    html = card(listed(client), dispute)
    assert "Первый товар" in html and "Второй товар" not in html


def _buyer_with_disputes(count: int) -> User:
    buyer = UserFactory()
    for number in range(count):
        order = OrderFactory(buyer=buyer, store=SellerFactory().store)
        item = OrderItemFactory(order=order)
        dispute = open_dispute(order, item_id=item.pk)
        if number % 3 == 1:
            seller_counter_offer(dispute, amount="2")
        if number % 3 == 2:
            escalate(dispute, now=timezone.now() + timedelta(days=4))
    Dispute.objects.filter(buyer=buyer).update(resolved_amount=Decimal("1"))
    return buyer


def _queries(client, query: str = "") -> int:
    listed(client, query=query)  # the session and the permission cache
    caches["fragments"].clear()  # every card drawn afresh
    with CaptureQueriesContext(connection) as queries:
        listed(client, query=query)
    return len(queries)


def test_my_disputes_takes_the_same_queries_for_two_disputes_and_for_a_full_page(client):
    few, many = _buyer_with_disputes(2), _buyer_with_disputes(12)
    client.force_login(few)
    with_few = _queries(client)
    client.force_login(many)
    # The session, the user, the count and one statement for the page's rows.
    assert _queries(client) == with_few == 4
    assert _queries(client, "?page=2") == 4


def test_a_list_lines_countdown_key_changes_whenever_its_words_do(dispute):
    from disputes import presenters, selectors

    (row,) = selectors.dispute_list(user=dispute.buyer)[0:10]
    due = row.seller_answer_due_at
    assert due is not None
    seen: dict[object, str] = {}
    # Around the moment itself to the second, then over two days by odd steps (minutes, hours, days).
    for seconds in [*range(-90, 90, 7), *range(90, 2 * 86400 + 3600, 613)]:
        now = due - timedelta(seconds=seconds)
        with time_machine.travel(now, tick=False):
            key, text = presenters.list_line_as_of(row, now), str(presenters.list_line(row))
        assert seen.setdefault(key, text) == text, (seconds, key)
    assert len(set(seen.values())) > 100


def test_each_list_holds_exactly_the_disputes_as_buyer_and_as_seller_give_every_reader(buyer, seller, order):
    from disputes import selectors

    open_dispute(order)
    readers = readers_of_every_kind(buyer, seller)
    for _ in range(3):
        open_dispute(OrderFactory(buyer=readers.other_buyer, store=readers.other_seller.store))
    open_dispute(OrderFactory(buyer=buyer, store=StoreFactory(owner=readers.buyer_with_store)))
    for reader in readers.all:
        for as_seller in (False, True):
            expected = Dispute.objects.as_seller(reader) if as_seller else Dispute.objects.as_buyer(reader)
            listed = selectors.dispute_list(user=reader, as_seller=as_seller)
            keys = list(expected.order_by("-opened_at", "-pk").values_list("pk", flat=True))
            assert listed.count() == len(keys), (reader.username, as_seller)
            assert [row.pk for row in listed[0:100]] == keys, (reader.username, as_seller)
            assert [row.pk for row in listed[1:3]] == keys[1:3]
