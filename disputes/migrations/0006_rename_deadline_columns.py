from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("disputes", "0005_arbitrators_change_dispute")]

    operations = [
        migrations.RenameField(model_name="dispute", old_name="auto_claim_at", new_name="auto_claim_due_at"),
        migrations.RenameField(model_name="dispute", old_name="appeal_deadline_at", new_name="appeal_due_at"),
    ]
