"""The claims queue's filters: decided or not (undecided by default), waiting too long, kind,
reason, arbitrator and currency."""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.db.models import CharField, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.staff_versions import deciders_version
from core.admin_russian import DefaultChoiceFilter
from core.dates import days
from core.fragments import FRAGMENT_CACHE

from .. import rules
from ..models import Claim, Dispute
from ..problems import ALL_PROBLEMS


class FixedChoices:
    """A filter whose choices are the same for every reader and request in a language (its
    lookups read nothing): the kept filters' key names it by its class alone
    (core/templatetags/admin_fragments.py, changelist_filters_key)."""

    fixed_choices = True


class DecisionStateFilter(FixedChoices, DefaultChoiceFilter):
    """Decided and undecided claims are kept apart: the queue opens on the undecided ones."""

    title = _("решение")
    parameter_name = "decision"
    default_choice = "undecided"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("undecided", _("ждут решения")),
            ("decided", _("решение принято, срок обжалования")),
            ("appeal", _("апелляция на рассмотрении")),
            ("final", _("окончательные")),
            ("all", _("все")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        stages = {
            "undecided": rules.UNDECIDED_STAGES,
            "decided": {Claim.Stage.DECIDED},
            "appeal": {Claim.Stage.APPEAL},
            "final": {Claim.Stage.FINAL},
        }.get(self.value())
        return queryset if stages is None else queryset.filter(stage__in=stages)


class WaitingFilter(FixedChoices, admin.SimpleListFilter):
    title = _("ждут решения дольше срока")
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("flagged", _("дольше, чем %(days)s") % {"days": days(settings.CLAIM_DECISION_FLAG_DAYS)}),
            ("overdue", _("дольше, чем %(days)s (просрочены)") % {"days": days(settings.CLAIM_DECISION_OVERDUE_DAYS)}),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        if self.value() == "flagged":
            return queryset.filter(stage__in=rules.UNDECIDED_STAGES).filter(flagged_at__isnull=False)
        if self.value() == "overdue":
            return queryset.filter(stage__in=rules.UNDECIDED_STAGES).filter(overdue_at__isnull=False)
        return queryset


class KindFilter(FixedChoices, admin.SimpleListFilter):
    title = _("тип спора")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return Dispute.Kind.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        return queryset.filter(dispute__kind=self.value()) if self.value() else queryset


class ProblemFilter(FixedChoices, admin.SimpleListFilter):
    title = _("причина")
    parameter_name = "problem"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(code, problem.label) for code, problem in ALL_PROBLEMS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        if not self.value():
            return queryset
        # The problems are a JSON list; matching its text works on PostgreSQL and SQLite alike.
        return queryset.annotate(problems_text=Cast("dispute__problems", TextField())).filter(
            problems_text__contains=f'"{self.value()}"'
        )


# A staff member as the queue names them, in its filter and its column alike: the full name
# (User.get_full_name()), the login only without one; as SQL on the user table named {user}, which
# costs a fraction of the same ORM expression to build on every page of the queue.
STAFF_NAME_SQL = "COALESCE(NULLIF(TRIM({user}.first_name || ' ' || {user}.last_name), ''), {user}.username)"


# How long this process keeps the deciders read at one version at most: a change the version
# misses (raw SQL) is seen after this.
DECIDERS_KEPT_SECONDS = 300


def deciders() -> list[tuple[int, str]]:
    """The accounts in a group that may decide claims, with their names, by name: kept in this
    process under the version of staff groups and names (accounts/staff_versions.py), so that a
    new arbitrator or a new name is in the list on the next request."""
    key = f"claim-deciders:{deciders_version()}"
    cache = caches[FRAGMENT_CACHE]
    kept: list[tuple[int, str]] | None = cache.get(key)
    if kept is None:
        kept = deciders_read()
        cache.set(key, kept, DECIDERS_KEPT_SECONDS)
    return kept


def deciders_read() -> list[tuple[int, str]]:
    # By plain SQL over the two through-tables: the same query built from
    # `groups__permissions__codename` costs several times the Python time.
    user_groups, group_permissions = User.groups.through._meta.db_table, Group.permissions.through._meta.db_table
    members = RawSQL(
        f"SELECT ug.user_id FROM {user_groups} ug JOIN {group_permissions} gp ON gp.group_id = ug.group_id "
        f"JOIN {Permission._meta.db_table} p ON p.id = gp.permission_id WHERE p.codename = %s",
        ("decide_claim",),
    )
    return list(
        User.objects.filter(pk__in=members)
        # The query's base table is named by its table name.
        .annotate(name=RawSQL(STAFF_NAME_SQL.format(user=User._meta.db_table), (), output_field=CharField()))
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


class ArbitratorFilter(admin.SimpleListFilter):
    title = _("арбитр")
    parameter_name = "arbitrator"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("me", _("мои")), ("nobody", _("никто не взял"))] + [(str(pk), name) for pk, name in deciders()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to_id=request.user.pk)
        if value == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_to_id=int(value))
        return queryset


class CurrencyFilter(FixedChoices, admin.SimpleListFilter):
    title = _("валюта")
    parameter_name = "currency"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, code) for code in ("RUB", "USD", "EUR")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Claim]) -> QuerySet[Claim]:
        return queryset.filter(dispute__currency=self.value()) if self.value() else queryset
