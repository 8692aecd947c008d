from celery import shared_task
from django.utils import timezone

from . import sweeps


@shared_task(ignore_result=True)
def run_sweep(name: str) -> str:
    return str(sweeps.run(name, timezone.now()))


# What the notice outbox hands over after commit (core/webhooks.py). No retries of its own: a notice
# not delivered waits for the "marketplace-webhooks" sweep at its next_attempt_at.
@shared_task(ignore_result=True)
def deliver_webhooks(webhook_ids: list[int]) -> int:
    from . import webhooks

    return sum(webhooks.webhook_deliver(webhook_id=webhook_id) for webhook_id in webhook_ids)
