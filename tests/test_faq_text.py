"""The help centre's text rules live once, in faq/text.py: what a word is, ё folded into е, and
the language of the page. Search, the search log, the dictionary, the articles and the page
cache read them from there, so "пришёл" and "пришел" are one word everywhere."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from faq import text
from faq.gaps import normalise_query
from faq.search import query_words

FAQ = Path(text.__file__).resolve().parent


def test_folding_keeps_the_length_so_positions_carry_over():
    assert text.fold("Товар НЕ пришёл, ЁЖИК") == "товар не пришел, ежик"
    assert len(text.fold("ёЁ")) == 2


def test_a_query_a_log_entry_and_the_dictionary_cut_words_the_same_way():
    assert text.tokens("Товар НЕ пришёл!! iPhone 15") == ["товар", "не", "пришел", "iphone", "15"]
    assert normalise_query("Товар НЕ пришёл!!") == normalise_query("товар не пришел") == "товар не пришел"
    assert query_words("Что делать, если товар не пришёл?") == ["товар", "не", "пришел"]
    # The dictionary keeps words of 3 to 40 letters, without digits.
    assert text.dictionary_words("Трек RA123 не обновляется уже ёлки-палки") == {
        "трек",
        "обновляется",
        "уже",
        "елки",
        "палки",
    }


@pytest.mark.parametrize(("active", "expected"), [("en", "en"), ("ru", "ru"), ("en-gb", "en"), (None, "ru")])
def test_the_current_language_is_two_letters_and_russian_by_default(active, expected):
    with translation.override(active):
        assert text.current_language() == expected


# What faq/text.py says once, written again anywhere else in the app.
RESTATED = {
    r'replace\("ё", "е"\)': "ё folding: use text.fold()",
    r"get_language\(\)": "the page's language: use text.current_language()",
    r're\.compile\(r"\[\^\\W': "a word pattern: use text.TOKEN or text.DICTIONARY_WORD",
}


def test_no_faq_module_writes_the_text_rules_again():
    found = [
        f"{path.relative_to(FAQ.parent)}: {why}"
        for path in sorted(FAQ.rglob("*.py"))
        if path.name != "text.py" and "migrations" not in path.parts
        for pattern, why in RESTATED.items()
        if re.search(pattern, path.read_text())
    ]
    assert found == []
