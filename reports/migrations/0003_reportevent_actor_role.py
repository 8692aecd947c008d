import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, Q

from core.migration_events import actor_roles_fill


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_support_handles_reports"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportevent",
            name="actor_role",
            field=models.CharField(blank=True, db_default="", max_length=16, verbose_name="в роли"),
        ),
        # No change in the database: every service passes the time it acted at.
        migrations.AlterField(
            model_name="reportevent",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="когда"),
        ),
        actor_roles_fill(
            "reports",
            "ReportEvent",
            {"reporter": Q(actor=F("report__reporter")), "reported": Q(actor=F("report__reported_user"))},
        ),
    ]
