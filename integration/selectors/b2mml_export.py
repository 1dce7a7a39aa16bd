"""B2MML V0701 exports (docs/b2mml.md has the mapping tables):

- released production orders as a `ProcessOperationsSchedule`: an OperationsRequest per order,
  a SegmentRequirement per operation with its work center and machines, skill, the material
  it consumes and, on the last operation, the item it produces;
- progress and actuals as a `SyncOperationsPerformance`: an OperationsResponse per order, a
  SegmentResponse per operation with its actual start and end, machine, good quantity (lots
  and serial units named) and scrap;
- exceptions as a `SyncWorkAlert`: a WorkAlert per exception (ISA-95's name for it).

Each builder reads with a constant number of queries and returns the document's root
element; `document_bytes` checks it against the schemas before it leaves.
"""

import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.formatting import quantity_format
from execution.models import MaterialRequirement, ProductionEvent, WorkAlert
from planning.models import OrderOperation, ProductionOrder
from planning.selectors.schedule import planned_changeovers
from resources.models import Item
from resources.selectors.calendar import plant_time_zone

from ..engines.b2mml import (
    Area,
    bod,
    duration_seconds,
    instant,
    quantity,
    serialize,
    sub,
    sub_opt,
    value_string,
)
from ..schemas import B2mmlError, labelled, listed, validation_errors

OrderStatus = ProductionOrder.Status
OpStatus = OrderOperation.Status

# ClosedLoop's statuses as ISA-95 request and response states.
REQUEST_STATE = {
    OrderStatus.DRAFT: "Forecast",
    OrderStatus.PLANNED: "Waiting",
    OrderStatus.RELEASED: "Released",
    OrderStatus.IN_PROGRESS: "Running",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CLOSED: "Closed",
    OrderStatus.CANCELLED: "Cancelled",
}
SEGMENT_REQUEST_STATE = {
    OpStatus.PENDING: "Waiting",
    OpStatus.READY: "Ready",
    OpStatus.IN_PROGRESS: "Running",
    OpStatus.PAUSED: "Suspended",
    OpStatus.DONE: "Completed",
    OpStatus.BLOCKED: "Held",
    OpStatus.CANCELLED: "Cancelled",
}
RESPONSE_STATE = {
    OrderStatus.DRAFT: "Waiting",
    OrderStatus.PLANNED: "Waiting",
    OrderStatus.RELEASED: "Ready",
    OrderStatus.IN_PROGRESS: "Running",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CLOSED: "Closed",
    OrderStatus.CANCELLED: "Aborted",
}
SEGMENT_RESPONSE_STATE = {
    OpStatus.PENDING: "Waiting",
    OpStatus.READY: "Ready",
    OpStatus.IN_PROGRESS: "Running",
    OpStatus.PAUSED: "Paused",
    OpStatus.DONE: "Completed",
    OpStatus.BLOCKED: "Held",
    OpStatus.CANCELLED: "Aborted",
}
# Released orders: what the floor works on (the schedule's default).
SCHEDULE_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS)
# Orders with progress to report (the performance's default).
PERFORMANCE_STATUSES = (
    OrderStatus.RELEASED,
    OrderStatus.IN_PROGRESS,
    OrderStatus.COMPLETED,
    OrderStatus.CLOSED,
)
SCRAP = "Scrap"  # MaterialUse Other + OtherValue: ISA-95 has no scrap value


class DocumentInvalid(Exception):
    """An export the schemas refuse: a defect of ours, never of the caller's input."""


def area(now: datetime | None = None) -> Area:
    return Area(
        sender=settings.B2MML_LOGICAL_ID,
        component="closedloop",
        created=timezone.localtime(now or timezone.now()),
        bodid=str(uuid.uuid4()),
    )


def document_bytes(root: ET.Element) -> bytes:
    """The document as UTF-8 bytes, after the schemas accepted it."""
    errors = validation_errors(root)
    if errors:
        raise DocumentInvalid("; ".join(f"{p}: {r}" for p, r in errors))
    return serialize(root)


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value) if value is not None else None


def operations_definition_id(order: ProductionOrder) -> str:
    """The routing as an OperationsDefinitionID: `ITEM/version` (the item's code alone when
    the order has no routing)."""
    if order.routing is None:
        return order.item.code
    return f"{order.item.code}/{order.routing.version}"


