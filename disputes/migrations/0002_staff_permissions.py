from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial"), ("accounts", "0002_staff_groups"), ("faq", "0003_support_permissions")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
