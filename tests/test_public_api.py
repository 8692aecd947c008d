"""The application uses Django's (and its libraries') public API only: no module outside tests and
migrations reads or writes another object's `_`-prefixed attributes, overrides or calls a private
method it inherits, imports a private name, or speeds Django up behind its back (a patched query
compiler, statements prepared by hand, a session's commit switched off). Such code breaks on an
upgrade and behind PgBouncer in transaction mode.

`_meta`, `_default_manager` and `_base_manager` are documented API (Model._meta API, Managers) and
allowed; a class's own `_`-prefixed helpers are its own business.
"""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "core", "disputes", "faq", "helpcenter", "orders", "reports")
DOCUMENTED = {"_meta", "_default_manager", "_base_manager"}

# Text that has no business in application code, whatever object it is on.
FORBIDDEN_TEXT = {
    r"\bPREPARE\s+\w+\s+AS\b": "a statement prepared by hand (breaks behind PgBouncer in transaction mode)",
    r"\b(EXECUTE|DEALLOCATE)\s+\w+": "a statement prepared by hand (breaks behind PgBouncer in transaction mode)",
    r"synchronous_commit": "a session's commits switched off the disk",
    r"\bget_compiler\b|\bas_sql\b": "the query compiler, which is Django's own",
    r"_get_FIELD_display": "Django's private model method",
}


def application_files() -> list[Path]:
    files = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            files.append(path)
    return files


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name != "_"


def is_ours(owner: type) -> bool:
    return owner.__module__.split(".")[0] in APPS


FILES = application_files()


def test_the_scan_covers_the_application():
    names = {path.relative_to(ROOT).as_posix() for path in FILES}
    assert {"core/sweeps.py", "core/models.py", "accounts/emails.py", "disputes/admin/claim_page.py"} <= names
    assert not any("/migrations/" in name or name.startswith("tests/") for name in names)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_private_attribute_of_another_object(path):
    """`row._state`, `user._perm_cache`, `queryset.query._...`: only `self`/`cls` may use a
    `_`-prefixed attribute (checked against the class below), and getattr() and friends may not
    name one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Attribute)
            and is_private(node.attr)
            and node.attr not in DOCUMENTED
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"{node.lineno}: .{node.attr}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and is_private(node.args[1].value)
        ):
            found.append(f"{node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            top = node.module.split(".")[0]
            if top not in APPS and (
                any(is_private(part) for part in node.module.split("."))
                or any(is_private(alias.name) for alias in node.names)
            ):
                found.append(f"{node.lineno}: from {node.module} import {', '.join(a.name for a in node.names)}")
    assert not found, f"{path.relative_to(ROOT)} uses private names:\n" + "\n".join(found)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_hand_made_speed_up_behind_djangos_back(path):
    text = path.read_text()
    found = [
        f"{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)!r} ({why})"
        for pattern, why in FORBIDDEN_TEXT.items()
        for match in re.finditer(pattern, text)
    ]
    assert not found, f"{path.relative_to(ROOT)}:\n" + "\n".join(found)


def private_names_used_by_self(cls: type) -> set[str]:
    """The `_`-prefixed names a class's own source defines or reads through self/cls."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return set()
    lines = source.splitlines()
    indent = len(lines[0]) - len(lines[0].lstrip())
    body = ast.parse("\n".join(line[indent:] for line in lines)).body[0]
    assert isinstance(body, ast.ClassDef)
    names = set()
    for statement in body.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(statement.name)
        elif isinstance(statement, ast.Assign):
            names.update(target.id for target in statement.targets if isinstance(target, ast.Name))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names.add(statement.target.id)
    for node in ast.walk(body):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            names.add(node.attr)
    return {name for name in names if is_private(name)}


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_class_overrides_or_calls_a_private_name_it_inherits(path):
    """A class's `_x` is its own only if no Django (or other library) class above it has one: a
    ChoiceLabels._get_FIELD_display or a cache backend's self._get_connection_pool() is the
    library's internals."""
    module = importlib.import_module(module_name(path))
    found = []
    for cls in vars(module).values():
        if not inspect.isclass(cls) or cls.__module__ != module.__name__:
            continue
        for name in sorted(private_names_used_by_self(cls) - DOCUMENTED):
            owners = [base for base in cls.__mro__[1:] if not is_ours(base) and name in vars(base)]
            if owners:
                found.append(f"{cls.__name__}.{name} belongs to {owners[0].__module__}.{owners[0].__qualname__}")
    assert not found, f"{path.relative_to(ROOT)}:\n" + "\n".join(found)
