from celery import shared_task
from django.utils import timezone

from . import sweeps


@shared_task(ignore_result=True)
def run_sweep(name: str) -> str:
    return str(sweeps.run(name, timezone.now()))
