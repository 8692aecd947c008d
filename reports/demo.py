"""Demo reports: one waiting for the seller's answer, one closed with a warning, one about a
listing the marketplace has no orders for."""

from datetime import datetime, timedelta

from django.db import transaction

from accounts.models import User
from core.demo import demo_step
from orders.models import Order

from . import services
from .links import ProductLink
from .models import Report


@demo_step(40)
def seed_reports(now: datetime) -> None:
    if Report.objects.exists():
        return
    users = {user.username: user for user in User.objects.filter(username__in=["buyer", "buyer2", "support"])}
    if len(users) < 3:
        return
    buyer, buyer2, support = users["buyer"], users["buyer2"], users["support"]
    headphones = Order.objects.filter(number="8100000000000001").prefetch_related("items").first()
    power_bank = Order.objects.filter(number="8100000000000005").prefetch_related("items").first()
    if headphones is None or power_bank is None:
        return

    def item_link(order: Order) -> ProductLink:
        item_id = order.items.all()[0].item_id
        return ProductLink(item_id=item_id, url=f"https://aliexpress.ru/item/{item_id}.html")

    def notified(order: Order, reason: str, description: str, *, days_ago: int) -> Report:
        """A report on the order's item filed `days_ago` days ago, support notifying the seller a day later."""
        report, _created = services.report_file(
            reporter=buyer,
            order=order,
            link=item_link(order),
            reason=reason,
            description=description,
            attachment_ids=[],
            now=now - timedelta(days=days_ago),
        )
        services.report_notify(report=report, staff=support, now=now - timedelta(days=days_ago - 1))
        return report

    # Waiting for the seller's answer: `seller` sees it in "Жалобы на меня".
    notified(
        headphones,
        "pay_outside",
        "Продавец написал в чате, что отправит быстрее, если я переведу 10 $ ему на карту напрямую.",
        days_ago=3,
    )
    # Closed as upheld with a warning after the seller let its time run out.
    closed = notified(
        power_bank,
        "false_specs",
        "Заявлено 20000 мА·ч, а тестер показывает 6200 мА·ч: ёмкость завышена втрое.",
        days_ago=12,
    )
    # A sweep's row action: it runs in the caller's transaction, which the demo opens as the sweep would.
    with transaction.atomic(durable=True):
        services.report_close_answer_window(report_id=closed.pk, now=now - timedelta(days=5))
    services.report_close(
        report=closed,
        staff=support,
        outcome=Report.Outcome.UPHELD,
        reason="Ёмкость в описании не подтверждена: продавец не прислал ни замеров, ни сертификата. "
        "Продавцу вынесено предупреждение, описание нужно исправить.",
        sanction=Report.Sanction.WARNING,
        now=now - timedelta(days=4),
    )

    # A listing nobody ordered here: support handles it without the seller's answer.
    services.report_file(
        reporter=buyer2,
        order=None,
        link=ProductLink(item_id="1005006543210987", url="https://aliexpress.ru/item/1005006543210987.html"),
        reason="misleading_price",
        description="Смартфон «от 19 $», но за 19 $ в этом объявлении продаётся только чехол, а телефон стоит 240 $.",
        attachment_ids=[],
        now=now - timedelta(hours=5),
    )
