from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"


def _entries(po_path: Path) -> list[str]:
    return po_path.read_text(encoding="utf-8").split("\n\n")[1:]


def test_every_string_has_an_english_translation():
    untranslated = [
        block
        for block in _entries(LOCALE / "en" / "LC_MESSAGES" / "django.po")
        if "#, fuzzy" in block or block.rstrip().endswith('msgstr ""') or 'msgstr[0] ""' in block
    ]
    assert untranslated == []


def test_russian_plurals_have_all_forms():
    for block in _entries(LOCALE / "ru" / "LC_MESSAGES" / "django.po"):
        if "msgid_plural" in block:
            assert 'msgstr[2] ""' not in block, block


def test_compiled_catalogues_ship_with_the_repository():
    for language in ("ru", "en"):
        mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
        po = LOCALE / language / "LC_MESSAGES" / "django.po"
        assert mo.exists() and mo.stat().st_size > 0
        assert po.read_text(encoding="utf-8").count("msgid ") > 100
