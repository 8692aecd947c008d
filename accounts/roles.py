"""Staff groups and what each may do in admin, as data, applied by migrations."""

STAFF_GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    # Arbitrators read the whole case and decide claims and appeals.
    "arbitrators": [
        ("disputes", "change_dispute"),
        *[
            ("disputes", f"view_{model}")
            for model in ("dispute", "offer", "message", "attachment", "disputeevent", "refund", "exchangerate")
        ],
        ("accounts", "view_user"),
        ("accounts", "view_store"),
        ("orders", "view_order"),
        ("orders", "view_orderitem"),
        ("orders", "view_orderevent"),
        ("orders", "view_protectionextension"),
    ],
    # Support edits the FAQ, handles reports and reads orders to answer buyers.
    "support": [
        *[("disputes", f"view_{model}") for model in ("dispute", "offer", "message", "disputeevent", "refund")],
        ("disputes", "view_exchangerate"),
        ("disputes", "change_exchangerate"),
        *[
            ("faq", f"{action}_{model}")
            for model in ("category", "article", "articleimage")
            for action in ("view", "add", "change", "delete")
        ],
        ("accounts", "view_user"),
        ("accounts", "view_store"),
        ("orders", "view_order"),
        ("orders", "view_orderitem"),
        ("orders", "view_orderevent"),
        ("orders", "view_protectionextension"),
    ],
}


def sync_staff_groups_migration(apps, schema_editor) -> None:
    """For migrations.RunPython: every migration that adds permissions a group needs runs this."""
    sync_staff_groups(apps)


def sync_staff_groups(apps) -> None:
    """Create the groups and give each exactly the permissions listed (idempotent)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; a fresh database needs them now.
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codes in STAFF_GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = []
        for app_label, codename in codes:
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                permissions.append(permission)
        group.permissions.set(permissions)


# The head of arbitration sees what arbitrators see and gets the 60-day overdue notices.
STAFF_GROUP_PERMISSIONS["arbitration_heads"] = list(STAFF_GROUP_PERMISSIONS["arbitrators"])
