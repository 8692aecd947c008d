from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("disputes", "0007_refund_due_at_stored_files")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
