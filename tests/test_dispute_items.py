"""A dispute is about one item of its order: an order of a watch and a strap can have one dispute
per item, each refund bounded by what was paid for that item with its share of shipping, never two
about the same item; the order page shows each; money is typed as people type it."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.errors import ActionRefused
from core.forms import MoneyField
from core.models import OutgoingWebhook
from core.money import amount_parse, shares
from disputes import claims, policy, services
from disputes.admin.forms import DecisionForm
from disputes.models import Attachment, Dispute
from orders.models import Order, OrderItem, Refund
from orders.payments import refund_confirm

from .disputes_helpers import escalate, open_dispute, png_file
from .factories import OrderFactory, OrderItemFactory, arbitrator

pytestmark = pytest.mark.django_db

REQUEST = "Ремешок порвался в первый же день, фото прилагаю."
REASON = "Фото показывают разрыв по шву в первый день: это брак изготовления, а не износ. " * 2


def watch_and_strap(buyer, seller, *, shipping: str = "0.00", **kwargs) -> tuple[Order, OrderItem, OrderItem]:
    """Demo order …02: a watch at 39,50 $ and two straps at 3,20 $ (45,90 $ with free shipping)."""
    order = OrderFactory(
        buyer=buyer, store=seller.store, item=None, total_amount=Decimal("45.90") + Decimal(shipping), **kwargs
    )
    watch = OrderItemFactory(order=order, title="Смарт-часы с пульсометром", unit_price=Decimal("39.50"))
    strap = OrderItemFactory(order=order, title="Ремешок силиконовый", quantity=2, unit_price=Decimal("3.20"))
    return order, watch, strap


def step_url(order, step):
    return reverse("disputes:wizard", args=[order.number, step])


# --- the bound: what was paid for the item ---------------------------------------------------------


def test_each_item_carries_its_share_of_shipping_and_the_shares_add_up(buyer, seller):
    order, watch, strap = watch_and_strap(buyer, seller, shipping="5.00")
    paid = order.paid_per_item()
    assert paid == {watch.pk: Decimal("43.80"), strap.pk: Decimal("7.10")}
    assert sum(paid.values()) == order.total_amount == Decimal("50.90")


def test_shares_leave_no_cent_behind():
    parts = shares(Decimal("10.00"), [Decimal("1"), Decimal("1"), Decimal("1")])
    assert sum(parts) == Decimal("10.00") and sorted(parts) == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]


def test_a_dispute_about_the_strap_is_bounded_by_the_straps_price(buyer, seller):
    order, _watch, strap = watch_and_strap(buyer, seller)
    with pytest.raises(ActionRefused, match="Нельзя вернуть больше, чем заплачено за товар: 6,40"):
        open_dispute(order, item_id=strap.pk, refund_type="partial", amount=Decimal("7.00"))
    with pytest.raises(ActionRefused, match="Частичный возврат — меньше"):
        open_dispute(order, item_id=strap.pk, refund_type="partial", amount=Decimal("6.40"))
    dispute = open_dispute(order, item_id=strap.pk)
    assert (dispute.item, dispute.paid_amount, dispute.requested_amount) == (strap, Decimal("6.40"), Decimal("6.40"))


def test_an_order_of_several_items_needs_the_item_named(buyer, seller):
    order, _watch, _strap = watch_and_strap(buyer, seller)
    with pytest.raises(ActionRefused, match="Выберите товар"):
        open_dispute(order)


def test_an_item_of_another_order_is_not_accepted(buyer, seller, order):
    other, _watch, _strap = watch_and_strap(buyer, seller)
    with pytest.raises(ActionRefused, match="Выберите товар"):
        open_dispute(other, item_id=order.items.get().pk)


def test_the_sellers_offer_and_the_arbitrators_decision_keep_to_the_items_price(buyer, seller):
    order, _watch, strap = watch_and_strap(buyer, seller)
    dispute = open_dispute(order, item_id=strap.pk)
    with pytest.raises(ActionRefused, match="Нельзя вернуть больше, чем заплачено за товар"):
        services.offer_make(
            dispute=dispute, user=seller, refund_type="partial", amount=Decimal("10"), return_required=False, note="x"
        )
    escalate(dispute)
    dispute.refresh_from_db()
    form = DecisionForm({"winner": "buyer", "amount": "10", "reason": REASON}, dispute=dispute)
    assert not form.is_valid()
    assert "Нельзя вернуть больше, чем заплачено за товар: 6,40" in form.errors["amount"][0]


# --- one dispute per item ----------------------------------------------------------------------


def test_the_watch_can_get_its_own_dispute_but_the_strap_not_a_second(buyer, seller):
    order, watch, strap = watch_and_strap(buyer, seller)
    strap_dispute = open_dispute(order, item_id=strap.pk)
    with pytest.raises(ActionRefused, match="По этому товару уже открывали спор"):
        open_dispute(order, item_id=strap.pk)
    services.dispute_cancel(dispute=strap_dispute, buyer=buyer)
    with pytest.raises(ActionRefused, match="По этому товару уже открывали спор"):
        open_dispute(order, item_id=strap.pk)  # a cancelled dispute is not reopened, not even as a new one
    watch_dispute = open_dispute(order, item_id=watch.pk, refund_type="partial", amount=Decimal("20"))
    assert watch_dispute.paid_amount == Decimal("39.50")
    with pytest.raises(ActionRefused, match="По каждому товару этого заказа уже открывали спор"):
        open_dispute(order, item_id=watch.pk)
    assert Dispute.objects.filter(order=order).count() == 2


def test_the_database_refuses_a_second_dispute_about_an_item(buyer, seller):
    order, _watch, strap = watch_and_strap(buyer, seller)
    first = open_dispute(order, item_id=strap.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Dispute.objects.create(
            order=order,
            item=strap,
            buyer=buyer,
            store=seller.store,
            kind=first.kind,
            requested_amount=Decimal("1"),
            paid_amount=Decimal("6.40"),
            currency="USD",
            request_text=REQUEST,
            opened_at=first.opened_at,
            escalation_opens_at=first.escalation_opens_at,
        )


def test_two_disputes_of_one_order_refund_each_item_on_its_own(buyer, seller):
    order, watch, strap = watch_and_strap(buyer, seller)
    for item, amount in ((strap, "6.40"), (watch, "39.50")):
        dispute = open_dispute(order, item_id=item.pk)
        offer = dispute.offers.get()
        services.offer_accept(dispute=dispute, offer_id=offer.pk, user=seller)
        refund = Refund.objects.get(item=item)
        assert refund.amount == Decimal(amount)
        refund_confirm(refund_id=refund.pk, confirmed_by=Refund.ConfirmedBy.WEBHOOK)
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.REFUNDED
    assert order.refunds.filter(purpose=Refund.Purpose.DISPUTE).count() == 2


def test_a_dispute_from_before_items_covers_the_whole_order(buyer, seller):
    """The migration links an older dispute to the order's first item and keeps the whole total as
    its bound; the order's other items then get no dispute of their own (it covered them)."""
    order, watch, strap = watch_and_strap(buyer, seller)
    dispute = open_dispute(order, item_id=watch.pk)
    Dispute.objects.filter(pk=dispute.pk).update(item=None, paid_amount=order.total_amount)
    migration = importlib.import_module("disputes.migrations.0021_dispute_per_item")
    migration.disputes_link_first_item(apps, None)
    dispute.refresh_from_db()
    assert (dispute.item, dispute.paid_amount) == (watch, Decimal("45.90"))
    with pytest.raises(ActionRefused, match="По каждому товару этого заказа уже открывали спор"):
        open_dispute(order, item_id=strap.pk)


