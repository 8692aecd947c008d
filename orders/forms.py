from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Order


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Номер заказа или товар"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Например, 8123 4567 или наушники"), "type": "search"}),
    )
    status = forms.ChoiceField(
        label=_("Статус"), required=False, choices=[("", _("Все статусы")), *Order.Status.choices]
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
            help_text=_("Не больше %(max)d дней: вместе защита длится до 90 дней.") % {"max": max_days},
        )
        self.order_fields(["days", "reason"])
