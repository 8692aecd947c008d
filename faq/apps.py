from django.apps import AppConfig


class FaqConfig(AppConfig):
    name = "faq"
    verbose_name = "Справка"

    def ready(self) -> None:
        from core.files import files_follow_rows

        from .models import ArticleImage

        files_follow_rows(ArticleImage)
