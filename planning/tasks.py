from celery import shared_task

from .services import bom_low_level_codes_update


@shared_task(name="planning.tasks.bom_low_level_codes_refresh")
def bom_low_level_codes_refresh() -> int:
    """Recompute low-level codes; idempotent."""
    return bom_low_level_codes_update()


@shared_task(name="planning.tasks.mrp_run_task")
def mrp_run_task(run_id: int) -> int:
    """Execute a queued MRP run; a second delivery finds it done and does nothing."""
    from .services.mrp import mrp_run_execute

    return mrp_run_execute(run_id=run_id).pk


@shared_task(name="planning.tasks.schedule_run_task")
def schedule_run_task(run_id: int) -> int:
    """Solve and apply a queued schedule run; a second delivery does nothing."""
    from .services.schedule import schedule_run_execute

    return schedule_run_execute(run_id=run_id).pk


@shared_task(name="planning.tasks.import_job_task")
def import_job_task(job_id: int) -> int:
    """Run a queued master-data import job; a second delivery finds it finished, does nothing."""
    from .imports import import_job_execute

    return import_job_execute(job_id=job_id).pk
