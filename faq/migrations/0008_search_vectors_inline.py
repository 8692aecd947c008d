"""Keep the search vectors in the article's row (storage MAIN) instead of the TOAST table.

A vector of a 180-word article is about 2 KB, just over the size at which PostgreSQL moves a
value out of the row, so every search that tests or ranks a candidate read it back from the
TOAST table (its index and two chunks): ~7 µs of the ~9 µs per article of the search's walk in
id order. With MAIN the vector stays in the row (texts and titles move out instead, which only
the pages of the ten results read). Rows written before are rewritten so their vectors move in
(the columns are generated, so the UPDATE computes them again). On SQLite nothing happens.
"""

from django.db import migrations

from core.migration_sql import postgres_only

FORWARD = [
    "ALTER TABLE faq_article ALTER COLUMN search_ru SET STORAGE MAIN",
    "ALTER TABLE faq_article ALTER COLUMN search_en SET STORAGE MAIN",
    "UPDATE faq_article SET title_ru = title_ru",
]
BACKWARD = [
    "ALTER TABLE faq_article ALTER COLUMN search_ru SET STORAGE EXTENDED",
    "ALTER TABLE faq_article ALTER COLUMN search_en SET STORAGE EXTENDED",
    "UPDATE faq_article SET title_ru = title_ru",
]


class Migration(migrations.Migration):
    dependencies = [("faq", "0007_db_defaults")]

    operations = [postgres_only(FORWARD, BACKWARD)]
