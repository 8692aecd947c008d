"""Who may block, unblock and appeal: the rulebook for accounts."""

from django.utils.translation import gettext as _

from .models import AccountAppeal, User


def block_refusal(*, staff: User, user: User) -> str | None:
    if not staff.has_perm("accounts.block_user"):
        return _("Блокировать аккаунты может только сотрудник с таким правом.")
    if user.pk == staff.pk:
        return _("Свой аккаунт заблокировать нельзя.")
    if user.is_superuser:
        return _("Аккаунт администратора блокировать нельзя.")
    if user.is_blocked:
        return _("Аккаунт уже заблокирован.")
    return None


def unblock_refusal(*, staff: User, user: User) -> str | None:
    if not staff.has_perm("accounts.block_user"):
        return _("Разблокировать аккаунты может только сотрудник с таким правом.")
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
    if appeal.status != AccountAppeal.Status.PENDING:
        return _("Это обжалование уже рассмотрено.")
    return None
