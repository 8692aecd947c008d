"""The admin claim page's blank forms draw their inputs through core.admin_forms.KeptRenderer:
the HTML must be what Django's own renderer draws, the first time and when kept."""

from django import forms
from django.utils import translation

from core.admin_forms import KeptRenderer


class Sample(forms.Form):
    choice = forms.ChoiceField(choices=[("a", "Первый"), ("b", "Второй")], widget=forms.RadioSelect)
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], widget=forms.CheckboxSelectMultiple)
    amount = forms.DecimalField(localize=True, required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


def _html(form: forms.Form) -> str:
    parts = [choice.tag() for choice in form["choice"]] + [choice.tag() for choice in form["many"]]
    return "".join([*parts, str(form["amount"]), str(form["text"]), str(form["text"].errors)])


def test_kept_html_is_djangos_html():
    renderer = KeptRenderer(size=4)
    with translation.override("ru"):
        expected = _html(Sample(initial={"many": ["y"], "amount": "1.5"}))
        first = _html(Sample(initial={"many": ["y"], "amount": "1.5"}, renderer=renderer))
        again = _html(Sample(initial={"many": ["y"], "amount": "1.5"}, renderer=renderer))
        other = _html(Sample(initial={"many": ["x"]}, renderer=renderer))
    assert first == again == expected
    assert other == _html(Sample(initial={"many": ["x"]}))
    assert len(renderer._kept) <= 4
