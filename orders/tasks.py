from celery import shared_task

from . import payments


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_refund(refund_id: int) -> bool:
    return payments.refund_send(refund_id=refund_id)
