"""Every Celery task of the shop floor: thin wrappers around services, safe to run twice.

Task names are explicit and stable: the beat schedule (config/beat.py) and messages already
queued name them."""

from celery import shared_task

from core.parsing import aware_instant_parse

from .services.alerts import alerts_escalate
from .services.progress import progress_rollup_run


@shared_task(name="execution.tasks.progress_rollup")
def progress_rollup(at: str | None = None) -> dict:
    """Hourly roll-up of plan vs actual into progress snapshots (beat, or on demand).

    Keyed by the hour: a second run in the same hour updates that hour's snapshots and
    creates none. `at` (ISO 8601) runs it as of another instant; tests and replays use it.
    """
    now = aware_instant_parse(at) if at else None
    return progress_rollup_run(now=now)


# Named after the module it was first defined in: beat and queued messages use this name.
@shared_task(name="execution.alert_tasks.alerts_escalate_due")
def alerts_escalate_due() -> int:
    """Escalate exceptions past their acknowledgement deadline; running twice is harmless
    (an escalated exception has a new deadline)."""
    return alerts_escalate()
