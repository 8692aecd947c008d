from typing import Any

from django.core import checks


@checks.register(checks.Tags.database)
def overdue_claims_reach_someone(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Overdue claims are mailed to the head of arbitration: an empty group means nobody hears."""
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError

    try:
        has_head = get_user_model().objects.filter(groups__name="arbitration_heads", is_active=True).exists()
    except DatabaseError:  # no tables yet (before the first migrate)
        return []
    if has_head:
        return []
    return [
        checks.Warning(
            "Nobody is in the 'arbitration_heads' group: notices about overdue claims go only to superusers.",
            hint="Add the head of arbitration to the group in admin (Пользователи → группы).",
            id="disputes.W001",
        )
    ]
