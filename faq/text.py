"""The help centre's text rules, written once: what a word is, how "ё" folds into "е", and which
language the page being answered is in. Search, the search log, the search dictionary, the
articles and the page cache all read words and languages through these."""

import re

from django.conf import settings
from django.utils.translation import get_language

# A word as search reads a query or an article: letters and digits ("iphone", "15", "пришел").
TOKEN = re.compile(r"[^\W_]+")
# A word kept in the search dictionary for typo corrections: 3 to 40 letters, no digits.
DICTIONARY_WORD = re.compile(r"[^\W\d_]{3,40}")


def fold(text: str) -> str:
    """Lower case with "ё" as "е": "Пришёл" and "пришел" are one word. The result has the same
    length as `text`, so a position found in it is a position in `text`."""
    return text.lower().replace("ё", "е")


def tokens(text: str) -> list[str]:
    """The words of `text`, folded, in order."""
    return TOKEN.findall(fold(text))


def dictionary_words(text: str) -> set[str]:
    """The words of `text` the search dictionary keeps, folded."""
    return {fold(word) for word in DICTIONARY_WORD.findall(text or "")}


def current_language() -> str:
    """The two-letter code of the language this request is answered in (Russian by default)."""
    return (get_language() or settings.LANGUAGE_CODE)[:2]
