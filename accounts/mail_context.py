"""A mail's template context as JSON, so the outbox row can be rendered later by the task that sends it.

The caller's transaction stores what the mail is about; rendering (templates, translations, the
rows a template walks) happens in the worker. So a value must survive the trip as itself:

- a saved model instance becomes a reference, `{"__model__": "disputes.Dispute", "pk": 5}`, and is
  read again when the mail is rendered (the mail shows the row as it is then);
- Decimal, datetime and date keep their type; tuples come back as lists;
- a lazy message (gettext_lazy, format_lazy, days_lazy, money_lazy) keeps the function and
  arguments it was made of, so it is translated into the recipient's language at send time.

Anything else (an unsaved instance, a set, a form, an arbitrary object) is refused with
MailContextError when the mail is queued, naming the key, instead of failing later in a worker.
"""

import functools
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.functional import Promise, lazy
from django.utils.module_loading import import_string

MODEL, DECIMAL, DATETIME, DATE, LAZY = "__model__", "__decimal__", "__datetime__", "__date__", "__lazy__"
JSONValue = Any


class MailContextError(TypeError):
    """A context value that cannot be stored with the mail."""


def encode(context: dict[str, Any]) -> dict[str, JSONValue]:
    encoded = _encode(context, "context")
    assert isinstance(encoded, dict)
    return encoded


def _encode(value: Any, where: str) -> JSONValue:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {DECIMAL: str(value)}
    if isinstance(value, datetime):
        return {DATETIME: value.isoformat()}
    if isinstance(value, date):
        return {DATE: value.isoformat()}
    if isinstance(value, models.Model):
        if value.pk is None or not isinstance(value.pk, int | str):
            raise MailContextError(f"{where}: an unsaved {type(value).__name__} cannot go into a mail's context")
        return {MODEL: value._meta.label, "pk": value.pk}
    if isinstance(value, Promise):
        return _encode_lazy(value, where)
    if isinstance(value, list | tuple):
        return [_encode(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("__"):
                raise MailContextError(f"{where}: key {key!r} (keys are strings, not starting with '__')")
            encoded[key] = _encode(item, f"{where}[{key!r}]")
        return encoded
    raise MailContextError(f"{where}: a {type(value).__name__} cannot go into a mail's context")


def _encode_lazy(value: Promise, where: str) -> JSONValue:
    # lazy()'s proxies pickle as (unpickle, (func, args, kwargs, *result classes)): the same parts
    # make the message again in the worker, in whatever language is active there.
    _unpickle, (func, args, kwargs, *result_classes) = value.__reduce__()  # type: ignore[misc]
    path = f"{func.__module__}.{func.__qualname__}"
    if result_classes != [str] or _importable(path) is not func:
        raise MailContextError(f"{where}: the lazy text made by {path} cannot go into a mail's context")
    return {
        LAZY: path,
        "args": [_encode(arg, f"{where}.args[{index}]") for index, arg in enumerate(args)],
        "kwargs": {key: _encode(arg, f"{where}.kwargs[{key!r}]") for key, arg in kwargs.items()},
    }


def _importable(path: str) -> object:
    try:
        return import_string(path)
    except ImportError:
        return None


def decode(context: dict[str, JSONValue]) -> dict[str, Any]:
    """The context back, with every referenced row read (one query per model)."""
    wanted: dict[str, set[Any]] = defaultdict(set)
    _references(context, wanted)
    rows: dict[str, dict[Any, models.Model]] = {}
    for label, pks in wanted.items():
        model = apps.get_model(label)
        rows[label] = model._base_manager.in_bulk(pks)
    decoded = _decode(context, rows)
    assert isinstance(decoded, dict)
    return decoded


def _references(value: JSONValue, wanted: dict[str, set[Any]]) -> None:
    if isinstance(value, list):
        for item in value:
            _references(item, wanted)
    elif isinstance(value, dict):
        if MODEL in value:
            wanted[value[MODEL]].add(value["pk"])
        else:
            for item in value.values():
                _references(item, wanted)


def _decode(value: JSONValue, rows: dict[str, dict[Any, models.Model]]) -> Any:
    if isinstance(value, list):
        return [_decode(item, rows) for item in value]
    if not isinstance(value, dict):
        return value
    if MODEL in value:
        try:
            return rows[value[MODEL]][value["pk"]]
        except KeyError:
            raise LookupError(f"{value[MODEL]} {value['pk']} no longer exists") from None
    if DECIMAL in value:
        return Decimal(value[DECIMAL])
    if DATETIME in value:
        return datetime.fromisoformat(value[DATETIME])
    if DATE in value:
        return date.fromisoformat(value[DATE])
    if LAZY in value:
        make = _lazy_maker(value[LAZY])
        return make(*_decode(value["args"], rows), **_decode(value["kwargs"], rows))
    return {key: _decode(item, rows) for key, item in value.items()}


@functools.cache
def _lazy_maker(path: str) -> Callable[..., Promise]:
    return lazy(import_string(path), str)
