from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_order_under_dispute_order_order_protection_due_idx")]

    operations = [
        migrations.RemoveIndex(model_name="order", name="order_protection_due_idx"),
        migrations.RenameField(model_name="order", old_name="protection_ends_at", new_name="protection_due_at"),
        migrations.RenameField(model_name="order", old_name="under_dispute", new_name="has_dispute"),
    ]