def test_the_marketplace_learns_which_item_the_dispute_is_about(buyer, seller, settings):
    settings.MARKETPLACE_WEBHOOK_URL = "https://marketplace.example/hooks"
    order, _watch, strap = watch_and_strap(buyer, seller)
    dispute = open_dispute(order, item_id=strap.pk)
    services.dispute_cancel(dispute=dispute, buyer=buyer)
    notices = {notice.kind: notice.payload["data"] for notice in OutgoingWebhook.objects.all()}
    assert set(notices) == {"dispute.opened", "dispute.closed"}
    for data in notices.values():
        assert (data["item_id"], data["order_item_id"]) == (strap.item_id, strap.pk)
    assert notices["dispute.opened"]["item_paid"] == {"amount": "6.40", "currency": "USD"}


# --- the pages ---------------------------------------------------------------------------------


def test_the_wizard_asks_which_item_first_and_bounds_the_refund_by_it(login, buyer, seller):
    order, _watch, strap = watch_and_strap(buyer, seller)
    client = login(buyer)
    page = client.get(reverse("disputes:wizard_start", args=[order.number])).content.decode()
    assert "Шаг 1 из 6" in page and "О каком товаре спор?" in page
    assert client.post(step_url(order, "item"), {"item": strap.pk})["Location"] == step_url(order, "received")
    assert "Шаг 2 из 6" in client.get(step_url(order, "received")).content.decode()
    client.post(step_url(order, "received"), {"received": "yes"})
    client.post(step_url(order, "problem"), {"problems": ["damaged"]})
    page = client.get(step_url(order, "refund")).content.decode()
    assert "За этот товар вы заплатили 6,40" in page
    response = client.post(step_url(order, "refund"), {"refund_type": "partial", "amount": "6,40", "return_item": "no"})
    assert response.status_code == 400
    assert "Частичный возврат — меньше, чем заплачено за товар (6,40" in response.content.decode()
    client.post(step_url(order, "refund"), {"refund_type": "partial", "amount": "5,00", "return_item": "no"})
    client.post(step_url(order, "request"), {"request_text": REQUEST})
    assert "Ремешок силиконовый" in client.get(step_url(order, "summary")).content.decode()
    client.post(step_url(order, "summary"), {"submit": "1"})
    dispute = Dispute.objects.get(order=order)
    assert (dispute.item, dispute.requested_amount) == (strap, Decimal("5.00"))


