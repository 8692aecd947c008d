"""Order and dispute pages tell one story: the amount on the table or agreed is what every page
shows, with the first request as history, and the accept button names what it accepts."""

from decimal import Decimal

import pytest
from django.urls import reverse

from disputes import services
from disputes.models import Offer

from .disputes_helpers import open_dispute, seller_counter_offer, stored_files
from .factories import OrderFactory, UserFactory
from .mail_helpers import rendered

pytestmark = pytest.mark.django_db


def text_of(client, url) -> str:
    """The page's HTML with money's non-breaking spaces as plain ones."""
    return client.get(url).content.decode().replace("\xa0", " ").replace("&nbsp;", " ")


def partial_request(order):
    return open_dispute(order, refund_type="partial", amount=Decimal("20.00"))


def test_the_agreed_amount_is_what_every_page_shows_after_a_later_offer(order, buyer, seller, client):
    dispute = partial_request(order)
    seller_counter_offer(dispute, amount="10")
    services.offer_make(
        dispute=dispute, user=buyer, refund_type="partial", amount=Decimal("15"), return_required=False, note="15 $?"
    )
    client.force_login(seller)
    before = text_of(client, reverse("disputes:detail", args=[dispute.pk]))
    assert "Принять предложение: 15,00 $" in before
    assert "покупатель предлагает 15,00 $" in text_of(client, reverse("disputes:store_list"))
    offer = Offer.objects.get(dispute=dispute, status="pending")
    services.offer_accept(dispute=dispute, offer_id=offer.pk, user=seller)
    for user, list_url, refund_line, item_line in (
        (buyer, "disputes:list", "Возврат вам: <strong>15,00 $</strong>", "Товар остаётся у вас."),
        (seller, "disputes:store_list", "Возврат покупателю: <strong>15,00 $</strong>", "Товар остаётся у покупателя."),
    ):
        client.force_login(user)
        page = text_of(client, reverse("disputes:detail", args=[dispute.pk]))
        assert "О чём договорились" in page and refund_line in page and item_line in page
        assert ("Ваше первоначальное требование" if user == buyer else "Первоначальное требование покупателя") in page
        assert "20,00 $" in page
        listing = text_of(client, reverse(list_url))
        assert "согласовано 15,00 $" in listing and "просили 20,00 $" in listing


def test_a_seller_accepting_a_return_offer_reads_what_the_buyer_will_do(order, buyer, seller, client):
    dispute = partial_request(order)
    seller_counter_offer(dispute, amount="10")
    services.offer_make(
        dispute=dispute, user=buyer, refund_type="partial", amount=Decimal("15"), return_required=True, note="Верну."
    )
    offer = Offer.objects.get(dispute=dispute, status="pending")
    client.force_login(seller)
    page = client.post(reverse("disputes:offer_accept", args=[dispute.pk]), {"offer": offer.pk}).content.decode()
    page = page.replace("\xa0", " ")
    assert "Покупателю вернут 15,00 $." in page
    assert "Покупатель отправит вам товар в течение 10 дней и укажет трек-номер" in page
    assert "когда вы подтвердите, что товар пришёл" in page
    services.offer_accept(dispute=dispute, offer_id=offer.pk, user=seller)
    page = text_of(client, reverse("disputes:detail", args=[dispute.pk]))
    assert "Покупатель возвращает вам товар." in page


def test_the_seller_accept_button_names_the_request_it_accepts(order, seller, client):
    dispute = partial_request(order)
    client.force_login(seller)
    page = text_of(client, reverse("disputes:detail", args=[dispute.pk]))
    assert "Принять требование: вернуть 20,00 $" in page
    assert "требование 20,00 $" in text_of(client, reverse("disputes:store_list"))


