"""B2MML V0701 imports (docs/b2mml.md): an ERP's production orders, an MES's actuals, and
master data, each through the owning app's services.

| document | does | through |
|---|---|---|
| `Process`/`SyncOperationsSchedule` | creates or updates production orders by the ERP's id | planning.services.orders |
| `Sync`/`ProcessOperationsPerformance` | books starts, quantities and completions | execution.services.events.events_record |
| `Sync`/`ProcessEquipment` | creates or updates machines | resources.services.masterdata |
| `Sync`/`ProcessMaterialDefinition` | creates or updates items | resources.services.masterdata |
| `Sync`/`ProcessPerson` | creates or updates operators | resources.services.masterdata |

A document is read and validated against the schemas first; then all of it is applied in
one transaction: the first refusal (naming the element's path) rolls everything back.
Imports are idempotent: orders are found by their external id, master data by code, and
production events carry ids derived from the document's content, so the same document sent
twice changes nothing the second time. The answer is the matching `Acknowledge…` document.
"""

import copy
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext

from core.exceptions import StateConflict
from core.formatting import quantity_format
from execution.models import EventApproval, ProductionEvent, Task
from execution.services.events import events_record
from planning.models import ProductionOrder, Routing
from planning.services.orders import (
    production_order_cancel,
    production_order_create,
    production_order_plan,
    production_order_release,
    production_order_update,
)
from resources.models import Equipment, Item, Operator
from resources.selectors.calendar import plant_time_zone
from resources.services.masterdata import equipment_sync, item_sync, operator_sync

from ..engines.b2mml import (
    application_area,
    bod,
    child,
    children,
    local,
    material_use,
    properties,
    q,
    serialize,
    sub,
    text,
    texts,
    trailing_number,
)
from ..schemas import B2mmlError, document_read, labelled, listed
from ..selectors.b2mml_export import SCRAP, area, document_bytes

# Root element → (kind, noun). The kind names the endpoint and the permission.
ROOTS = {
    "ProcessOperationsSchedule": ("schedule", "OperationsSchedule"),
    "SyncOperationsSchedule": ("schedule", "OperationsSchedule"),
    "SyncOperationsPerformance": ("performance", "OperationsPerformance"),
    "ProcessOperationsPerformance": ("performance", "OperationsPerformance"),
    "SyncEquipment": ("equipment", "Equipment"),
    "ProcessEquipment": ("equipment", "Equipment"),
    "SyncMaterialDefinition": ("material", "MaterialDefinition"),
    "ProcessMaterialDefinition": ("material", "MaterialDefinition"),
    "SyncPerson": ("personnel", "Person"),
    "ProcessPerson": ("personnel", "Person"),
}
KINDS = sorted({kind for kind, _ in ROOTS.values()})
# Production event ids are at most this long; longer derived ids are hashed.
EVENT_ID_MAX = ProductionEvent._meta.get_field("event_id").max_length


@dataclass
class Imported:
    """A document applied: its kind, what was done (one line each), and the answer."""

    kind: str
    root_name: str
    bodid: str
    notes: list[str] = field(default_factory=list)
    acknowledgement: bytes = b""


def roots_of(kind: str) -> list[str]:
    return [name for name, (k, _) in ROOTS.items() if k == kind]


@contextmanager
def at(path: str) -> Iterator[None]:
    """Turn a service's refusal into a B2mmlError naming the element it is about."""
    try:
        yield
    except ValidationError as exc:
        message = _message(exc)
        raise B2mmlError(labelled(path, message), errors=[(path, message)]) from None
    except StateConflict as exc:
        message = str(exc)
        raise B2mmlError(labelled(path, message), status=409, errors=[(path, message)]) from None
    except PermissionDenied as exc:
        message = str(exc) or _("You may not do this.")
        raise B2mmlError(labelled(path, message), status=403, errors=[(path, message)]) from None


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            labelled(name, " ".join(m for e in errors for m in e.messages))
            if name != "__all__"
            else " ".join(m for e in errors for m in e.messages)
            for name, errors in exc.error_dict.items()
        )
    return " ".join(exc.messages)


