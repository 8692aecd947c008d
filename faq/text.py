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
# The article fields whose words go into the dictionary: English too, so that a word typed on the
# wrong layout is recognised in either language (see `other_layout`).
DICTIONARY_FIELDS = ("title_ru", "keywords_ru", "body_text_ru", "title_en", "keywords_en", "body_text_en")


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


# The same keys on the Latin (QWERTY) and the Russian (ЙЦУКЕН) layout: text typed with the wrong
# layout switched on ("ghjlkbnm" for "продлить", "куагтв" for "refund") is turned back key by key.
_LATIN_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>~"
_RUSSIAN_KEYS = "йцукенгшщзхъфывапролджэячсмитьбюёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ"
_TO_RUSSIAN = str.maketrans(_LATIN_KEYS, _RUSSIAN_KEYS)
_TO_LATIN = str.maketrans(_RUSSIAN_KEYS, _LATIN_KEYS)
_LATIN_LETTER = re.compile(r"[a-zA-Z]")
_RUSSIAN_LETTER = re.compile(r"[а-яА-ЯёЁ]")


def other_layout(chunk: str) -> str | None:
    """`chunk` (one word as typed, punctuation included: "," is "б" on the Russian layout) as the
    same keys give on the other layout, or None when it mixes both alphabets or has no letter."""
    latin, russian = bool(_LATIN_LETTER.search(chunk)), bool(_RUSSIAN_LETTER.search(chunk))
    if latin == russian:
        return None
    return chunk.translate(_TO_RUSSIAN if latin else _TO_LATIN)
