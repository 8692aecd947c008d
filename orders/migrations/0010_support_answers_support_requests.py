from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_support_requests"), ("reports", "0002_support_handles_reports")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
