from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("faq", "0005_articlevote_comment_alter_articlevote_created_at_and_more")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
