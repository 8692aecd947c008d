from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.dates import days
from core.forms import WrittenField
from core.tracking_numbers import TrackingNumberField

from .models import Order, OrderCancellation
from .rules import extension_limit
from .selectors import DISPUTED


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Номер заказа или товар"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Например, 8123 4567 или наушники"), "type": "search"}),
    )
    status = forms.ChoiceField(
        label=_("Статус"),
        required=False,
        choices=[("", _("Все статусы")), *Order.Status.choices, (DISPUTED, _("Со спором"))],
    )


class ExtensionRequestForm(forms.Form):
    days = forms.IntegerField(label=_("На сколько дней продлить"), min_value=1)
    reason = forms.CharField(
        label=_("Почему нужно больше времени"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Например: посылка застряла на сортировке, трек не обновляется 10 дней."),
    )

    def __init__(self, *args, max_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"] = forms.IntegerField(
            label=self.fields["days"].label,
            min_value=1,
            max_value=max_days,
            help_text=_("Самое большее %(most)s: вся защита длится не больше чем %(max)s.")
            % {"most": days(max_days), "max": days(settings.PROTECTION_MAX_DAYS)},
            error_messages={"max_value": extension_limit(max_days), "min_value": _("Попросите хотя бы 1 день.")},
        )
        self.order_fields(["days", "reason"])


class SupportRequestForm(forms.Form):
    text = WrittenField(
        label=_("Ваш вопрос"),
        rows=5,
        min_length=20,
        help_text=_("Не меньше 20 символов. Что случилось и что вы хотите узнать; номер заказа мы подставим сами."),
        too_short=_("Опишите вопрос подробнее: хотя бы %(limit_value)d символов."),
    )


class CancelRequestForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Почему вы отменяете заказ"),
        choices=OrderCancellation.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Выберите причину отмены.")},
    )
    note = forms.CharField(
        label=_("Пояснение для продавца"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ShipForm(forms.Form):
    tracking_number = TrackingNumberField(
        label=_("Трек-номер посылки"),
        widget=forms.TextInput(attrs={"placeholder": "LP00123456789CN"}),
        help_text=_("Покупатель увидит его на странице заказа; с этой минуты начнётся срок защиты."),
    )
