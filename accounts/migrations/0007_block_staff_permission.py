from django.db import migrations

from accounts.roles import sync_staff_groups_migration


class Migration(migrations.Migration):
    """The right to block staff (accounts.block_staff), given to heads of arbitration; superusers
    hold it anyway. Depends on every app's latest migration, so each group gets all it lists."""

    dependencies = [
        ("accounts", "0006_outbox_rendered_at_send"),
        ("orders", "0015_admin_russian_names"),
        ("disputes", "0017_claim_stage_index"),
        ("faq", "0009_searchword_trigram_gist"),
        ("reports", "0002_support_handles_reports"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [
                    ("block_user", "Может блокировать и разблокировать пользователей"),
                    ("block_staff", "Может блокировать и разблокировать сотрудников"),
                ],
                "verbose_name": "пользователь",
                "verbose_name_plural": "пользователи",
            },
        ),
        migrations.RunPython(sync_staff_groups_migration, migrations.RunPython.noop),
    ]