def test_choosing_another_item_asks_the_refund_again(login, buyer, seller):
    order, watch, strap = watch_and_strap(buyer, seller)
    client = login(buyer)
    client.post(step_url(order, "item"), {"item": watch.pk})
    client.post(step_url(order, "received"), {"received": "yes"})
    client.post(step_url(order, "problem"), {"problems": ["damaged"]})
    client.post(step_url(order, "refund"), {"refund_type": "partial", "amount": "30", "return_item": "no"})
    client.post(step_url(order, "item"), {"item": strap.pk})
    assert client.get(step_url(order, "request"))["Location"] == step_url(order, "refund")


def test_an_order_of_one_item_skips_the_item_step(login, order, buyer):
    client = login(buyer)
    assert client.get(step_url(order, "item")).status_code == 404
    assert "Шаг 1 из 5" in client.get(reverse("disputes:wizard_start", args=[order.number])).content.decode()


def test_the_order_page_shows_each_items_dispute_and_offers_one_for_the_other(login, buyer, seller):
    order, watch, strap = watch_and_strap(buyer, seller)
    dispute = open_dispute(order, item_id=strap.pk)
    client = login(buyer)
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert f'data-testid="item-dispute-{strap.pk}"' in page
    assert reverse("disputes:detail", args=[dispute.pk]) in page
    assert f'data-testid="item-open-dispute-{watch.pk}"' in page
    assert f'data-testid="item-open-dispute-{strap.pk}"' not in page
    # The link starts the wizard with the watch chosen, at the next question.
    start = reverse("disputes:wizard_start", args=[order.number]) + f"?item={watch.pk}"
    assert client.get(start)["Location"] == step_url(order, "received")
    assert client.session[f"dispute-wizard:{order.pk}"]["answers"]["item"] == {"item": watch.pk}


def test_two_disputes_in_the_same_state_say_where_the_money_is_once(login, buyer, seller):
    order, watch, strap = watch_and_strap(buyer, seller)
    open_dispute(order, item_id=watch.pk)
    open_dispute(order, item_id=strap.pk)
    page = login(buyer).get(reverse("orders:detail", args=[order.number])).content.decode()
    assert page.count('data-testid="protection-dispute"') == 1


def test_the_seller_sees_the_items_dispute_but_no_link_to_open_one(login, buyer, seller):
    order, watch, strap = watch_and_strap(buyer, seller)
    open_dispute(order, item_id=strap.pk)
    page = login(seller).get(reverse("orders:detail", args=[order.number])).content.decode()
    assert f'data-testid="item-dispute-{strap.pk}"' in page
    assert f'data-testid="item-open-dispute-{watch.pk}"' not in page


