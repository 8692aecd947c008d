from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from orders.templatetags.money import money

from .models import Dispute
from .problems import NOT_AS_DESCRIBED_PROBLEMS, NOT_RECEIVED_PROBLEMS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by content later, in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,video/mp4,video/webm,application/pdf"}),
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def files_help_text() -> str:
    return _(
        "До %(count)d файлов: фото JPEG, PNG или WebP до %(image)d МБ, видео MP4 или WebM до %(video)d МБ, PDF до "
        "%(pdf)d МБ. Скриншоты переписки и трека, фото, видео распаковки."
    ) % {
        "count": settings.DISPUTE_MAX_FILES,
        "image": settings.DISPUTE_IMAGE_MAX_BYTES // (1024 * 1024),
        "video": settings.DISPUTE_VIDEO_MAX_BYTES // (1024 * 1024),
        "pdf": settings.DISPUTE_PDF_MAX_BYTES // (1024 * 1024),
    }


def check_partial_amount(form: forms.Form, cleaned: dict, *, amount_field: str = "amount") -> None:
    """A partial refund needs an amount above zero and no larger than what was paid."""
    if cleaned.get("refund_type") != Dispute.RefundType.PARTIAL:
        return
    amount = cleaned.get(amount_field)
    if amount is None:
        if amount_field not in form.errors:
            form.add_error(amount_field, _("Укажите сумму частичного возврата."))
    elif amount <= 0:
        form.add_error(amount_field, _("Сумма должна быть больше нуля."))
    elif amount > form.max_amount:
        form.add_error(
            amount_field,
            _("Нельзя вернуть больше, чем вы заплатили: %(max)s.") % {"max": money(form.max_amount, form.currency)},
        )


class ReceivedForm(forms.Form):
    received = forms.TypedChoiceField(
        label=_("Вы получили товар?"),
        choices=[("no", _("Нет, товар не пришёл")), ("yes", _("Да, но он не такой, как в описании"))],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Выберите ответ.")},
    )


class NotReceivedProblemForm(forms.Form):
    problem = forms.ChoiceField(
        label=_("Что случилось?"),
        choices=[(problem.code, problem.label) for problem in NOT_RECEIVED_PROBLEMS],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Выберите, что случилось с посылкой.")},
    )
    held_by_customs = forms.BooleanField(label=_("Посылку задержала таможня"), required=False)
    wrong_address = forms.BooleanField(label=_("Адрес доставки в заказе неверный"), required=False)


class NotAsDescribedProblemForm(forms.Form):
    problems = forms.MultipleChoiceField(
        label=_("Что не так с товаром?"),
        choices=[(problem.code, problem.label) for problem in NOT_AS_DESCRIBED_PROBLEMS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Отметьте хотя бы одну проблему.")},
    )


class RefundForm(forms.Form):
    refund_type = forms.ChoiceField(
        label=_("Какой возврат вы просите?"),
        choices=Dispute.RefundType.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial=Dispute.RefundType.FULL,
    )
    amount = forms.DecimalField(
        label=_("Сумма частичного возврата"),
        required=False,
        max_digits=12,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    return_item = forms.TypedChoiceField(
        label=_("Вы готовы отправить товар обратно продавцу?"),
        choices=[("no", _("Нет, оставлю товар у себя")), ("yes", _("Да, отправлю обратно"))],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial="no",
    )

    def __init__(self, *args, max_amount: Decimal, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_amount, self.currency = max_amount, currency
        self.fields["amount"].help_text = _("В валюте заказа (%(currency)s), не больше %(max)s.") % {
            "currency": currency,
            "max": money(max_amount, currency),
        }

    def clean(self):
        cleaned = super().clean()
        check_partial_amount(self, cleaned)
        return cleaned


class RequestForm(forms.Form):
    request_text = forms.CharField(
        label=_("Ваше требование своими словами"),
        min_length=20,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Что случилось и чего вы хотите. Например: «Прошло 45 дней, трек не обновляется с 3 числа, продавец не "
            "отвечает. Прошу вернуть полную стоимость»."
        ),
        error_messages={"min_length": _("Опишите проблему подробнее: хотя бы %(limit_value)d символов.")},
    )
    files = MultipleFileField(label=_("Доказательства"))
    remove = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=[])

    def __init__(self, *args, uploaded=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = files_help_text()
        self.fields["remove"].choices = [(item.pk, item.display_name) for item in uploaded]


class OfferForm(forms.Form):
    refund_type = forms.ChoiceField(
        label=_("Возврат"),
        choices=Dispute.RefundType.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial="partial",
    )
    amount = forms.DecimalField(
        label=_("Сумма"),
        required=False,
        max_digits=12,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    return_required = forms.BooleanField(label=_("Товар нужно вернуть продавцу"), required=False)
    note = forms.CharField(
        label=_("Пояснение"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), required=True
    )
    files = MultipleFileField(label=_("Доказательства"))

    def __init__(self, *args, max_amount: Decimal, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_amount, self.currency = max_amount, currency
        self.fields["amount"].help_text = _("Для частичного возврата, в %(currency)s, не больше %(max)s.") % {
            "currency": currency,
            "max": money(max_amount, currency),
        }
        self.fields["files"].help_text = files_help_text()

    def clean(self):
        cleaned = super().clean()
        check_partial_amount(self, cleaned)
        return cleaned


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Сообщение"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    files = MultipleFileField(label=_("Файлы"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = files_help_text()


class ReturnShipForm(forms.Form):
    tracking_number = forms.CharField(
        label=_("Трек-номер возврата"),
        max_length=64,
        min_length=5,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
