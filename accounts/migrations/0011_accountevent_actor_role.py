import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, Q

from core.migration_events import actor_roles_fill


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_staff_rights_for_marketplace"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountevent",
            name="actor_role",
            field=models.CharField(blank=True, db_default="", max_length=16, verbose_name="в роли"),
        ),
        # No change in the database: every service passes the time it acted at.
        migrations.AlterField(
            model_name="accountevent",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="когда"),
        ),
        # The account's holder (an appeal) acts as what the account is.
        actor_roles_fill(
            "accounts",
            "AccountEvent",
            {
                "buyer": Q(actor=F("user"), user__role="buyer"),
                "seller": Q(actor=F("user"), user__role="seller"),
            },
        ),
    ]
