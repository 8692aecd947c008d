from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("disputes", "0012_staff_rights_for_claims")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
