"""Inspection entry and quality holds (HTMX pages).

/quality/inspect/                       the operations with an inspection plan that have open
                                        work: choose one
/quality/inspect/task/<pk>/             scan or type the unit or lot, enter the values, see
                                        pass or fail at once; the operation's recent records,
                                        with dispositions for the failed ones
/quality/holds/                         quality holds; a quality supervisor releases one with
                                        a reason

Made for a shop-floor screen like the operator terminal: the unit field keeps the focus for
a barcode scanner, and every form carries an external id made when it is rendered, so a
double tap records one inspection. The views only call the quality services and show their
answer; a refused action is answered with the service's status (400, 403, 409) and message.
"""

from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid4

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import StateConflict
from core.formatting import quantity_format
from core.models import Signature
from core.policy import can
from core.signatures import signature_guard, signatures_attach
from core.views_helpers import error_text, htmx_render, policy_required
from execution.models import Task

from ..models import (
    DefectCode,
    InspectionPlan,
    InspectionRecord,
    Measurement,
    QualityHold,
)
from ..selectors.holds import hold_message
from ..selectors.inspections import plan_for_operation
from ..services.holds import hold_release
from ..services.records import (
    disposition_record,
    inspection_correct,
    inspection_record,
    may_correct,
)

RECENT = 25  # records listed under the entry form
DONE_SHOWN_FOR = timedelta(hours=24)
FIELD_LABELS = {
    "trace_code": gettext_lazy("Unit or lot"),
    "unit": gettext_lazy("Unit"),
    "lot": gettext_lazy("Lot"),
    "values": gettext_lazy("Values"),
    "defect_code": gettext_lazy("Defect code"),
    "inspected_at": gettext_lazy("Time"),
    "external_id": gettext_lazy("Form"),
    "sequence": gettext_lazy("Operation"),
    "reason": gettext_lazy("Reason"),
    "decision": pgettext_lazy("disposition", "Decision"),
}


def _refusal(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, ValidationError):
        return error_text(exc, FIELD_LABELS), 400
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("You may not do this."), 403
    return str(exc), 409


# --- choosing what to inspect --------------------------------------------------------------


@dataclass
class ActivePlans:
    """The active plans, by routing step and by code: what `plan_for_operation` looks up
    for one operation, read once for a whole list."""

    by_step: dict[tuple[int, int], InspectionPlan]
    by_code: dict[str, InspectionPlan]

    def of(self, task: Task) -> InspectionPlan | None:
        """The operation's plan, as `plan_for_operation` finds it: the routing step's, else
        the one its inspection_plan_ref names."""
        plan = None
        if task.order.routing_id:
            plan = self.by_step.get((task.order.routing_id, task.operation.sequence))
        if plan is None and task.operation.inspection_plan_ref:
            plan = self.by_code.get(task.operation.inspection_plan_ref)
        return plan


def _active_plans() -> ActivePlans:
    plans = InspectionPlan.objects.filter(active=True).select_related("routing_step")
    by_step, by_code = {}, {}
    for p in plans:  # ordered by code, newest version first, like plan_for_operation's
        by_step[(p.routing_step.routing_id, p.routing_step.step_no)] = p
        by_code.setdefault(p.code, p)
    return ActivePlans(by_step=by_step, by_code=by_code)


def _inspectable_tasks(plans: ActivePlans) -> list[Task]:
    """Open tasks (and those done in the last day) of operations with an active plan, with
    their plan and the counts of current records, in a constant number of queries."""
    if not plans.by_code:
        return []
    steps = Q(operation__inspection_plan_ref__in=list(plans.by_code))
    for routing_id, step_no in plans.by_step:
        steps |= Q(order__routing_id=routing_id, operation__sequence=step_no)
    since = timezone.now() - DONE_SHOWN_FOR
    tasks = list(
        Task.objects.filter(steps)
        .filter(Q(status__in=Task.OPEN) | Q(status=Task.Status.DONE, ended_at__gte=since))
        .select_related("order__item", "operation__work_center", "equipment")
        .order_by("order__due_date", "order__number", "operation__sequence")
    )
    counts: dict[int, dict[str, int]] = {}
    for row in (
        InspectionRecord.objects.filter(
            operation_id__in=[t.operation_id for t in tasks], corrected_by__isnull=True
        )
        .values("operation_id", "result")
        .annotate(n=Count("id"))
    ):
        counts.setdefault(row["operation_id"], {})[row["result"]] = row["n"]
    for task in tasks:
        task.plan = plans.of(task)
        task.counts = counts.get(task.operation_id, {})
    return tasks