def _decimal(raw: str | None, path: str, *, positive: bool = False) -> Decimal:
    try:
        value = Decimal(raw or "")
    except InvalidOperation:
        raise B2mmlError(
            _("%(path)s: %(raw)s is not a number.") % {"path": path, "raw": repr(raw)},
            errors=[(path, _("not a number"))],
        ) from None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        if positive:
            message, reason = _("%(path)s: give a number above zero."), _("must be above zero")
        else:
            message, reason = _("%(path)s: give a number zero or more."), _("must be zero or more")
        raise B2mmlError(message % {"path": path}, errors=[(path, reason)])
    return value


def _instant(raw: str | None) -> datetime | None:
    """An xsd:dateTime the schema accepted; one without an offset is taken in the plant's
    time zone."""
    if not raw:
        return None
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=plant_time_zone())
    return value


# --- the entry point -----------------------------------------------------------------------


def b2mml_import(*, data: bytes, by=None, kind: str | None = None) -> Imported:
    """Read, check and apply one document; raises B2mmlError (nothing written) or answers
    with the acknowledgement. `kind` limits the documents taken (an endpoint's)."""
    root = document_read(data)
    name = local(root.tag)
    if name not in ROOTS or (kind is not None and ROOTS[name][0] != kind):
        takes = listed(roots_of(kind) if kind else ROOTS)
        raise B2mmlError(
            _("A %(name)s document is not taken here; this takes %(takes)s.")
            % {"name": name, "takes": takes},
            errors=[(f"/{name}", _("document not taken here"))],
            code="wrong_document",
        )
    found_kind, noun = ROOTS[name]
    nouns = children(child(root, "DataArea"), noun)
    result = Imported(
        kind=found_kind, root_name=name, bodid=text(root, "ApplicationArea", "BODID") or ""
    )
    base = f"/{name}/DataArea/{noun}"
    with transaction.atomic():
        for index, element in enumerate(nouns, start=1):
            HANDLERS[found_kind](element, f"{base}[{index}]", by, result.notes)
        # Inside the transaction: an answer that could not be made undoes the import, so
        # the sender's retry finds nothing half done.
        result.acknowledgement = document_bytes(acknowledgement(root, noun, nouns, result.notes))
    return result


def acknowledgement(root: ET.Element, noun: str, nouns, notes: list[str]) -> ET.Element:
    """`Acknowledge{Noun}`: the original ApplicationArea (its BODID names the document
    acknowledged), Accepted, one Description line per thing done, and the nouns as sent."""
    ack_root, data_area = bod("Acknowledge", noun, area())
    acknowledge = child(data_area, "Acknowledge")
    original = copy.deepcopy(child(root, "ApplicationArea"))
    original.tag = q("OriginalApplicationArea")
    acknowledge.append(original)
    criteria = sub(acknowledge, "ResponseCriteria")
    sub(criteria, "ResponseExpression", "Accepted", actionCode="Accepted")
    status = sub(criteria, "ChangeStatus")
    sub(status, "Code", "Accepted")
    for note in notes:
        sub(status, "Description", note)
    for element in nouns:
        data_area.append(copy.deepcopy(element))
    return ack_root


def refusal_document(error: B2mmlError, data: bytes | None = None) -> bytes:
    """A refused document's answer: a `ConfirmBOD` (ISA-95 Part 5's reply to a BOD that
    could not be processed) with the message and one Note per failing path."""
    root = ET.Element(q("ConfirmBOD"))
    application_area(root, "ApplicationArea", area())
    data_area = sub(root, "DataArea")
    confirm = sub(data_area, "Confirm")
    original = _original_area(data)
    if original is not None:
        confirm.append(original)
    criteria = sub(confirm, "ResponseCriteria")
    sub(criteria, "ResponseExpression", "Rejected", actionCode="Rejected")
    status = sub(criteria, "ChangeStatus")
    sub(status, "Code", "Rejected")
    sub(status, "Description", error.message[:1000])
    bod_element = sub(data_area, "BOD")
    if original is not None:
        bod_element.append(copy.deepcopy(original))
    sub(bod_element, "Description", error.message[:1000])
    for path, reason in error.errors:
        sub(bod_element, "Note", labelled(path, reason)[:1000])
    return serialize(root)


