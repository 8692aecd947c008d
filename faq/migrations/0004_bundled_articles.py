from django.db import migrations


def load(apps, schema_editor):
    from faq.content import load_bundled_content

    load_bundled_content(
        category_model=apps.get_model("faq", "Category"),
        article_model=apps.get_model("faq", "Article"),
        search_word_model=apps.get_model("faq", "SearchWord"),
    )


class Migration(migrations.Migration):
    dependencies = [("faq", "0003_support_permissions")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
