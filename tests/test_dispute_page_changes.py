"""The dispute page, kept in parts per process, after what changes it: the reader's time zone, the
minute its countdowns show, a deadline passing, an offer, the dispute's state, the store's name,
the reader's side. Each test
draws the page once (keeping its blocks), makes the change, and reads what the next request shows."""

import re
from datetime import timedelta
from decimal import Decimal

import time_machine
from django.urls import reverse

from accounts.models import User
from disputes import services as dispute_services

from .disputes_helpers import seller_counter_offer
from .page_helpers import page_html


def page(client, dispute, *, language: str = "") -> str:
    return page_html(client, "disputes:detail", dispute.pk, language=language)


def deadlines(html: str) -> str:
    return html[html.index('data-testid="deadlines"') : html.index('data-testid="money-line"')]


def next_step(html: str) -> str:
    return html[html.index('data-testid="next-step"') : html.index('id="timeline-heading"')]


def test_a_reader_who_changes_time_zone_reads_every_time_in_the_new_zone(client, login, dispute):
    login(dispute.buyer)
    dispute_services.message_post(dispute=dispute, user=dispute.buyer, text="Фото приложу позже.")
    moscow = page(client, dispute)
    assert "MSK" in moscow
    User.objects.filter(pk=dispute.buyer.pk).update(time_zone="Asia/Vladivostok")
    vladivostok = page(client, dispute)
    assert "MSK" not in vladivostok and "+10" in vladivostok
    # The heading's opening time, the thread and the timeline were kept in Moscow time: none shows.
    thread = vladivostok[vladivostok.index('id="thread"') :]
    assert "+10" in thread and "+10" in vladivostok[vladivostok.index('id="timeline-heading"') :]


def test_the_countdowns_follow_the_minute_of_each_request(client, login, dispute):
    login(dispute.store.owner)
    answer_due = dispute.seller_answer_due_at
    with time_machine.travel(answer_due - timedelta(hours=2, minutes=30, seconds=30), tick=False):
        assert "осталось 2 ч 30 мин" in page(client, dispute)
    with time_machine.travel(answer_due - timedelta(hours=2, minutes=29, seconds=30), tick=False):
        html = page(client, dispute)
    assert "осталось 2 ч 29 мин" in html and "осталось 2 ч 30 мин" not in html


def test_once_the_escalation_date_passes_the_buyer_may_escalate_at_once(client, login, dispute):
    login(dispute.buyer)
    opens = dispute.escalation_opens_at
    with time_machine.travel(opens - timedelta(minutes=5), tick=False):
        before = page(client, dispute)
    assert "Можно с" in next_step(before) and "disabled" in next_step(before)
    assert "Передать спор в претензию можно с" in deadlines(before)
    with time_machine.travel(opens + timedelta(minutes=1), tick=False):
        after = page(client, dispute)
    escalate_address = reverse("disputes:escalate", args=[dispute.pk])
    assert "Можно с" not in next_step(after) and f'action="{escalate_address}"' in next_step(after)
    assert "Спор уже можно передать в претензию." in deadlines(after)


def seller_answer_line(html: str) -> str:
    line = re.search(r"<li>Продавец должен ответить до.*?</li>", deadlines(html))
    assert line is not None
    return line.group(0)


def test_once_the_sellers_answer_is_overdue_its_line_shows_no_countdown(client, login, dispute):
    login(dispute.buyer)
    assert "осталось" in seller_answer_line(page(client, dispute))
    with time_machine.travel(dispute.seller_answer_due_at + timedelta(minutes=1), tick=False):
        html = page(client, dispute)
    assert "осталось" not in seller_answer_line(html)


def test_an_escalated_dispute_shows_the_claim_to_both_parties_on_their_next_request(client, login, dispute):
    for reader in (dispute.buyer, dispute.store.owner):
        client.logout()
        login(reader)
        assert "Претензия у арбитра" not in page(client, dispute)
    with time_machine.travel(dispute.escalation_opens_at + timedelta(minutes=1)):
        dispute_services.dispute_escalate(dispute=dispute, user=dispute.buyer)
        for reader in (dispute.buyer, dispute.store.owner):
            client.logout()
            login(reader)
            html = page(client, dispute)
            assert 'data-testid="dispute-status">Претензия у арбитра' in html
            assert "Спор передан в претензию" in html[html.index('id="timeline-heading"') :]


def test_a_renamed_store_shows_under_its_messages_on_the_next_request(client, login, dispute):
    dispute_services.message_post(dispute=dispute, user=dispute.store.owner, text="Проверим на складе.")
    login(dispute.buyer)
    assert dispute.store.name in page(client, dispute)
    dispute.store.name = "Новое имя магазина"
    dispute.store.save(update_fields=["name"])
    thread = page(client, dispute)
    assert "Новое имя магазина · " in thread


def test_the_page_heading_and_title_are_in_the_readers_language(client, login, dispute):
    login(dispute.buyer)
    russian = page(client, dispute)
    english = page(client, dispute, language="/en")
    number = dispute.order.number
    assert f"<title>Спор по заказу {number} · " in russian and f'<h1 class="h3">Спор по заказу {number}</h1>' in russian
    assert f'<h1 class="h3">Dispute on order {number}</h1>' in english and "Спор по заказу" not in english


