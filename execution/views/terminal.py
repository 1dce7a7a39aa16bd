"""Operator terminal (HTMX).

The terminal is made for a touch screen with a USB barcode scanner: big buttons, and one scan
input that keeps the focus (a scanner "types" the code and presses Enter). Each form carries an
`event_id` made when it is rendered, so a double tap or a retried POST is recorded once.

These views only turn a tap or a scan into a call of the execution services
(`event_record`, `material_issue`, `task_assign`, `dispatch_next`, `issue_approval_decide`)
and the answer into a card; the rules live in the services. A refused action is shown in its
card with the service's message and answered with the service's status code (400, 403, 409).
A task a supervisor has moved to someone else answers, on its card, who has it now.
"""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import wraps
from uuid import uuid4

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import StateConflict
from core.formatting import person_name, quantity_format
from core.models import AuditEntry
from core.parsing import barcode_parse
from core.texts import Text
from core.views_helpers import error_text, htmx_render, policy_required, whole_number
from resources.models import Item, MaterialLot, Operator, StockBalance
from resources.selectors.equipment import work_center_only_machine

from ..engines import serials
from ..models import (
    AlertType,
    IssueApproval,
    MaterialIssue,
    MaterialRequirement,
    ProductionEvent,
    Severity,
    Task,
)
from ..selectors.tasks import LOTS_SHOWN, lots_available, task_notices
from ..services.alerts import alert_raise, default_downtime_minutes, severity_for_impact
from ..services.events import event_record
from ..services.material import material_issue

TERMINAL = ProductionEvent.Source.TERMINAL

EVENT_ACTIONS = (
    ProductionEvent.Kind.START,
    ProductionEvent.Kind.PAUSE,
    ProductionEvent.Kind.RESUME,
    ProductionEvent.Kind.REPORT,
    ProductionEvent.Kind.COMPLETE,
)
FORM_IDS = (*EVENT_ACTIONS, "material", "alert")
# The exceptions an operator can raise from a task card: (label, exception type, severity
# when the work goes on, severity when it is stopped). The routing rules decide who must
# respond.
ALERT_KINDS = {
    "machine": (
        gettext_noop("Machine fault"),
        AlertType.EQUIPMENT_FAULT,
        Severity.URGENT,
        Severity.SEVERE,
    ),
    "material": (
        gettext_noop("Material missing"),
        AlertType.MATERIAL_SHORTAGE,
        Severity.URGENT,
        Severity.SEVERE,
    ),
    "quality": (
        gettext_noop("Quality problem"),
        AlertType.QUALITY,
        Severity.GENERAL,
        Severity.URGENT,
    ),
    "other": (gettext_noop("Other"), AlertType.OTHER, Severity.GENERAL, Severity.URGENT),
}
STOP_MINUTES_MAX = 7 * 24 * 60  # an expected stop the terminal takes: up to a week
# An exception raised at the terminal, by (a machine is named, the operator wrote a note).
TERMINAL_REPORTS = {
    (True, True): gettext_noop(
        "%(kind)s on %(machine)s at %(order)s/%(sequence)s %(operation)s, reported at the "
        "terminal by %(operator)s: %(note)s"
    ),
    (True, False): gettext_noop(
        "%(kind)s on %(machine)s at %(order)s/%(sequence)s %(operation)s, reported at the "
        "terminal by %(operator)s."
    ),
    (False, True): gettext_noop(
        "%(kind)s at %(order)s/%(sequence)s %(operation)s, reported at the terminal by "
        "%(operator)s: %(note)s"
    ),
    (False, False): gettext_noop(
        "%(kind)s at %(order)s/%(sequence)s %(operation)s, reported at the terminal by "
        "%(operator)s."
    ),
}
ALERT_KIND_CHOICES = [(kind, spec[0]) for kind, spec in ALERT_KINDS.items()]
PAUSE_REASONS = [
    gettext_noop("Tool or die change"),
    gettext_noop("Material missing"),
    gettext_noop("Machine fault"),
    gettext_noop("Quality problem"),
    gettext_noop("Waiting for inspection"),
    gettext_noop("Setup / adjustment"),
    gettext_noop("Break"),
    gettext_noop("Other"),
]
# Running work first, then what can start, then what waits; done work (kept a shift) last.
STATUS_RANK = {
    Task.Status.RUNNING: 0,
    Task.Status.PAUSED: 1,
    Task.Status.READY: 2,
    Task.Status.BLOCKED: 3,
    Task.Status.QUEUED: 4,
    Task.Status.DONE: 5,
}
DONE_SHOWN_FOR = timedelta(hours=12)
FIELD_LABELS = {
    "quantity_good": gettext_lazy("Good quantity"),
    "quantity_scrap": gettext_lazy("Scrap quantity"),
    "trace_code": gettext_lazy("Trace code"),
    "trace_code_to": gettext_lazy("Last serial"),
    "reason": gettext_lazy("Reason"),
    "quantity": gettext_lazy("Quantity"),
    "code": gettext_lazy("Scan"),
    "barcode": gettext_lazy("Label"),
    "lot": gettext_lazy("Lot"),
    "operator": gettext_lazy("Operator"),
    "event_id": gettext_lazy("Form"),
}