def _original_area(data: bytes | None) -> ET.Element | None:
    """The refused document's ApplicationArea, when it could be read at all."""
    if not data:
        return None
    try:
        root = ET.fromstring(data)
    except (ET.ParseError, LookupError):  # not XML, or an encoding Python does not know
        return None
    found = child(root, "ApplicationArea")
    created = text(found, "CreationDateTime")
    try:
        datetime.fromisoformat((created or "").replace("Z", "+00:00"))
    except ValueError:
        return None  # the refusal may be about this very field
    original = ET.Element(q("OriginalApplicationArea"))
    sub(original, "CreationDateTime", created)
    if text(found, "BODID"):
        sub(original, "BODID", text(found, "BODID"))
    return original


# --- schedule: production orders ---------------------------------------------------------


def _produced(request: ET.Element, path: str) -> tuple[str, Decimal, str]:
    """The item code and quantity the request produces (its last produced requirement)."""
    found = None
    for s_index, segment in enumerate(children(request, "SegmentRequirement"), start=1):
        for m_index, material in enumerate(children(segment, "MaterialRequirement"), start=1):
            if material_use(material) == "Produced":
                found = (
                    material,
                    f"{path}/SegmentRequirement[{s_index}]/MaterialRequirement[{m_index}]",
                )
    if found is None:
        raise B2mmlError(
            _(
                "%(path)s: no MaterialRequirement with MaterialUse Produced names the item and "
                "quantity to make."
            )
            % {"path": path},
            errors=[(path, _("no produced MaterialRequirement"))],
        )
    material, m_path = found
    code = text(material, "MaterialDefinitionID")
    if not code:
        raise B2mmlError(
            _("%(path)s: the produced material needs its MaterialDefinitionID.") % {"path": m_path},
            errors=[(f"{m_path}/MaterialDefinitionID", _("missing"))],
        )
    qty = _decimal(
        text(material, "Quantity", "QuantityString"),
        f"{m_path}/Quantity/QuantityString",
        positive=True,
    )
    return code, qty, m_path


def _schedule(schedule: ET.Element, path: str, by, notes: list[str]) -> None:
    for index, request in enumerate(children(schedule, "OperationsRequest"), start=1):
        _order(request, f"{path}/OperationsRequest[{index}]", by, notes)


def _order(request: ET.Element, path: str, by, notes: list[str]) -> None:
    ref = text(request, "ID")
    code, qty, m_path = _produced(request, path)
    item = Item.objects.filter(code=code).first()
    if item is None:
        raise B2mmlError(
            _("%(path)s: no item %(code)s.")
            % {"path": f"{m_path}/MaterialDefinitionID", "code": repr(code)},
            errors=[
                (f"{m_path}/MaterialDefinitionID", _("no item %(code)s") % {"code": repr(code)})
            ],
        )
    end = _instant(text(request, "EndTime")) or max(
        filter(
            None,
            (_instant(text(s, "LatestEndTime")) for s in children(request, "SegmentRequirement")),
        ),
        default=None,
    )
    if end is None:
        raise B2mmlError(
            _("%(path)s: give EndTime, the date the order is due.") % {"path": path},
            errors=[(f"{path}/EndTime", _("missing: the due date"))],
        )
    due = end.astimezone(plant_time_zone()).date()
    priority = None
    if text(request, "Priority"):
        raw = _decimal(text(request, "Priority"), f"{path}/Priority")
        # ClosedLoop's priorities run 1 (most urgent) to 9; an ERP's scale is cut to it.
        priority = min(max(int(raw.to_integral_value()), 1), 9)
    state = text(request, "RequestState") or ""
    definition = text(request, "OperationsDefinitionID") or ""
    order = ProductionOrder.objects.filter(external_ref=ref).first() or (
        ProductionOrder.objects.filter(number=ref, external_ref__isnull=True).first()
    )
    with at(path):
        if order is None:
            if state in ("Cancelled", "Aborted", "Closed", "Completed"):
                notes.append(
                    labelled(
                        ref,
                        _("RequestState %(state)s, and not known here; nothing to do.")
                        % {"state": state},
                    )
                )
                return
            routing = _routing(item, definition)
            order = production_order_create(
                item=item,
                quantity=qty,
                due_date=due,
                priority=priority or 5,
                status=ProductionOrder.Status.PLANNED
                if state in ("Waiting", "Ready", "Released")
                else ProductionOrder.Status.DRAFT,
                note=(text(request, "Description") or "")[:200],
                external_ref=ref,
                routing=routing,
                by=by,
            )
            if state == "Released":
                order = production_order_release(order=order, by=by)
            notes.append(
                labelled(
                    ref,
                    _("order %(order)s created (%(status)s).")
                    % {"order": order.number, "status": order.get_status_display().lower()},
                )
            )
            return
        if order.item_id != item.pk:
            raise StateConflict(
                _("Order %(order)s makes %(item)s; the document names %(code)s.")
                % {"order": order.number, "item": order.item.code, "code": code}
            )
        order, changed = production_order_update(
            order=order, quantity=qty, due_date=due, priority=priority, by=by
        )
        moved = _order_state(order, state, by)
        notes.append(labelled(ref, _order_note(order, changed, moved)))