@policy_required("quality.inspect.view")
@require_GET
def inspect(request):
    plans = _active_plans()
    tasks = _inspectable_tasks(plans)
    context = {
        "tasks": tasks,
        "holds": _active_holds(),
        "due": [t for t in tasks if t.status in Task.OPEN],
        "undecided": _undecided_failures(),
    }
    return htmx_render(
        request, "quality/inspect.html", "quality/partials/inspect_tasks.html", context
    )


def _undecided_failures() -> list[InspectionRecord]:
    """Current failed records with no disposition yet, oldest first: what waits for a
    decision (rework, scrap, use as is). One query."""
    return list(
        InspectionRecord.objects.filter(
            result=InspectionRecord.Result.FAIL,
            corrected_by__isnull=True,
            disposition__isnull=True,
        )
        .select_related("unit", "lot", "order", "operation")
        .order_by("inspected_at", "id")
    )


# --- entering an inspection ---------------------------------------------------------------


def _task_or_404(pk: int) -> tuple[Task, InspectionPlan]:
    task = get_object_or_404(
        Task.objects.select_related(
            "order__item", "operation__work_center", "operation__equipment", "equipment"
        ),
        pk=pk,
    )
    # The plan the service records against (the routing step's, or for an order made
    # without a routing the one its operation's inspection_plan_ref names): the page shows
    # the characteristics the record will be judged by.
    task.operation.order = task.order
    plan = plan_for_operation(task.operation)
    if plan is None:
        raise Http404(f"{task} has no inspection plan.")
    return task, plan


def _recent(task: Task) -> list[InspectionRecord]:
    """The operation's latest records, newest first, each with its standing."""
    records = list(
        InspectionRecord.objects.filter(operation_id=task.operation_id)
        .select_related(
            "unit", "lot", "defect_code", "inspector", "corrected_by", "disposition__decided_by"
        )
        .prefetch_related(
            Prefetch("measurements", queryset=Measurement.objects.select_related("characteristic"))
        )
        .order_by("-inspected_at", "-id")[:RECENT]
    )
    for record in records:
        corrected = getattr(record, "corrected_by", None)
        record.superseded = corrected is not None
        record.current_disposition = getattr(record, "disposition", None)
        record.may_dispose = (
            not record.superseded
            and record.result == InspectionRecord.Result.FAIL
            and record.current_disposition is None
        )
    signatures_attach(records)
    signatures_attach([r.current_disposition for r in records])
    return records


def _limits(char) -> str:
    if char.kind != "variable":
        return ""
    return f"{quantity_format(char.lower_limit)} – {quantity_format(char.upper_limit)} {char.unit}".strip()


def _shown(records) -> None:
    """Values as people write them (50.1, not 50.1000), with the limits they were judged by."""
    for record in records:
        for m in record.measurements.all():
            m.shown = quantity_format(m.value)
            m.limits = _limits(m.characteristic)


def _entry_context(request, task: Task, plan: InspectionPlan, posted=None, **extra) -> dict:
    posted = posted or {}
    chars = list(plan.characteristics.all())
    for char in chars:
        char.limits = _limits(char)
        char.posted = posted.get(f"value-{char.pk}", "")
    records = _recent(task)
    _shown(records)
    if extra.get("result") is not None:
        _shown([extra["result"]])
    user = request.user
    machine = task.equipment or task.operation.equipment
    return {
        "task": task,
        "plan": plan,
        "characteristics": chars,
        "defect_codes": DefectCode.objects.all(),
        "external_id": str(uuid4()),
        "posted_code": posted.get("code", ""),
        "posted_defect": posted.get("defect_code", ""),
        "gauge": machine.code if machine else "",
        "records": records,
        "may_dispose": can(user, "quality.inspectionrecord.disposition"),
        "may_use_as_is": can(user, "quality.inspectionrecord.use_as_is"),
        "serial": task.order.item.tracking == "serial",
        **extra,
    }


