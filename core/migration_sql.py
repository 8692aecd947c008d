"""SQL that only PostgreSQL runs, for migrations: on SQLite (the embedded default) the search
columns and indexes it builds do not exist, and the Python fallback needs nothing."""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import migrations


def _run(statements: Sequence[str]) -> Callable[[Any, Any], None]:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


def postgres_only(forward: Sequence[str], backward: Sequence[str]) -> migrations.RunPython:
    """A migration operation running `forward` (and `backward` when unapplied) on PostgreSQL."""
    return migrations.RunPython(_run(forward), _run(backward))
