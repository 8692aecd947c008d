"""Django admin messages this project translates itself, picked up by `make messages`.

Django's own Russian catalogue writes these with straight quotes ("%(model)s"), and admin puts
them inside title="…" attributes without escaping, which breaks the HTML of every page with a
related-object widget (the Nu HTML checker's errors). Our catalogue comes first (LOCALE_PATHS),
so the Russian texts here use «» instead.
"""

from django.utils.translation import gettext_noop

RELATED_WIDGET_TITLES = [
    gettext_noop("Change selected %(model)s"),
    gettext_noop("Add another %(model)s"),
    gettext_noop("Delete selected %(model)s"),
    gettext_noop("View selected %(model)s"),
]
