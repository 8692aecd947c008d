"""The forms of the claim page: the decision (first and appeal), an evidence request, and a
corrected reason. Each is drawn by templates/admin/disputes/claim/page.html and sent to a view in
claim_page.py or decision.py, which calls the service."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.forms import MoneyField
from core.money import format_money

from .. import policy, rules
from ..models import Dispute, Winner
from ..problems import ALL_PROBLEMS, PROBLEMS_BY_KIND


class DecisionForm(forms.Form):
    winner = forms.ChoiceField(label=_("Решение"), choices=Winner.choices, widget=forms.RadioSelect)
    amount = MoneyField(label=_("Сумма возврата"), required=False, min_value=Decimal("0"))
    return_required = forms.BooleanField(label=_("Покупатель возвращает товар продавцу"), required=False)
    reason = forms.CharField(
        label=_("Обоснование (его прочтут обе стороны)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        min_length=settings.CLAIM_REASON_MIN_LENGTH,
        error_messages={"min_length": _("Обоснование — не короче %(limit_value)d символов: его прочтут обе стороны.")},
    )
    deviation_reason = forms.CharField(
        label=_("Если решаете не так, как рекомендуют правила, — почему (стороны этого не увидят)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(
        self, *args: Any, dispute: Dispute, recommendation: policy.Recommendation | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.dispute = dispute
        self.recommendation = recommendation
        if not self.asks_deviation(recommendation):
            del self.fields["deviation_reason"]
        paid = dispute.paid_amount
        self.fields["amount"].help_text = _(
            "В валюте заказа, не больше %(paid)s (оплачено за товар). Для решения в пользу покупателя пустое поле — "
            "вся сумма."
        ) % {"paid": format_money(paid, dispute.currency)}
        if dispute.kind == Dispute.Kind.NOT_RECEIVED:
            # A "not received" dispute never sends an item back.
            del self.fields["return_required"]

    @staticmethod
    def asks_deviation(recommendation: policy.Recommendation | None) -> bool:
        """Whether the form asks why the decision differs from the rules' recommendation: only
        when there is one."""
        return recommendation is not None and recommendation.outcome is not None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (winner := cleaned.get("winner")):
            return cleaned
        check = rules.decision_check(
            self.dispute,
            winner=winner,
            amount=cleaned.get("amount"),
            return_required=cleaned.get("return_required", False),
            reason=cleaned.get("reason", ""),
        )
        cleaned["amount"] = check.amount
        if self.recommendation is not None and (
            deviation := policy.deviation_refusal(
                self.recommendation,
                winner=winner,
                return_required=cleaned.get("return_required", False),
                deviation_reason=cleaned.get("deviation_reason", ""),
            )
        ):
            check.problems.append(("deviation_reason", deviation))
        for field, message in check.problems:
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned


class EvidenceRequestForm(forms.Form):
    of_buyer = forms.BooleanField(label=_("У покупателя"), required=False)
    of_seller = forms.BooleanField(label=_("У продавца"), required=False)
    text = forms.CharField(
        label=_("Что нужно прислать (увидят стороны)"), widget=forms.Textarea(attrs={"rows": 3}), min_length=20
    )
    days_given = forms.IntegerField(
        label=_("Срок ответа, дней"),
        min_value=1,
        max_value=settings.CLAIM_EVIDENCE_MAX_DAYS,
        initial=settings.CLAIM_EVIDENCE_DAYS,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("of_buyer") or cleaned.get("of_seller")):
            self.add_error("of_buyer", _("Выберите, у кого запросить доказательства."))
        return cleaned


class ReclassifyForm(forms.Form):
    problems = forms.MultipleChoiceField(label=_("Причина спора"), widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(
        label=_("Почему причина уточнена (увидят стороны)"), widget=forms.Textarea(attrs={"rows": 2}), min_length=10
    )

    def __init__(self, *args: Any, dispute: Dispute, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"problems": list(dispute.problems)})
        super().__init__(*args, **kwargs)
        field = self.fields["problems"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (code, ALL_PROBLEMS[code].label) for code in ALL_PROBLEMS if code in PROBLEMS_BY_KIND[dispute.kind]
        ]