def _order_note(order: ProductionOrder, changed: list[str], moved: str) -> str:
    values = {
        "order": order.number,
        "fields": _fields(ProductionOrder, changed),
        "status": ProductionOrder.Status(moved).label.lower() if moved else "",
    }
    if changed and moved:
        return _("order %(order)s: %(fields)s changed; now %(status)s.") % values
    if changed:
        return _("order %(order)s: %(fields)s changed.") % values
    if moved:
        return _("order %(order)s now %(status)s.") % values
    return _("order %(order)s unchanged.") % values


def _fields(model, names: list[str]) -> str:
    """Fields that changed, by their names in the reader's language."""
    fields = {f.name: f for f in model._meta.get_fields() if hasattr(f, "verbose_name")}
    return listed(str(fields[n].verbose_name) if n in fields else n for n in names)


def _routing(item: Item, definition: str) -> Routing | None:
    """The routing an OperationsDefinitionID names (`ITEM/version`, as exported); None when
    it names none ClosedLoop knows: the item's effective routing then applies."""
    code, _, version = definition.rpartition("/")
    if code != item.code or not version:
        return None
    return Routing.objects.filter(item=item, version=version).first()


def _order_state(order: ProductionOrder, state: str, by) -> str:
    """Follow the ERP's RequestState where it asks for a step ClosedLoop takes from the
    plan: release, plan, cancel (the status it moved to; "" when none). Anything else is the
    floor's to decide."""
    status = ProductionOrder.Status
    if state == "Released" and order.status in (status.DRAFT, status.PLANNED):
        if order.status == status.DRAFT:
            order = production_order_plan(order=order, by=by)
        production_order_release(order=order, by=by)
        return "released"
    if state in ("Waiting", "Ready") and order.status == status.DRAFT:
        production_order_plan(order=order, by=by)
        return "planned"
    if state == "Cancelled" and order.status in (status.DRAFT, status.PLANNED, status.RELEASED):
        production_order_cancel(order=order, by=by)
        return "cancelled"
    return ""


# --- performance: quantities through the production event service --------------------------


def _performance(performance: ET.Element, path: str, by, notes: list[str]) -> None:
    for index, response in enumerate(children(performance, "OperationsResponse"), start=1):
        _response(response, f"{path}/OperationsResponse[{index}]", by, notes)


def _order_named(ref: str | None, fallback: str | None, path: str) -> ProductionOrder:
    for value in (ref, fallback):
        if not value:
            continue
        found = ProductionOrder.objects.filter(external_ref=value).first()
        found = found or ProductionOrder.objects.filter(number=value).first()
        if found is not None:
            return found
    named = repr(ref or fallback)
    raise B2mmlError(
        _("%(path)s: no production order %(order)s.")
        % {"path": f"{path}/OperationsRequestID", "order": named},
        errors=[
            (f"{path}/OperationsRequestID", _("no production order %(order)s") % {"order": named})
        ],
    )


def _response(response: ET.Element, path: str, by, notes: list[str]) -> None:
    order = _order_named(text(response, "OperationsRequestID"), text(response, "ID"), path)
    segments = []
    for index, segment in enumerate(children(response, "SegmentResponse"), start=1):
        s_path = f"{path}/SegmentResponse[{index}]"
        step = trailing_number(text(segment, "OperationsSegmentID"))
        if step is None:
            raise B2mmlError(
                _("%(path)s: OperationsSegmentID must carry the routing step number (10, 20, …).")
                % {"path": s_path},
                errors=[(f"{s_path}/OperationsSegmentID", _("no routing step number"))],
            )
        segments.append((step, segment, s_path))
    for step, segment, s_path in sorted(segments, key=lambda s: s[0]):
        if not _segment(order, step, segment, s_path, by, notes):
            notes.append(
                labelled(
                    order.number,
                    _(
                        "the operations after %(step)s wait for the event held for approval; "
                        "send the document again once it is decided."
                    )
                    % {"step": step},
                )
            )
            return


