"""The shape of every app's rulebook: who may do what now, and which rows a deadline makes due.

Each app's `rules.py` holds one `Rulebook`: a table of one small function per action, registered
with `@book.rule(Action.X)`, each answering `(subject, role, now, facts) -> Permit`. The app's
module exposes the book's `permit`, `refusal`, `require` and `allowed` under those names. Services
call `require()` once the row is locked and refuse with its ActionRefused; pages draw their
buttons from `allowed()`; a deadline's service asks `refusal()` with `Role.SYSTEM`. So a button,
the server's answer and a deadline cannot disagree.

The book also declares, for each action a sweep takes, the rows it may be due on (their
statuses) and the indexed deadline column (`book.deadline(...)`): `core.sweeps.register_deadlines`
builds the sweeps from those, so no sweep restates a status.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from .errors import ActionRefused


class Role(StrEnum):
    """The part a person (or the system) plays towards what an action is about: one set of words
    for every app's rulebook."""

    BUYER = "buyer"
    SELLER = "seller"
    REPORTER = "reporter"
    REPORTED = "reported"  # the party a report is about, once it was told of the report
    ARBITRATOR = "arbitrator"  # staff who decide claims and appeals
    STAFF = "staff"  # staff who may write (into disputes, reports, accounts), with the right for it
    OBSERVER = "observer"  # staff who may only read
    SYSTEM = "system"  # the deadline sweeps
    NONE = "none"


PARTIES = frozenset({Role.BUYER, Role.SELLER})


class HasPerm(Protocol):
    pk: Any

    def has_perm(self, perm: str, obj: None = None) -> bool: ...


def staff_role(user: HasPerm, *ladder: tuple[str, Role]) -> Role:
    """The role of the first (permission, role) of `ladder`, most rights first, whose permission
    `user` holds; NONE when they hold none."""
    return next((role for permission, role in ladder if user.has_perm(permission)), Role.NONE)


def party_role(user: HasPerm, *, buyer_id: Any, seller_id: Any, staff: Sequence[tuple[str, Role]] = ()) -> Role:
    """The buyer, the seller (the store's owner), or else the staff role `user` holds (staff_role)."""
    if user.pk == buyer_id:
        return Role.BUYER
    if user.pk == seller_id:
        return Role.SELLER
    return staff_role(user, *staff)


@dataclass(frozen=True)
class Permit:
    """Whether an action is allowed now, why not, and the dates its window opens and closes."""

    allowed: bool
    refusal: str | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def opens_later(self) -> bool:
        """Not yet allowed, but will be at `opens_at` (the page shows the button disabled, with its date)."""
        return not self.allowed and self.opens_at is not None


def allow(*, opens_at: datetime | None = None, closes_at: datetime | None = None) -> Permit:
    return Permit(True, opens_at=opens_at, closes_at=closes_at)


def refuse(message: str, *, opens_at: datetime | None = None) -> Permit:
    return Permit(False, message, opens_at=opens_at)


def save_move(
    row: Model,
    to: str,
    refusal: str | None,
    changes: dict[str, Any] | None = None,
    *,
    field: str = "status",
    stamp: tuple[str, ...] = ("updated_at",),
) -> None:
    """The tail of every transition function (order, dispute, claim, report): refuse with the
    rulebook's reason for not moving, else set `field` to `to` and the other changed fields on the
    locked row and save only those, with the `stamp` fields their `auto_now` sets."""
    if refusal:
        raise ActionRefused(refusal)
    setattr(row, field, to)
    for name, value in (changes or {}).items():
        setattr(row, name, value)
    row.save(update_fields=[field, *stamp, *(changes or {})])


def is_due(deadline: datetime | None, now: datetime) -> bool:
    """A deadline has passed: the same comparison for the pages and the sweeps."""
    return deadline is not None and deadline <= now


RuleT = TypeVar("RuleT", bound=Callable[..., Permit])


@dataclass(frozen=True)
class Deadline:
    """The rows an action a sweep takes is due on: those `rows()` gives (the statuses it applies
    to, the condition of the column's partial index) whose `column`, an indexed date, has passed.

    `after` moves the moment: due that long after the column's time (a grace), or, negative,
    before it; with `ahead`, only until the column's time itself (a reminder before a deadline).
    `rows()` may give several models' rows, swept one after another (uploads of every app)."""

    action: str
    column: str
    rows: Callable[[], QuerySet[Any] | Sequence[QuerySet[Any]]]
    after: Callable[[], timedelta] | None = None
    ahead: bool = False

    def due_each(self, now: datetime) -> list[QuerySet[Any]]:
        cutoff = now - self.after() if self.after is not None else now
        lookups: dict[str, datetime] = {f"{self.column}__lte": cutoff}
        if self.ahead:
            lookups[f"{self.column}__gt"] = now
        rows = self.rows()
        return [queryset.filter(**lookups) for queryset in ([rows] if isinstance(rows, QuerySet) else rows)]

    def due(self, now: datetime) -> QuerySet[Any]:
        """The due rows of a deadline over one model."""
        [rows] = self.due_each(now)
        return rows


