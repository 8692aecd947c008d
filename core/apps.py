from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Общее"

    def ready(self) -> None:
        from . import files, webhooks  # noqa: F401 - webhooks registers its retry sweep

        # Each app registers its deadline sweeps and its part of the demo data in modules of
        # these names; core itself imports no app.
        autodiscover_modules("sweeps", "demo")
        for model in files.upload_models():
            files.files_follow_rows(model)
