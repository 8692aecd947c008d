from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_marketplace_ids"),
        ("core", "0001_outgoing_webhooks"),
        ("orders", "0016_order_feed"),
    ]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