def test_confirming_receipt_asks_first_with_both_dates(order, buyer, client):
    client.force_login(buyer)
    url = reverse("orders:confirm", args=[order.number])
    page = text_of(client, url)
    assert "Подтверждение нельзя отменить" in page
    assert "сейчас открыть спор можно до" in page and "после подтверждения — только 15 дней" in page
    client.post(url)  # a POST without the confirmation's own button changes nothing
    order.refresh_from_db()
    assert order.status == "in_transit"
    client.post(url, {"confirmed": "yes"})
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_an_order_with_a_dispute_offers_no_confirmation_extension_or_second_dispute(order, buyer, client):
    open_dispute(order, kind="not_received", problems=["in_transit_protection_ending"])
    client.force_login(buyer)
    page = text_of(client, reverse("orders:detail", args=[order.number]))
    assert "деньги уйдут продавцу" not in page
    assert "По заказу идёт спор" in page
    assert reverse("orders:confirm", args=[order.number]) not in page
    assert "Попросить продавца" not in page and "Открыть спор</a>" not in page
    assert "Открыть страницу спора" in page
    client.post(reverse("orders:confirm", args=[order.number]), {"confirmed": "yes"})
    order.refresh_from_db()
    assert order.status == "in_transit"


def test_my_orders_marks_and_filters_orders_with_a_dispute(order, buyer, seller, client):
    quiet = OrderFactory(buyer=buyer, store=seller.store)
    dispute = open_dispute(order)
    client.force_login(buyer)
    everything = text_of(client, reverse("orders:list"))
    assert f"Спор: {dispute.get_status_display()}" in everything
    disputed = text_of(client, reverse("orders:list") + "?status=disputed")
    assert order.number in disputed and quiet.number not in disputed


# --- returns ---------------------------------------------------------------------------------


