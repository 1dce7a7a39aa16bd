"""Whose inspection is it: the object rule of the permission policy for quality records.

Registered with `core.policy.scope_register` in `QualityConfig.ready()`. Someone who sees
only their own work on the floor (an operator) records inspections only on their own tasks
(execution's ownership rule decides whose a task is); inspectors, supervisors and quality
supervisors on any.
"""

from core.roles import Role, user_has_role
from execution.selectors.ownership import task_is_own

INSPECTING = (Role.INSPECTOR, Role.SUPERVISOR, Role.QUALITY_SUPERVISOR)


def inspection_rule(user, action: str, obj) -> bool | None:
    """add (`obj` is the task inspected): operators on their own tasks only; inspectors,
    supervisors and quality supervisors on any."""
    if action != "add" or obj is None:
        return None
    if user_has_role(user, *INSPECTING) or not hasattr(obj, "operator_id"):
        return True
    return task_is_own(user, obj)
