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
app.conf.imports = ("helpcenter.tasks",)
app.autodiscover_tasks()


@app.on_after_configure.connect
def _install_beat_schedule(sender, **kwargs):
    # The one beat schedule of the project, read from helpcenter/deadlines.py. Every entry is a
    # short sweep over indexed deadline columns; no timer lives in the broker.
    from .deadlines import beat_schedule

    sender.conf.beat_schedule = beat_schedule()