def segment_id(order: ProductionOrder, operation: OrderOperation) -> str:
    return f"{order.number}/{operation.sequence}"


def due_instant(order: ProductionOrder) -> datetime:
    """The due date as an instant: the end of that day in the plant's time zone."""
    return datetime.combine(order.due_date, time(23, 59, 59), tzinfo=plant_time_zone())


def _orders(statuses, numbers: Iterable[str] | None, since: datetime | None):
    orders = ProductionOrder.objects.select_related("item", "routing").order_by("number")
    if numbers:
        orders = orders.filter(number__in=list(numbers))
    else:
        orders = orders.filter(status__in=statuses)
    if since is not None:
        orders = orders.filter(
            Q(created_at__gte=since)
            | Q(released_at__gte=since)
            | Q(completed_at__gte=since)
            | Q(events__received_at__gte=since)
        ).distinct()
    return orders.prefetch_related(
        Prefetch(
            "operations",
            queryset=OrderOperation.objects.select_related(
                "work_center", "equipment", "required_skill"
            )
            .prefetch_related("eligible_equipment")
            .order_by("sequence"),
        )
    )


def _missing(numbers: Iterable[str] | None, orders: list[ProductionOrder]) -> None:
    if not numbers:
        return
    unknown = sorted(set(numbers) - {o.number for o in orders})
    if unknown:
        raise B2mmlError(
            _("No production order %(numbers)s.") % {"numbers": listed(unknown)},
            status=404,
            code="not_found",
        )


# --- schedule ------------------------------------------------------------------------------


def schedule_document(
    *, numbers: Iterable[str] | None = None, since: datetime | None = None, now=None
) -> ET.Element:
    """`ProcessOperationsSchedule` of the released orders (or of the orders named)."""
    now = timezone.localtime(now or timezone.now())
    orders = list(_orders(SCHEDULE_STATUSES, numbers, since))
    _missing(numbers, orders)
    if not orders:
        raise B2mmlError(
            _("No released production order to export."), status=404, code="nothing_to_export"
        )
    requirements = defaultdict(list)
    for req in MaterialRequirement.objects.filter(order__in=orders).select_related("item"):
        requirements[req.operation_id].append(req)
    changeovers = planned_changeovers(op for order in orders for op in order.operations.all())
    root, data_area = bod("Process", "OperationsSchedule", area(now))
    schedule = sub(data_area, "OperationsSchedule")
    sub(schedule, "ID", f"{settings.B2MML_LOGICAL_ID}-SCHEDULE-{now:%Y%m%dT%H%M%S}")
    sub(schedule, "Description", _("Released production orders"))
    sub(schedule, "PublishedDate", instant(now))
    sub(schedule, "OperationsType", "Production")
    sub(schedule, "ScheduleState", "Released")
    for order in orders:
        _request(schedule, order, requirements, changeovers)
    return root


def _request(parent: ET.Element, order: ProductionOrder, requirements, changeovers) -> None:
    item = order.item
    request = sub(parent, "OperationsRequest")
    sub(request, "ID", order.number)
    sub(
        request,
        "Description",
        labelled(
            order.number, f"{quantity_format(order.quantity)} {item.uom} {item.code} {item.name}"
        ),
    )
    sub_opt(request, "StartTime", instant(_local(order.planned_start or order.earliest_start)))
    sub(request, "EndTime", instant(due_instant(order)))
    sub(request, "OperationsType", "Production")
    sub(request, "Priority", order.priority)
    sub(request, "RequestState", REQUEST_STATE[order.status])
    definition = operations_definition_id(order)
    sub(request, "OperationsDefinitionID", definition)
    operations = list(order.operations.all())
    for operation in operations:
        _segment_requirement(
            request,
            order,
            operation,
            definition,
            requirements[operation.pk],
            changeovers.get(operation.pk),
            last=operation is operations[-1],
        )


