from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import ActionRefused
from core.forms import EvidenceField, MoneyField, MultipleFileField, WrittenField, files_help_text
from core.money import format_money
from core.tracking_numbers import TrackingNumberField
from orders.models import OrderItem

from . import rules
from .links import MAX_LINK_LENGTH, evidence_link_clean
from .models import Attachment, Dispute
from .problems import NOT_AS_DESCRIBED_PROBLEMS, NOT_RECEIVED_PROBLEMS, conflict_refusal, not_received_problems_for


class EvidenceLinkField(forms.CharField):
    """A link to a video hosting page; checked by disputes.links so the form and the service agree."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=_("Ссылка на видео"),
            required=False,
            max_length=MAX_LINK_LENGTH,
            help_text=_(
                "Если видео слишком большое для загрузки, выложите его на видеохостинг (например, с доступом по "
                "ссылке) и вставьте ссылку. Она будет показана как ссылка, видео на сайт не встраивается."
            ),
            widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        try:
            return evidence_link_clean(value)
        except ActionRefused as refused:
            raise forms.ValidationError(refused.message) from None


class AmountForm(forms.Form):
    """A form with a refund type and an amount in the order's currency for a partial refund,
    bounded by the rulebook's one rule. `amount_help` names the currency and the most."""

    amount_help = _("В валюте заказа (%(currency)s), не больше %(max)s.")

    def __init__(self, *args: Any, max_amount: Decimal, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_amount, self.currency = max_amount, currency
        self.fields["amount"].help_text = self.amount_help % {
            "currency": currency,
            "max": format_money(max_amount, currency),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("refund_type") == Dispute.RefundType.PARTIAL:
            self.check_amount(cleaned)
        return cleaned

    def check_amount(self, cleaned: dict[str, Any], *, amount_field: str = "amount") -> None:
        if amount_field in self.errors:
            return
        message = rules.refund_amount_refusal(
            cleaned.get(amount_field), paid=self.max_amount, currency=self.currency, partial=True
        )
        if message:
            self.add_error(amount_field, message)


class ItemForm(forms.Form):
    """Which item of the order the dispute is about; items that already had a dispute are not offered."""

    item = forms.TypedChoiceField(
        label=_("О каком товаре спор?"),
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Выберите товар."), "invalid_choice": _("Выберите товар из списка.")},
    )

    def __init__(self, *args: Any, items: Sequence[OrderItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["item"]).choices = [(item.pk, item.title) for item in items]


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
    # Drawn by hand in the wizard: Bootstrap's class keeps a long label beside its box on a phone.
    held_by_customs = forms.BooleanField(
        label=_("Посылку задержала таможня"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    wrong_address = forms.BooleanField(
        label=_("Адрес доставки в заказе неверный"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, has_tracking: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["problem"]).choices = [
            (problem.code, problem.label) for problem in not_received_problems_for(has_tracking=has_tracking)
        ]


class NotAsDescribedProblemForm(forms.Form):
    problems = forms.MultipleChoiceField(
        label=_("Что не так с товаром?"),
        choices=[(problem.code, problem.label) for problem in NOT_AS_DESCRIBED_PROBLEMS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Отметьте хотя бы одну проблему.")},
    )

    def clean_problems(self) -> list[str]:
        problems = self.cleaned_data["problems"]
        if message := conflict_refusal(problems):
            raise forms.ValidationError(message)
        return problems


class RefundForm(AmountForm):
    refund_type = forms.ChoiceField(
        label=_("Какой возврат вы просите?"),
        choices=Dispute.RefundType.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial=Dispute.RefundType.FULL,
    )
    amount = MoneyField(label=_("Сумма частичного возврата"), required=False)
    return_item = forms.TypedChoiceField(
        label=_("Вы готовы отправить товар обратно продавцу?"),
        choices=[("no", _("Нет, оставлю товар у себя")), ("yes", _("Да, отправлю обратно"))],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial="no",
    )

    amount_help = _("В валюте заказа (%(currency)s), меньше %(max)s: столько заплачено за товар.")


class RequestForm(forms.Form):
    request_text = forms.CharField(
        label=_("Ваше требование своими словами"),
        min_length=20,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"min_length": _("Опишите проблему подробнее: хотя бы %(limit_value)d символов.")},
    )
    evidence = MultipleFileField(label=_("Доказательства"))
    link = EvidenceLinkField()
    remove = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=[])

    def __init__(
        self, *args: Any, uploaded: Sequence[Attachment] = (), kind: str = Dispute.Kind.NOT_AS_DESCRIBED, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        example = (
            _("«Прошло 45 дней, трек не обновляется с 3 марта, продавец не отвечает. Прошу вернуть полную стоимость».")
            if kind == Dispute.Kind.NOT_RECEIVED
            else _(
                "«Наушники не заряжаются: индикатор не горит ни от одного кабеля, видео прилагаю. Прошу вернуть "
                "полную стоимость, товар готов отправить обратно»."
            )
        )
        self.fields["request_text"].help_text = _(
            "Не меньше 20 символов: что случилось и чего вы хотите. Например: %(example)s"
        ) % {"example": example}
        self.fields["evidence"].help_text = files_help_text()
        remove = self.fields["remove"]
        assert isinstance(remove, forms.TypedMultipleChoiceField)
        remove.choices = [(item.pk, item.display_name) for item in uploaded]


class OfferForm(AmountForm):
    refund_type = forms.ChoiceField(
        label=_("Возврат"),
        choices=Dispute.RefundType.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial="partial",
    )
    amount = MoneyField(label=_("Сумма"), required=False)
    return_required = forms.BooleanField(label=_("Товар нужно вернуть продавцу"), required=False)
    return_postage_limit = MoneyField(
        label=_("Продавец возместит пересылку обратно, до"),
        required=False,
        help_text=_("Если товар возвращается: сколько продавец вернёт покупателю за почту. Пусто — платит покупатель."),
    )
    note = WrittenField(label=_("Пояснение"), rows=3)
    evidence = EvidenceField(label=_("Доказательства"))
    amount_help = _("Для частичного возврата, в %(currency)s, меньше %(max)s.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "return_postage_limit" not in self.errors and (
            message := rules.return_postage_refusal(
                cleaned.get("return_postage_limit"), return_required=cleaned.get("return_required", False)
            )
        ):
            self.add_error("return_postage_limit", message)
        return cleaned


class MessageForm(forms.Form):
    """Words, files or a video link (the service wants at least one of them)."""

    text = WrittenField(label=_("Сообщение"), rows=3, required=False)
    evidence = EvidenceField(label=_("Файлы"))
    link = EvidenceLinkField()


class ReturnShipForm(forms.Form):
    tracking_number = TrackingNumberField(label=_("Трек-номер возврата"))


class EvidenceAnswerForm(MessageForm):
    text = WrittenField(label=_("Ваш ответ арбитру"), rows=4, required=False)


class AppealForm(forms.Form):
    reason = WrittenField(
        label=_("С чем вы не согласны и почему"),
        rows=6,
        min_length=settings.APPEAL_REASON_MIN_LENGTH,
        too_short=_("Объясните подробнее: хотя бы %(limit_value)d символов."),
    )
    evidence = EvidenceField(label=_("Новые доказательства"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _(
            "Не меньше %(count)d символов. Напишите, что арбитр не учёл, и приложите то, чего не было в споре: "
            "видео распаковки, акт почты, переписку."
        ) % {"count": settings.APPEAL_REASON_MIN_LENGTH}
