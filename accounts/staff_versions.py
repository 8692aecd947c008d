"""A version of who may decide claims and how they are named, for what is kept under it (the claims
queue's arbitrator filter, disputes/admin/filters.py).

The version is a token in the cache (Redis in production, shared by every web process), started
anew once a transaction commits that changes group memberships, a group's permissions, a group or a
permission, or an account's name or login (a save that names its fields and none of those, such as
the sign-in's `last_login`, leaves it). An entry kept at another version is read again. As with
accounts/permission_cache.py, only a change written in raw SQL goes unseen; the keeper bounds how
long such an entry lives.
"""

from contextlib import suppress
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from core.cache_outage import CACHE_UNREACHABLE
from core.cache_versions import version_read, versions_move

from .models import User

VERSION_KEY = "staff:deciders:version"
NAME_FIELDS = frozenset({"username", "first_name", "last_name"})


def deciders_version() -> str:
    """The current version (one cache read; a new one when the cache has none)."""
    return version_read(VERSION_KEY, cache.get(VERSION_KEY))


def deciders_changed() -> None:
    """A new version now, for the rest of the caller's transaction (and a test's), and another once
    it commits: a request in between may keep what it read before the change under the first."""
    with suppress(*CACHE_UNREACHABLE):  # the one at the commit tries again
        versions_move(VERSION_KEY)
    transaction.on_commit(lambda: versions_move(VERSION_KEY), robust=True)


def _on_change(**kwargs: Any) -> None:
    deciders_changed()


def _on_user_save(*, update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    if update_fields is None or NAME_FIELDS & update_fields:
        deciders_changed()


def staff_tables_watch() -> None:
    """Connect the new version to every write that changes who decides claims or their names."""
    for through in (User.groups.through, Group.permissions.through):
        m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"deciders-m2m-{through._meta.label}")
    for model in (Group, Permission):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"deciders-save-{model._meta.label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"deciders-delete-{model._meta.label}")
    post_save.connect(_on_user_save, sender=User, dispatch_uid="deciders-user-save")
    post_delete.connect(_on_change, sender=User, dispatch_uid="deciders-user-delete")
