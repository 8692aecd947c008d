from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("disputes", "0011_refunds_move_to_orders"), ("orders", "0006_refunds_ledger")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
