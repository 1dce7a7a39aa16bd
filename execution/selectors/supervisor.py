"""Reads of the supervisor page: open tasks, operators, machines with their last dispatch
decision, pending material approvals and open shortages, each in a constant number of
queries."""

from django.db.models import OuterRef, QuerySet, Subquery

from resources.models import Equipment, Operator

from ..models import (
    DispatchDecision,
    EventApproval,
    IssueApproval,
    LabourBooking,
    MaterialShortage,
    Task,
)

APPROVAL_RELATED = (
    "requirement__order",
    "requirement__operation",
    "requirement__item",
    "lot",
    "location",
    "requested_by",
)


def open_tasks() -> QuerySet:
    """Open tasks by work center, then due date, with what a task row shows."""
    return (
        Task.objects.filter(status__in=Task.OPEN)
        .select_related(
            "order__item",
            "operation__work_center",
            "operation__required_skill",
            "operator",
            "equipment",
        )
        .order_by("operation__work_center__code", "order__due_date", "operation__sequence", "pk")
    )


def active_operators() -> list[Operator]:
    """Operators who can be assigned, with their skills."""
    return list(
        Operator.objects.filter(active=True)
        .select_related("user")
        .prefetch_related("skills__skill")
        .order_by("badge")
    )


def machines_with_last_decision() -> list[Equipment]:
    """Every machine, each with `last_decision`: its latest dispatch decision or None."""
    latest = DispatchDecision.objects.filter(equipment=OuterRef("pk")).order_by(
        "-decided_at", "-id"
    )
    machines = list(
        Equipment.objects.select_related("work_center")
        .annotate(last_decision_id=Subquery(latest.values("id")[:1]))
        .order_by("work_center__code", "code")
    )
    decisions = DispatchDecision.objects.select_related("task__order", "task__operation").in_bulk(
        [machine.last_decision_id for machine in machines if machine.last_decision_id]
    )
    for machine in machines:
        machine.last_decision = decisions.get(machine.last_decision_id)
    return machines


def machine_last_decision(machine: Equipment) -> DispatchDecision | None:
    """The latest dispatch decision of one machine."""
    return (
        DispatchDecision.objects.filter(equipment=machine)
        .select_related("task__order", "task__operation")
        .first()
    )


def approvals() -> QuerySet:
    """Issue approvals with everything an approval row shows."""
    return IssueApproval.objects.select_related(*APPROVAL_RELATED)


def pending_approvals() -> QuerySet:
    """Material issues beyond tolerance waiting for a planner's decision."""
    return approvals().filter(status=IssueApproval.Status.PENDING)


def open_shortages() -> QuerySet:
    """Open material shortages with their order, operation, item and the supply raised."""
    return MaterialShortage.objects.filter(status=MaterialShortage.Status.OPEN).select_related(
        "requirement__order",
        "requirement__operation",
        "requirement__item",
        "requisition",
        "transfer_from",
    )


def event_approvals() -> QuerySet:
    """Held production events with everything a row shows."""
    return EventApproval.objects.select_related(
        "task__order", "task__operation__work_center", "requested_by", "decided_by"
    )


def pending_event_approvals() -> QuerySet:
    """Production events held as backdated or over-delivering, waiting for a supervisor."""
    return event_approvals().filter(status=EventApproval.Status.PENDING).order_by("requested_at")


def labour_bookings_for_review(limit: int = 50) -> QuerySet:
    """Labour bookings clocked past the shift's end (flagged) or corrected, newest first."""
    return (
        LabourBooking.objects.filter(excess_minutes__gt=0)
        .select_related("operator", "task__order", "task__operation__work_center", "corrected_by")
        .order_by("-started_at", "-id")[:limit]
    )


def labour_booking_rows() -> QuerySet:
    return LabourBooking.objects.select_related(
        "operator", "task__order", "task__operation__work_center", "corrected_by"
    )