def _event_id(*parts) -> str:
    """A production event id derived from what the document says, stable across sends."""
    value = "b2mml:" + ":".join(str(p) for p in parts)
    if len(value) <= EVENT_ID_MAX:
        return value
    return "b2mml:" + hashlib.sha256(value.encode()).hexdigest()


def _actuals(order: ProductionOrder, segment: ET.Element, s_path: str) -> dict[str, list]:
    """{trace code ("" when none): [good, scrap]} as totals the segment reports."""
    totals: dict[str, list] = {}
    for index, material in enumerate(children(segment, "MaterialActual"), start=1):
        m_path = f"{s_path}/MaterialActual[{index}]"
        use = material_use(material)
        if use not in ("Produced", SCRAP):
            continue  # consumed material is issued on the floor, not booked from here
        code = text(material, "MaterialDefinitionID")
        if code and code != order.item.code:
            raise B2mmlError(
                _("%(path)s: order %(order)s makes %(item)s, not %(code)s.")
                % {
                    "path": f"{m_path}/MaterialDefinitionID",
                    "order": order.number,
                    "item": order.item.code,
                    "code": code,
                },
                errors=[
                    (
                        f"{m_path}/MaterialDefinitionID",
                        _("not the item of %(order)s") % {"order": order.number},
                    )
                ],
            )
        slot = 0 if use == "Produced" else 1
        units = texts(material, "MaterialSubLotID")
        raw = text(material, "Quantity", "QuantityString")
        if units:
            if raw is not None and _decimal(raw, f"{m_path}/Quantity/QuantityString") != len(units):
                raise B2mmlError(
                    _(
                        "%(path)s: Quantity %(quantity)s but %(count)d MaterialSubLotID; each "
                        "serial unit counts one."
                    )
                    % {"path": m_path, "quantity": raw, "count": len(units)},
                    errors=[
                        (f"{m_path}/Quantity/QuantityString", _("does not match the sub-lots"))
                    ],
                )
            keys = [(unit, Decimal(1)) for unit in units]
        else:
            value = _decimal(raw, f"{m_path}/Quantity/QuantityString") if raw else Decimal(0)
            keys = [(text(material, "MaterialLotID") or "", value)]
        for key, value in keys:
            totals.setdefault(key, [Decimal(0), Decimal(0)])[slot] += value
    return totals


