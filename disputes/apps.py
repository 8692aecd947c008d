from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Споры и претензии"

    def ready(self) -> None:
        from orders.presenters import register_dispute_line

        from . import checks, payments, presenters  # noqa: F401 - register the system check and the refund handler

        register_dispute_line(presenters.money_line)