def errors_text(errors: dict | ValidationError) -> str:
    """A refusal as the card shows it: each message after its field's terminal label."""
    return error_text(errors, FIELD_LABELS)


# --- Operator terminal ----------------------------------------------------------------------


def _operator_of(user) -> Operator | None:
    # The reverse one-to-one raises RelatedObjectDoesNotExist (an AttributeError) when absent.
    return getattr(user, "operator", None)


def _task_queryset(operator: Operator | None = None):
    """Tasks (the operator's, when given) with everything a card shows, in a constant number
    of queries."""
    requirements = MaterialRequirement.objects.select_related("item").prefetch_related(
        Prefetch(
            "approvals",
            queryset=IssueApproval.objects.filter(status=IssueApproval.Status.PENDING),
            to_attr="pending_approvals",
        )
    )
    tasks = Task.objects.select_related("order__item", "operation__work_center", "equipment")
    if operator is not None:
        tasks = tasks.filter(operator=operator)
    return tasks.prefetch_related(
        Prefetch("operation__material_requirements", queryset=requirements, to_attr="reqs")
    )


def _with_form_ids(task: Task) -> Task:
    task.form_ids = {name: str(uuid4()) for name in FORM_IDS}
    task.serial = task.order.item.tracking == Item.Tracking.SERIAL
    task.lot_tracked = task.order.item.tracking == Item.Tracking.LOT
    return task


def _my_tasks(operator: Operator) -> list[Task]:
    since = timezone.now() - DONE_SHOWN_FOR
    tasks = _task_queryset(operator).filter(
        Q(status__in=Task.OPEN) | Q(status=Task.Status.DONE, ended_at__gte=since)
    )
    ordered = sorted(
        tasks,
        key=lambda t: (STATUS_RANK.get(t.status, 9), t.order.due_date, t.operation.sequence, t.pk),
    )
    return tasks_with_notices([_with_form_ids(t) for t in ordered])


def tasks_with_notices(tasks: list[Task]) -> list[Task]:
    """What other apps say about the open tasks (a quality hold that stops one, …)."""
    notices = task_notices([t for t in tasks if t.status in Task.OPEN])
    # The lots on hand of each material line, to pick one when issuing (FEFO, then FIFO).
    lots = lots_available(r.item_id for t in tasks for r in getattr(t.operation, "reqs", ()))
    for task in tasks:
        task.notices = notices.get(task.pk, [])
        for r in getattr(task.operation, "reqs", ()):
            r.lots = lots.get(r.item_id, [])[:LOTS_SHOWN]
    return tasks


