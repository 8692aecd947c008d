"""What get_<field>_display() shows: the label of the stored value in the reader's language, or
the value as stored when it has no label; the same on every model of the project."""

import pytest
from django.apps import apps
from django.utils import translation

from disputes.models import Attachment, Dispute, Message
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


def test_a_stored_file_shows_the_label_of_its_kind():
    with translation.override("en"):
        assert Attachment(kind=Attachment.Kind.VIDEO).get_kind_display() == "video"


def test_value_without_a_label_is_shown_as_stored():
    assert Message(kind="retired-kind").get_kind_display() == "retired-kind"
    assert Order(status="").get_status_display() == ""


PROJECT_APPS = ("accounts", "core", "orders", "disputes", "faq", "reports")
CHOICE_FIELDS = [
    (model, field)
    for model in apps.get_models()
    if model._meta.app_label in PROJECT_APPS
    for field in model._meta.concrete_fields
    if field.choices and field.name != "time_zone"  # 600 zones: the loop below would be slow
]


@pytest.mark.parametrize("model, field", CHOICE_FIELDS, ids=lambda item: getattr(item, "name", None) or item.__name__)
def test_every_choice_field_shows_the_label_of_its_value_in_both_languages(model, field):
    for language in ("ru", "en"):
        with translation.override(language):
            for value, label in field.flatchoices:
                shown = getattr(model(**{field.attname: value}), f"get_{field.name}_display")()
                assert shown == str(label), (model.__name__, field.name, value, language)
