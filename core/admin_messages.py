"""Django admin messages this project translates itself, picked up by `make messages`.

Django's own Russian catalogue writes these with straight quotes ("%(model)s"), and admin puts
them inside title="…" attributes without escaping, which breaks the HTML of every page with a
related-object widget (the Nu HTML checker's errors). Our catalogue comes first (LOCALE_PATHS),
so the Russian texts here use «» instead.

Its Russian for "was added/changed/deleted successfully" gives every model's name the masculine
past tense ("статья … был успешно добавлен"): ours names the record ("запись", feminine, whatever
the model) and the model in brackets, which reads right for every model.
"""

from django.utils.translation import gettext_noop

RELATED_WIDGET_TITLES = [
    gettext_noop("Change selected %(model)s"),
    gettext_noop("Add another %(model)s"),
    gettext_noop("Delete selected %(model)s"),
    gettext_noop("View selected %(model)s"),
]

SAVE_MESSAGES = [
    gettext_noop("The {name} “{obj}” was added successfully."),
    gettext_noop("You may edit it again below."),
    gettext_noop("The {name} “{obj}” was added successfully. You may add another {name} below."),
    gettext_noop("The {name} “{obj}” was changed successfully."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may add another {name} below."),
    gettext_noop("The %(name)s “%(obj)s” was deleted successfully."),
    gettext_noop("Successfully deleted %(count)d %(items)s."),
    gettext_noop("Cannot delete %(name)s"),
]
