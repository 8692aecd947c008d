"""The wizard's and the dispute page's radio buttons ({% choice_input %}) are the markup Django's
widget templates draw for them ({{ choice.tag }}), in every state a form can be in."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from disputes.forms import ItemForm, OfferForm, ReceivedForm, RefundForm
from orders.models import OrderItem

DRAWN = Template("{% load choices %}{% for choice in field %}{% choice_input choice %}|{% endfor %}")
DJANGO = Template("{% for choice in field %}{{ choice.tag }}|{% endfor %}")


def both(field) -> tuple[str, str]:
    context = Context({"field": field})
    return DRAWN.render(context), DJANGO.render(context)


def items() -> list[OrderItem]:
    return [OrderItem(pk=7, title='Чехол "<b>" & плёнка'), OrderItem(pk=12, title="Кабель")]


@pytest.mark.parametrize(
    "form",
    [
        ReceivedForm(),
        ReceivedForm(initial={"received": "yes"}),
        ReceivedForm(data={}),  # refused: required, so aria-invalid
        ReceivedForm(data={"received": "no"}),
        ItemForm(items=items()),
        ItemForm(data={"item": "12"}, items=items()),
        ItemForm(data={"item": "99"}, items=items()),
        RefundForm(max_amount=Decimal("10"), currency="USD"),
        RefundForm(data={"refund_type": "partial", "return_item": "yes"}, max_amount=Decimal("10"), currency="USD"),
        OfferForm(max_amount=Decimal("10"), currency="USD"),
    ],
    ids=lambda form: type(form).__name__,
)
def test_choice_input_draws_what_django_draws(form):
    for name, field in form.fields.items():
        if "Radio" in type(field.widget).__name__:
            drawn, django = both(form[name])
            assert drawn == django
            assert 'type="radio"' in drawn
