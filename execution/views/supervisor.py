"""Supervisor page (HTMX): open tasks and their assignment, machines and dispatching,
material approvals and shortages.

The reads are selectors (execution/selectors/supervisor.py); assigning, dispatching and
deciding an approval call the execution services, which hold the rules.
"""

from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import StateConflict
from core.policy import can, require
from core.signatures import (
    SignatureError,
    signature_guard,
    signatures_attach,
)
from core.views_helpers import policy_required, whole_number
from resources.models import Equipment, Operator

from ..models import EventApproval, IssueApproval, LabourBooking, Task
from ..selectors import supervisor as supervisor_selectors
from ..services.approvals import (
    event_approval_decide,
    event_approval_may_decide,
    labour_booking_correct,
)
from ..services.material import issue_approval_decide
from ..services.tasks import dispatch_next, task_assign
from .terminal import errors_text, tasks_with_notices


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


@policy_required("execution.supervisor.view")
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
            "can_decide": can(request.user, "execution.issueapproval.approve"),
            "held_events": _with_may_decide(
                list(supervisor_selectors.pending_event_approvals()), request.user
            ),
            "bookings": _signed(list(supervisor_selectors.labour_bookings_for_review())),
            "can_correct": can(request.user, "execution.labourbooking.correct"),
        }
    )
    return render(request, "execution/supervisor.html", context)


@policy_required("execution.supervisor.view")
@require_GET
def supervisor_tasks(request):
    return render(request, "execution/partials/supervisor_tasks.html", _tasks_context(request))


@policy_required("execution.task.assign")
@require_POST
def supervisor_assign(request, pk: int):
    task = get_object_or_404(supervisor_selectors.open_tasks(), pk=pk)
    require(request.user, "execution.task", "assign", task)  # a supervisor: their work centers
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


@policy_required("execution.task.dispatch")
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


@policy_required("execution.issueapproval.approve")
@require_POST
def supervisor_approval(request, pk: int, decision: str):
    if decision not in ("approve", "reject"):
        raise Http404(f"Unknown decision {decision!r}.")
    approval = get_object_or_404(IssueApproval, pk=pk)
    error, status = "", 200
    try:
        with signature_guard(request):
            approval = issue_approval_decide(
                approval=approval,
                approve=decision == "approve",
                by=request.user,
                note=(request.POST.get("reason") or request.POST.get("note") or "").strip()[:200],
                password=request.POST.get("password", ""),
            )
    except ValidationError as exc:
        error, status = errors_text(exc), 400
    except StateConflict as exc:
        error, status = str(exc), 409
    approval = _signed([supervisor_selectors.approvals().get(pk=pk)])[0]
    return render(
        request,
        "execution/partials/supervisor_approval_row.html",
        {"a": approval, "error": error, "can_decide": True},
        status=status,
    )


# --- held production events and labour corrections (signed) --------------------------------


def _with_may_decide(approvals: list, user) -> list:
    for approval in approvals:
        approval.may_decide = event_approval_may_decide(approval=approval, user=user)
    return approvals


def _signed(records: list) -> list:
    """The records with `signed` set (core.signatures): one query for the list, each
    signature verified against its record as read."""
    signatures_attach(records)
    return records


def _signed_decision(request, decide) -> tuple[str, dict, int]:
    """Run `decide(password=..., reason=...)` with the posted signature, under the sign-in
    lockout (signature_guard): (error, signature errors by field, status) for the row."""
    try:
        with signature_guard(request):
            decide(
                password=request.POST.get("password") or "",
                reason=request.POST.get("reason") or "",
            )
    except SignatureError as exc:
        return "", exc.message_dict, 400
    except ValidationError as exc:
        return errors_text(exc), {}, 400
    except StateConflict as exc:
        return str(exc), {}, 409
    except PermissionDenied as exc:
        return str(exc), {}, 403
    return "", {}, 200


@policy_required("execution.eventapproval.approve")
@require_POST
def supervisor_event_approval(request, pk: int, decision: str):
    """Approve or reject a held production event, signed (password and reason)."""
    if decision not in ("approve", "reject"):
        raise Http404(f"Unknown decision {decision!r}.")
    approval = get_object_or_404(EventApproval, pk=pk)
    error, sign_errors, status = _signed_decision(
        request,
        partial(
            event_approval_decide,
            approval=approval,
            approve=decision == "approve",
            by=request.user,
        ),
    )
    row = _signed(
        _with_may_decide([supervisor_selectors.event_approvals().get(pk=pk)], request.user)
    )[0]
    return render(
        request,
        "execution/partials/supervisor_event_approval_row.html",
        {"h": row, "error": error, "sign_errors": sign_errors},
        status=status,
    )


@policy_required("execution.labourbooking.correct")
@require_POST
def supervisor_labour_correct(request, pk: int):
    """Correct a labour booking's minutes, signed; the original minutes are kept."""
    booking = get_object_or_404(LabourBooking, pk=pk)
    raw = (request.POST.get("minutes") or "").strip()
    error, sign_errors, status = _signed_decision(
        request,
        partial(labour_booking_correct, booking=booking, minutes=raw or "x", by=request.user),
    )
    row = _signed([supervisor_selectors.labour_booking_rows().get(pk=pk)])[0]
    return render(
        request,
        "execution/partials/supervisor_booking_row.html",
        {"b": row, "error": error, "sign_errors": sign_errors, "can_correct": True},
        status=status,
    )
