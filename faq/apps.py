from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FaqConfig(AppConfig):
    name = "faq"
    verbose_name = "Справка"

    def ready(self) -> None:
        from core.files import files_follow_rows

        from .models import ArticleImage

        files_follow_rows(ArticleImage)
        # A deploy (which always migrates) may change templates and the shipped articles: pages
        # cached by the previous release must not outlive it.
        post_migrate.connect(_new_page_versions_after_migrate, sender=self, dispatch_uid="faq_pages_after_migrate")


def _new_page_versions_after_migrate(**kwargs: object) -> None:
    from .pagecache import faq_pages_invalidate

    faq_pages_invalidate()