@policy_required("quality.inspect.view")
@require_GET
def inspect_task(request, pk: int):
    task, plan = _task_or_404(pk)
    return render(request, "quality/inspect_task.html", _entry_context(request, task, plan))


@policy_required("quality.inspectionrecord.add")
@require_POST
def inspect_record(request, pk: int):
    task, plan = _task_or_404(pk)
    post = request.POST
    chars = list(plan.characteristics.all())
    values = {c.name: (post.get(f"value-{c.pk}") or "").strip() for c in chars}
    result, error, status_code = None, "", 200
    try:
        record, created = inspection_record(
            external_id=post.get("external_id", ""),
            operation=task.operation,
            values=values,
            trace_code=(post.get("code") or "").strip(),
            defect_code=post.get("defect_code") or None,
            reason=post.get("reason", ""),
            gauge=post.get("gauge", ""),
            by=request.user,
        )
        result = (
            InspectionRecord.objects.select_related("unit", "lot", "defect_code")
            .prefetch_related(
                Prefetch(
                    "measurements", queryset=Measurement.objects.select_related("characteristic")
                )
            )
            .get(pk=record.pk)
        )
        result.duplicate = not created
    except (ValidationError, PermissionDenied, StateConflict) as exc:
        error, status_code = _refusal(exc)
    if error:  # keep what was typed, and the form's id: correcting it is the same inspection
        context = _entry_context(request, task, plan, posted=post, error=error)
        context["external_id"] = post.get("external_id") or context["external_id"]
    else:
        context = _entry_context(request, task, plan, result=result)
    template = (
        "quality/partials/inspect_entry.html" if request.htmx else "quality/inspect_task.html"
    )
    # A recorded inspection answers 200 with its verdict; a refused one the service's status.
    return render(request, template, context, status=status_code)


@policy_required("quality.inspectionrecord.disposition")
@require_POST
def inspect_disposition(request, pk: int):
    record = get_object_or_404(InspectionRecord.objects.select_related("operation"), pk=pk)
    task = get_object_or_404(Task, operation_id=record.operation_id)
    task, plan = _task_or_404(task.pk)
    message, error, status_code = "", "", 200
    try:
        with signature_guard(request):
            disposition, _created = disposition_record(
                record=record,
                decision=request.POST.get("decision", ""),
                note=request.POST.get("note", ""),
                reason=request.POST.get("reason", ""),
                password=request.POST.get("password", ""),
                by=request.user,
            )
        message = _("%(code)s: %(decision)s.") % {
            "code": record.unit.serial if record.unit_id else record.lot.code,
            "decision": str(disposition.get_decision_display()).lower(),
        }
    except (ValidationError, PermissionDenied, StateConflict) as exc:
        error, status_code = _refusal(exc)
    context = _entry_context(request, task, plan, message=message, records_error=error)
    return render(request, "quality/partials/inspect_records.html", context, status=status_code)


# --- holds --------------------------------------------------------------------------------


def _active_holds() -> list[QualityHold]:
    holds = list(
        QualityHold.objects.filter(status=QualityHold.Status.ACTIVE).select_related(
            "routing_step__routing__item", "work_center", "equipment", "alert"
        )
    )
    for hold in holds:
        hold.message = hold_message(hold)
    return holds


def _holds_context(request, **extra) -> dict:
    holds = list(
        QualityHold.objects.select_related(
            "routing_step__routing__item", "work_center", "equipment", "alert", "released_by"
        ).order_by("status", "-placed_at")[:100]
    )
    for hold in holds:
        hold.message = hold_message(hold)
    signatures_attach(holds)
    return {
        "holds": holds,
        "release_meaning": Signature.Meaning.RELEASED,
        "may_release": can(request.user, "quality.qualityhold.release"),
        **extra,
    }


@policy_required("quality.qualityhold.view")
@require_GET
def holds(request):
    return htmx_render(
        request,
        "quality/inspect_holds.html",
        "quality/partials/inspect_holds_table.html",
        _holds_context(request),
    )