def _segment(order, step: int, segment: ET.Element, s_path: str, by, notes) -> bool:
    """Book one segment's start, quantities and completion; False when an event is held
    for a supervisor's approval (the rest waits for it)."""
    task = (
        # The task's row only, as the event service locks it first (then planning locks the
        # operation and the order): the same order, so no deadlock with the floor's events.
        Task.objects.select_for_update(of=("self",))
        .select_related("operation")
        .filter(order=order, operation__sequence=step)
        .first()
    )
    if task is None:
        raise B2mmlError(
            _("%(path)s: order %(order)s has no released operation %(step)s.")
            % {"path": s_path, "order": order.number, "step": step},
            errors=[
                (
                    f"{s_path}/OperationsSegmentID",
                    _("no released operation %(step)s") % {"step": step},
                )
            ],
        )
    state = text(segment, "SegmentState") or ""
    totals = _actuals(order, segment, s_path)
    common = {"order": order.number, "sequence": step}
    machine = next(
        (
            code
            for code in (text(e, "EquipmentID") for e in children(segment, "EquipmentActual"))
            if code and Equipment.objects.filter(code=code).exists()
        ),
        None,
    )
    badge = next(
        (
            b
            for b in (text(p, "PersonID") for p in children(segment, "PersonnelActual"))
            if b and Operator.objects.filter(badge=b).exists()
        ),
        None,
    )
    if badge:
        common["operator"] = badge
    events = []
    base = f"{order.number}:{step}"
    reports_something = any(good or scrap for good, scrap in totals.values())
    if task.status in (Task.Status.QUEUED, Task.Status.READY) and (
        reports_something or state in ("Running", "Paused", "Completed")
    ):
        start = {**common, "event_id": _event_id(base, "start"), "kind": "start"}
        if machine:
            start["equipment"] = machine
        if text(segment, "ActualStartTime"):
            start["occurred_at"] = text(segment, "ActualStartTime")
        events.append((start, f"{s_path}/ActualStartTime"))
    booked = _booked(task)
    for key, (good, scrap) in sorted(totals.items()):
        had_good, had_scrap = booked.get(key, (Decimal(0), Decimal(0)))
        if good <= had_good and scrap <= had_scrap:
            if good < had_good or scrap < had_scrap:
                figures = {
                    "good": quantity_format(good),
                    "scrap": quantity_format(scrap),
                    "had_good": quantity_format(had_good),
                    "had_scrap": quantity_format(had_scrap),
                    "code": key,
                }
                if key:
                    note = _(
                        "reports %(good)s good and %(scrap)s scrap of %(code)s; %(had_good)s "
                        "and %(had_scrap)s are booked here already, nothing added (a count is "
                        "corrected on the floor)."
                    )
                else:
                    note = _(
                        "reports %(good)s good and %(scrap)s scrap; %(had_good)s and "
                        "%(had_scrap)s are booked here already, nothing added (a count is "
                        "corrected on the floor)."
                    )
                notes.append(labelled(f"{order.number}/{step}", note % figures))
            continue
        good, scrap = max(good, had_good), max(scrap, had_scrap)
        report = {
            **common,
            "event_id": _event_id(base, "q", key, quantity_format(good), quantity_format(scrap)),
            "kind": "report",
            "quantity_good": str(good - had_good),
            "quantity_scrap": str(scrap - had_scrap),
        }
        if key:
            report["trace_code"] = key
        events.append((report, f"{s_path}/MaterialActual"))
    if state == "Completed" and task.status != Task.Status.DONE:
        complete = {**common, "event_id": _event_id(base, "complete"), "kind": "complete"}
        if text(segment, "ActualEndTime"):
            complete["occurred_at"] = text(segment, "ActualEndTime")
        events.append((complete, f"{s_path}/SegmentState"))
    counts = {"accepted": 0, "duplicate": 0}
    for event, e_path in events:
        (result,) = events_record(items=[event], by=by, source=ProductionEvent.Source.API)
        if result.status == "held":
            notes.append(labelled(f"{order.number}/{step}", _held_note(event["kind"], result)))
            return False
        if result.status == "rejected":
            reasons = pgettext("between the problems of an import", "; ").join(
                labelled(k, v) for k, v in result.errors.items()
            )
            raise B2mmlError(
                _("%(path)s: order %(order)s operation %(step)s: %(reasons)s")
                % {"path": e_path, "order": order.number, "step": step, "reasons": reasons},
                status=result.code if result.code in (403, 409) else 400,
                errors=[(e_path, reasons)],
            )
        counts[result.status] += 1
    where = f"{order.number}/{step}"
    if not events:
        notes.append(labelled(where, _("nothing new.")))
    elif counts["duplicate"]:
        notes.append(
            labelled(
                where,
                ngettext(
                    "%(count)d event booked, %(duplicate)d already booked.",
                    "%(count)d events booked, %(duplicate)d already booked.",
                    counts["accepted"],
                )
                % {"count": counts["accepted"], "duplicate": counts["duplicate"]},
            )
        )
    else:
        notes.append(
            labelled(
                where,
                ngettext("%(count)d event booked.", "%(count)d events booked.", counts["accepted"])
                % {"count": counts["accepted"]},
            )
        )
    return True


def _held_note(kind: str, result) -> str:
    """An event held for a supervisor's approval: its kind and why, by the approval's
    reasons (backdated, over-delivery) in the reader's language; the approval's own message
    (the instants and limits) is the supervisor's to read."""
    approval = result.approval
    labels = dict(EventApproval.Reason.choices)
    reasons = [str(labels.get(r, r)).lower() for r in (approval.reasons if approval else [])]
    return _("%(kind)s held for a supervisor's approval (%(reasons)s).") % {
        "kind": str(dict(ProductionEvent.Kind.choices).get(kind, kind)).lower(),
        "reasons": listed(reasons) if reasons else _("implausible"),
    }


