"""Celery tasks of the shop floor: thin wrappers around services, safe to run twice."""

from celery import shared_task
from django.utils.dateparse import parse_datetime


@shared_task(name="execution.tasks.progress_rollup")
def progress_rollup(at: str | None = None) -> dict:
    """Hourly roll-up of plan vs actual into progress snapshots (beat, or on demand).

    Keyed by the hour: a second run in the same hour updates that hour's snapshots and
    creates none. `at` (ISO 8601) runs it as of another instant; tests and replays use it.
    """
    from .services.progress import progress_rollup_run

    now = parse_datetime(at) if at else None
    return progress_rollup_run(now=now)
