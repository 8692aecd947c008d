"""Choice labels come from a table built once per field (core.models.ChoiceLabels) and still
follow the reader's language."""

from django.utils import translation

from disputes.models import Dispute, Message
from orders.models import Order


def test_choice_label_is_in_the_language_of_the_request():
    message = Message(kind=Message.Kind.MESSAGE)
    with translation.override("ru"):
        assert message.get_kind_display() == "сообщение"
    with translation.override("en"):
        assert message.get_kind_display() == "message"


def test_each_field_shows_its_own_labels():
    dispute = Dispute(status=Dispute.Status.NEGOTIATING, kind=Dispute.Kind.NOT_AS_DESCRIBED)
    with translation.override("ru"):
        assert dispute.get_status_display() == str(Dispute.Status.NEGOTIATING.label)
        assert dispute.get_kind_display() == str(Dispute.Kind.NOT_AS_DESCRIBED.label)
        assert Order(status=Order.Status.DELIVERED).get_status_display() == str(Order.Status.DELIVERED.label)


def test_value_without_a_label_is_shown_as_stored():
    assert Message(kind="retired-kind").get_kind_display() == "retired-kind"
