"""Whose work is it: the object rules of the permission policy for the shop floor.

Registered with `core.policy.scope_register` in `ExecutionConfig.ready()`; the policy asks
them when an action names its object (`may(user, "execution.task", "record", task)`).

- An operator sees and acts on their own tasks only.
- Events on a task come from its operator, the supervisor of its work center (any
  supervisor where the work center names none), or a service account linked to its work
  center (`WorkCenter.service_accounts`).
- Material is issued against the issuer's own tasks, or by the work center's supervisor,
  the supply-chain director, or a linked service account.
- An exception is answered by the person or role it is routed to.

Roles are asked as everywhere else (`core.roles.user_has_role`): an administrator (the admin
role or a superuser) holds every role, as the policy lets administrators do everything.
"""

from core.roles import Role, user_has_role
from resources.selectors.operators import user_operator

from ..models import AlertType, Task, WorkAlert


def operator_of(user):
    """The operator record of a signed-in person, or None."""
    return user_operator(user)


def supervises(user, work_center) -> bool:
    """A supervisor of this work center: the one it names, or any where it names none.
    The one rule for deciding on a work center's floor records: events, held events and
    labour corrections (execution/services/approvals.py)."""
    if not user_has_role(user, Role.SUPERVISOR) or work_center is None:
        return False
    return work_center.supervisor_id in (None, user.pk)


def linked_service_account(user, work_center) -> bool:
    """A service account (integration role) this work center lists as its own."""
    if not user_has_role(user, Role.INTEGRATION) or work_center is None:
        return False
    return work_center.service_accounts.filter(pk=user.pk).exists()


def is_floor_only(user) -> bool:
    """Someone who sees only their own work: an operator or inspector (or anyone with an
    operator record) who holds no role that oversees the floor."""
    if user_has_role(user, Role.SUPERVISOR, Role.PLANNER, Role.PLANT_MANAGER):
        return False
    overseers = (Role.SUPPLY_CHAIN_DIRECTOR, Role.QUALITY_SUPERVISOR, Role.INTEGRATION)
    if user_has_role(user, *overseers):
        return False
    return user_has_role(user, Role.OPERATOR, Role.INSPECTOR) or operator_of(user) is not None


def tasks_visible(queryset, user):
    """The tasks of `queryset` this user may see: an operator's own, everyone else's all."""
    if not is_floor_only(user):
        return queryset
    operator = operator_of(user)
    return queryset.filter(operator=operator) if operator else queryset.none()


def events_visible(queryset, user):
    """The production events of `queryset` this user may see (as `tasks_visible`)."""
    if not is_floor_only(user):
        return queryset
    operator = operator_of(user)
    return queryset.filter(task__operator=operator) if operator else queryset.none()


def task_is_own(user, task: Task) -> bool:
    operator = operator_of(user)
    return operator is not None and task.operator_id == operator.pk


def task_rule(user, action: str, task: Task) -> bool | None:
    """record: the task's operator, its work center's supervisor, or a service account
    linked to its work center; view: operators their own tasks; assign: planners, or the
    work center's supervisor."""
    work_center = task.operation.work_center
    if action == "record":
        return (
            task_is_own(user, task)
            or supervises(user, work_center)
            or linked_service_account(user, work_center)
        )
    if action == "view":
        return not is_floor_only(user) or task_is_own(user, task)
    if action == "assign":
        return user_has_role(user, Role.PLANNER) or supervises(user, work_center)
    return None


def event_operator_allowed(user, task: Task, operator) -> bool:
    """May this user name `operator` as the person who did the work? Operators name only
    themselves; the work center's supervisor and its service accounts anyone."""
    if operator is None:
        return True
    own = operator_of(user)
    if own is not None and own.pk == operator.pk:
        return True
    work_center = task.operation.work_center
    return supervises(user, work_center) or linked_service_account(user, work_center)


def requirement_rule(user, action: str, requirement) -> bool | None:
    """issue: operators against their own tasks only; the work center's supervisor, a
    linked service account and the supply-chain director against any."""
    if action != "issue":
        return None
    operation = requirement.operation
    work_center = operation.work_center
    if user_has_role(user, Role.SUPPLY_CHAIN_DIRECTOR) or supervises(user, work_center):
        return True
    if linked_service_account(user, work_center):
        return True
    task = Task.objects.filter(operation_id=operation.pk).only("operator_id").first()
    return task is not None and task_is_own(user, task)


def alert_answer_roles(alert: WorkAlert, action: str) -> tuple[str, ...]:
    """The roles that may answer an exception besides its handler: the role it is routed
    to, the plant manager; for a quality problem the quality supervisor; a production
    supervisor may also resolve."""
    roles = [alert.handler_role, Role.PLANT_MANAGER]
    if alert.alert_type == AlertType.QUALITY:
        roles.append(Role.QUALITY_SUPERVISOR)
    if action == "resolve":
        roles.append(Role.SUPERVISOR)
    return tuple(roles)


def alert_rule(user, action: str, alert: WorkAlert) -> bool | None:
    """acknowledge and resolve: the person or role the exception is routed to, the plant
    manager, the quality supervisor for a quality problem; a production supervisor may
    also resolve."""
    if action not in ("acknowledge", "resolve"):
        return None
    if alert.handler_id and alert.handler_id == getattr(user, "pk", None):
        return True
    return user_has_role(user, *alert_answer_roles(alert, action))