class TaskReassigned(Exception):
    """The operator acted on a task that was theirs and is now someone else's."""

    def __init__(self, task: Task):
        super().__init__(
            _("Task %(order)s/%(sequence)s is no longer assigned to you.")
            % {"order": task.order.number, "sequence": task.operation.sequence}
        )
        self.task = task


def _assignments(task_pk: int):
    """The audit trail of a task's assignments by supervisors, newest first."""
    return AuditEntry.objects.filter(
        action="task.assign", object_type=Task._meta.label_lower, object_id=str(task_pk)
    )


def _my_task_or_404(request, pk: int) -> Task:
    """One of the signed-in operator's tasks.

    A task a supervisor took away from this operator raises TaskReassigned (its card then
    says who has it); any other task is a 404, not even its existence is told.
    """
    operator = _operator_of(request.user)
    if operator is None:
        raise Http404(_("You have no operator record."))
    task = _task_queryset(operator).filter(pk=pk).first()
    if task is not None:
        return task
    # Only task_assign moves a task from one operator to another, and it records the
    # operator it took the task from.
    if _assignments(pk).filter(data__from=operator.pk).exists():
        raise TaskReassigned(_task_queryset().get(pk=pk))
    raise Http404(_("No such task of yours."))


def _when(at: datetime) -> str:
    local = timezone.localtime(at)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M}"
    return f"{local:%m-%d %H:%M}"


def _reassignment(task: Task) -> dict:
    """Who assigned the task to its operator, and when (for the card of a task moved away)."""
    entry = _assignments(task.pk).select_related("actor").first()
    if entry is None:
        return {}
    actor = entry.actor
    return {
        "by": person_name(actor) if actor else "",
        "at": _when(entry.at),
    }


def _card(
    request,
    task: Task,
    *,
    message="",
    error="",
    warning="",
    status=200,
    scan_ids=True,
    pause_open=False,
    alert_open=False,
):
    """One task card, freshly read, with new form ids (and a new id for the scan bar).

    The caller has checked the task is, or was, the operator's; it is read again without that
    filter so that a task reassigned in the meantime answers with a card that says who has it
    now (and no actions).
    """
    fresh = tasks_with_notices([_with_form_ids(_task_queryset().get(pk=task.pk))])[0]
    operator = _operator_of(request.user)
    fresh.reassigned = operator is None or fresh.operator_id != operator.pk
    if fresh.reassigned:
        fresh.reassignment = _reassignment(fresh)
    return render(
        request,
        "execution/partials/terminal_task_response.html",
        {
            "task": fresh,
            "message": message,
            "error": error,
            "warning": warning,
            "pause_reasons": PAUSE_REASONS,
            "pause_open": pause_open,
            "alert_kinds": ALERT_KIND_CHOICES,
            "alert_open": alert_open,
            "scan_event_id": str(uuid4()) if scan_ids else "",
        },
        status=status,
    )


