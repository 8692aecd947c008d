"""A page's HTML as a reader gets it, for tests that compare kept pages with pages drawn afresh."""

import re

from django.urls import reverse
from django.utils import translation

# The CSRF token differs on every answer, whatever is kept.
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def page_html(client, view: str, *args, language: str = "", query: str = "") -> str:
    """The page `view` (with `args`), its address built without a language prefix and `language`
    ("/en") put before it, answered 200, its CSRF tokens blanked."""
    with translation.override("ru"):
        address = reverse(view, args=args)
    response = client.get(language + address + query)
    assert response.status_code == 200
    return CSRF_TOKEN.sub("", response.content.decode())
