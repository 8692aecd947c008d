import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpcenter.settings")

app = Celery("helpcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")

app.conf.update(
    # Sweeps and mail tasks are idempotent, so a message whose worker died is redelivered.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    timezone="UTC",
)
app.autodiscover_tasks()

# The one beat schedule of the project. Every entry is a short sweep over indexed deadline
# columns; none of them keeps a timer in the broker.
app.conf.beat_schedule = {
    "send-pending-email": {"task": "accounts.tasks.send_pending_email", "schedule": 60.0},
}