def _segment_requirement(
    parent, order, operation, definition, consumed, changeover: int | None, *, last: bool
) -> None:
    sr_id = segment_id(order, operation)
    segment = sub(parent, "SegmentRequirement")
    sub(segment, "ID", sr_id)
    sub(segment, "Description", operation.name)
    sub_opt(segment, "EarliestStartTime", instant(_local(operation.planned_start)))
    sub_opt(segment, "LatestEndTime", instant(_local(operation.planned_end)))
    sub(segment, "ProcessSegmentID", operation.work_center.code)
    sub(segment, "Duration", duration_seconds(round(operation.duration_minutes() * 60)))
    sub(segment, "OperationsDefinitionID", definition)
    sub(segment, "OperationsSegmentID", operation.sequence)
    sub(segment, "SegmentState", SEGMENT_REQUEST_STATE[operation.status])
    value_string(
        segment,
        "SegmentParameter",
        "SetupMinutes",
        f"{quantity_format(operation.setup_minutes)}",
        "decimal",
    )
    value_string(
        segment,
        "SegmentParameter",
        "RunMinutesPerUnit",
        f"{quantity_format(operation.run_minutes_per_unit)}",
        "decimal",
    )
    # Sequence-dependent setup: the family the machine must be set up for, and the
    # changeover the plan puts before this operation on its machine (planned, not started).
    if operation.setup_family:
        value_string(segment, "SegmentParameter", "SetupFamily", operation.setup_family)
    if changeover is not None:
        value_string(segment, "SegmentParameter", "ChangeoverMinutes", str(changeover), "decimal")
    if operation.required_skill is not None:
        personnel = sub(segment, "PersonnelRequirement")
        sub(personnel, "ID", f"{sr_id}/personnel")
        sub(personnel, "PersonnelClassID", operation.required_skill.code)
        sub(
            personnel,
            "Description",
            _("%(skill)s, level %(level)s or above")
            % {
                "skill": operation.required_skill.name,
                "level": operation.get_min_skill_level_display().lower(),
            },
        )
    equipment = sub(segment, "EquipmentRequirement")
    sub(equipment, "ID", f"{sr_id}/equipment")
    sub(equipment, "EquipmentClassID", operation.work_center.code)
    machines = (
        [operation.equipment]
        if operation.equipment is not None
        else list(operation.eligible_equipment.all())
    )
    for machine in machines:
        sub(equipment, "EquipmentID", machine.code)
    sub(equipment, "EquipmentLevel", "WorkUnit" if machines else "WorkCenter")
    sub(equipment, "EquipmentUse", "Production")
    for req in consumed:
        material = sub(parent=segment, name="MaterialRequirement")
        sub(material, "ID", f"{sr_id}/{req.item.code}")
        sub(material, "MaterialDefinitionID", req.item.code)
        sub(material, "Description", req.item.name)
        sub(material, "MaterialUse", "Consumed")
        quantity(material, req.quantity_required, req.item.uom)
    if last:
        item = order.item
        material = sub(segment, "MaterialRequirement")
        sub(material, "ID", f"{sr_id}/{item.code}")
        sub(material, "MaterialDefinitionID", item.code)
        sub(material, "Description", item.name)
        sub(material, "MaterialUse", "Produced")
        quantity(material, order.quantity, item.uom)


# --- performance ---------------------------------------------------------------------------


def performance_document(
    *, numbers: Iterable[str] | None = None, since: datetime | None = None, now=None
) -> ET.Element:
    """`SyncOperationsPerformance` of the orders on the floor or done (or of those named),
    optionally only those with news since an instant."""
    now = timezone.localtime(now or timezone.now())
    orders = list(_orders(PERFORMANCE_STATUSES, numbers, since))
    _missing(numbers, orders)
    if not orders:
        raise B2mmlError(_("No production order to report."), status=404, code="nothing_to_export")
    traced = _traced(orders)
    root, data_area = bod("Sync", "OperationsPerformance", area(now))
    performance = sub(data_area, "OperationsPerformance")
    sub(performance, "ID", f"{settings.B2MML_LOGICAL_ID}-PERFORMANCE-{now:%Y%m%dT%H%M%S}")
    sub(performance, "Description", _("Progress and actuals of production orders"))
    sub(performance, "PublishedDate", instant(now))
    sub(performance, "OperationsType", "Production")
    for order in orders:
        _response(performance, order, traced)
    return root