def test_a_seller_without_a_return_address_cannot_ask_for_the_item_back_until_it_adds_one(order, seller, client):
    from core.errors import ActionRefused

    seller.store.return_address = ""
    seller.store.save()
    dispute = open_dispute(order)
    client.force_login(seller)
    response = client.post(
        reverse("disputes:offer_create", args=[dispute.pk]),
        {"refund_type": "full", "return_required": "on", "note": "Верните, пожалуйста, товар"},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Сначала укажите адрес для возвратов" in text and "Верните, пожалуйста, товар" in text
    with pytest.raises(ActionRefused):
        seller_counter_offer_with_return(dispute)
    client.post(
        reverse("accounts:store_returns"),
        {"return_address": "Шэньчжэнь, ул. Хуацян, 18, офис 502, 518000, Китай"},
    )
    seller.store.refresh_from_db()
    assert seller.store.return_address.startswith("Шэньчжэнь")
    seller_counter_offer_with_return(dispute)


def seller_counter_offer_with_return(dispute):
    return services.offer_make(
        dispute=dispute,
        user=dispute.store.owner,
        refund_type="full",
        amount=None,
        return_required=True,
        note="Полный возврат после возврата товара",
    )


def test_a_not_received_dispute_never_requires_a_return_from_either_side(order, buyer, seller):
    from core.errors import ActionRefused

    dispute = open_dispute(order, kind="not_received", problems=["in_transit_protection_ending"], return_item=True)
    assert dispute.return_item is False
    with pytest.raises(ActionRefused, match="возвращать нечего"):
        seller_counter_offer_with_return(dispute)
    seller_counter_offer(dispute, amount="5")
    with pytest.raises(ActionRefused, match="возвращать нечего"):
        services.offer_make(
            dispute=dispute, user=buyer, refund_type="full", amount=None, return_required=True, note="Верну"
        )


def test_the_buyer_return_step_shows_where_to_send_it_with_the_deadline(order, buyer, seller, client):
    dispute = open_dispute(order, return_item=True)
    seller_counter_offer_with_return(dispute)
    offer = Offer.objects.get(dispute=dispute, status="pending")
    services.offer_accept(dispute=dispute, offer_id=offer.pk, user=buyer)
    client.force_login(buyer)
    page = text_of(client, reverse("disputes:detail", args=[dispute.pk]))
    assert "Куда отправить" in page and seller.store.return_address in page
    assert "Отправьте товар с трек-номером и укажите его здесь до" in page


def test_a_silent_seller_without_a_return_address_refunds_without_a_return(order, seller):
    from datetime import timedelta

    from django.utils import timezone

    seller.store.return_address = ""
    seller.store.save()
    dispute = open_dispute(order, return_item=True)
    services.dispute_grant_for_seller_silence(dispute_id=dispute.pk, now=timezone.now() + timedelta(days=6))
    dispute.refresh_from_db()
    assert dispute.return_required is False and dispute.status in ("refunding", "refunded")


# --- seeing the item --------------------------------------------------------------------------


def _with_picture(order):
    from django.core.files.base import ContentFile

    from orders.demo import demo_picture

    item = order.items.get()
    item.variant = "Чёрный"
    item.image.save("item.png", ContentFile(demo_picture(item.title)), save=True)
    return item


def test_the_item_with_its_picture_options_and_price_is_on_every_dispute_page(order, buyer, seller, client):
    item = _with_picture(order)
    dispute = open_dispute(order)
    image_url = reverse("orders:item_image", args=[order.number, item.pk])
    for user, list_url in ((buyer, "disputes:list"), (seller, "disputes:store_list")):
        client.force_login(user)
        for url in (reverse("disputes:detail", args=[dispute.pk]), reverse(list_url)):
            page = text_of(client, url)
            assert item.title in page and "Чёрный" in page and "25,00 $" in page and image_url in page
        assert client.get(image_url)["Content-Type"] == "image/png"


def test_the_wizard_shows_the_item_being_disputed(buyer, seller, client):
    order = OrderFactory(buyer=buyer, store=seller.store)
    item = _with_picture(order)
    client.force_login(buyer)
    page = text_of(client, reverse("disputes:wizard_start", args=[order.number]))
    assert item.title in page and reverse("orders:item_image", args=[order.number, item.pk]) in page


def test_dispute_emails_name_the_item(order, buyer):
    from accounts.models import OutgoingEmail

    _with_picture(order)
    dispute = open_dispute(order)
    seller_counter_offer(dispute, amount="5")
    body = rendered(OutgoingEmail.objects.filter(to_address=buyer.email).latest("pk")).body.replace("\xa0", " ")
    assert f"{order.items.get().title} (Чёрный) — 25,00 $" in body


def test_an_item_picture_is_404_for_anyone_else_and_goes_with_its_row(
    order, client, settings, django_capture_on_commit_callbacks
):
    item = _with_picture(order)
    client.force_login(UserFactory())
    assert client.get(reverse("orders:item_image", args=[order.number, item.pk])).status_code == 404
    assert len(stored_files()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        item.delete()
    assert stored_files() == []


# --- one-way actions ask first ------------------------------------------------------------------


def test_accepting_an_offer_asks_first_and_says_what_happens(order, buyer, seller, client):
    dispute = partial_request(order)
    seller_counter_offer(dispute, amount="10")
    offer = Offer.objects.get(dispute=dispute, status="pending")
    client.force_login(buyer)
    url = reverse("disputes:offer_accept", args=[dispute.pk])
    page = client.post(url, {"offer": offer.pk}).content.decode().replace("\xa0", " ")
    assert "Принять и закрыть спор?" in page and "Вам вернут 10,00 $." in page
    assert "Товар остаётся у вас. Возврат денег начнётся сразу." in page
    assert "покупател" not in page.split("<main")[1].split("</main>")[0]
    dispute.refresh_from_db()
    assert dispute.status == "negotiating"
    client.post(url, {"offer": offer.pk, "confirm": "yes"})
    dispute.refresh_from_db()
    assert dispute.status in ("refunding", "refunded")


def test_escalating_asks_first_and_says_what_a_claim_means(order, buyer, client):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    dispute = partial_request(order)
    seller_counter_offer(dispute, amount="10")
    client.force_login(buyer)
    url = reverse("disputes:escalate", args=[dispute.pk])
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        page = client.post(url).content.decode()
        assert "Передать спор в претензию?" in page and "решит арбитр" in page
        dispute.refresh_from_db()
        assert dispute.status == "negotiating"
        client.post(url, {"confirm": "yes"})
    dispute.refresh_from_db()
    assert dispute.status == "claim"


def test_escalating_too_early_says_when_instead_of_asking(order, buyer, client):
    dispute = partial_request(order)
    client.force_login(buyer)
    response = client.post(reverse("disputes:escalate", args=[dispute.pk]), follow=True)
    assert "Передать спор в претензию?" not in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == "awaiting_seller"


# --- the wizard ------------------------------------------------------------------------------


def wizard_url(order, step):
    return reverse("disputes:wizard", args=[order.number, step])


def test_the_step_counter_is_right_on_both_branches(order, buyer, client):
    """Step 1 counts like the others: until the answer, the longer way (not as described)."""
    client.force_login(buyer)
    assert "Шаг 1 из 5" in text_of(client, wizard_url(order, "received"))
    client.post(wizard_url(order, "received"), {"received": "no"})
    assert "Шаг 2 из 4" in text_of(client, wizard_url(order, "problem"))
    client.post(wizard_url(order, "received"), {"received": "yes"})
    assert "Шаг 2 из 5" in text_of(client, wizard_url(order, "problem"))
    assert "Шаг 1 из 5" in text_of(client, wizard_url(order, "received"))


def test_empty_parcel_cannot_be_chosen_with_a_different_item_or_counterfeit(order, buyer, client):
    client.force_login(buyer)
    client.post(wizard_url(order, "received"), {"received": "yes"})
    for other in ("wrong_attributes", "counterfeit"):
        response = client.post(wizard_url(order, "problem"), {"problems": ["empty_parcel", other]})
        assert response.status_code == 400
        assert "нельзя выбрать вместе" in response.content.decode()
    assert client.post(wizard_url(order, "problem"), {"problems": ["empty_parcel", "damaged"]}).status_code == 302


def test_no_tracking_is_offered_only_for_an_order_without_one(buyer, seller, client):
    with_tracking = OrderFactory(buyer=buyer, store=seller.store)
    without = OrderFactory(buyer=buyer, store=seller.store, tracking_number="")
    client.force_login(buyer)
    for order, offered in ((with_tracking, False), (without, True)):
        client.post(wizard_url(order, "received"), {"received": "no"})
        page = text_of(client, wizard_url(order, "problem"))
        assert ('value="no_tracking"' in page) is offered
        assert 'value="delivered_not_received"' in page and "вручено" in page
    refused = client.post(wizard_url(with_tracking, "problem"), {"problem": "no_tracking"})
    assert refused.status_code == 400


def test_the_request_step_says_the_minimum_and_an_example_for_its_branch(order, buyer, client):
    client.force_login(buyer)
    client.post(wizard_url(order, "received"), {"received": "no"})
    client.post(wizard_url(order, "problem"), {"problem": "returned_to_seller"})
    not_received = text_of(client, wizard_url(order, "request"))
    assert "Не меньше 20 символов" in not_received and "трек не обновляется" in not_received
    client.post(wizard_url(order, "received"), {"received": "yes"})
    client.post(wizard_url(order, "problem"), {"problems": ["not_working"]})
    client.post(wizard_url(order, "refund"), {"refund_type": "full", "return_item": "no"})
    received = text_of(client, wizard_url(order, "request"))
    assert "Не меньше 20 символов" in received and "Наушники не заряжаются" in received


# --- writing to support -------------------------------------------------------------------------


def test_a_buyer_writes_to_support_from_a_closed_dispute_and_reads_the_answer(order, buyer, client):
    from accounts.models import OutgoingEmail
    from orders.models import SupportRequest

    from .factories import support_agent

    dispute = open_dispute(order)
    services.dispute_cancel(dispute=dispute, buyer=buyer)
    client.force_login(buyer)
    dispute_page = text_of(client, reverse("disputes:detail", args=[dispute.pk]))
    support_url = reverse("orders:support") + f"?order={order.number}"
    assert support_url in dispute_page.replace("&amp;", "&")
    short = client.post(support_url, {"order": order.number, "text": "Где деньги?"})
    assert short.status_code == 400 and "Где деньги?" in short.content.decode()
    client.post(support_url, {"order": order.number, "text": "Я отменил спор по ошибке, что теперь делать с заказом?"})
    item = SupportRequest.objects.get()
    assert (item.order, item.status) == (order, "open")
    agent = support_agent(username="support-irina")
    client.force_login(agent)
    page = client.post(
        reverse("admin:orders_supportrequest_change", args=[item.pk]),
        {"answer": "Спор открыть снова нельзя, но напишите продавцу: он может вернуть деньги сам."},
    )
    assert page.status_code == 302
    item.refresh_from_db()
    assert item.status == "answered" and item.answered_by == agent
    mail = rendered(OutgoingEmail.objects.filter(to_address=buyer.email).latest("pk"))
    assert "напишите продавцу" in mail.body and order.number in mail.subject
    client.force_login(buyer)
    assert "напишите продавцу" in text_of(client, reverse("orders:support"))


def test_nobody_writes_about_someone_elses_order(order, client):
    client.force_login(UserFactory())
    assert client.get(reverse("orders:support") + f"?order={order.number}").status_code == 404


def test_a_not_helpful_vote_links_to_support(client):
    from faq.models import Article

    article = Article.objects.filter(status="published").select_related("category").first()
    if article is None:
        pytest.skip("the bundled articles load in the migration")
    url = reverse("faq:article", args=[article.category.slug, article.slug])
    client.post(reverse("faq:vote", args=[article.category.slug, article.slug]), {"helpful": "no"})
    page = text_of(client, url)
    assert reverse("orders:support") + f"?article={article.category.slug}/{article.slug}" in page


def test_protection_expiry_is_mailed_to_the_buyer(order, buyer):
    from datetime import timedelta

    from accounts.models import OutgoingEmail
    from core import sweeps

    sweeps.run("protection-expiry", order.protection_due_at + timedelta(minutes=1))
    mail = rendered(OutgoingEmail.objects.get(to_address=buyer.email))
    assert "закончилась" in mail.subject and order.number in mail.subject and "деньги переданы продавцу" in mail.body


def test_dispute_mail_subjects_say_what_happened(order, buyer, seller):
    from accounts.models import OutgoingEmail

    dispute = open_dispute(order)
    seller_counter_offer(dispute, amount="10")
    subject = rendered(OutgoingEmail.objects.filter(to_address=buyer.email).latest("pk")).subject.replace("\xa0", " ")
    assert subject == f"Продавец предложил 10,00 $ по заказу {order.number}"


# --- time ---------------------------------------------------------------------------------------


def test_a_deadline_reads_as_a_date_with_its_zone_and_what_is_left():
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    import time_machine
    from django.utils import timezone

    from core.templatetags.deadlines import deadline

    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False), timezone.override(ZoneInfo("Europe/Moscow")):
        soon = str(deadline(now + timedelta(days=4, hours=23)))
        assert "21 ноября" not in soon and "27 ноября, 11:00 MSK" in soon and "осталось 4 д 23 ч" in soon
        next_year = str(deadline(datetime(2027, 1, 5, 9, 0, tzinfo=UTC)))
        assert "5 января 2027, 12:00 MSK" in next_year
        today = str(deadline(now + timedelta(hours=2, minutes=30)))
        assert "осталось 2 ч 30 мин" in today
        assert "осталось" not in str(deadline(now - timedelta(minutes=1)))


def test_the_footer_names_the_viewers_time_zone_as_settings_does(buyer, client):
    buyer.time_zone = "Asia/Novosibirsk"
    buyer.save()
    client.force_login(buyer)
    assert "Новосибирск (UTC+7)" in text_of(client, reverse("accounts:home"))


def test_dispute_deadlines_show_the_countdown(order, buyer, client):
    open_dispute(order)
    client.force_login(buyer)
    page = text_of(client, reverse("disputes:detail", args=[order.disputes.get().pk]))
    assert "осталось 4 д 23 ч" in page and "MSK" in page


def test_every_link_in_every_mail_starts_with_site_url():
    """A mail read in a mail program has no page to be relative to: each `{% url %}` in a mail
    template follows `{{ site_url }}`, and no mail writes a host of its own."""
    import re
    from pathlib import Path

    from django.conf import settings as django_settings

    folder = Path(django_settings.BASE_DIR) / "templates" / "emails"
    templates = sorted(folder.glob("*.txt"))
    assert len(templates) >= 30
    for template in templates:
        text = template.read_text()
        for match in re.finditer(r"\{% url ", text):
            assert text[: match.start()].endswith("{{ site_url }}"), f"{template.name}: a link without SITE_URL"
        assert not re.search(r"https?://", text), f"{template.name}: a host written into the mail"
