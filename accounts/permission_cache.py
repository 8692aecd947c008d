"""A signed-in person's permissions from the cache instead of two queries on every page.

Every page asks at least once what its reader may do (staff read every dispute, buyers only
their own), and Django's backend answers with two joins over the permission tables per request,
a large share of a signed-in page (docs/performance.md). The answer changes only when staff groups,
their permissions or someone's memberships change, which happens in admin a few times a year;
so the set is kept in the cache (Redis in production, shared by every web process) with the
version of the permission tables it was read at, and any change to those tables starts a new
version once its transaction commits. An entry read at another version is read again.

The version is bumped from Django's m2m_changed/post_save/post_delete of the permission tables
and after every migration (roles are applied by migrations), so a change made in admin, in a
service or in a shell takes effect on the next request. Only a change written in raw SQL to
those tables goes unseen; PERMISSION_CACHE_SECONDS bounds how long such an entry can live.
Whether the account is active, superuser or blocked is read from its row on every request, as
before, never from here.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from core.cache_versions import version_read, versions_move

from .models import User

VERSION_KEY = "permissions:version"


def _user_key(user: User) -> str:
    # Superusers are answered "all permissions": a demoted one must not keep that set.
    return f"permissions:user:{user.pk}:{int(user.is_superuser)}"


def permissions_cached(*, user: User, read: Callable[[], set[str]]) -> set[str]:
    """The user's permission names ("app.codename"), from the cache when they were read at the
    current version, else from `read()` (the database), then kept."""
    timeout = settings.PERMISSION_CACHE_SECONDS
    if timeout <= 0:
        return read()
    user_key = _user_key(user)
    found = cache.get_many([VERSION_KEY, user_key])
    version = version_read(VERSION_KEY, found.get(VERSION_KEY))
    kept = found.get(user_key)
    if kept is not None and kept[0] == version:
        return set(kept[1])
    permissions = read()
    cache.set(user_key, (version, sorted(permissions)), timeout=timeout)
    return permissions


def permissions_invalidate() -> None:
    """Every kept permission set is read again, once the caller's transaction commits (a bump
    before the commit would let a request in between keep the old set as new)."""
    transaction.on_commit(lambda: versions_move(VERSION_KEY), robust=True)


def _on_change(**kwargs: object) -> None:
    permissions_invalidate()


def permission_tables_watch() -> None:
    """Connect the bump to every write of the tables a permission set is read from."""
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"permissions-m2m-{through._meta.label}")
    for model in (Group, Permission):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"permissions-save-{model._meta.label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"permissions-delete-{model._meta.label}")
    post_migrate.connect(_on_change, dispatch_uid="permissions-after-migrate")