def _answers_reassigned(view):
    """A task card view that, for a task moved to someone else, answers with the card saying
    who has it now: a refused action (403, as the event service answers), nothing recorded."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except TaskReassigned as exc:
            if request.method == "GET":
                response = _card(request, exc.task, scan_ids=False)
            else:
                response = _card(request, exc.task, error=_("Nothing was recorded."), status=403)
            # The scan bar's answer goes to the task's card as well.
            response["HX-Retarget"] = f"#terminal-task-{exc.task.pk}"
            response["HX-Reswap"] = "outerHTML"
            return response

    return wrapper


@policy_required("execution.terminal.view")
@require_GET
def terminal(request):
    operator = _operator_of(request.user)
    context = {
        "operator": operator,
        "tasks": _my_tasks(operator) if operator else [],
        "pause_reasons": PAUSE_REASONS,
        "alert_kinds": ALERT_KIND_CHOICES,
        "scan_event_id": str(uuid4()),
    }
    return htmx_render(
        request, "execution/terminal.html", "execution/partials/terminal_tasks.html", context
    )


@policy_required("execution.workalert.add")
@require_POST
@_answers_reassigned
def terminal_alert_raise(request, pk: int):
    """Raise an exception about this task from the terminal: a machine fault (on the task's
    machine), missing material, a quality problem or anything else; the form's id makes a
    second tap of the same form change nothing."""
    task = _my_task_or_404(request, pk)
    kind = request.POST.get("kind") or ""
    if kind not in ALERT_KINDS:
        return _card(
            request, task, error=_("Choose the kind of exception."), status=400, alert_open=True
        )
    label, alert_type, severity, stopped_severity = ALERT_KINDS[kind]
    stopped = request.POST.get("stopped") == "on"
    note = (request.POST.get("note") or "").strip()[:500]
    raw_hours = (request.POST.get("stop_hours") or "").strip()
    stop_minutes = None
    if raw_hours:
        try:
            stop_minutes = round(float(raw_hours.replace(",", ".")) * 60)
        except ValueError:
            stop_minutes = -1
        if not 0 < stop_minutes <= STOP_MINUTES_MAX:
            return _card(
                request,
                task,
                error=f"Expected stop: {raw_hours!r} is not a number of hours from 0.1 to "
                f"{STOP_MINUTES_MAX // 60}.",
                status=400,
                alert_open=True,
            )
    machine = task.equipment or task.operation.equipment
    if machine is None:  # a work center of one machine: that one
        machine = work_center_only_machine(task.operation.work_center_id)
    if kind == "machine" and machine is None:
        return _card(
            request,
            task,
            error=_("Which machine? None is set for this task: a supervisor dispatches it to one."),
            status=400,
            alert_open=True,
        )
    operator = _operator_of(request.user)
    # The system's words around the operator's note, read in the reader's language.
    description = Text(
        TERMINAL_REPORTS[(machine is not None, bool(note))],
        kind=Text(label),
        machine=machine.code if machine else "",
        order=task.order.number,
        sequence=task.operation.sequence,
        operation=task.operation.name,
        operator=operator.name,
        note=note,
    )
    form_id = (request.POST.get("event_id") or "").strip()
    if stopped and kind == "machine":
        # Severity follows the expected stop (the rules' thresholds): about 4 h is urgent,
        # for the work center's supervisor; a shift or more is severe.
        stop_minutes = stop_minutes or default_downtime_minutes()
        chosen = severity_for_impact(
            alert_type=alert_type, stop_minutes=stop_minutes, at_least=severity
        )
    elif stopped and kind == "material":
        chosen = severity_for_impact(alert_type=alert_type, bites_in_minutes=0, at_least=severity)
    else:
        chosen = stopped_severity if stopped else severity
    try:
        alert = alert_raise(
            alert_type=alert_type,
            severity=chosen,
            expected_downtime_minutes=stop_minutes if kind == "machine" else None,
            description=description,
            equipment=machine if kind == "machine" else None,
            operation=task.operation,
            order=task.order,
            external_id=f"terminal-{form_id}" if form_id else None,
            by=request.user,
        )
    except ValidationError as exc:
        return _card(request, task, error=errors_text(exc), status=400, alert_open=True)
    who = person_name(alert.handler) if alert.handler else ""
    message = _("%(number)s raised: %(severity)s %(type)s; the %(role)s%(who)s is told.") % {
        "number": alert.number,
        "severity": alert.get_severity_display().lower(),
        "type": alert.get_alert_type_display().lower(),
        "role": alert.handler_role_label,
        "who": f" ({who})" if who else "",
    }
    return _card(request, task, message=message)


@policy_required("execution.terminal.view")
@require_GET
@_answers_reassigned
def terminal_task(request, pk: int):
    task = _my_task_or_404(request, pk)
    return _card(request, task, scan_ids=False)


def _event_data(task: Task, action: str, post) -> dict:
    data = {"event_id": post.get("event_id", ""), "kind": action, "task": task.pk}
    if action == ProductionEvent.Kind.PAUSE:
        chosen = (post.get("reason") or "").strip()
        note = (post.get("note") or "").strip()
        data["reason"] = " — ".join(part for part in (chosen, note) if part)
    if action == ProductionEvent.Kind.REPORT:
        data["trace_code"] = (post.get("trace_code") or "").strip()
        if task.order.item.tracking == Item.Tracking.SERIAL:
            # One unit per report: the button says whether it is good or scrap.
            scrap = post.get("verdict") == "scrap"
            data["quantity_good"] = 0 if scrap else 1
            data["quantity_scrap"] = 1 if scrap else 0
        else:
            data["quantity_good"] = (post.get("quantity_good") or "").strip()
            data["quantity_scrap"] = (post.get("quantity_scrap") or "").strip()
    return data


def _event_message(action: str, event: ProductionEvent, duplicate: bool) -> str:
    if duplicate:
        return _("Already recorded (the same tap arrived twice); nothing changed.")
    if action == ProductionEvent.Kind.START:
        return _("Started.")
    if action == ProductionEvent.Kind.PAUSE:
        return _("Paused: %(reason)s.") % {"reason": _(event.reason)}
    if action == ProductionEvent.Kind.RESUME:
        return _("Resumed.")
    if action == ProductionEvent.Kind.COMPLETE:
        return _("Completed.")
    parts = []
    if event.quantity_good:
        parts.append(_("%(quantity)s good") % {"quantity": quantity_format(event.quantity_good)})
    if event.quantity_scrap:
        parts.append(_("%(quantity)s scrap") % {"quantity": quantity_format(event.quantity_scrap)})
    unit = f" ({event.trace_code})" if event.trace_code else ""
    what = _(" and ").join(parts) or _("nothing")
    return _("Reported %(what)s%(unit)s.") % {"what": what, "unit": unit}


def _record_event(request, task: Task, data: dict):
    result = event_record(data=data, by=request.user, source=TERMINAL)
    if result.status == "rejected":
        return _card(
            request,
            task,
            error=errors_text(result.errors),
            status=result.code,
            pause_open=data["kind"]
            == ProductionEvent.Kind.PAUSE,  # keep the reasons open to choose one
        )
    if result.status == "held":
        # Not booked: a supervisor approves or rejects it (backdated or over-delivering).
        detail = result.approval.held_why
        message = _("Waiting for supervisor approval: %(detail)s") % {"detail": detail}
        return _card(request, task, message=message, status=202)
    message = _event_message(data["kind"], result.event, result.status == "duplicate")
    return _card(request, task, message=message, status=200)


@policy_required("execution.task.record")
@require_POST
@_answers_reassigned
def terminal_action(request, pk: int, action: str):
    if action not in EVENT_ACTIONS:
        raise Http404(_("Unknown action %(action)r.") % {"action": action})
    task = _my_task_or_404(request, pk)
    if action == ProductionEvent.Kind.REPORT and task.order.item.tracking == Item.Tracking.SERIAL:
        first = (request.POST.get("trace_code") or "").strip()
        last = (request.POST.get("trace_code_to") or "").strip()
        typed = serials.serial_range_split(first)
        if typed and not last:
            first, last = typed
        if last:
            return _record_serial_range(request, task, first, last)
    return _record_event(request, task, _event_data(task, action, request.POST))


# How the terminal words a refused serial range (execution/engines/serials.py).
SERIAL_RANGE_REFUSALS = {
    serials.FIRST_MISSING: gettext_lazy("Give the first serial number of the range."),
    serials.LAST_MISSING: gettext_lazy("Give the last serial number of the range."),
    serials.NO_NUMBER: gettext_lazy("%(code)s does not end in a number."),
    serials.OTHER_PREFIX: gettext_lazy("%(last)s does not start like %(first)s (%(prefix)s…)."),
    serials.OTHER_WIDTH: gettext_lazy(
        "%(last)s and %(first)s differ in width: write %(digits)s digits in both."
    ),
    serials.BACKWARDS: gettext_lazy("%(last)s comes before %(first)s."),
    serials.TOO_MANY: gettext_lazy(
        "%(first)s…%(last)s is %(count)s units; only %(limit)s are left to make."
    ),
}


class _RangeRefused(Exception):
    def __init__(self, code: str, result):
        super().__init__(code)
        self.code, self.result = code, result


def _record_serial_range(request, task: Task, first: str, last: str):
    """A range of serial units (EB-0001…EB-0050) reported good at once: validated as a whole
    (same prefix and width, upwards, no more than is left to make), then one event per unit
    through the event service, all or none. Each unit's event id is the form's id and the
    unit's code, so a retried tap records nothing twice."""
    verdict_scrap = request.POST.get("verdict") == "scrap"
    event_id = (request.POST.get("event_id") or "").strip()
    if event_id and ProductionEvent.objects.filter(event_id=f"{event_id}:{first}"[:100]).exists():
        # A retried tap: the range was recorded by the first one.
        return _card(
            request,
            task,
            message=_("Already recorded (the same tap arrived twice); nothing changed."),
        )
    left = task.order.quantity - task.quantity_good - task.quantity_scrap
    try:
        chosen = serials.serial_range(first, last, limit=max(int(left), 0))
    except serials.SerialRangeError as refused:
        text = SERIAL_RANGE_REFUSALS[refused.reason] % refused.values
        return _card(request, task, error=errors_text({refused.field: [text]}), status=400)
    if not event_id:
        return _card(
            request, task, error=errors_text({"event_id": [_("Reload the form.")]}), status=400
        )
    accepted = 0
    try:
        with transaction.atomic():
            for code in chosen.codes:
                result = event_record(
                    data={
                        "event_id": f"{event_id}:{code}"[:100],
                        "kind": ProductionEvent.Kind.REPORT,
                        "task": task.pk,
                        "trace_code": code,
                        "quantity_good": 0 if verdict_scrap else 1,
                        "quantity_scrap": 1 if verdict_scrap else 0,
                    },
                    by=request.user,
                    source=TERMINAL,
                )
                if result.status in ("rejected", "held"):
                    raise _RangeRefused(code, result)
                accepted += result.status == "accepted"
    except _RangeRefused as refused:
        result = refused.result
        held = result.status == "held"
        why = result.approval.held_why if held else errors_text(result.errors)
        error = _("%(code)s: %(why)s Nothing of the range was recorded.") % {
            "code": refused.code,
            "why": why,
        }
        return _card(request, task, error=error, status=result.code if result.code >= 400 else 409)
    if not accepted:
        return _card(
            request,
            task,
            message=_("Already recorded (the same tap arrived twice); nothing changed."),
        )
    what = _("%(count)s scrap units") if verdict_scrap else _("%(count)s good units")
    message = _("Reported %(what)s: %(first)s…%(last)s.") % {
        "what": what % {"count": len(chosen.codes)},
        "first": chosen.first,
        "last": chosen.last,
    }
    return _card(request, task, message=message)