@policy_required("quality.qualityhold.release")
@require_POST
def hold_release_view(request, pk: int):
    hold = get_object_or_404(QualityHold, pk=pk)
    message, error, status_code = "", "", 200
    try:
        with signature_guard(request):
            hold = hold_release(
                hold=hold,
                reason=request.POST.get("reason", ""),
                password=request.POST.get("password", ""),
                by=request.user,
            )
        message = _("Hold %(pk)s released: %(reason)s") % {
            "pk": hold.pk,
            "reason": hold.release_reason,
        }
    except (ValidationError, PermissionDenied, StateConflict) as exc:
        error, status_code = _refusal(exc)
    context = _holds_context(request, message=message, error=error, error_hold=pk)
    return render(request, "quality/partials/inspect_holds_table.html", context, status=status_code)


# --- correcting a record --------------------------------------------------------------------


def _record_or_404(pk: int) -> InspectionRecord:
    return get_object_or_404(
        InspectionRecord.objects.select_related(
            "plan",
            "order__item",
            "operation",
            "work_center",
            "unit",
            "lot",
            "defect_code",
            "inspector",
            "corrects__inspector",
            "corrected_by__inspector",
            "disposition__decided_by",
        ).prefetch_related(
            Prefetch("measurements", queryset=Measurement.objects.select_related("characteristic"))
        ),
        pk=pk,
    )


def _correction_context(request, record: InspectionRecord, posted=None, **extra) -> dict:
    posted = posted or {}
    measured = {m.characteristic_id: m for m in record.measurements.all()}
    chars = list(record.plan.characteristics.all())
    for char in chars:
        char.limits = _limits(char)
        before = measured.get(char.pk)
        if f"value-{char.pk}" in posted:
            char.posted = posted.get(f"value-{char.pk}", "")
        elif before is None:
            char.posted = ""
        elif char.kind == "variable":
            char.posted = quantity_format(before.value) if before.value is not None else ""
        else:
            char.posted = "ok" if before.ok else "nok"
    _shown([record])
    signatures_attach([record])
    disposition = getattr(record, "disposition", None)
    if disposition is not None:
        signatures_attach([disposition])
    return {
        "record": record,
        "disposition": disposition,
        "characteristics": chars,
        "defect_codes": DefectCode.objects.all(),
        # The corrected record's defect offered again: a correction to another fail keeps
        # it unless changed; a correction to a pass drops it (inspection_correct).
        "posted_defect": posted.get(
            "defect_code", record.defect_code.code if record.defect_code_id else ""
        ),
        "external_id": posted.get("external_id") or str(uuid4()),
        "may_correct": getattr(record, "corrected_by", None) is None
        and may_correct(record=record, by=request.user),
        "meaning": Signature.Meaning.CORRECTED,
        "serial": record.unit_id is not None,
        **extra,
    }


@policy_required("quality.inspect.view")
@require_http_methods(["GET", "HEAD", "POST"])
def inspect_correct(request, pk: int):
    """One inspection record, what it corrects and what corrected it, with their
    signatures; the inspector who recorded it or a quality supervisor corrects it here,
    signing the correction."""
    record = _record_or_404(pk)
    if request.method != "POST":
        return render(request, "quality/inspect_record.html", _correction_context(request, record))
    post = request.POST
    values = {
        c.name: (post.get(f"value-{c.pk}") or "").strip() for c in record.plan.characteristics.all()
    }
    try:
        with signature_guard(request):
            corrected, _created = inspection_correct(
                record=record,
                external_id=post.get("external_id", ""),
                values=values,
                defect_code=post.get("defect_code") or None,
                reason=post.get("reason", ""),
                password=post.get("password", ""),
                by=request.user,
            )
    except (ValidationError, PermissionDenied, StateConflict) as exc:
        error, status_code = _refusal(exc)
        sign_errors = (
            exc.message_dict
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict")
            else {}
        )
        context = _correction_context(
            request, record, posted=post, error=error, sign_errors=sign_errors
        )
        context["reason"] = post.get("reason", "")
        return render(request, "quality/inspect_record.html", context, status=status_code)
    context = _correction_context(
        request,
        _record_or_404(corrected.pk),
        message=_("Record %(pk)s corrected by record %(corrected)s, signed.")
        % {"pk": record.pk, "corrected": corrected.pk},
    )
    return render(request, "quality/inspect_record.html", context)
