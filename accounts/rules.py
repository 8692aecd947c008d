"""Who may block, unblock and appeal: the rulebook for accounts.

A blocked account is sent from every admin page to the block page, so blocking the staff who
decide claims (or who could unblock them) would stop decisions while deadlines run on. Blocking or
unblocking a staff account therefore takes a second right, accounts.block_staff, which superusers
and heads of arbitration hold and support does not; a head of arbitration (anyone who holds that
right) is blocked only by a superuser, and a superuser by nobody.
"""

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext as _

from .models import AccountAppeal, User


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


def block_refusal(*, staff: User, user: User) -> str | None:
    if not staff.has_perm("accounts.block_user"):
        return _("Блокировать аккаунты может только сотрудник с таким правом.")
    if user.pk == staff.pk:
        return _("Свой аккаунт заблокировать нельзя.")
    if user.is_superuser:
        return _("Аккаунт администратора блокировать нельзя.")
    if is_staff_account(user) and (refusal := _staff_refusal(staff=staff, user=user)):
        return refusal
    if user.is_blocked:
        return _("Аккаунт уже заблокирован.")
    return None


def unblock_refusal(*, staff: User, user: User) -> str | None:
    if not staff.has_perm("accounts.block_user"):
        return _("Разблокировать аккаунты может только сотрудник с таким правом.")
    if is_staff_account(user) and (refusal := _staff_refusal(staff=staff, user=user)):
        return refusal
    if not user.is_blocked:
        return _("Аккаунт не заблокирован.")
    return None


def appeal_refusal(*, user: User, has_pending: bool) -> str | None:
    """A blocked user may always appeal; one appeal waits for an answer at a time."""
    if not user.is_blocked:
        return _("Ваш аккаунт не заблокирован.")
    if has_pending:
        return _("Ваше обжалование уже на рассмотрении: дождитесь ответа.")
    return None


def appeal_answer_refusal(*, staff: User, appeal: AccountAppeal) -> str | None:
    if not staff.has_perm("accounts.block_user"):
        return _("Рассматривать обжалования может только сотрудник с правом блокировки.")
    if is_staff_account(appeal.user) and (refusal := _staff_refusal(staff=staff, user=appeal.user)):
        return refusal
    if appeal.status != AccountAppeal.Status.PENDING:
        return _("Это обжалование уже рассмотрено.")
    return None
