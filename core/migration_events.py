"""For the migrations that gave each timeline event its actor's role (core.models.TimelineEvent):
the rows written before are filled in as `role_of()` would have named them."""

from typing import Any

from django.db import migrations
from django.db.models import Q


def actor_roles_fill(app_label: str, model_name: str, roles: dict[str, Q]) -> migrations.RunPython:
    """A migration operation that sets `actor_role` on the events without one: "system" where no
    one acted, then the first of `roles` (role -> which events it names, in role_of()'s order)
    that matches, and "staff" for the rest. Unapplied, the column goes and the roles with it."""

    def fill(apps: Any, schema_editor: Any) -> None:
        events = apps.get_model(app_label, model_name).objects.filter(actor_role="")
        events.filter(actor__isnull=True).update(actor_role="system")
        for role, condition in roles.items():
            events.filter(condition).update(actor_role=role)
        events.update(actor_role="staff")

    return migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)