# The parties' "next step" card, kept under the lines it shows.


def test_the_buyers_next_step_follows_an_offer_made_after_the_card_was_kept(client, login, dispute):
    login(dispute.buyer)
    before = next_step(page(client, dispute))
    assert "Ждём ответа продавца до" in before and "Сейчас действий не требуется." in before
    seller_counter_offer(dispute)
    after = next_step(page(client, dispute))
    assert "Продавец ждёт ответа на своё предложение" in after and "Сейчас действий не требуется." not in after


def test_the_next_step_card_kept_for_one_party_is_never_shown_to_the_other(client, login, dispute):
    login(dispute.buyer)
    buyers = next_step(page(client, dispute))
    client.logout()
    login(dispute.store.owner)
    sellers = next_step(page(client, dispute))
    assert "Ответьте на требование покупателя до" in sellers and "Ждём ответа продавца до" not in sellers
    assert "Отменить спор" in buyers and "Отменить спор" not in sellers


def test_the_next_step_card_names_the_escalation_date_in_the_readers_zone_and_language(client, login, dispute):
    login(dispute.buyer)
    moscow = next_step(page(client, dispute))
    assert "Можно с" in moscow and "MSK" in moscow
    User.objects.filter(pk=dispute.buyer.pk).update(time_zone="Asia/Vladivostok")
    vladivostok = next_step(page(client, dispute))
    assert "MSK" not in vladivostok and "+10" in vladivostok
    english = next_step(page(client, dispute, language="/en"))
    assert "Available from" in english and "Можно с" not in english


def test_an_escalated_dispute_no_longer_offers_the_buyer_to_cancel_it(client, login, dispute):
    login(dispute.buyer)
    assert "Отменить спор" in next_step(page(client, dispute))
    with time_machine.travel(dispute.escalation_opens_at + timedelta(minutes=1)):
        dispute_services.dispute_escalate(dispute=dispute, user=dispute.buyer)
        card = next_step(page(client, dispute))
    assert "Отменить спор" not in card and "Передать в претензию" not in card


def test_each_session_escalates_from_the_card_with_its_own_csrf_token(db, dispute):
    from django.test import Client

    address = reverse("disputes:detail", args=[dispute.pk])
    escalate_address = reverse("disputes:escalate", args=[dispute.pk])
    with time_machine.travel(dispute.escalation_opens_at + timedelta(minutes=1)):
        tokens = []
        for _ in range(2):
            browser = Client(enforce_csrf_checks=True)
            browser.force_login(dispute.buyer)
            html = browser.get(address).content.decode()
            form = html[html.index(f'action="{escalate_address}"') :]
            sent = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
            assert sent is not None
            tokens.append((browser, sent.group(1)))
        assert tokens[0][0].cookies["csrftoken"].value != tokens[1][0].cookies["csrftoken"].value
        browser, token = tokens[1]
        answer = browser.post(escalate_address, {"csrfmiddlewaretoken": token})
    # Accepted (not 403): the first press asks to confirm.
    assert answer.status_code == 200 and 'name="confirm" value="yes"' in answer.content.decode()


def test_the_deadlines_card_kept_in_russian_is_not_shown_in_english(client, login, dispute):
    login(dispute.buyer)
    assert "Продавец должен ответить до" in deadlines(page(client, dispute))
    english = page(client, dispute, language="/en")
    assert "Продавец должен ответить до" not in english and "Сроки" not in english


def test_the_deadlines_card_follows_the_disputes_state(client, login, dispute):
    login(dispute.buyer)
    assert "Продавец должен ответить до" in deadlines(page(client, dispute))
    seller_counter_offer(dispute)
    html = page(client, dispute)
    assert "Продавец должен ответить до" not in deadlines(html)
    assert "Передать спор в претензию можно с" in deadlines(html)


def each_reads_in_the_deadlines(client, login, dispute, expected: dict) -> None:
    for reader, words in expected.items():
        client.logout()
        login(reader)
        assert words in deadlines(page(client, dispute)), words


def test_the_deadlines_box_tells_each_party_its_own_deadline(client, login, dispute):
    each_reads_in_the_deadlines(
        client,
        login,
        dispute,
        {dispute.buyer: "иначе ваше требование будет удовлетворено", dispute.store.owner: "Ответьте до <strong>"},
    )
    offer = dispute_services.offer_make(
        dispute=dispute,
        user=dispute.store.owner,
        refund_type="partial",
        amount=Decimal("5"),
        return_required=True,
        note="Верните товар, вернём 5 $.",
    )
    dispute_services.offer_accept(dispute=dispute, offer_id=offer.pk, user=dispute.buyer)
    each_reads_in_the_deadlines(
        client,
        login,
        dispute,
        {
            dispute.buyer: "Отправьте товар продавцу и укажите трек до <strong>",
            dispute.store.owner: "Покупатель должен отправить товар и указать трек до <strong>",
        },
    )