def _booked(task: Task) -> dict[str, tuple[Decimal, Decimal]]:
    """What is booked on this operation, by trace code ("" for none): a document's
    MaterialActual quantities are totals (Sync: the state as the sender knows it), so only
    what they add to these is booked. A document sent again, or our own export coming
    back, adds nothing."""
    rows = (
        ProductionEvent.objects.filter(task_id=task.pk)
        .values("trace_code")
        .annotate(good=Sum("quantity_good"), scrap=Sum("quantity_scrap"))
    )
    return {row["trace_code"]: (row["good"], row["scrap"]) for row in rows}


# --- master data ----------------------------------------------------------------------------

# Equipment levels a machine has; higher levels (sites, areas, work centers, lines) are kept
# in ClosedLoop's admin.
MACHINE_LEVELS = {"WorkUnit", "WorkCell", "Unit", "EquipmentModule", "ControlModule"}


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else None


def _equipment(element: ET.Element, path: str, by, notes: list[str]) -> None:
    code = text(element, "ID")
    level = text(element, "EquipmentLevel")
    if level and level not in MACHINE_LEVELS:
        raise B2mmlError(
            _(
                "%(path)s: %(level)s equipment is kept in ClosedLoop's admin; documents bring "
                "machines (%(levels)s)."
            )
            % {
                "path": f"{path}/EquipmentLevel",
                "level": level,
                "levels": listed(sorted(MACHINE_LEVELS)),
            },
            errors=[
                (f"{path}/EquipmentLevel", _("%(level)s is not a machine level") % {"level": level})
            ],
        )
    props = properties(element, "EquipmentProperty")
    rate = props.get("RatedRate")
    with at(path):
        synced = equipment_sync(
            code=code,
            name=text(element, "Description"),
            work_center=(texts(element, "EquipmentClassID") or [None])[0]
            or props.get("WorkCenter"),
            model=props.get("Model"),
            rated_rate=_decimal(rate, f"{path}/EquipmentProperty[RatedRate]") if rate else None,
            by=by,
        )
    notes.append(_synced_note(Equipment, code, synced))


def _material(element: ET.Element, path: str, by, notes: list[str]) -> None:
    code = text(element, "ID")
    props = properties(element, "MaterialDefinitionProperty")
    with at(path):
        synced = item_sync(
            code=code,
            name=text(element, "Description"),
            uom=_lower(props.get("UnitOfMeasure")),
            source=_lower(props.get("Source")),
            tracking=_lower(props.get("Tracking")),
            by=by,
        )
    notes.append(_synced_note(Item, code, synced))


def _person(element: ET.Element, path: str, by, notes: list[str]) -> None:
    badge = text(element, "ID")
    props = properties(element, "PersonProperty")
    active = _lower(props.get("Active"))
    if active is not None and active not in ("true", "false", "1", "0"):
        raise B2mmlError(
            _("%(path)s: give true or false.") % {"path": f"{path}/PersonProperty[Active]"},
            errors=[(f"{path}/PersonProperty", _("Active must be true or false"))],
        )
    with at(path):
        synced = operator_sync(
            badge=badge,
            name=text(element, "PersonName") or text(element, "Description"),
            home_work_center=props.get("HomeWorkCenter"),
            active=None if active is None else active in ("true", "1"),
            by=by,
        )
    notes.append(_synced_note(Operator, badge, synced))


# What a master data document did, by the kind of record: (created, changed, unchanged).
SYNCED_NOTES = {
    Equipment: (
        gettext_noop("equipment %(code)s created."),
        gettext_noop("equipment %(code)s: %(fields)s changed."),
        gettext_noop("equipment %(code)s unchanged."),
    ),
    Item: (
        gettext_noop("item %(code)s created."),
        gettext_noop("item %(code)s: %(fields)s changed."),
        gettext_noop("item %(code)s unchanged."),
    ),
    Operator: (
        gettext_noop("operator %(code)s created."),
        gettext_noop("operator %(code)s: %(fields)s changed."),
        gettext_noop("operator %(code)s unchanged."),
    ),
}


def _synced_note(model, code: str, synced) -> str:
    created, changed, unchanged = SYNCED_NOTES[model]
    if synced.created:
        return _(created) % {"code": code}
    if synced.changed:
        return _(changed) % {"code": code, "fields": _fields(model, synced.changed)}
    return _(unchanged) % {"code": code}


HANDLERS = {
    "schedule": _schedule,
    "performance": _performance,
    "equipment": _equipment,
    "material": _material,
    "personnel": _person,
}
