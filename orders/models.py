from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import BuyerSellerQuerySet
from core.models import BuyerSellerEvent, choice_label
from core.money import shares


class Currency(models.TextChoices):
    USD = "USD", "USD"
    RUB = "RUB", "RUB"
    EUR = "EUR", "EUR"


class OrderQuerySet(BuyerSellerQuerySet["Order"]):
    staff_permission = "orders.view_order"


class Order(models.Model):
    class Status(models.TextChoices):
        AWAITING_SHIPMENT = "awaiting_shipment", _("Ожидает отправки")
        IN_TRANSIT = "in_transit", _("В пути")
        DELIVERED = "delivered", _("Доставлен, ждёт подтверждения")
        CONFIRMED = "confirmed", _("Получение подтверждено")
        COMPLETED = "completed", _("Завершён")
        CANCELLED = "cancelled", _("Отменён, деньги возвращаются")

    class CancelReason(models.TextChoices):
        SELLER_AGREED = "seller_agreed", _("продавец согласился отменить заказ")
        SELLER_SILENT = "seller_silent", _("продавец не ответил на просьбу отменить заказ")
        NOT_SHIPPED = "not_shipped", _("продавец не отправил заказ в срок")
        MARKETPLACE = "marketplace", _("заказ отменила площадка")

    number = models.CharField(_("номер заказа"), max_length=32, unique=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("покупатель")
    )
    store = models.ForeignKey(
        "accounts.Store", on_delete=models.PROTECT, related_name="orders", verbose_name=_("продавец")
    )
    status = models.CharField(_("статус"), max_length=24, choices=Status.choices, default=Status.AWAITING_SHIPMENT)
    currency = models.CharField(_("валюта"), max_length=3, choices=Currency.choices, default=Currency.USD)
    total_amount = models.DecimalField(_("сумма"), max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_method = models.CharField(_("способ доставки"), max_length=120)
    tracking_number = models.CharField(_("трек-номер"), max_length=64, blank=True, db_index=True)
    protection_days = models.PositiveSmallIntegerField(
        _("срок защиты, дней"),
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("Срок доставки, установленный продавцом, вместе с продлениями; самое большее — 90 дней."),
    )
    paid_at = models.DateTimeField(_("оплачен"))
    shipped_at = models.DateTimeField(_("отправлен"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("доставлен"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("получение подтверждено"), null=True, blank=True)
    completed_at = models.DateTimeField(_("завершён"), null=True, blank=True)
    # The listing's handling time: the seller must ship by paid_at + handling_days (ship_by), or
    # the shipping-deadline sweep cancels the order and refunds it.
    handling_days = models.PositiveSmallIntegerField(
        _("срок отправки, дней"), default=7, db_default=7, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    ship_by = models.DateTimeField(_("отправить до"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("отменён"), null=True, blank=True)
    cancel_reason = models.CharField(
        _("почему отменён"), max_length=16, choices=CancelReason.choices, blank=True, db_default=""
    )
    # The last moment a dispute may be opened: shipment + protection days, or confirmation + 15
    # days. Swept by the protection tasks, so it is indexed.
    protection_due_at = models.DateTimeField(_("защита до"), null=True, blank=True, db_index=True)
    confirm_reminder_sent_at = models.DateTimeField(
        _("напоминание подтвердить получение отправлено"), null=True, blank=True
    )
    # Set under the order's lock when its one dispute opens, and never cleared: the dispute then
    # governs the money, no second dispute can open, and the protection sweeps leave the order alone.
    has_dispute = models.BooleanField(_("был спор"), default=False)
    # The latest marketplace event applied to the order (orders/feed.py): an event older than this
    # one is recorded and ignored, so events that arrive out of order never undo a later one.
    marketplace_event_at = models.DateTimeField(_("последнее событие площадки"), null=True, blank=True)
    marketplace_event_kind = models.CharField(_("какое событие площадки"), max_length=16, blank=True, db_default="")
    created_at = models.DateTimeField(_("создан"), auto_now_add=True)
    updated_at = models.DateTimeField(_("изменён"), auto_now=True)
    get_status_display = choice_label("status")

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("заказ")
        verbose_name_plural = _("заказы")
        ordering = ["-paid_at", "-pk"]
        permissions = [("change_order_money", _("Может менять суммы и валюту заказов"))]
        indexes = [
            models.Index(fields=["buyer", "-paid_at"]),
            models.Index(fields=["store", "-paid_at"]),
            # The protection sweeps read only orders still waiting on their protection date.
            models.Index(
                fields=["protection_due_at"],
                condition=models.Q(status__in=["in_transit", "delivered", "confirmed"], has_dispute=False),
                name="order_protection_due_idx",
            ),
            # The shipping-deadline sweep reads only orders still waiting to be shipped.
            models.Index(fields=["ship_by"], condition=models.Q(status="awaiting_shipment"), name="order_ship_by_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(protection_days__lte=90), name="order_protection_at_most_90_days")
        ]

    def __str__(self) -> str:
        return self.number

    def paid_per_item(self, items: "list[OrderItem] | None" = None) -> dict[int, Decimal]:
        """What the buyer paid for each item (by pk), in the order's currency: the order's total
        shared in proportion to the lines, so each line carries its share of shipping (or of a
        discount) and the shares add up to the total. A dispute about an item is bounded by it.
        `items`: the order's items in pk order, when the caller read them itself."""
        items = list(self.items.all()) if items is None else items
        amounts = shares(self.total_amount, [item.line_total for item in items])
        return {item.pk: amount for item, amount in zip(items, amounts, strict=True)}


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("заказ"))
    title = models.CharField(_("товар"), max_length=255)
    variant = models.CharField(_("вариант"), max_length=120, blank=True)
    quantity = models.PositiveIntegerField(_("количество"), default=1)
    unit_price = models.DecimalField(_("цена"), max_digits=12, decimal_places=2)
    # The marketplace's product id (the number in /item/<id>.html): reports find the store by it.
    item_id = models.CharField(_("номер товара на площадке"), max_length=20, blank=True, db_index=True)
    # The listing's main picture, copied when the order was placed (listings change later). Served
    # to the order's buyer, seller and staff only (orders.views.item_image).
    image = models.ImageField(_("фото товара"), upload_to="items/%Y/%m/", blank=True, max_length=200)
    # The picture's address on the marketplace, as the order feed sent it (shown as a link: the
    # help centre neither fetches nor embeds pictures from other sites).
    image_url = models.URLField(_("адрес фото на площадке"), max_length=500, blank=True, db_default="")

    class Meta:
        verbose_name = _("товар заказа")
        verbose_name_plural = _("товары заказа")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class ProtectionExtension(models.Model):
    """A buyer's request that the seller lengthen the protection period."""

    class Status(models.TextChoices):
        PENDING = "pending", _("ждёт ответа продавца")
        ACCEPTED = "accepted", _("продавец согласился")
        REFUSED = "refused", _("продавец отказал")
        LAPSED = "lapsed", _("не рассмотрен до конца защиты")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("заказ"))
    days = models.PositiveSmallIntegerField(_("на сколько дней"))
    reason = models.TextField(_("причина"), max_length=1000)
    status = models.CharField(_("статус"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("запрошена"), auto_now_add=True)
    decided_at = models.DateTimeField(_("решена"), null=True, blank=True)
    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("просьба продлить защиту")
        verbose_name_plural = _("просьбы продлить защиту")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="pending"), name="one_pending_extension_per_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order.number}: +{self.days}"


class OrderEvent(BuyerSellerEvent):
    """What happened to an order, by whom and when: the order's timeline and audit trail."""

    subject_field = "order"

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed", _("Покупатель подтвердил получение")
        EXTENSION_REQUESTED = "extension_requested", _("Покупатель попросил продлить защиту")
        EXTENSION_ACCEPTED = "extension_accepted", _("Продавец продлил защиту")
        EXTENSION_REFUSED = "extension_refused", _("Продавец отказал в продлении защиты")
        REMINDER_SENT = "reminder_sent", _("Отправлено напоминание подтвердить получение")
        COMPLETED = "completed", _("Защита закончилась, заказ завершён")
        SHIPPED = "shipped", _("Продавец отправил заказ")
        CANCEL_REQUESTED = "cancel_requested", _("Покупатель попросил отменить заказ")
        # The end of the buyer's request, not a second shipment: the shipment is its own event.
        CANCEL_OVERTAKEN = "cancel_overtaken", _("Просьба отменить заказ закрыта: заказ уже отправлен")
        CANCELLED = "cancelled", _("Заказ отменён, деньги возвращаются покупателю")
        DELIVERED = "delivered", _("Служба доставки отметила вручение")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("заказ"))
    kind = models.CharField(_("что произошло"), max_length=32, choices=Kind.choices)
    get_kind_display = choice_label("kind")

    class Meta(BuyerSellerEvent.Meta):
        verbose_name = _("событие заказа")
        verbose_name_plural = _("события заказов")


class OrderCancellation(models.Model):
    """A buyer's request to cancel an order that awaits shipment. The seller agrees, or ships with
    a tracking number, by `respond_by`; a seller who does neither cannot stall: the sweep cancels
    the order and refunds it."""

    class Reason(models.TextChoices):
        CHANGED_MIND = "changed_mind", _("Передумал(а) покупать")
        FOUND_CHEAPER = "found_cheaper", _("Нашёл(ла) дешевле")
        WRONG_OPTIONS = "wrong_options", _("Ошибся(лась) в цвете, размере или количестве")
        WRONG_ADDRESS = "wrong_address", _("Указан неверный адрес доставки")
        SELLER_SLOW = "seller_slow", _("Продавец долго не отправляет заказ")
        OTHER = "other", _("Другое")

    class Status(models.TextChoices):
        PENDING = "pending", _("ждёт ответа продавца")
        AGREED = "agreed", _("продавец согласился, заказ отменён")
        SELLER_SILENT = "seller_silent", _("продавец не ответил, заказ отменён")
        SHIPPED = "shipped", _("продавец успел отправить заказ")
        OVERTAKEN = "overtaken", _("заказ отменён по другой причине")

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="cancellation", verbose_name=_("заказ"))
    reason = models.CharField(_("причина"), max_length=16, choices=Reason.choices)
    note = models.TextField(_("пояснение"), blank=True, max_length=1000)
    status = models.CharField(_("статус"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("запрошена"))
    respond_by = models.DateTimeField(_("продавец должен ответить до"))
    resolved_at = models.DateTimeField(_("решена"), null=True, blank=True)
    get_reason_display = choice_label("reason")
    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("просьба отменить заказ")
        verbose_name_plural = _("просьбы отменить заказ")
        ordering = ["-requested_at", "-pk"]
        indexes = [
            # The cancellation sweep reads only requests still waiting for the seller.
            models.Index(fields=["respond_by"], condition=models.Q(status="pending"), name="cancellation_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.order.number}: {self.get_status_display()}"


class TrackingEvent(models.Model):
    """One scan of the parcel by the carrier: from the logistics webhook, from staff in admin, or
    from the demo. `external_id` makes a repeated notice a no-op."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("Принято к отправке")
        IN_TRANSIT = "in_transit", _("В пути")
        ARRIVED = "arrived", _("Прибыло в страну назначения")
        CUSTOMS = "customs", _("Таможенное оформление")
        LOCAL_POST = "local_post", _("Передано местной почте")
        DELIVERED = "delivered", _("Вручено")
        RETURNED = "returned", _("Возвращается отправителю")

    class Source(models.TextChoices):
        CARRIER = "carrier", _("служба доставки")
        STAFF = "staff", _("сотрудник")
        DEMO = "demo", _("демо-данные")
        FEED = "feed", _("площадка")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tracking_events", verbose_name=_("заказ"))
    kind = models.CharField(_("событие"), max_length=16, choices=Kind.choices)
    happened_at = models.DateTimeField(_("когда"))
    location = models.CharField(_("где"), max_length=200, blank=True)
    source = models.CharField(_("источник"), max_length=8, choices=Source.choices)
    external_id = models.CharField(_("номер события у службы доставки"), max_length=100, unique=True)
    received_at = models.DateTimeField(_("получено"))
    get_kind_display = choice_label("kind")
    get_source_display = choice_label("source")

    class Meta:
        verbose_name = _("событие отслеживания")
        verbose_name_plural = _("события отслеживания")
        ordering = ["happened_at", "pk"]
        indexes = [models.Index(fields=["order", "happened_at"])]

    def __str__(self) -> str:
        return f"{self.order.number}: {self.get_kind_display()}"


class Refund(models.Model):
    """Money going back to the buyer: one row per order and purpose, the ledger the payment
    system confirms (by its webhook, or staff by hand)."""

    class Purpose(models.TextChoices):
        DISPUTE = "dispute", _("по спору")
        CANCELLATION = "cancellation", _("отмена заказа")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Подготовка к возврату")
        COMPLETED = "completed", _("Возврат завершён")

    class ConfirmedBy(models.TextChoices):
        GATEWAY = "gateway", _("платёжная система сразу")
        WEBHOOK = "webhook", _("уведомление платёжной системы")
        STAFF = "staff", _("сотрудник вручную")
        FEED = "feed", _("площадка (событие заказа)")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("заказ"))
    purpose = models.CharField(_("за что"), max_length=16, choices=Purpose.choices)
    # A dispute's refund is for one item of the order (each item may have its own dispute); a
    # cancellation's is for the whole order.
    item = models.ForeignKey(
        OrderItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("товар"),
    )
    amount = models.DecimalField(_("сумма"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("валюта"), max_length=3)
    # Our reference, sent to the payment system and quoted back by its webhook.
    reference = models.CharField(_("номер возврата"), max_length=40, unique=True)
    status = models.CharField(_("статус"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(_("запрошен"))
    # Until the payment system acknowledged the request, the refunds sweep sends it again at this moment.
    send_due_at = models.DateTimeField(
        _("следующая передача платёжной системе"), null=True, blank=True, db_index=True, editable=False
    )
    sent_at = models.DateTimeField(_("передан платёжной системе"), null=True, blank=True)
    # A refund still "preparing" at this moment is flagged for staff.
    stale_due_at = models.DateTimeField(
        _("считать задержанным с"), null=True, blank=True, db_index=True, editable=False
    )
    flagged_at = models.DateTimeField(_("задерживается с"), null=True, blank=True)
    completed_at = models.DateTimeField(_("завершён"), null=True, blank=True)
    confirmed_by = models.CharField(_("кто подтвердил"), max_length=8, choices=ConfirmedBy.choices, blank=True)
    confirmed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("сотрудник"),
    )
    gateway_reference = models.CharField(_("номер в платёжной системе"), max_length=80, blank=True)
    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("возврат денег")
        verbose_name_plural = _("возвраты денег")
        ordering = ["-requested_at", "-pk"]
        permissions = [("confirm_refund", _("Может отмечать возврат денег выполненным"))]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "purpose"],
                condition=models.Q(item__isnull=True),
                name="one_refund_per_order_and_purpose",
            ),
            models.UniqueConstraint(
                fields=["item", "purpose"],
                condition=models.Q(item__isnull=False),
                name="one_refund_per_item_and_purpose",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency}"


class PaymentNotice(models.Model):
    """A webhook notice from the payment system, kept by its event id so a replay changes nothing."""

    event_id = models.CharField(max_length=80, unique=True)
    refund = models.ForeignKey(Refund, null=True, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=40)
    received_at = models.DateTimeField()
    payload = models.JSONField()

    class Meta:
        verbose_name = _("уведомление платёжной системы")
        verbose_name_plural = _("уведомления платёжной системы")

    def __str__(self) -> str:
        return self.event_id


class SupportRequest(models.Model):
    """A buyer's question to support about an order (or none, from the help centre), answered in
    admin; the answer shows on the buyer's "Обращения в поддержку" page and comes by e-mail."""

    class Status(models.TextChoices):
        OPEN = "open", _("Ждёт ответа")
        ANSWERED = "answered", _("Есть ответ")

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="support_requests", verbose_name=_("кто")
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        related_name="support_requests",
        null=True,
        blank=True,
        verbose_name=_("заказ"),
    )
    # The help-centre article the buyer came from ("not helpful"), when there was one.
    article = models.CharField(_("статья справки"), max_length=200, blank=True)
    text = models.TextField(_("вопрос"), max_length=4000)
    status = models.CharField(_("статус"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(_("получено"), db_index=True)
    answer = models.TextField(_("ответ"), blank=True, max_length=4000)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("ответил"),
    )
    answered_at = models.DateTimeField(_("отвечено"), null=True, blank=True)
    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("обращение в поддержку")
        verbose_name_plural = _("обращения в поддержку")
        ordering = ["-created_at", "-pk"]
        permissions = [("answer_supportrequest", _("Может отвечать на обращения в поддержку"))]

    def __str__(self) -> str:
        return str(_("Обращение №%(number)s") % {"number": self.pk})


class FeedEvent(models.Model):
    """One order event from the marketplace (the signed feed, the bulk import or the demo), kept by
    its event id: the same event sent again changes nothing and gets the answer it got the first
    time. An event for an order not known yet waits here (HELD) until the order is paid."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("заказ оформлен")
        PAID = "paid", _("заказ оплачен")
        SHIPPED = "shipped", _("заказ отправлен")
        DELIVERED = "delivered", _("заказ доставлен")
        CANCELLED = "cancelled", _("заказ отменён площадкой")
        REFUNDED = "refunded", _("площадка вернула деньги")

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("применено")
        STALE = "stale", _("устарело, не применено")
        HELD = "held", _("ждёт оплаты заказа")
        REFUSED = "refused", _("отклонено")

    class Source(models.TextChoices):
        FEED = "feed", _("поток событий")
        IMPORT = "import", _("загрузка истории")
        DEMO = "demo", _("демо-данные")

    event_id = models.CharField(_("номер события"), max_length=100, unique=True)
    kind = models.CharField(_("событие"), max_length=16, choices=Kind.choices)
    order_number = models.CharField(_("номер заказа"), max_length=32)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("заказ")
    )
    occurred_at = models.DateTimeField(_("когда произошло"))
    received_at = models.DateTimeField(_("получено"))
    source = models.CharField(_("откуда"), max_length=8, choices=Source.choices)
    outcome = models.CharField(_("итог"), max_length=8, choices=Outcome.choices)
    # Why it was not applied, in words the sender reads (English, like the webhooks' answers).
    reason = models.CharField(_("почему"), max_length=300, blank=True)
    # Kept only while the event waits for its order, and for a refused one (to see what came).
    payload = models.JSONField(_("содержимое"), null=True, blank=True)

    get_kind_display = choice_label("kind")
    get_outcome_display = choice_label("outcome")
    get_source_display = choice_label("source")

    class Meta:
        verbose_name = _("событие площадки")
        verbose_name_plural = _("события площадки")
        ordering = ["-pk"]
        # An order's events (admin search; the events held until its "paid" arrives).
        indexes = [models.Index(fields=["order_number"], name="feed_event_order_number_idx")]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.get_kind_display()} {self.order_number}"
