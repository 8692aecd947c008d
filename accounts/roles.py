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
        # The arbitration policy's rules and who switched them off (disputes/policy.py).
        ("disputes", "view_policyruleswitch"),
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


def declared_permissions(apps) -> set[tuple[str, str]]:
    """(app label, codename) of every permission the models of `apps` declare: Django's default
    ones (add, change, delete, view) and each model's Meta.permissions."""
    declared = set()
    for model in apps.get_models():
        options = model._meta
        declared |= {(options.app_label, f"{action}_{options.model_name}") for action in options.default_permissions}
        declared |= {(options.app_label, codename) for codename, _name in options.permissions}
    return declared


def sync_staff_groups(apps) -> None:
    """Create the groups and give each exactly the permissions listed (idempotent).

    A codename no model declares (a typo, a model renamed) raises LookupError, in a migration too,
    instead of leaving a group short of a right. An older migration, whose models do not declare
    a permission yet, gives what its state has; the migration that declares the rest syncs again.
    """
    from django.apps import apps as current_apps
    from django.contrib.auth.management import create_permissions

    declared_now = declared_permissions(current_apps)
    unknown = sorted(
        f"{app_label}.{codename}"
        for codes in STAFF_GROUP_PERMISSIONS.values()
        for app_label, codename in codes
        if (app_label, codename) not in declared_now
    )
    if unknown:
        raise LookupError(f"accounts/roles.py names permissions no model declares: {', '.join(unknown)}")

    # Permissions are normally created after all migrations; a fresh database needs them now.
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    declared_here = declared_permissions(apps)
    for group_name, codes in STAFF_GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set(
            [
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
                for app_label, codename in codes
                if (app_label, codename) in declared_here
            ]
        )


# The head of arbitration sees what arbitrators see, gets the overdue notices, and may block
# accounts (and answer their appeals) like support; unlike support, staff accounts too (never a
# superuser or another head: accounts/rules.py), since blocking those who decide stops claims.
STAFF_GROUP_PERMISSIONS["arbitration_heads"] = [
    *STAFF_GROUP_PERMISSIONS["arbitrators"],
    ("accounts", "block_user"),
    ("accounts", "block_staff"),
    ("accounts", "view_accountappeal"),
    ("accounts", "view_accountevent"),
    # The head switches a rule of the arbitration policy off (and back on), with the reason.
    ("disputes", "switch_policy_rule"),
]
