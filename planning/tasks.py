from celery import shared_task

from .services import bom_low_level_codes_update


@shared_task(name="planning.tasks.bom_low_level_codes_refresh")
def bom_low_level_codes_refresh() -> int:
    """Recompute low-level codes; idempotent."""
    return bom_low_level_codes_update()
