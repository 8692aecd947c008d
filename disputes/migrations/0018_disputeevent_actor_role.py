import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, Q

from core.migration_events import actor_roles_fill


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0017_claim_stage_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="disputeevent",
            name="actor_role",
            field=models.CharField(blank=True, db_default="", max_length=16, verbose_name="в роли"),
        ),
        # No change in the database: the time is still set by the application when the row is written.
        migrations.AlterField(
            model_name="disputeevent",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="когда"),
        ),
        actor_roles_fill(
            "disputes",
            "DisputeEvent",
            {"buyer": Q(actor=F("dispute__buyer")), "seller": Q(actor=F("dispute__store__owner"))},
        ),
    ]