def _traced(orders: list[ProductionOrder]) -> dict:
    """{operation id: {(lot code, unit serial): [good, scrap]}} from the recorded events."""
    found: dict = defaultdict(lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))
    rows = (
        ProductionEvent.objects.filter(order__in=orders)
        .filter(Q(lot__isnull=False) | Q(unit__isnull=False))
        .values_list("operation_id", "lot__code", "unit__serial", "quantity_good", "quantity_scrap")
    )
    for operation_id, lot, serial, good, scrap in rows:
        totals = found[operation_id][(lot or "", serial or "")]
        totals[0] += good
        totals[1] += scrap
    return found


def _response(parent: ET.Element, order: ProductionOrder, traced: dict) -> None:
    operations = list(order.operations.all())
    starts = [op.actual_start for op in operations if op.actual_start]
    request_id = order.external_ref or order.number
    definition = operations_definition_id(order)
    response = sub(parent, "OperationsResponse")
    sub(response, "ID", order.number)
    sub(
        response,
        "Description",
        labelled(
            order.number,
            _("%(good)s good, %(scrap)s scrap of %(quantity)s")
            % {
                "good": quantity_format(order.quantity_done),
                "scrap": quantity_format(order.quantity_scrap),
                "quantity": quantity_format(order.quantity),
            },
        ),
    )
    sub_opt(response, "StartTime", instant(_local(min(starts) if starts else None)))
    sub_opt(response, "EndTime", instant(_local(order.completed_at)))
    sub(response, "OperationsType", "Production")
    sub(response, "OperationsRequestID", request_id)
    sub(response, "OperationsDefinitionID", definition)
    sub(response, "ResponseState", RESPONSE_STATE[order.status])
    for operation in operations:
        sr_id = segment_id(order, operation)
        segment = sub(response, "SegmentResponse")
        sub(segment, "ID", sr_id)
        sub(segment, "Description", operation.name)
        sub_opt(segment, "ActualStartTime", instant(_local(operation.actual_start)))
        sub_opt(segment, "ActualEndTime", instant(_local(operation.actual_end)))
        sub(segment, "ProcessSegmentID", operation.work_center.code)
        sub(segment, "OperationsRequestID", request_id)
        sub(segment, "SegmentRequirementID", sr_id)
        sub(segment, "OperationsDefinitionID", definition)
        sub(segment, "OperationsSegmentID", operation.sequence)
        sub(segment, "SegmentState", SEGMENT_RESPONSE_STATE[operation.status])
        if operation.equipment is not None:
            equipment = sub(segment, "EquipmentActual")
            sub(equipment, "ID", f"{sr_id}/equipment")
            sub(equipment, "EquipmentID", operation.equipment.code)
            sub(equipment, "EquipmentUse", "Production")
        _material_actuals(segment, order.item, sr_id, operation, traced.get(operation.pk, {}))


def _material_actuals(segment, item: Item, sr_id: str, operation, traced: dict) -> None:
    """Good and scrap of one operation: per lot for a lot-tracked item, with the serial
    units as sub-lots for a serial-tracked one, and what no event traced on its own."""
    for use, index, total in (
        ("Produced", 0, operation.quantity_done),
        (SCRAP, 1, operation.quantity_scrap),
    ):
        untraced = total
        if item.tracking == Item.Tracking.LOT:
            lots = defaultdict(Decimal)
            for (lot, _serial), figures in traced.items():
                if lot and figures[index] > 0:
                    lots[lot] += figures[index]
            for lot, value in sorted(lots.items()):
                _material_actual(segment, item, f"{sr_id}/{use.lower()}/{lot}", use, value, lot=lot)
                untraced -= value
        elif item.tracking == Item.Tracking.SERIAL:
            units = sorted(
                serial
                for (_lot, serial), figures in traced.items()
                if serial and figures[index] > 0
            )
            if units:
                _material_actual(
                    segment, item, f"{sr_id}/{use.lower()}/units", use, len(units), units=units
                )
                untraced -= len(units)
        if untraced > 0 or (use == "Produced" and untraced == total):
            _material_actual(
                segment, item, f"{sr_id}/{use.lower()}", use, max(untraced, Decimal(0))
            )