# --- files chosen again ------------------------------------------------------------------------


def test_the_same_files_chosen_again_after_an_error_are_attached_once(login, order, buyer):
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "no"})
    client.post(step_url(order, "problem"), {"problem": "delivered_not_received"})
    files = {"evidence": [png_file("a.png"), png_file("b.png", size=(10, 10))]}
    response = client.post(step_url(order, "request"), {"request_text": "коротко", **files})
    assert response.status_code == 400  # too short: the buyer picks the same two files again
    again = {"evidence": [png_file("a.png"), png_file("b.png", size=(10, 10)), png_file("a-copy.png")]}
    assert client.post(step_url(order, "request"), {"request_text": REQUEST, **again}).status_code == 302
    assert Attachment.objects.filter(owner=buyer).count() == 2
    client.post(step_url(order, "summary"), {"submit": "1"})
    assert Dispute.objects.get(order=order).messages.get().attachments.count() == 2


# --- money as people type it -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1 000", "1000"),
        ("1\u00a0000,50", "1000.50"),
        ("1\u202f000,50", "1000.50"),
        ("24,90", "24.90"),
        ("1000.5", "1000.5"),
        ("1,000.50", "1000.50"),
        ("1.000,50", "1000.50"),
    ],
)
def test_amounts_are_read_as_people_type_them(typed, amount):
    assert amount_parse(typed) == Decimal(amount)
    assert MoneyField().clean(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["abc", "1.2.3", "1,2,3", "1e3", "NaN", "12 $"])
def test_what_is_not_an_amount_is_refused(typed):
    assert amount_parse(typed) is None


def test_a_rouble_amount_with_spaces_is_accepted_in_the_wizard(login, buyer, seller):
    order = OrderFactory(buyer=buyer, store=seller.store, currency="RUB", total_amount=Decimal("3490.00"), item=None)
    OrderItemFactory(order=order, unit_price=Decimal("3490.00"))
    client = login(buyer)
    client.post(step_url(order, "received"), {"received": "yes"})
    client.post(step_url(order, "problem"), {"problems": ["poor_quality"]})
    typed = {"refund_type": "partial", "amount": "1\u00a0000,50", "return_item": "no"}
    assert client.post(step_url(order, "refund"), typed)["Location"] == step_url(order, "request")
    client.post(step_url(order, "request"), {"request_text": REQUEST})
    client.post(step_url(order, "summary"), {"submit": "1"})
    assert Dispute.objects.get(order=order).requested_amount == Decimal("1000.50")


def test_the_arbitrators_decision_form_reads_1_000_as_a_number(order):
    dispute = escalate(open_dispute(OrderFactory(currency="RUB", total_amount=Decimal("3490.00"), item=None)))
    claims.claim_take(dispute=dispute, arbitrator=arbitrator())
    dispute.refresh_from_db()
    form = DecisionForm({"winner": "split", "amount": "1 000", "reason": REASON}, dispute=dispute)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("1000")


def test_staff_type_order_money_as_on_the_site(rf, staff_user):
    from django.contrib import admin

    request = rf.get("/")
    request.user = staff_user
    order_admin = admin.site.get_model_admin(Order)
    total = order_admin.formfield_for_dbfield(Order._meta.get_field("total_amount"), request)
    assert isinstance(total, MoneyField) and total.clean("1 000,50") == Decimal("1000.50")


def test_the_dispute_page_and_the_lists_show_the_disputed_item_only(login, buyer, seller):
    order, _watch, strap = watch_and_strap(buyer, seller)
    dispute = open_dispute(order, item_id=strap.pk)
    client = login(buyer)
    for url in (reverse("disputes:detail", args=[dispute.pk]), reverse("disputes:list")):
        page = client.get(url).content.decode()
        assert "Ремешок силиконовый" in page and "Смарт-часы" not in page


def test_the_arbitration_policy_reads_what_was_paid_for_the_disputed_item(buyer, seller):
    order, _watch, strap = watch_and_strap(buyer, seller)
    dispute = open_dispute(order, item_id=strap.pk)
    facts = policy.facts_of(Dispute.objects.get(pk=dispute.pk), now=timezone.now())
    assert facts.paid == Decimal("6.40")
