"""Statements written by hand once per process, for the few pages whose cost was the ORM's Python
time on every request (the dispute page, "Мои споры", the order page: docs/performance.md).

Tables and columns are named from the models' `_meta`, and each column is read back as the ORM's
compiler reads it: through the backend's converters first (SQLite's text dates made aware), then
the field's. Models are made with `Model.from_db()`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Field, Model

# (column index, its converters, the column expression they are called with)
Converters = tuple[tuple[int, tuple[Any, ...], Any], ...]


def table(model: type[Model]) -> str:
    return model._meta.db_table


def column(model: type[Model], name: str) -> str:
    found = model._meta.get_field(name)
    assert isinstance(found, Field) and found.column
    return found.column


@dataclass
class Selection:
    """A statement's SELECT list as it is written: each column's SQL, the converters of those read
    from a model's field, and the models read whole (for `models_from()`)."""

    columns: list[str] = field(default_factory=list)
    converters: list[tuple[int, tuple[Any, ...], Any]] = field(default_factory=list)
    models: list[tuple[type[Model], tuple[str, ...]]] = field(default_factory=list)

    def field(self, sql: str, model: type[Model], name: str) -> None:
        """One column: `sql` reads `model`'s field `name` (directly or in a subquery)."""
        found = model._meta.get_field(name)
        assert isinstance(found, Field)
        self._converted(found.get_col("x"))
        self.columns.append(sql)

    def model(self, model: type[Model], alias: str) -> None:
        """Every concrete column of `model`, joined as `alias`, to be made into an instance."""
        fields = model._meta.concrete_fields
        for concrete in fields:
            self._converted(concrete.get_col(alias))
            self.columns.append(f"{alias}.{concrete.column}")
        self.models.append((model, tuple(concrete.attname for concrete in fields)))

    def plain(self, sql: str) -> None:
        """A column read as the database gives it (counts, versions as text)."""
        self.columns.append(sql)

    def _converted(self, expression: Any) -> None:
        found = (*connection.ops.get_db_converters(expression), *expression.get_db_converters(connection))
        if found:
            self.converters.append((len(self.columns), found, expression))

    def frozen_converters(self) -> Converters:
        return tuple(self.converters)

    def frozen_models(self) -> tuple[tuple[type[Model], tuple[str, ...]], ...]:
        return tuple(self.models)


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """The statement's one row, or None when nothing matched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def converted(row: Sequence[Any], converters: Converters) -> list[Any]:
    """A fetched row with each column through its converters."""
    values = list(row)
    for index, found, expression in converters:
        for converter in found:
            values[index] = converter(values[index], expression, connection)
    return values


def models_from(values: list[Any], models: Sequence[tuple[type[Model], tuple[str, ...]]]) -> tuple[list[Any], int]:
    """The instances the row's leading columns make, in order (None for a LEFT JOIN that found no
    row: its key is NULL), and the index of the first column after them."""
    made: list[Any] = []
    start = 0
    for model, names in models:
        columns = values[start : start + len(names)]
        start += len(names)
        made.append(model.from_db(connection.alias, list(names), columns) if columns[0] is not None else None)
    return made, start
