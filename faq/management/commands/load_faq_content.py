from django.core.management.base import BaseCommand
from django.db import transaction

from faq.content import load_bundled_content
from faq.models import Article, Category, SearchWord
from faq.pagecache import faq_pages_invalidate


class Command(BaseCommand):
    help = "Load the articles shipped in faq/content/. Keeps articles support has edited unless --overwrite."

    def add_arguments(self, parser):
        parser.add_argument("--overwrite", action="store_true", help="replace existing articles with the shipped text")

    def handle(self, *args, overwrite=False, **options):
        with transaction.atomic(durable=True):
            written = load_bundled_content(
                category_model=Category, article_model=Article, search_word_model=SearchWord, overwrite=overwrite
            )
            faq_pages_invalidate()
        self.stdout.write(self.style.SUCCESS(f"{written} articles written."))
