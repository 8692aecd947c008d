from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("disputes", "0003_dispute_appeal_deadline_at_dispute_claim_flag_due_at_and_more")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
