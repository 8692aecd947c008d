from django.db import migrations
from django.db.models import F, Q


def forget_answers_after_the_negotiation(apps, schema_editor):
    """A seller's first act after the buyer escalated, or after the request was granted for the
    seller's silence, is not an answer to the dispute (disputes.services.record no longer marks
    it): the store's record read weeks of arbitration as the time to answer."""
    Dispute = apps.get_model("disputes", "Dispute")
    Dispute.objects.filter(
        Q(escalated_at__isnull=False, seller_answered_at__gt=F("escalated_at"))
        | Q(seller_silent=True, resolved_at__isnull=False, seller_answered_at__gt=F("resolved_at"))
    ).update(seller_answered_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0018_disputeevent_actor_role"),
    ]

    # Going back keeps the cleared column: the answers it held were not answers to the dispute.
    operations = [migrations.RunPython(forget_answers_after_the_negotiation, migrations.RunPython.noop)]
