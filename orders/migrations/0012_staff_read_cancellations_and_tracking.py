from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    dependencies = [("orders", "0011_shipping_cancellation_tracking")]

    operations = [migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop)]