def _issue_message(result: MaterialIssue | IssueApproval) -> str:
    item = result.requirement.item
    lot = _(" lot %(lot)s") % {"lot": result.lot.code} if result.lot_id else ""
    amount = f"{quantity_format(result.quantity)} {item.uom} {item.code}{lot}"
    if isinstance(result, IssueApproval):
        if result.status == IssueApproval.Status.PENDING:
            return _("%(amount)s is more than the requirement: waiting for planner approval.") % {
                "amount": amount
            }
        return _("The request for %(amount)s was %(decision)s.") % {
            "amount": amount,
            "decision": result.get_status_display().lower(),
        }
    return _("Issued %(amount)s from %(location)s.") % {
        "amount": amount,
        "location": result.location.code,
    }


def _issue_location(requirement: MaterialRequirement, lot, quantity: Decimal | None):
    """Where to take the material from: the work center's line-side location when it holds
    it, else the location holding the most (enough for the quantity, when one does)."""
    balances = list(
        StockBalance.objects.filter(item=requirement.item, lot=lot, on_hand__gt=0)
        .select_related("location")
        .order_by("-on_hand", "location__code")
    )
    if not balances:
        what = f"lot {lot.code}" if lot else requirement.item.code
        raise ValidationError({"code": _("No stock of %(what)s in any location.") % {"what": what}})
    line_side = requirement.operation.work_center.issue_location_id
    for balance in balances:
        if balance.location_id == line_side and (quantity is None or balance.on_hand >= quantity):
            return balance
    return balances[0]


