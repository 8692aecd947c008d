from celery import shared_task

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def execute_refund(dispute_id: int) -> bool:
    return services.refund_execute(dispute_id=dispute_id) is not None
