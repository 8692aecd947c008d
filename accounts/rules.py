"""Who may block, unblock and appeal: the accounts rulebook (core.rules.Rulebook); at the end, the
deadlines of the e-mail outbox.

A blocked account is sent from every admin page to the block page, so blocking the staff who
decide claims (or who could unblock them) would stop decisions while deadlines run on. Blocking or
unblocking a staff account therefore takes a second right, accounts.block_staff, which superusers
and heads of arbitration hold and support does not; a head of arbitration (anyone who holds that
right) is blocked only by a superuser, and a superuser by nobody.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core import rules as core_rules
from core.rules import PARTIES, Permit, Role, Rulebook, allow, refuse

from .models import AccountAppeal, OutgoingEmail, User

__all__ = ["Permit", "Role"]


class Action(StrEnum):
    BLOCK = "block"
    UNBLOCK = "unblock"
    APPEAL = "appeal"
    ANSWER_APPEAL = "answer_appeal"


def staff_role(user: User) -> Role:
    """The part `user` plays in admin towards accounts: staff who may block, or nobody."""
    return core_rules.staff_role(user, ("accounts.block_user", Role.STAFF))


def role_of(account: User, user: User) -> Role:
    """The part `user` plays towards `account`: its owner (the buyer or seller it is), or staff."""
    if user.pk == account.pk:
        return Role.SELLER if account.is_seller else Role.BUYER
    return staff_role(user)


@dataclass(frozen=True)
class Facts:
    """Blocking a staff account depends on who blocks it: the staff member acting, and whether
    the user already has an appeal waiting."""

    actor: User | None = None
    has_pending_appeal: bool = False


book: Rulebook[User | AccountAppeal, Facts] = Rulebook("account", no_facts=Facts())
permit = book.permit
refusal = book.refusal
require = book.require
allowed = book.allowed


def is_staff_account(user: User) -> bool:
    """Anyone who works in admin or holds any permission, through a group or their own."""
    if user.is_superuser or user.is_staff:
        return True
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).exists()


def _staff_refusal(*, staff: User, user: User) -> str | None:
    """Why `staff` may not block or unblock `user`, a staff account, or None."""
    if not staff.has_perm("accounts.block_staff"):
        return _("Сотрудника может заблокировать или разблокировать только администратор или руководитель арбитража.")
    if user.has_perm("accounts.block_staff") and not staff.is_superuser:
        return _("Руководителя арбитража может заблокировать или разблокировать только администратор.")
    return None


def _staff_account_refusal(account: User, facts: Facts) -> Permit:
    if is_staff_account(account) and (message := _staff_refusal(staff=_actor(facts), user=account)):
        return refuse(message)
    return allow()


def _actor(facts: Facts) -> User:
    assert facts.actor is not None, "staff actions on accounts name who acts (Facts.actor)"
    return facts.actor


@book.rule(Action.BLOCK, by=Role.STAFF, otherwise=_lazy("Блокировать аккаунты может только сотрудник с таким правом."))
def _block(account: User, role: Role, now: datetime, facts: Facts) -> Permit:
    if account.pk == _actor(facts).pk:
        return refuse(_("Свой аккаунт заблокировать нельзя."))
    if account.is_superuser:
        return refuse(_("Аккаунт администратора блокировать нельзя."))
    if not (may := _staff_account_refusal(account, facts)):
        return may
    if account.is_blocked:
        return refuse(_("Аккаунт уже заблокирован."))
    return allow()


@book.rule(
    Action.UNBLOCK, by=Role.STAFF, otherwise=_lazy("Разблокировать аккаунты может только сотрудник с таким правом.")
)
def _unblock(account: User, role: Role, now: datetime, facts: Facts) -> Permit:
    if not (may := _staff_account_refusal(account, facts)):
        return may
    if not account.is_blocked:
        return refuse(_("Аккаунт не заблокирован."))
    return allow()


@book.rule(Action.APPEAL, by=PARTIES, otherwise=_lazy("Обжаловать блокировку может только владелец аккаунта."))
def _appeal(account: User, role: Role, now: datetime, facts: Facts) -> Permit:
    """A blocked user may always appeal; one appeal waits for an answer at a time."""
    if not account.is_blocked:
        return refuse(_("Ваш аккаунт не заблокирован."))
    if facts.has_pending_appeal:
        return refuse(_("Ваше обжалование уже на рассмотрении: дождитесь ответа."))
    return allow()


@book.rule(
    Action.ANSWER_APPEAL,
    by=Role.STAFF,
    otherwise=_lazy("Рассматривать обжалования может только сотрудник с правом блокировки."),
)
def _answer_appeal(appeal: AccountAppeal, role: Role, now: datetime, facts: Facts) -> Permit:
    if not (may := _staff_account_refusal(appeal.user, facts)):
        return may
    if appeal.status != AccountAppeal.Status.PENDING:
        return refuse(_("Это обжалование уже рассмотрено."))
    return allow()


class OutboxAction(StrEnum):
    RETRY = "retry"
    RECLAIM = "reclaim"


# The outbox has deadlines only, taken by its sweep: a pending mail once its next attempt is due
# (a minute's grace, so the sweep does not race the worker that got the after-commit message), and
# a "sending" one whose worker's lease ran out (it died, or could not tell whether the server took
# the mail). Each reads its partial index.
outbox = (
    Rulebook[OutgoingEmail, None]("outgoing e-mail", no_facts=None)
    .deadline(
        OutboxAction.RETRY,
        "next_attempt_at",
        lambda: OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING),
        after=lambda: timedelta(minutes=1),
    )
    .deadline(
        OutboxAction.RECLAIM,
        "lease_expires_at",
        lambda: OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENDING),
    )
)