def _material_request(task: Task, code: str, quantity_raw: str):
    """Map a scanned label to the requirement of this task's operation, the lot, the location
    and the quantity. `LOTCODE` issues what is still open (as far as that lot's location
    holds); `ITEM*LOT*QTY` (or `ITEM*QTY`) issues the label's quantity."""
    requirements = {r.item.code: r for r in task.operation.reqs}
    sequence = task.operation.sequence
    lot = None
    quantity = None
    if "*" in code:
        item_code, lot_code, quantity = barcode_parse(code)
        requirement = requirements.get(item_code)
        if requirement is None:
            raise ValidationError(
                {
                    "code": _("Operation %(sequence)s does not need %(item)s.")
                    % {"sequence": sequence, "item": item_code}
                }
            )
        if lot_code:
            lot = MaterialLot.objects.filter(item=requirement.item, code=lot_code).first()
            if lot is None:
                raise ValidationError(
                    {
                        "code": _("Unknown lot %(lot)s of %(item)s.")
                        % {"lot": lot_code, "item": item_code}
                    }
                )
    else:
        lots = list(MaterialLot.objects.filter(code=code).select_related("item"))
        lot = next((lt for lt in lots if lt.item.code in requirements), None)
        if lot is None:
            if lots:
                raise ValidationError(
                    {
                        "code": _(
                            "Lot %(lot)s is %(item)s; operation %(sequence)s does not need it."
                        )
                        % {"lot": code, "item": lots[0].item.code, "sequence": sequence}
                    }
                )
            raise ValidationError({"code": _("Unknown lot %(lot)s.") % {"lot": code}})
        requirement = requirements[lot.item.code]
    if quantity_raw:
        try:
            quantity = Decimal(quantity_raw)
        except InvalidOperation:
            raise ValidationError(
                {"quantity": _("%(value)r is not a number.") % {"value": quantity_raw}}
            ) from None
    if quantity is not None and not quantity.is_finite():
        # material_issue compares the quantity with zero, which raises for NaN: answer 400.
        raise ValidationError({"quantity": _("%(value)s is not a quantity.") % {"value": quantity}})
    balance = _issue_location(requirement, lot, quantity)
    if quantity is None:
        if requirement.quantity_open <= 0:
            raise ValidationError(
                {
                    "code": _(
                        "%(item)s is fully issued to operation %(sequence)s (%(quantity)s "
                        "%(uom)s); scan ITEM*LOT*QTY or give a quantity to issue more."
                    )
                    % {
                        "item": requirement.item.code,
                        "sequence": sequence,
                        "quantity": quantity_format(requirement.quantity_issued),
                        "uom": requirement.item.uom,
                    }
                }
            )
        quantity = min(requirement.quantity_open, balance.on_hand)
    return requirement, lot, balance.location, quantity


