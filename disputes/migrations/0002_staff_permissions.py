from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import sync_staff_groups

    sync_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial"), ("accounts", "0002_staff_groups"), ("faq", "0003_support_permissions")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
