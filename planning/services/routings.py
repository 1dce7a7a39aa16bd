"""Writes on routings that other apps make: quality names the inspection plan of a step."""

from ..models import RoutingStep


def routing_step_inspection_plan_set(*, routing_step: RoutingStep, code: str) -> None:
    """The step's operations are inspected by the plan with this code (the orders released
    from now on copy it); nothing is written when the step names it already."""
    if routing_step.inspection_plan_ref != code:
        RoutingStep.objects.filter(pk=routing_step.pk).update(inspection_plan_ref=code)
