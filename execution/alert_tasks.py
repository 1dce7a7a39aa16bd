"""Celery tasks for exceptions (imported by ExecutionConfig.ready so the worker knows them)."""

from celery import shared_task

from .services.alerts import alerts_escalate


@shared_task(name="execution.alert_tasks.alerts_escalate_due")
def alerts_escalate_due() -> int:
    """Escalate exceptions past their acknowledgement deadline; running twice is harmless
    (an escalated exception has a new deadline)."""
    return alerts_escalate()
