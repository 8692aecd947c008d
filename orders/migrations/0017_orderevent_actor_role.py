import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, Q

from core.migration_events import actor_roles_fill


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0016_order_feed"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderevent",
            name="actor_role",
            field=models.CharField(blank=True, db_default="", max_length=16, verbose_name="в роли"),
        ),
        # No change in the database: the time is still set by the application when the row is written.
        migrations.AlterField(
            model_name="orderevent",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="когда"),
        ),
        actor_roles_fill(
            "orders",
            "OrderEvent",
            {"buyer": Q(actor=F("order__buyer")), "seller": Q(actor=F("order__store__owner"))},
        ),
    ]
