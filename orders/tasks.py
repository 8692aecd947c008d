from celery import shared_task
from django.db import transaction

from . import payments


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_refund(refund_id: int) -> bool:
    # refund_send is also the refunds sweep's row action, so it is the inner kind: the task opens
    # the durable transaction itself.
    with transaction.atomic(durable=True):
        return payments.refund_send(refund_id=refund_id)
