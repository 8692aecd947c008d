"""Blocking staff takes a right support does not hold (issue 21, point 7): support blocked the head
of arbitration, both arbitrators and finance, and nobody was left to unblock anyone while the
deadlines ran on. Each group as the one who blocks and as the one blocked."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import blocking
from accounts.models import AccountAppeal, BlockReason, OutgoingEmail, User
from core.errors import ActionRefused

from .factories import SellerFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOTE = "Решения по претензиям принимались без просмотра доказательств: проверяем."

KINDS = ("support", "arbitrators", "arbitration_heads", "finance", "superuser")


def make(kind: str, **kwargs) -> User:
    if kind == "superuser":
        return StaffFactory(is_superuser=True, **kwargs)
    if kind == "buyer":
        return UserFactory(**kwargs)
    if kind == "seller":
        return SellerFactory(**kwargs)
    return StaffFactory(groups=[kind], **kwargs)


# Who may block whom: support and heads block buyers and sellers; staff only heads and superusers;
# a head only a superuser; a superuser nobody. Arbitrators and finance block no one.
MAY_BLOCK = {
    "support": {"buyer", "seller"},
    "arbitrators": set(),
    "finance": set(),
    "arbitration_heads": {"buyer", "seller", "support", "arbitrators", "finance"},
    "superuser": {"buyer", "seller", "support", "arbitrators", "finance", "arbitration_heads"},
}
CASES = [(blocker, target) for blocker in KINDS for target in (*KINDS, "buyer", "seller")]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("blocker_kind", "target_kind"), CASES)
def test_who_may_block_whom_in_admin(blocker_kind, target_kind):
    blocker, target = make(blocker_kind), make(target_kind)
    allowed = target_kind in MAY_BLOCK[blocker_kind]
    staff = signed_in(blocker)
    block_url = reverse("admin:accounts_user_block", args=[target.pk])

    user_page = staff.get(reverse("admin:accounts_user_change", args=[target.pk])).content.decode()
    assert (block_url in user_page) is allowed
    assert "Не заблокирован" in user_page

    response = staff.post(block_url, {"reason": BlockReason.OTHER, "note": NOTE}, follow=True)
    target.refresh_from_db()
    assert target.is_blocked is allowed
    if not blocker.has_perm("accounts.block_user"):
        assert response.status_code == 403
    elif not allowed:
        # Back on the user's page, which says why no button is there.
        refused = response.content.decode()
        assert response.redirect_chain[-1][0] == reverse("admin:accounts_user_change", args=[target.pk])
        assert any(
            reason in refused
            for reason in (
                "Сотрудника может заблокировать или разблокировать только администратор или руководитель арбитража.",
                "Руководителя арбитража может заблокировать или разблокировать только администратор.",
                "Аккаунт администратора блокировать нельзя.",
            )
        ), refused


@pytest.mark.parametrize(("blocker_kind", "target_kind"), CASES)
def test_the_service_refuses_what_the_admin_does_not_offer(blocker_kind, target_kind):
    blocker, target = make(blocker_kind), make(target_kind)
    if target_kind in MAY_BLOCK[blocker_kind]:
        blocking.account_block(user=target, staff=blocker, reason=BlockReason.SPAM, note="")
        target.refresh_from_db()
        assert target.is_blocked
    else:
        with pytest.raises(ActionRefused):
            blocking.account_block(user=target, staff=blocker, reason=BlockReason.SPAM, note="")
        target.refresh_from_db()
        assert not target.is_blocked


@pytest.mark.parametrize("kind", KINDS)
def test_nobody_blocks_themselves(kind):
    someone = make(kind)
    with pytest.raises(ActionRefused):
        blocking.account_block(user=someone, staff=someone, reason=BlockReason.SPAM, note="")


def test_support_cannot_block_anyone_who_decides_and_the_head_is_left_to_unblock():
    support, head = make("support"), make("arbitration_heads")
    deciders = [make("arbitrators"), make("arbitrators"), make("finance"), head]
    for person in deciders:
        with pytest.raises(ActionRefused, match="только администратор"):
            blocking.account_block(user=person, staff=support, reason=BlockReason.OTHER, note=NOTE)
    # The head blocks an arbitrator; support, who may not block staff, may not lift it either.
    arbitrator = deciders[0]
    blocking.account_block(user=arbitrator, staff=head, reason=BlockReason.OTHER, note=NOTE)
    with pytest.raises(ActionRefused, match="только администратор или руководитель арбитража"):
        blocking.account_unblock(user=arbitrator, staff=support)
    page = signed_in(support).get(reverse("admin:accounts_user_change", args=[arbitrator.pk])).content.decode()
    assert reverse("admin:accounts_user_unblock", args=[arbitrator.pk]) not in page
    blocking.account_unblock(user=arbitrator, staff=head, answer="Проверили: ошибка.")
    arbitrator.refresh_from_db()
    assert not arbitrator.is_blocked
    # Every admin page works for them again.
    assert signed_in(arbitrator).get(reverse("admin:index")).status_code == 200


def test_a_blocked_staff_members_appeal_is_answered_by_those_who_may_unblock_them():
    support, head = make("support"), make("arbitration_heads")
    arbitrator = make("arbitrators")
    blocking.account_block(user=arbitrator, staff=head, reason=BlockReason.OTHER, note=NOTE)
    appeal = blocking.account_appeal_file(user=arbitrator, text="Доказательства смотрел: вот журнал просмотров.")
    appeal_url = reverse("admin:accounts_accountappeal_change", args=[appeal.pk])
    assert "Разблокировать аккаунт" not in signed_in(support).get(appeal_url).content.decode()
    with pytest.raises(ActionRefused):
        blocking.account_appeal_unblock(appeal=appeal, staff=support, answer="")
    assert "Разблокировать аккаунт" in signed_in(head).get(appeal_url).content.decode()
    blocking.account_appeal_unblock(appeal=appeal, staff=head, answer="Журнал подтверждает.")
    assert AccountAppeal.objects.get(pk=appeal.pk).status == AccountAppeal.Status.UNBLOCKED


def test_superusers_are_mailed_when_a_staff_account_is_blocked(django_capture_on_commit_callbacks):
    first, second = make("superuser", username="root-anna"), make("superuser", username="root-boris")
    make("superuser", username="root-no-mail", email="")
    head, finance = make("arbitration_heads", username="head-vera"), make("finance", username="money-gleb")
    mail.outbox.clear()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        blocking.account_block(user=finance, staff=head, reason=BlockReason.OTHER, note=NOTE)
    told = [letter for letter in mail.outbox if letter.to != [finance.email]]
    assert sorted(letter.to[0] for letter in told) == [first.email, second.email]
    letter = told[0]
    assert letter.subject == "Заблокирован сотрудник money-gleb"
    assert "Сотрудник money-gleb заблокирован 2 марта 2026, 12:00 MSK. Заблокировал: head-vera." in letter.body
    assert "Причина: Другое" in letter.body and NOTE in letter.body
    assert reverse("admin:accounts_user_change", args=[finance.pk]) in letter.body

    # A superuser who blocks is not told of their own act; the others are.
    mail.outbox.clear()
    arbitrator = make("arbitrators")
    with django_capture_on_commit_callbacks(execute=True):
        blocking.account_block(user=arbitrator, staff=first, reason=BlockReason.SPAM, note="")
    assert sorted(letter.to[0] for letter in mail.outbox) == sorted([arbitrator.email, second.email])


def test_blocking_a_buyer_tells_no_superuser(django_capture_on_commit_callbacks):
    make("superuser")
    buyer = make("buyer")
    with django_capture_on_commit_callbacks(execute=True):
        blocking.account_block(user=buyer, staff=make("support"), reason=BlockReason.SPAM, note="")
    assert list(OutgoingEmail.objects.values_list("template", flat=True)) == ["account_blocked"]


def test_anyone_holding_a_permission_counts_as_staff_even_without_admin_access():
    from django.contrib.auth.models import Permission

    support = make("support")
    helper = UserFactory()
    helper.user_permissions.add(Permission.objects.get(codename="view_dispute"))
    with pytest.raises(ActionRefused, match="Сотрудника может заблокировать"):
        blocking.account_block(user=helper, staff=support, reason=BlockReason.SPAM, note="")
