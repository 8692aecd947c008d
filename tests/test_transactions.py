"""Top-level services run in `transaction.atomic(durable=True)`: what a view, a custom admin page,
a task, a webhook or a command calls directly commits when it returns, and a call from inside
another transaction (a service calling it by mistake) fails at once instead of being rolled back
later with the caller. Services that other services, sweeps or admin's save hooks call stay plain
`atomic`; a sweep's per-row transaction is the durable one (docs/architecture.md, "Transactions").

Django lets a durable block run directly inside the transaction TestCase (and so pytest-django's
`db` fixture) wraps each test in, so tests call services as a view would; inside a test's own
`atomic` block a durable one still fails, as below."""

import ast
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from core import sweeps
from disputes import services as dispute_services
from disputes.models import Dispute
from reports.models import Report

from .disputes_helpers import open_dispute, seller_counter_offer

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "core", "disputes", "faq", "orders", "reports")
# Django's admin runs its change, add and delete views (and list editing) in a transaction of its
# own, so the services these hooks call cannot be durable.
# save_row and delete_row are faq admin's own hooks, called from save_model and delete_model.
ADMIN_HOOKS = {
    "save_model",
    "delete_model",
    "save_related",
    "delete_queryset",
    "save_formset",
    "save_row",
    "delete_row",
}


def _is_entry_point(path: Path) -> bool:
    """Modules whose functions run with no transaction open: views, admin pages, tasks, commands,
    the demo (an empty database filled step by step)."""
    relative = path.relative_to(ROOT)
    name = relative.name
    return (
        name in ("views.py", "tasks.py", "demo.py", "admin.py")
        or name.endswith("_views.py")
        or name.startswith("admin_")
        or "admin" in relative.parts[1:-1]
        or "commands" in relative.parts
    )


