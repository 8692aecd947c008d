"""Staff groups and what each may do in admin, as data, applied by migrations."""

_READ_ORDERS = [
    ("accounts", "view_user"),
    ("accounts", "view_store"),
    ("orders", "view_order"),
    ("orders", "view_orderitem"),
    ("orders", "view_orderevent"),
    ("orders", "view_protectionextension"),
    ("orders", "view_refund"),
    ("orders", "view_ordercancellation"),
    ("orders", "view_trackingevent"),
    # What the marketplace's order feed sent, applied or not (orders/feed.py).
    ("orders", "view_feedevent"),
]
_READ_CLAIMS = [
    ("disputes", f"view_{model}")
    for model in ("dispute", "offer", "message", "disputeevent", "claim", "decision", "appeal", "evidencerequest")
]

STAFF_GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    # Arbitrators read the whole case with its files, write into disputes, and decide claims and
    # appeals. On the site: view_dispute reads a dispute, view_attachment its files, add_message
    # writes into it, decide_claim decides (disputes/rules.py, disputes/selectors.py).
    "arbitrators": [
        *_READ_CLAIMS,
        ("disputes", "view_attachment"),
        ("disputes", "view_exchangerate"),
        ("disputes", "add_message"),
        ("disputes", "decide_claim"),
        *_READ_ORDERS,
    ],
    # Support edits the FAQ, handles reports and reads orders, disputes and claims to answer
    # buyers; it neither opens evidence files, writes into disputes nor decides anything.
    "support": [
        *_READ_CLAIMS,
        ("accounts", "block_user"),
        ("accounts", "view_accountappeal"),
        ("accounts", "view_accountevent"),
        ("disputes", "view_exchangerate"),
        ("reports", "handle_report"),
        ("orders", "view_supportrequest"),
        ("orders", "answer_supportrequest"),
        # A carrier's scan reported by phone or e-mail is recorded by hand (orders/admin.py).
        ("orders", "add_trackingevent"),
        ("reports", "view_report"),
        ("reports", "view_reportevent"),
        ("faq", "view_help_gaps"),
        *[
            ("faq", f"{action}_{model}")
            for model in ("category", "article", "articleimage")
            for action in ("view", "add", "change", "delete")
        ],
        *_READ_ORDERS,
    ],
    # Money: only this group changes exchange rates and order amounts, and confirms refunds by hand.
    "finance": [
        ("disputes", "view_exchangerate"),
        ("disputes", "change_exchangerate"),
        ("orders", "change_order_money"),
        ("orders", "confirm_refund"),
        ("orders", "change_refund"),
        # The marketplace holds and pays out money on what the help centre tells it: finance
        # watches the notices that do not arrive and sends them again (core/webhooks.py).
        ("core", "view_outgoingwebhook"),
        ("core", "resend_outgoingwebhook"),
        *_READ_ORDERS,
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


# The head of arbitration sees what arbitrators see, gets the overdue notices, and may block
# accounts (and answer their appeals) like support; unlike support, staff accounts too (never a
# superuser or another head: accounts/rules.py), since blocking those who decide stops claims.
STAFF_GROUP_PERMISSIONS["arbitration_heads"] = [
    *STAFF_GROUP_PERMISSIONS["arbitrators"],
    ("accounts", "block_user"),
    ("accounts", "block_staff"),
    ("accounts", "view_accountappeal"),
    ("accounts", "view_accountevent"),
]
