import os
from typing import Any

from celery import Celery
from celery.schedules import crontab

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


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The one beat schedule: a short task per registered sweep (core.sweeps); no timer lives in
    the broker."""
    import django
    from django.apps import apps
    from django.conf import settings

    if not apps.ready:
        django.setup()  # the apps register their sweeps when Django starts
    from core.sweeps import registered

    schedule: dict[str, dict[str, Any]] = {}
    for name, entry in registered().items():
        if entry.daily_at_hour is None:
            schedule[f"sweep-{name}"] = {
                "task": "core.tasks.run_sweep",
                "schedule": settings.DEADLINE_SWEEP_SECONDS,
                "args": (name,),
                # A sweep that could not start within its own interval is dropped, not piled up.
                "options": {"expires": settings.DEADLINE_SWEEP_SECONDS},
            }
        else:
            schedule[f"sweep-{name}"] = {
                "task": "core.tasks.run_sweep",
                "schedule": crontab(hour=entry.daily_at_hour, minute=0),
                "args": (name,),
            }
    return schedule


@app.on_after_configure.connect
def _install_beat_schedule(sender: Celery, **kwargs: Any) -> None:
    sender.conf.beat_schedule = beat_schedule()