def _atomic_kind(decorator: ast.expr) -> str | None:
    """ "durable", "plain" or None for a decorator that is not transaction.atomic."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if not (isinstance(target, ast.Attribute) and target.attr == "atomic"):
        return None
    durable = isinstance(decorator, ast.Call) and any(
        keyword.arg == "durable" and isinstance(keyword.value, ast.Constant) and keyword.value.value
        for keyword in decorator.keywords
    )
    return "durable" if durable else "plain"


def _application_files() -> list[Path]:
    return [path for app in APPS for path in sorted((ROOT / app).rglob("*.py")) if "migrations" not in path.parts]


def _module_file(dotted: str) -> Path | None:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else None


def _package(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


Service = tuple[Path, str]  # the module that defines it, its name


def _services() -> dict[Service, str]:
    """Every function whose body is one transaction, and its kind ("durable" or "plain")."""
    found = {}
    for path in _application_files():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if kind := _atomic_kind(decorator):
                        found[(path, node.name)] = kind
    return found


class _Uses(ast.NodeVisitor):
    """Each use of a service in one module (a call, or the function handed on, as the sweeps'
    tables do): in which function, and whether a transaction is already open around it there (an
    atomic decorator or a `with ...atomic(...)` block)."""

    def __init__(self, path: Path, services: dict[Service, str]) -> None:
        self.path, self.services = path, services
        self.modules: dict[str, Path] = {}  # a name this module gives another module
        self.names: dict[str, Path] = {}  # a function imported by name, and its module
        self.functions: list[str] = []
        self.open_transactions = 0
        self.uses: list[tuple[Service, Path, str, bool]] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname and (module := _module_file(alias.name)):
                self.modules[alias.asname] = module

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            base = ".".join(filter(None, [_package(self.path), node.module]))
        for alias in node.names:
            if module := _module_file(f"{base}.{alias.name}"):
                self.modules[alias.asname or alias.name] = module
            elif module := _module_file(base):
                self.names[alias.asname or alias.name] = module

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        opened = any(_atomic_kind(decorator) for decorator in node.decorator_list)
        self.functions.append(node.name)
        self.open_transactions += opened
        self.generic_visit(node)
        self.open_transactions -= opened
        self.functions.pop()

    def visit_With(self, node: ast.With) -> None:
        opened = sum(
            1 for item in node.items if isinstance(item.context_expr, ast.Call) and _atomic_kind(item.context_expr)
        )
        self.open_transactions += opened
        self.generic_visit(node)
        self.open_transactions -= opened

    def _use(self, service: Service) -> None:
        if service in self.services:
            caller = self.functions[-1] if self.functions else "<module>"
            self.uses.append((service, self.path, caller, self.open_transactions > 0))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id in self.modules:
            self._use((self.modules[node.value.id], node.attr))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._use((self.names.get(node.id, self.path), node.id))


def _uses(services: dict[Service, str]) -> list[tuple[Service, Path, str, bool]]:
    uses = []
    for path in _application_files():
        visitor = _Uses(path, services)
        visitor.visit(ast.parse(path.read_text()))
        uses += visitor.uses
    return uses


def _named(service: Service) -> str:
    path, name = service
    return f"{path.relative_to(ROOT)}:{name}"


SERVICES = _services()
USES = _uses(SERVICES)


def _top_level(path: Path, caller: str, inside_transaction: bool) -> bool:
    return _is_entry_point(path) and caller not in ADMIN_HOOKS and not inside_transaction


def test_the_scan_finds_the_services_of_every_app_and_their_callers():
    durable = {name for (_path, name), kind in SERVICES.items() if kind == "durable"}
    plain = {name for (_path, name), kind in SERVICES.items() if kind == "plain"}
    assert {"dispute_open", "claim_decide", "order_ship", "report_close", "account_appeal_file"} <= durable
    assert {"dispute_auto_claim", "refund_send", "account_block", "article_save"} <= plain
    used = {(name, path.relative_to(ROOT).as_posix()) for (_module, name), path, _caller, _inside in USES}
    assert {
        ("dispute_auto_claim", "disputes/sweeps.py"),  # handed to the sweep, not called there
        ("offer_accept", "disputes/views.py"),
        ("account_block", "reports/services.py"),
        ("account_unblock", "accounts/blocking.py"),  # by another service of the same module
    } <= used


def test_a_durable_service_is_used_only_where_no_transaction_is_open():
    misplaced = [
        f"{_named(service)} used by {caller} in {path.relative_to(ROOT)}"
        for service, path, caller, inside_transaction in USES
        if SERVICES[service] == "durable" and not _top_level(path, caller, inside_transaction)
    ]
    assert misplaced == []


def test_a_service_only_views_tasks_and_admin_pages_call_is_durable():
    """A new top-level service written with a plain `atomic` is caught here."""
    sites: dict[Service, list[bool]] = {}
    for service, path, caller, inside_transaction in USES:
        sites.setdefault(service, []).append(_top_level(path, caller, inside_transaction))
    should_be_durable = sorted(
        _named(service) for service, top_level in sites.items() if SERVICES[service] == "plain" and all(top_level)
    )
    assert should_be_durable == []


@pytest.mark.django_db
def test_a_top_level_service_refuses_to_run_inside_another_transaction(order):
    dispute = open_dispute(order)
    offer = seller_counter_offer(dispute)
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        dispute_services.offer_accept(dispute=dispute, offer_id=offer.pk, user=order.buyer)
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.NEGOTIATING


@pytest.mark.django_db
def test_a_sweep_refuses_to_run_inside_a_callers_transaction(order):
    dispute = open_dispute(order)
    assert dispute.seller_answer_due_at is not None
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        sweeps.run("seller-silence", dispute.seller_answer_due_at + timedelta(minutes=1))
    # The services a sweep calls for a row are the inner kind: they run inside its row transaction.
    changed = sweeps.run("seller-silence", dispute.seller_answer_due_at + timedelta(minutes=1))
    assert changed.changed == 1
    dispute.refresh_from_db()
    assert dispute.resolved_amount == Decimal(order.total_amount)


@pytest.mark.django_db(transaction=True)
def test_the_demo_calls_the_services_as_make_run_does_with_no_transaction_around_them(settings, shipped_data):
    """The demo is an entry point: each top-level service it calls commits on its own, and where it
    calls a sweep's row action it opens the durable transaction itself."""
    settings.DEBUG = True
    call_command("seed_demo")
    assert Report.objects.filter(status=Report.Status.CLOSED, outcome=Report.Outcome.UPHELD).exists()
    assert Dispute.objects.filter(status=Dispute.Status.CLAIM).exists()
