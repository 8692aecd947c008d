"""A radio button or checkbox of a choice field, written out in Python.

`{{ choice.tag }}` renders Django's widget templates (input_option.html, input.html, attrs.html)
through the form renderer for every option; `{% choice_input choice %}` gives the same markup,
byte for byte, without them.
"""

from django import template
from django.forms.boundfield import BoundWidget
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def choice_input(choice: BoundWidget) -> SafeString:
    """The option's <input> as django/forms/widgets/input.html draws it: type, name, value, then
    its attributes in their order, a True one by its name alone, a False one left out."""
    widget = choice.data
    parts: list[str] = [format_html('<input type="{}" name="{}"', widget["type"], widget["name"])]
    if widget["value"] is not None:
        parts.append(format_html(' value="{}"', widget["value"]))
    for name, value in widget["attrs"].items():
        if value is True:
            parts.append(format_html(" {}", name))
        elif value is not False:
            parts.append(format_html(' {}="{}"', name, value))
    parts.append(">")
    # Every part went through format_html, which escapes what it is given.
    return mark_safe("".join(parts))
