from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("faq", "0002_postgres_search"), ("accounts", "0002_staff_groups")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
