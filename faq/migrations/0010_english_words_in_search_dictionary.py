from django.db import migrations


def add_english_words(apps, schema_editor):
    """The dictionary held the Russian texts and the English titles only: the English keywords and
    bodies are added, so wrong-layout typing is recognised in English searches too."""
    from faq.text import dictionary_words

    article_model = apps.get_model("faq", "Article")
    search_word_model = apps.get_model("faq", "SearchWord")
    words: set[str] = set()
    for keywords, body in article_model.objects.values_list("keywords_en", "body_text_en").iterator():
        words |= dictionary_words(keywords) | dictionary_words(body)
    search_word_model.objects.bulk_create(
        [search_word_model(word=word) for word in sorted(words)], ignore_conflicts=True, batch_size=1000
    )


class Migration(migrations.Migration):
    dependencies = [("faq", "0009_searchword_trigram_gist")]

    operations = [migrations.RunPython(add_english_words, migrations.RunPython.noop)]
