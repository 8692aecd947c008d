"""Rendered list rows (an order card, a dispute message) kept per web process, keyed on what they
show, so that a page drawn again (a reload, the next page and back, another worker's turn) renders
only the rows that changed.

A row's key is the page's kind, the reader's language and time zone, and whatever the caller says
the row's HTML depends on (its pk and `updated_at`, the protection state it shows, the store's
name...): a row whose content changes gets a new key, so nothing is ever invalidated, and a kept
row is never stale. The rows live in the `fragments` cache, Django's local-memory backend: a
lookup costs microseconds, where one Redis round trip costs a tenth of a millisecond or more
(docs/performance.md, "Cache client"), and a new release (new processes) starts with none, so a
template changed by that release never meets HTML rendered by the old one. Its MAX_ENTRIES bounds
the memory each process gives it; the least recently used rows go first.
"""

import hashlib
from collections.abc import Callable, Hashable, Sequence

from django.core.cache import caches
from django.db.models import Model
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

FRAGMENT_CACHE = "fragments"


def digest(parts: object) -> str:
    """A short key part naming everything in `parts`: repr() of ints, strings, dates and tuples is
    stable from one process to the next; hashed to keep the key short whatever the parts are (a
    store's name, a list of file ids, text with the ":" a {% cache %} tag joins its parts with)."""
    return hashlib.md5(repr(parts).encode(), usedforsecurity=False).hexdigest()


def _key(kind: str, parts: tuple[Hashable, ...]) -> str:
    return f"{kind}:{digest(parts)}"


def rendered_rows[Row](
    kind: str,
    rows: Sequence[Row],
    *,
    key: Callable[[Row], tuple[Hashable, ...]],
    render: Callable[[list[Row]], list[str]],
) -> list[SafeString]:
    """The HTML of each of `rows`, in order: those kept under `key(row)` (with the current
    language and time zone) from the cache, the others from `render(missing_rows)`, which returns
    one string per row it is given and is called at most once."""
    reader = (translation.get_language(), timezone.get_current_timezone_name())
    keys = [_key(kind, (*reader, *key(row))) for row in rows]
    cache = caches[FRAGMENT_CACHE]
    kept: dict[str, str] = cache.get_many(keys)
    missing = [(row_key, row) for row_key, row in zip(keys, rows, strict=True) if row_key not in kept]
    if missing:
        fresh = dict(zip((row_key for row_key, _ in missing), render([row for _, row in missing]), strict=True))
        cache.set_many(fresh)
        kept.update(fresh)
    # The kept strings are HTML rendered by the templates with autoescaping, as the page would.
    return [mark_safe(kept[row_key]) for row_key in keys]


def rows_version_sql(model: type[Model], where: str, *moments: str) -> str:
    """A SELECT of how many rows of `model` (aliased `r`) match `where`, their newest key and the
    latest of each of `moments` (the times the rows change at), as one text: the version of a list
    whose rows are only added, for the dispute page's blocks, the order page's history and the
    claim page's case."""
    parts = [
        "CAST(COUNT(*) AS TEXT)",
        f"CAST(COALESCE(MAX(r.{model._meta.pk.column}), 0) AS TEXT)",
        *(f"COALESCE(CAST(MAX(r.{name}) AS TEXT), '')" for name in moments),
    ]
    return f"SELECT {" || ':' || ".join(parts)} FROM {model._meta.db_table} r WHERE {where}"
