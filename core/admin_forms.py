"""A form renderer that keeps what it drew: for the blank forms of admin pages that draw the same
inputs request after request.

Django renders every input, radio button and (empty) error list of a form through a template
of its own (radio_option.html includes input.html, which includes attrs.html, ...): on the
admin claim page its three blank forms (about twenty inputs) took ~3.5 ms of each request. A
widget's HTML is a function of its template and the context it is given (name, value, attributes,
choice), so the same context in the same language gets the same HTML back from here. Give it
only to unbound forms: a bound form's context holds what the user typed and its errors.
"""

import threading
from collections import OrderedDict
from typing import Any

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.hashable import make_hashable
from django.utils.translation import get_language


class KeptRenderer(BaseRenderer):
    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._kept: OrderedDict[Any, str] = OrderedDict()
        self._lock = threading.Lock()

    def get_template(self, template_name: str) -> Any:
        return get_default_renderer().get_template(template_name)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        default = get_default_renderer()
        if request is not None:
            return default.render(template_name, context, request)
        try:
            key = (template_name, get_language(), make_hashable(context))
            hash(key)
        except TypeError:
            return default.render(template_name, context)
        with self._lock:
            html = self._kept.get(key)
        if html is None:
            html = default.render(template_name, context)
            with self._lock:
                self._kept[key] = html
                if len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return html


# One per process, for the admin pages' blank forms.
kept_renderer = KeptRenderer()
