from django.db import migrations


def create_staff_groups(apps, schema_editor):
    from accounts.roles import sync_staff_groups

    sync_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_staff_groups, migrations.RunPython.noop)]
