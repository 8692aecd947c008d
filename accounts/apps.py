from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Пользователи и магазины"

    def ready(self) -> None:
        # The apps' parts of the account home page (accounts.home).
        autodiscover_modules("account_home")
        from .permission_cache import permission_tables_watch
        from .staff_versions import staff_tables_watch

        permission_tables_watch()
        staff_tables_watch()
