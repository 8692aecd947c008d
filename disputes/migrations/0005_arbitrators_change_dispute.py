from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import sync_staff_groups

    sync_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("disputes", "0004_arbitration_heads")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
