from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Общее"

    def ready(self) -> None:
        from django.db.models import fields
        from django.utils.translation import gettext_lazy

        from . import files, webhooks  # noqa: F401 - webhooks registers its retry sweep

        # Django 6.1's empty choice of every select ("- Select an option -", the first line of
        # admin's actions menu too) has no Russian in Django's catalogue yet; Django lets an app's
        # ready() set it (django.db.models.fields.BLANK_CHOICE_LABEL).
        fields.BLANK_CHOICE_LABEL = gettext_lazy("— не выбрано —")

        # Each app registers its deadline sweeps and its part of the demo data in modules of
        # these names; core itself imports no app.
        autodiscover_modules("sweeps", "demo")
        for model in files.upload_models():
            files.files_follow_rows(model)
