from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Споры и претензии"

    def ready(self) -> None:
        from . import checks, payments  # noqa: F401 - register the system check and the refund handler
