from celery import shared_task

from . import auth, emails


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def send_email(email_id: int) -> bool:
    return emails.email_send(email_id=email_id)


# What the outbox hands over after commit: the mails one transaction (or a sweep's batch) queued.
# Sending one twice is harmless (email_send skips a mail another worker holds or has sent).
@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def send_emails(email_ids: list[int]) -> int:
    return sum(emails.email_send(email_id=email_id) for email_id in email_ids)


# The lookups behind "if the address has an account, we sent a letter": in a worker, so the
# request takes the same time either way (accounts.auth). Idempotent per request_id.
@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def password_reset_mail(email: str, request_id: str) -> int:
    return auth.password_reset_mail(email=email, request_id=request_id)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def sign_up_mail(email: str, username: str, role: str, store_name: str, language: str, request_id: str) -> int:
    return auth.sign_up_mail(
        email=email, username=username, role=role, store_name=store_name, language=language, request_id=request_id
    )
