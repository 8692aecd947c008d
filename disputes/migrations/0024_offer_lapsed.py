from django.db import migrations, models
from django.db.models import Exists, OuterRef


def mark_lapsed(apps, schema_editor):
    """Offers stored as "superseded" that no later offer replaced lapsed when the negotiation
    ended (a claim, or the buyer cancelled)."""
    Offer = apps.get_model("disputes", "Offer")
    later = Offer.objects.filter(dispute=OuterRef("dispute"), created_at__gt=OuterRef("created_at"))
    Offer.objects.filter(status="superseded").exclude(Exists(later)).update(status="lapsed")


def mark_superseded(apps, schema_editor):
    Offer = apps.get_model("disputes", "Offer")
    Offer.objects.filter(status="lapsed").update(status="superseded")


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0023_claim_undecided_queue_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="offer",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "ждёт ответа"),
                    ("accepted", "принято"),
                    ("refused", "отклонено"),
                    ("superseded", "заменено новым"),
                    ("lapsed", "не действует: переговоры закончились"),
                ],
                default="pending",
                max_length=12,
                verbose_name="статус",
            ),
        ),
        migrations.RunPython(mark_lapsed, mark_superseded),
    ]
