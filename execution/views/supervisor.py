"""Supervisor page (HTMX): open tasks and their assignment, machines and dispatching,
material approvals and shortages.

The reads are selectors (execution/selectors/supervisor.py); assigning, dispatching and
deciding an approval call the execution services, which hold the rules.
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import StateConflict
from core.roles import Role, user_has_role
from core.views_helpers import role_required, whole_number
from resources.models import Equipment, Operator

from ..models import IssueApproval, Task
from ..selectors import supervisor as supervisor_selectors
from ..services.material import issue_approval_decide
from ..services.tasks import dispatch_next, task_assign
from .terminal import errors_text, tasks_with_notices

SUPERVISING = (Role.SUPERVISOR, Role.PLANNER)


def _tasks_context(request) -> dict:
    tasks = tasks_with_notices(list(supervisor_selectors.open_tasks()))
    running = {}
    for task in tasks:
        if task.status == Task.Status.RUNNING and task.equipment_id:
            running.setdefault(task.equipment_id, task)
    return {
        "tasks": tasks,
        "operators": supervisor_selectors.active_operators(),
        "running": running,
    }


@role_required(*SUPERVISING)
@require_GET
def supervisor(request):
    context = _tasks_context(request)
    machines = supervisor_selectors.machines_with_last_decision()
    for machine in machines:
        machine.running_task = context["running"].get(machine.pk)
    context.update(
        {
            "machines": machines,
            "approvals": list(supervisor_selectors.pending_approvals()),
            "shortages": list(supervisor_selectors.open_shortages()),
            "can_decide": user_has_role(request.user, Role.PLANNER),
        }
    )
    return render(request, "execution/supervisor.html", context)


@role_required(*SUPERVISING)
@require_GET
def supervisor_tasks(request):
    return render(request, "execution/partials/supervisor_tasks.html", _tasks_context(request))


@role_required(*SUPERVISING)
@require_POST
def supervisor_assign(request, pk: int):
    task = get_object_or_404(supervisor_selectors.open_tasks(), pk=pk)
    raw = (request.POST.get("operator") or "").strip()
    number = whole_number(raw)
    operator = Operator.objects.filter(pk=number, active=True).first() if number else None
    error, message, status = "", "", 200
    if operator is None:
        error, status = "Choose an operator.", 400
    else:
        try:
            task = task_assign(
                task=task,
                operator=operator,
                by=request.user,
                note=(request.POST.get("note") or "").strip()[:180],
            )
            message = f"Assigned to {operator.name}."
        except ValidationError as exc:
            error, status = errors_text(exc), 400
        except StateConflict as exc:
            error, status = str(exc), 409
    return render(
        request,
        "execution/partials/supervisor_task_row.html",
        {
            "task": tasks_with_notices(
                [supervisor_selectors.open_tasks().filter(pk=pk).first() or task]
            )[0],
            "operators": supervisor_selectors.active_operators(),
            "error": error,
            "message": message,
        },
        status=status,
    )


@role_required(*SUPERVISING)
@require_POST
def supervisor_dispatch(request, pk: int):
    machine = get_object_or_404(Equipment.objects.select_related("work_center"), pk=pk)
    chosen = dispatch_next(equipment=machine, by=request.user)
    machine.last_decision = supervisor_selectors.machine_last_decision(machine)
    machine.running_task = (
        supervisor_selectors.open_tasks()
        .filter(equipment=machine, status=Task.Status.RUNNING)
        .first()
    )
    response = render(
        request,
        "execution/partials/supervisor_machine_row.html",
        {"m": machine, "dispatched": True, "chosen": chosen},
    )
    # The chosen task now names this machine: the open-task tables reload themselves.
    response["HX-Trigger"] = "supervisor-tasks-changed"
    return response


@role_required(Role.PLANNER)
@require_POST
def supervisor_approval(request, pk: int, decision: str):
    if decision not in ("approve", "reject"):
        raise Http404(f"Unknown decision {decision!r}.")
    approval = get_object_or_404(IssueApproval, pk=pk)
    error, status = "", 200
    try:
        approval = issue_approval_decide(
            approval=approval,
            approve=decision == "approve",
            by=request.user,
            note=(request.POST.get("note") or "").strip()[:200],
        )
    except ValidationError as exc:
        error, status = errors_text(exc), 400
    except StateConflict as exc:
        error, status = str(exc), 409
    approval = supervisor_selectors.approvals().get(pk=pk)
    return render(
        request,
        "execution/partials/supervisor_approval_row.html",
        {"a": approval, "error": error, "can_decide": True},
        status=status,
    )