@dataclass(frozen=True)
class Rule:
    """One action's rule: who may take it (`by`; anyone else is refused with `otherwise`), and
    the function that says whether they may now."""

    function: Callable[..., Permit]
    by: frozenset[Role] | None
    otherwise: StrOrPromise


_AUTOMATIC = gettext_lazy("Это действие выполняется автоматически.")


class Rulebook[SubjectT, FactsT]:
    """One app's rules: a table of one function per action, and its deadlines.

    `facts` are what the rules need beyond the subject's row (a pending offer, an open request),
    read by the caller: under the row lock when it is about to act, from the page's prefetches
    when it draws buttons. `page_actions` are what `allowed()` answers when not told which."""

    def __init__(self, subject: str, *, no_facts: FactsT, page_actions: Sequence[str] = ()) -> None:
        self.subject = subject
        self.no_facts = no_facts
        self.page_actions = tuple(page_actions)
        self._rules: dict[str, Rule] = {}
        self._deadlines: dict[str, Deadline] = {}

    def rule(
        self, *actions: str, by: Role | Iterable[Role] | None = None, otherwise: StrOrPromise = ""
    ) -> Callable[[RuleT], RuleT]:
        """Decorator: `@book.rule(Action.ESCALATE, by=Role.BUYER, otherwise=_("..."))` on
        `(subject, role, now, facts) -> Permit`. The function is asked only for the roles `by`
        names; any other role is refused with `otherwise` (a lazy text). A deadline's rule is
        `by=Role.SYSTEM`, which needs no `otherwise`."""
        roles = frozenset({by} if isinstance(by, Role) else by) if by is not None else None
        if roles == {Role.SYSTEM} and not otherwise:
            otherwise = _AUTOMATIC
        if roles is not None and not otherwise:
            raise ValueError(f"Say why the {self.subject} rules refuse the other roles {actions}")

        def register(function: RuleT) -> RuleT:
            for action in actions:
                if action in self._rules:
                    raise ValueError(f"The {self.subject} rulebook has two rules for {action!r}")
                self._rules[action] = Rule(function, roles, otherwise)
            return function

        return register

    def permit(self, action: str, subject: SubjectT, role: Role, now: datetime, facts: FactsT | None = None) -> Permit:
        """May `role` take `action` on `subject` now?"""
        try:
            rule = self._rules[action]
        except KeyError:
            raise LookupError(f"The {self.subject} rulebook has no rule for {action!r}") from None
        if rule.by is not None and role not in rule.by:
            return refuse(str(rule.otherwise))
        return rule.function(subject, role, now, self.no_facts if facts is None else facts)

    def refusal(
        self, action: str, subject: SubjectT, role: Role, now: datetime, facts: FactsT | None = None
    ) -> str | None:
        """Why `role` may not take `action` now, or None when it may."""
        return self.permit(action, subject, role, now, facts).refusal

    def require(self, action: str, subject: SubjectT, role: Role, now: datetime, facts: FactsT | None = None) -> None:
        """Raise ActionRefused with the rule's reason unless the action is allowed now."""
        if message := self.refusal(action, subject, role, now, facts):
            raise ActionRefused(message)

    def allowed(
        self,
        subject: SubjectT,
        role: Role,
        now: datetime,
        facts: FactsT | None = None,
        *,
        actions: Iterable[str] | None = None,
    ) -> dict[str, Permit]:
        """The page's buttons: each action's permit for this viewer, keyed by the action's name
        (`actions.escalate` in a template)."""
        wanted = self.page_actions if actions is None else actions
        return {str(action): self.permit(action, subject, role, now, facts) for action in wanted}

    def deadline(
        self,
        action: str,
        column: str,
        rows: Callable[[], QuerySet[Model] | Sequence[QuerySet[Model]]],
        *,
        after: Callable[[], timedelta] | None = None,
        ahead: bool = False,
    ) -> "Rulebook[SubjectT, FactsT]":
        """Declare the rows `action` is due on (see Deadline); a sweep takes them, earliest first.
        Returns the book, so that a book of deadlines alone is written in one statement."""
        if action in self._deadlines:
            raise ValueError(f"The {self.subject} rulebook has two deadlines for {action!r}")
        self._deadlines[action] = Deadline(action, column, rows, after, ahead)
        return self

    @property
    def actions(self) -> frozenset[str]:
        """The actions the book has a rule for."""
        return frozenset(self._rules)

    def deadline_of(self, action: str) -> Deadline:
        return self._deadlines[action]

    @property
    def deadlines(self) -> dict[str, Deadline]:
        return dict(self._deadlines)

    def due(self, action: str, now: datetime) -> QuerySet[Any]:
        """The rows the deadline of `action` makes due now."""
        return self._deadlines[action].due(now)
