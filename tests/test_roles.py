"""Staff groups get their rights from accounts/roles.py, applied by migrations. A codename there
that no model declares stops the sync with its name (it used to be skipped, leaving a group short
of a right with nothing said)."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from accounts import roles

pytestmark = pytest.mark.django_db


def _rights(group_name: str) -> set[tuple[str, str]]:
    permissions = Group.objects.get(name=group_name).permissions.select_related("content_type")
    return {(permission.content_type.app_label, permission.codename) for permission in permissions}


def test_every_permission_the_roles_name_exists_and_each_group_has_exactly_its_own():
    missing = [
        f"{app_label}.{codename}"
        for codes in roles.STAFF_GROUP_PERMISSIONS.values()
        for app_label, codename in codes
        if not Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()
    ]
    assert missing == []
    for group_name, codes in roles.STAFF_GROUP_PERMISSIONS.items():
        assert _rights(group_name) == set(codes), group_name


def test_a_role_naming_a_permission_no_model_declares_stops_the_sync(monkeypatch):
    before = _rights("support")
    groups = {**roles.STAFF_GROUP_PERMISSIONS, "support": [*roles.STAFF_GROUP_PERMISSIONS["support"]]}
    groups["support"].append(("reports", "handle_reports"))
    monkeypatch.setattr(roles, "STAFF_GROUP_PERMISSIONS", groups)
    with pytest.raises(LookupError, match=r"reports\.handle_reports"):
        roles.sync_staff_groups(apps)
    assert _rights("support") == before


def test_an_older_migration_gives_the_rights_its_models_declare_and_a_later_one_the_rest():
    # The state the first group migration ran in: no reports app yet, no block_staff permission.
    older = MigrationLoader(connection).project_state(("accounts", "0002_staff_groups")).apps
    roles.sync_staff_groups(older)
    assert ("reports", "handle_report") not in _rights("support")
    assert ("accounts", "block_staff") not in _rights("arbitration_heads")
    roles.sync_staff_groups(apps)
    assert ("reports", "handle_report") in _rights("support")
    assert _rights("arbitration_heads") == set(roles.STAFF_GROUP_PERMISSIONS["arbitration_heads"])
