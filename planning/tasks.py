"""Every Celery task of planning: thin wrappers around services, safe to run twice.

Task names are explicit and stable: the beat schedule (config/beat.py) and messages already
queued name them."""

from celery import shared_task

from .services.bom import bom_low_level_codes_update
from .services.imports import import_job_execute
from .services.mrp import mrp_run_execute
from .services.schedule import schedule_run_execute


@shared_task(name="planning.tasks.bom_low_level_codes_refresh")
def bom_low_level_codes_refresh() -> int:
    """Recompute low-level codes; idempotent."""
    return bom_low_level_codes_update()


@shared_task(name="planning.tasks.mrp_run_task")
def mrp_run_task(run_id: int) -> int:
    """Execute a queued MRP run; a second delivery finds it done and does nothing."""
    return mrp_run_execute(run_id=run_id).pk


@shared_task(name="planning.tasks.schedule_run_task")
def schedule_run_task(run_id: int) -> int:
    """Solve and apply a queued schedule run; a second delivery does nothing."""
    return schedule_run_execute(run_id=run_id).pk


@shared_task(name="planning.tasks.import_job_task")
def import_job_task(job_id: int) -> int:
    """Run a queued master-data import job; a second delivery finds it finished, does nothing."""
    return import_job_execute(job_id=job_id).pk
