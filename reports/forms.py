from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.utils.translation import gettext_lazy as _

from core.forms import EvidenceField, WrittenField
from orders.models import Order

from .links import ProductLink, parse_product_link
from .models import Report
from .reasons import reasons_for


class LinkForm(forms.Form):
    link = forms.CharField(
        label=_("Ссылка на товар"),
        max_length=2000,
        help_text=_("Скопируйте адрес страницы товара, например https://aliexpress.ru/item/1005001234567890.html"),
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_link(self) -> ProductLink:
        return parse_product_link(self.cleaned_data["link"])


class ReportForm(forms.Form):
    """The report itself. The listing comes from the link checked in the first step, or from the
    order's items (optional: a report may be about the store or the buyer as a whole)."""

    link = forms.CharField(required=False, widget=forms.HiddenInput)
    item = forms.ChoiceField(label=_("Какой товар"), required=False, widget=forms.RadioSelect)
    reason = forms.ChoiceField(label=_("Что нарушено"), widget=forms.RadioSelect)
    description = WrittenField(label=_("Опишите, что не так"), rows=5)
    evidence = EvidenceField(label=_("Файлы"))

    def __init__(self, *args: Any, order: Order | None = None, against_buyer: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        cast(forms.ChoiceField, self.fields["reason"]).choices = [
            (reason.code, reason.label) for reason in reasons_for(against_buyer=against_buyer)
        ]
        minimum = settings.REPORT_DESCRIPTION_MIN_LENGTH
        self.fields["description"].validators.append(MinLengthValidator(minimum))
        self.fields["description"].help_text = _(
            "Не меньше %(count)d символов: что произошло и когда, коротко и по фактам."
        ) % {"count": minimum}
        if order is not None and not against_buyer:
            choices = [(item.item_id, item.title) for item in order.items.all() if item.item_id]
            cast(forms.ChoiceField, self.fields["item"]).choices = [
                ("", _("Магазин в целом, не конкретный товар")),
                *choices,
            ]
        else:
            del self.fields["item"]

    def clean_link(self) -> ProductLink | None:
        raw = self.cleaned_data.get("link", "")
        if not raw:
            return None
        try:
            return parse_product_link(raw)
        except ValidationError:
            # The link was checked in the first step; an altered hidden field starts over.
            raise ValidationError(_("Ссылка изменилась: начните жалобу заново.")) from None

    def product_link(self) -> ProductLink | None:
        link = self.cleaned_data.get("link")
        if link is not None:
            return link
        item_id = self.cleaned_data.get("item")
        if item_id:
            return ProductLink(item_id=item_id, url=f"https://aliexpress.ru/item/{item_id}.html")
        return None


class AnswerForm(forms.Form):
    text = WrittenField(label=_("Ваш ответ"), rows=5)
    evidence = EvidenceField(label=_("Файлы"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].validators.append(MinLengthValidator(settings.REPORT_DESCRIPTION_MIN_LENGTH))
        self.fields["text"].help_text = _(
            "Не меньше %(count)d символов. Спокойно изложите, как было на самом деле, и приложите доказательства."
        ) % {"count": settings.REPORT_DESCRIPTION_MIN_LENGTH}


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Итог"), choices=Report.Outcome.choices, widget=forms.RadioSelect)
    reason = WrittenField(label=_("Объяснение для обеих сторон"), rows=4)
    sanction = forms.ChoiceField(label=_("Меры"), choices=Report.Sanction.choices, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].validators.append(MinLengthValidator(settings.REPORT_DECISION_MIN_LENGTH))