def _material_actual(segment, item, id_, use, value, *, lot: str = "", units=()) -> None:
    material = sub(segment, "MaterialActual")
    sub(material, "ID", id_)
    sub(material, "MaterialDefinitionID", item.code)
    if lot:
        sub(material, "MaterialLotID", lot)
    for serial in units:
        sub(material, "MaterialSubLotID", serial)
    if use == SCRAP:
        sub(material, "MaterialUse", "Other", OtherValue=SCRAP)
    else:
        sub(material, "MaterialUse", use)
    quantity(material, value, item.uom)


# --- work alerts ---------------------------------------------------------------------------

# Most urgent first, as ISA-95's Priority reads (a number; 1 = most urgent).
SEVERITY_PRIORITY = {"severe": 1, "urgent": 2, "general": 3}


def alerts_document(
    *, since: datetime | None = None, status: str | None = None, numbers=None, now=None
) -> ET.Element:
    """`SyncWorkAlert` of the exceptions raised (or changed) since an instant, or named."""
    now = timezone.localtime(now or timezone.now())
    alerts = WorkAlert.objects.select_related("order", "operation", "equipment").order_by(
        "raised_at", "number"
    )
    if numbers:
        alerts = alerts.filter(number__in=list(numbers))
    if status:
        if status not in WorkAlert.Status.values:
            raise B2mmlError(
                _("Unknown status %(status)s; use %(statuses)s.")
                % {"status": repr(status), "statuses": listed(WorkAlert.Status.values)},
                errors=[("status", _("unknown status"))],
            )
        alerts = alerts.filter(status=status)
    if since is not None:
        alerts = alerts.filter(
            Q(raised_at__gte=since) | Q(acknowledged_at__gte=since) | Q(resolved_at__gte=since)
        )
    alerts = list(alerts)
    if numbers:
        unknown = sorted(set(numbers) - {a.number for a in alerts})
        if unknown:
            raise B2mmlError(
                _("No exception %(numbers)s.") % {"numbers": listed(unknown)},
                status=404,
                code="not_found",
            )
    if not alerts:
        raise B2mmlError(_("No exception to export."), status=404, code="nothing_to_export")
    root, data_area = bod("Sync", "WorkAlert", area(now))
    for alert in alerts:
        _work_alert(data_area, alert, now)
    return root


def _work_alert(parent: ET.Element, alert: WorkAlert, now: datetime) -> None:
    element = sub(parent, "WorkAlert")
    sub(element, "ID", alert.number)
    sub(element, "Description", alert.description_shown)
    sub(element, "PublishedDate", instant(now))
    sub(
        element,
        "MessageText",
        _("%(type)s (%(severity)s), %(status)s")
        % {
            "type": alert.get_alert_type_display(),
            "severity": alert.get_severity_display().lower(),
            "status": alert.get_status_display().lower(),
        },
    )
    sub(element, "TimeStamp", instant(_local(alert.raised_at)))
    sub(element, "Priority", SEVERITY_PRIORITY.get(alert.severity, 3))
    sub(element, "Category", alert.alert_type)
    props = [
        ("Severity", alert.severity),
        ("Status", alert.status),
        ("RaisedVia", alert.raised_via),
        ("HandlerRole", alert.handler_role),
        ("OperationsRequestID", alert.order.number if alert.order else ""),
        (
            "OperationsSegmentID",
            str(alert.operation.sequence) if alert.operation else "",
        ),
        ("EquipmentID", alert.equipment.code if alert.equipment else ""),
        ("AcknowledgeDeadline", instant(_local(alert.ack_deadline)) or ""),
        ("AcknowledgedAt", instant(_local(alert.acknowledged_at)) or ""),
        ("ResolvedAt", instant(_local(alert.resolved_at)) or ""),
        ("Cause", alert.cause_shown),
        ("ActionTaken", alert.action_taken),
    ]
    for key, value in props:
        if value:
            value_string(element, "WorkAlertProperty", key, value)


EXPORTS = {
    "schedule": schedule_document,
    "performance": performance_document,
    "alerts": alerts_document,
}


def export_bytes(kind: str, **options) -> bytes:
    return document_bytes(EXPORTS[kind](**options))
