from datetime import datetime, timedelta

from django.conf import settings

from core.sweeps import SweepResult, register

from .models import SearchLog


@register("search-log-retention", description="поиски в справке старше 90 дней удаляются", daily_at_hour=3)
def delete_old_searches(now: datetime) -> SweepResult:
    """Delete in batches so one run never holds a long transaction."""
    result = SweepResult("search-log-retention")
    cutoff = now - timedelta(days=settings.SEARCH_LOG_RETENTION_DAYS)
    while ids := list(SearchLog.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:1000]):
        deleted, _details = SearchLog.objects.filter(pk__in=ids).delete()
        result.changed += deleted
    return result
