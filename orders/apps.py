from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Заказы"

    def ready(self) -> None:
        from core.files import files_follow_rows

        from .models import OrderItem

        files_follow_rows(OrderItem)
