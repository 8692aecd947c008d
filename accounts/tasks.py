from celery import shared_task

from . import emails


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def send_email(email_id: int) -> bool:
    return emails.email_send(email_id=email_id)
