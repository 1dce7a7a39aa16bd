"""Whose inspection is it: the object rule of the permission policy for quality records.

Registered with `core.policy.scope_register` in `QualityConfig.ready()`. Someone who sees
only their own work on the floor (an operator) records inspections only on their own tasks
(execution's ownership rule decides whose a task is); inspectors, supervisors and quality
supervisors on any.
"""

from core.policy import may
from execution.selectors.ownership import task_is_own


def inspection_rule(user, action: str, obj) -> bool | None:
    """add (`obj` is the task inspected): operators on their own tasks only; inspectors,
    supervisors and quality supervisors on any."""
    if action != "add" or obj is None:
        return None
    # Who records on any task: the policy's quality.inspectionrecord / add_any.
    if may(user, "quality.inspectionrecord", "add_any") or not hasattr(obj, "operator_id"):
        return True
    return task_is_own(user, obj)