def _issue_material(request, task: Task, code: str, event_id: str, quantity_raw: str = ""):
    code = code.strip()
    if not code:
        return _card(request, task, error=_("Scan or type a lot code first."), status=400)
    # A retried scan must answer what the first one did, before the open quantity (which the
    # first one changed) is worked out again; material_issue itself would return the same.
    if event_id:
        done = (
            MaterialIssue.objects.filter(external_id=event_id).first()
            or IssueApproval.objects.filter(external_id=event_id).first()
        )
        if done is not None:
            return _issue_card(request, task, done, status=200)
    try:
        requirement, lot, location, quantity = _material_request(task, code, quantity_raw)
        result = material_issue(
            requirement=requirement,
            quantity=quantity,
            location=location,
            external_id=event_id,
            lot=lot,
            reason=f"Terminal scan {code}"[:200],
            by=request.user,
        )
    except ValidationError as exc:
        return _card(request, task, error=errors_text(exc), status=400)
    except StateConflict as exc:
        return _card(request, task, error=str(exc), status=409)
    except PermissionDenied as exc:
        return _card(request, task, error=str(exc), status=403)
    status = 202 if isinstance(result, IssueApproval) else 200
    return _issue_card(request, task, result, status=status)


def _issue_card(request, task: Task, result, *, status: int):
    """An issue answered on its card: a done issue as a success, an over-issue that waits for
    approval (or was rejected) as a warning, never in the success colour."""
    text = _issue_message(result)
    if isinstance(result, IssueApproval) and result.status != IssueApproval.Status.APPROVED:
        return _card(request, task, warning=text, status=status)
    return _card(request, task, message=text, status=status)


