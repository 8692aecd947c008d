import re
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"


def _entries(po_path: Path) -> list[str]:
    return po_path.read_text(encoding="utf-8").split("\n\n")[1:]


# An empty translation: `msgstr ""` or `msgstr[n] ""` with no continuation line after it (a long
# translation is written as `msgstr ""` followed by its wrapped lines).
EMPTY = re.compile(r'^msgstr(\[\d\])? ""\n(?!")', re.MULTILINE)


def test_every_string_has_an_english_translation():
    untranslated = [
        block
        for block in _entries(LOCALE / "en" / "LC_MESSAGES" / "django.po")
        if "#, fuzzy" in block or EMPTY.search(block.rstrip() + "\n")
    ]
    assert untranslated == []


def test_russian_plurals_have_all_forms():
    for block in _entries(LOCALE / "ru" / "LC_MESSAGES" / "django.po"):
        if "msgid_plural" in block:
            assert not EMPTY.search(block.rstrip() + "\n"), block


def test_compiled_catalogues_ship_with_the_repository():
    for language in ("ru", "en"):
        mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
        po = LOCALE / language / "LC_MESSAGES" / "django.po"
        assert mo.exists() and mo.stat().st_size > 0
        assert po.read_text(encoding="utf-8").count("msgid ") > 100
