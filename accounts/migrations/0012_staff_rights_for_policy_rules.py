from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_accountevent_actor_role"),
        ("disputes", "0020_policy_recommendations"),
    ]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