@policy_required("execution.materialrequirement.issue")
@require_POST
@_answers_reassigned
def terminal_material(request, pk: int):
    task = _my_task_or_404(request, pk)
    return _issue_material(
        request,
        task,
        request.POST.get("code", ""),
        request.POST.get("event_id", ""),
        (request.POST.get("quantity") or "").strip(),
    )


def _scan_message(request, error: str, status: int):
    response = render(
        request,
        "execution/partials/terminal_scan_message.html",
        {"error": error, "scan_event_id": str(uuid4())},
        status=status,
    )
    response["HX-Retarget"] = "#terminal-scan-message"
    response["HX-Reswap"] = "innerHTML"
    return response


@policy_required("execution.task.record")
@require_POST
@_answers_reassigned
def terminal_scan(request):
    """The scan bar: a lot label issues material to the selected task; any other code on a
    serial-tracked product reports that unit as one good piece."""
    operator = _operator_of(request.user)
    if operator is None:
        return _scan_message(request, _("You have no operator record; ask a supervisor."), 403)
    code = (request.POST.get("code") or "").strip()
    event_id = request.POST.get("event_id", "")
    task_id = (request.POST.get("task") or "").strip()
    if task_id:
        if whole_number(task_id) is None:
            raise Http404(_("No such task."))
        task = _my_task_or_404(request, whole_number(task_id))
    else:
        open_tasks = [t for t in _my_tasks(operator) if t.status in Task.OPEN]
        running = [t for t in open_tasks if t.status in (Task.Status.RUNNING, Task.Status.PAUSED)]
        candidates = running if len(running) == 1 else open_tasks
        if len(candidates) != 1:
            return _scan_message(request, _("Tap the task to scan for, then scan again."), 400)
        task = candidates[0]
    if not code:
        response = _card(request, task, error=_("Nothing was scanned."), status=400)
    elif "*" in code or any(
        r.item_id == lot.item_id
        for lot in MaterialLot.objects.filter(code=code)
        for r in task.operation.reqs
    ):
        response = _issue_material(request, task, code, event_id)
    elif task.order.item.tracking == Item.Tracking.SERIAL:
        data = {
            "event_id": event_id,
            "kind": ProductionEvent.Kind.REPORT,
            "task": task.pk,
            "trace_code": code,
        }
        data["quantity_good"] = 1
        response = _record_event(request, task, data)
    else:
        response = _card(
            request,
            task,
            error=f"{code} is not a lot this operation needs, nor a unit of {task.order.item.code}.",
            status=400,
        )
    response["HX-Retarget"] = f"#terminal-task-{task.pk}"
    response["HX-Reswap"] = "outerHTML"
    return response
