"""Blocking an account and the way back: only staff block, with a reason the user reads; the
user can still sign in, read it and appeal with evidence; staff unblock or keep the block."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ActionRefused

from . import rules
from .emails import Mail, email_queue, email_queue_all
from .models import AccountAppeal, AccountAppealFile, AccountEvent, BlockReason, User
from .rules import Action


def _lock(user_id: int) -> User:
    return User.objects.select_for_update(of=("self",)).get(pk=user_id)


_record = AccountEvent.record


@transaction.atomic  # not durable: report_close blocks inside its own transaction
def account_block(*, user: User, staff: User, reason: str, note: str, now: datetime | None = None) -> User:
    now = now or timezone.now()
    user = _lock(user.pk)
    rules.require(Action.BLOCK, user, rules.staff_role(staff), now, rules.Facts(actor=staff))
    if reason not in BlockReason.values:
        raise ActionRefused(_("Выберите причину блокировки."))
    # "Other" says "details in the note": without one the user cannot tell what to appeal.
    if reason == BlockReason.OTHER and not note.strip():
        raise ActionRefused(_("Для причины «Другое» напишите пояснение: пользователь должен понять, что нарушено."))
    user.blocked_at, user.block_reason, user.block_note = now, reason, note.strip()
    user.save(update_fields=["blocked_at", "block_reason", "block_note"])
    _record(user, AccountEvent.Kind.BLOCKED, staff, now, reason={"old": None, "new": reason}, note=note.strip())
    email_queue(
        user=user,
        template="account_blocked",
        context={"blocked": user},
        dedupe_key=f"blocked:{user.pk}:{now.isoformat()}",
    )
    if rules.is_staff_account(user):
        _tell_superusers(user=user, staff=staff, now=now)
    return user


def _tell_superusers(*, user: User, staff: User, now: datetime) -> None:
    """A blocked staff member stops deciding: every other superuser hears of it at once."""
    superusers = User.objects.filter(is_superuser=True, is_active=True).exclude(pk=staff.pk).exclude(email="")
    context = {
        "blocked": user,
        "staff": staff,
        "reason": BlockReason(user.block_reason).label,
        "note": user.block_note,
        "blocked_at": now,
    }
    email_queue_all(
        [
            Mail(admin, "staff_blocked", context, dedupe_key=f"staff-blocked:{user.pk}:{now.isoformat()}:{admin.pk}")
            for admin in superusers.order_by("pk")
        ]
    )


@transaction.atomic  # not durable: account_appeal_unblock unblocks inside its own transaction
def account_unblock(*, user: User, staff: User, answer: str = "", now: datetime | None = None) -> User:
    now = now or timezone.now()
    user = _lock(user.pk)
    rules.require(Action.UNBLOCK, user, rules.staff_role(staff), now, rules.Facts(actor=staff))
    old_reason = user.block_reason
    user.blocked_at, user.block_reason, user.block_note = None, "", ""
    user.save(update_fields=["blocked_at", "block_reason", "block_note"])
    pending = (
        AccountAppeal.objects.select_for_update(of=("self",))
        .filter(user=user, status=AccountAppeal.Status.PENDING)
        .first()
    )
    if pending is not None:
        _appeal_decide(pending, AccountAppeal.Status.UNBLOCKED, answer=answer, staff=staff, now=now)
    _record(
        user, AccountEvent.Kind.UNBLOCKED, staff, now, reason={"old": old_reason, "new": None}, answer=answer.strip()
    )
    email_queue(
        user=user,
        template="account_unblocked",
        context={"answer": answer.strip()},
        dedupe_key=f"unblocked:{user.pk}:{now.isoformat()}",
    )
    return user


@transaction.atomic(durable=True)
def account_appeal_file(
    *, user: User, text: str, attachment_ids: list[int] | None = None, now: datetime | None = None
) -> AccountAppeal:
    now = now or timezone.now()
    user = _lock(user.pk)
    has_pending = AccountAppeal.objects.filter(user=user, status=AccountAppeal.Status.PENDING).exists()
    rules.require(Action.APPEAL, user, rules.role_of(user, user), now, rules.Facts(has_pending_appeal=has_pending))
    appeal = AccountAppeal.objects.create(user=user, text=text.strip(), filed_at=now)
    AccountAppealFile.objects.filter(AccountAppealFile.unclaimed(), owner=user, pk__in=attachment_ids or []).update(
        appeal=appeal
    )
    _record(user, AccountEvent.Kind.APPEAL_FILED, user, now, appeal=appeal.pk)
    email_queue(
        user=user,
        template="account_appeal_received",
        context={"appeal": appeal},
        dedupe_key=f"block-appeal:{appeal.pk}",
    )
    return appeal


@transaction.atomic(durable=True)
def account_appeal_reject(
    *, appeal: AccountAppeal, staff: User, answer: str, now: datetime | None = None
) -> AccountAppeal:
    """Keep the block, saying why; the user reads it on the blocked page and by e-mail, and may
    appeal again with new evidence."""
    now = now or timezone.now()
    _lock(appeal.user_id)
    appeal = AccountAppeal.objects.select_for_update(of=("self",)).select_related("user").get(pk=appeal.pk)
    rules.require(Action.ANSWER_APPEAL, appeal, rules.staff_role(staff), now, rules.Facts(actor=staff))
    if len(answer.strip()) < 20:
        raise ActionRefused(_("Напишите пользователю, почему блокировка остаётся: хотя бы 20 символов."))
    _appeal_decide(appeal, AccountAppeal.Status.REJECTED, answer=answer, staff=staff, now=now)
    _record(appeal.user, AccountEvent.Kind.APPEAL_REJECTED, staff, now, appeal=appeal.pk, answer=answer.strip())
    email_queue(
        user=appeal.user,
        template="account_appeal_rejected",
        context={"appeal": appeal},
        dedupe_key=f"block-appeal-rejected:{appeal.pk}",
    )
    return appeal


@transaction.atomic(durable=True)
def account_appeal_unblock(*, appeal: AccountAppeal, staff: User, answer: str, now: datetime | None = None) -> User:
    # The user first, then the appeal, as account_appeal_reject does: a "keep the block" answered
    # at the same moment is seen here and this one is refused, not both carried out.
    _lock(appeal.user_id)
    appeal = AccountAppeal.objects.select_for_update(of=("self",)).select_related("user").get(pk=appeal.pk)
    rules.require(
        Action.ANSWER_APPEAL, appeal, rules.staff_role(staff), now or timezone.now(), rules.Facts(actor=staff)
    )
    return account_unblock(user=appeal.user, staff=staff, answer=answer, now=now)


def _appeal_decide(appeal: AccountAppeal, status: str, *, answer: str, staff: User, now: datetime) -> None:
    """Write staff's answer on a locked pending appeal."""
    appeal.status, appeal.answer, appeal.decided_at, appeal.decided_by = status, answer.strip(), now, staff
    appeal.save(update_fields=["status", "answer", "decided_at", "decided_by"])
