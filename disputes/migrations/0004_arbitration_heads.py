from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import sync_staff_groups

    sync_staff_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("disputes", "0003_dispute_appeal_deadline_at_dispute_claim_flag_due_at_and_more")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
