"""Genealogy (down) and where-used (up) of units and lots: reads over execution's production
events and material issues and quality's inspection records.

Down — `genealogy(unit=… | lot=…)`: every operation of the order(s) that made the unit or
lot, with who did it, on which machine, when (from the events that name the unit or lot;
from the operation's task where no event names it), the inspection results (the latest
record of each correction chain, with its measurements) and the material lots issued to the
order at that operation. A consumed lot that was itself produced here is followed down the
same way: PP-GF30 lot → HSG-100 lot → EB-500 unit, read from the unit's end.

Material is issued to an order, not to one unit: for a serial unit, "materials" are the lots
issued to its order at that operation (batch-level genealogy, what the ledger can prove).

Up — `where_used(lot=…)`: the orders the lot was issued to, what those orders produced (the
units and lots their events name), and, for a produced lot that was issued further, the same
again, up to the end items.

Scrapped, both ways: a unit or lot is scrapped when a current inspection record of it (one
nobody corrected) carries a scrap disposition — the gate's rule, see
services/gate.py; a correction ends that scrap — or when its production events
report scrap and no good. `scrapped_by` says which: "inspection record 12 at operation 30"
or "production report".

Cost: both walk the structure level by level and load each level with a fixed number of
queries for every unit and lot on it (down: events, operations with their tasks, inspection
records, measurements, issues; up: issues, produced identities, units, lots), so a lookup
costs a handful of queries per BOM level whatever the length of the history. Down, the
dispositions come with the inspection records (a join, no query of their own); up, one more
query per level reads the current scrap dispositions of everything made on it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, Max, Min, OuterRef, Q, Sum
from django.utils.translation import gettext as _

from core.formatting import full_name
from core.lists import list_text
from core.texts import text_shown
from execution.models import MaterialIssue, ProductionEvent
from planning.models import OrderOperation
from resources.models import MaterialLot, SerialUnit

from ..models import Disposition, InspectionRecord, Measurement, TraceCode

MAX_LEVELS = 10  # BOM levels followed either way; deeper chains are marked truncated
ZERO = Decimal(0)


class TraceNotFound(Exception):
    """No unit or lot carries this code."""


class TraceAmbiguous(Exception):
    """The code names units or lots of more than one item: say which item."""

    def __init__(self, message: str, candidates: list[str]):
        super().__init__(message)
        self.candidates = candidates


# --- what a code names -----------------------------------------------------------------


@dataclass
class TraceTarget:
    """The unit or lot a looked-up code names, with its trace code when it has one."""

    unit: SerialUnit | None = None
    lot: MaterialLot | None = None
    trace_code: TraceCode | None = None

    @property
    def owner(self) -> SerialUnit | MaterialLot:
        return self.unit or self.lot

    @property
    def kind(self) -> str:
        return "unit" if self.unit is not None else "lot"

    @property
    def identity(self) -> str:
        return self.unit.serial if self.unit is not None else self.lot.code


def code_of(obj) -> TraceCode | None:
    """The trace code of a unit or lot, or None (reverse one-to-one without a row)."""
    try:
        return obj.trace_code
    except ObjectDoesNotExist:
        return None


def trace_find(*, code: str, item: str | None = None) -> TraceTarget:
    """The unit or lot a code names.

    First the trace codes; then the code as scanned in production events (a unit or lot made
    here whose code has not been issued yet); then a received lot's own code; with `item`,
    also a serial unit's serial. Raises TraceNotFound or TraceAmbiguous.
    """
    code = (code or "").strip()
    item = (item or "").strip() or None
    if not code:
        raise TraceNotFound(_("Enter a trace code."))
    codes = TraceCode.objects.select_related("order", "unit__item", "lot__item")
    if item:
        codes = codes.filter(item__code=item)
    found = codes.filter(code=code).first()
    if found is not None:
        return TraceTarget(unit=found.unit, lot=found.lot, trace_code=found)

    candidates: dict[tuple[str, int], TraceTarget] = {}
    # ProductionEvent.trace_code is indexed: the code as the floor scanned it.
    named = ProductionEvent.objects.filter(trace_code=code)
    if item:
        named = named.filter(order__item__code=item)
    pairs = set(named.order_by().values_list("unit_id", "lot_id").distinct()[:20])
    unit_ids = {u for u, _lot in pairs if u}
    lot_ids = {lot for _unit, lot in pairs if lot}
    units = SerialUnit.objects.select_related("item", "trace_code")
    lots = MaterialLot.objects.select_related("item", "trace_code")
    for unit in units.filter(pk__in=unit_ids) if unit_ids else ():
        candidates[("unit", unit.pk)] = TraceTarget(unit=unit, trace_code=code_of(unit))
    for lot in lots.filter(pk__in=lot_ids) if lot_ids else ():
        candidates[("lot", lot.pk)] = TraceTarget(lot=lot, trace_code=code_of(lot))
    # Received lots carry the supplier's or the receiving label's code, never an event.
    received = lots.filter(code=code)
    if item:
        received = received.filter(item__code=item)
    for lot in received[:20]:
        candidates.setdefault(("lot", lot.pk), TraceTarget(lot=lot, trace_code=code_of(lot)))
    if item:
        # (item, serial) is the unique index; a serial alone is not indexed, so only with item.
        for unit in units.filter(item__code=item, serial=code)[:1]:
            candidates.setdefault(
                ("unit", unit.pk), TraceTarget(unit=unit, trace_code=code_of(unit))
            )
    if not candidates:
        raise TraceNotFound(_("No such code: %(code)s.") % {"code": code})
    if len(candidates) > 1:
        names = sorted(f"{t.owner.item.code} {t.kind} {t.identity}" for t in candidates.values())
        raise TraceAmbiguous(
            _("%(code)s names more than one unit or lot (%(names)s): choose the item.")
            % {"code": code, "names": list_text(names)},
            names,
        )
    return next(iter(candidates.values()))


def lot_find(*, code: str, item: str | None = None) -> MaterialLot:
    """A lot by its code (and item, where lot codes repeat across items)."""
    code = (code or "").strip()
    if not code:
        raise TraceNotFound(_("Enter a lot code."))
    lots = MaterialLot.objects.select_related("item", "trace_code")
    if item:
        lots = lots.filter(item__code=item.strip())
    found = list(lots.filter(code=code)[:20])
    if not found:
        # A produced lot may be known by its trace code only.
        tc = TraceCode.objects.select_related("lot__item").filter(code=code, lot__isnull=False)
        if item:
            tc = tc.filter(item__code=item.strip())
        hit = tc.first()
        if hit is not None:
            return hit.lot
        raise TraceNotFound(
            _("No lot %(code)s of %(item)s.") % {"code": code, "item": item}
            if item
            else _("No lot %(code)s.") % {"code": code}
        )
    if len(found) > 1:
        names = sorted(f"{lot.item.code} lot {lot.code}" for lot in found)
        raise TraceAmbiguous(
            _("Lot %(code)s exists for more than one item: choose the item.") % {"code": code},
            names,
        )
    return found[0]


# --- down: genealogy -------------------------------------------------------------------


@dataclass
class EventRow:
    kind: str
    occurred_at: datetime
    operator: str
    equipment: str
    good: Decimal
    scrap: Decimal
    reason: str


@dataclass
class MeasurementRow:
    characteristic: str
    value: Decimal | None
    ok: bool | None
    passed: bool
    nominal: Decimal | None
    lower_limit: Decimal | None
    upper_limit: Decimal | None
    unit: str


@dataclass
class InspectionRow:
    id: int
    plan: str
    result: str
    inspected_at: datetime
    inspector: str
    gauge: str
    defect: str
    reason: str
    corrects: int  # how many earlier records of its chain it supersedes
    measurements: list[MeasurementRow]


@dataclass
class MaterialRow:
    item: str
    item_name: str
    lot: str
    trace_code: str
    supplier_lot: str
    quantity: Decimal
    uom: str
    issued_at: datetime
    location: str
    # "produced" (made here: see genealogy), "received" (bought), "untracked",
    # or "repeated" (already shown higher up: not expanded again)
    source: str = "untracked"
    genealogy: Genealogy | None = None


@dataclass
class OperationRow:
    order: str
    sequence: int
    name: str
    work_center: str
    status: str
    basis: str  # "own": events name this unit or lot; "task": the operation's task only; "none"
    started_at: datetime | None
    ended_at: datetime | None
    operators: list[str]
    equipment: list[str]
    good: Decimal
    scrap: Decimal
    events: list[EventRow] = field(default_factory=list)
    inspections: list[InspectionRow] = field(default_factory=list)
    materials: list[MaterialRow] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        """The operation's status as people read it ("In progress", 进行中), not its code."""
        try:
            return str(OrderOperation.Status(self.status).label)
        except ValueError:
            return self.status


@dataclass
class Genealogy:
    kind: str  # unit | lot
    id: int
    item: str
    item_name: str
    identity: str
    trace_code: str
    supplier_lot: str
    level: int
    produced: bool = False
    scrapped: bool = False
    scrapped_by: str = ""  # see the module docstring
    orders: list[str] = field(default_factory=list)
    operations: list[OperationRow] = field(default_factory=list)
    other_inspections: list[InspectionRow] = field(default_factory=list)
    truncated: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.id)


# Reads below use values(): only the columns shown, no model instances — a lookup's time is
# mostly Python, so narrow rows keep it short.
EVENT_FIELDS = (
    "id",
    "kind",
    "occurred_at",
    "order_id",
    "operation_id",
    "unit_id",
    "lot_id",
    "quantity_good",
    "quantity_scrap",
    "reason",
    "operator__badge",
    "operator__name",
    "equipment__code",
)
RECORD_FIELDS = (
    "id",
    "unit_id",
    "lot_id",
    "operation_id",
    "corrects_id",
    "result",
    "inspected_at",
    "gauge",
    "reason",
    "reason_id",
    "reason_params",
    "plan__code",
    "plan__version",
    "inspector__first_name",
    "inspector__last_name",
    "inspector__username",
    "defect_code__code",
    "defect_code__name",
    "operation__sequence",
    "disposition__decision",
)
MEASUREMENT_FIELDS = (
    "record_id",
    "value",
    "ok",
    "passed",
    "characteristic__name",
    "characteristic__nominal",
    "characteristic__lower_tolerance",
    "characteristic__upper_tolerance",
    "characteristic__unit",
)
OPERATION_FIELDS = (
    "id",
    "order_id",
    "order__number",
    "sequence",
    "name",
    "status",
    "work_center__code",
    "equipment__code",
    "task__started_at",
    "task__ended_at",
    "task__operator__badge",
    "task__operator__name",
    "task__equipment__code",
)
ISSUE_FIELDS = (
    "id",
    "issued_at",
    "quantity",
    "requirement__operation_id",
    "requirement__item__code",
    "requirement__item__name",
    "requirement__item__uom",
    "lot_id",
    "lot__code",
    "lot__supplier_lot",
    "lot__item__code",
    "lot__item__name",
    "lot__trace_code__code",
    "location__code",
)


def _operator(badge: str | None, name: str | None) -> str:
    return f"{badge} {name}" if badge else ""


def _person(first: str | None, last: str | None, username: str | None) -> str:
    return full_name(first, last) or (username or "")


def _node(obj, level: int) -> Genealogy:
    tc = code_of(obj)
    is_unit = isinstance(obj, SerialUnit)
    return Genealogy(
        kind="unit" if is_unit else "lot",
        id=obj.pk,
        item=obj.item.code,
        item_name=obj.item.name,
        identity=obj.serial if is_unit else obj.code,
        trace_code=tc.code if tc else "",
        supplier_lot="" if is_unit else obj.supplier_lot,
        level=level,
    )


def _scrapped_by(*, scrap_record: dict | None, scrap_reported: bool) -> str:
    """Why a unit or lot counts as scrapped ("" when it does not): a current record with a
    scrap disposition (`id`, `operation__sequence`), else production events that reported
    scrap and no good."""
    if scrap_record is not None:
        return (
            f"inspection record {scrap_record['id']} "
            f"at operation {scrap_record['operation__sequence']}"
        )
    return "production report" if scrap_reported else ""


def _current_scrap(records: list[dict]) -> dict | None:
    """The first current record with a scrap disposition among all the records of one unit
    or lot (oldest first): every record of a correction chain names the same unit or lot,
    so the ones corrected are all in the list."""
    superseded = {r["corrects_id"] for r in records if r["corrects_id"]}
    for r in records:
        if r["id"] not in superseded and r["disposition__decision"] == Disposition.Decision.SCRAP:
            return r
    return None


def _limit(nominal, tolerance, sign: int):
    if nominal is None:
        return None
    return nominal + sign * (tolerance or 0)


def _inspection_rows(
    records: list[dict], measurements: dict[int, list[dict]]
) -> list[InspectionRow]:
    """The latest record of each correction chain, with the length of what it replaced."""
    by_id = {r["id"]: r for r in records}
    superseded = {r["corrects_id"] for r in records if r["corrects_id"]}
    rows = []
    for r in records:
        if r["id"] in superseded:
            continue
        depth, cur = 0, r
        while cur["corrects_id"] and cur["corrects_id"] in by_id and depth < 1000:
            depth, cur = depth + 1, by_id[cur["corrects_id"]]
        rows.append(
            InspectionRow(
                id=r["id"],
                plan=f"{r['plan__code']} v{r['plan__version']}",
                result=r["result"],
                inspected_at=r["inspected_at"],
                inspector=_person(
                    r["inspector__first_name"], r["inspector__last_name"], r["inspector__username"]
                ),
                gauge=r["gauge"],
                defect=f"{r['defect_code__code']} {r['defect_code__name']}"
                if r["defect_code__code"]
                else "",
                reason=text_shown(r["reason_id"], r["reason_params"], r["reason"]),
                corrects=depth,
                measurements=[
                    MeasurementRow(
                        characteristic=m["characteristic__name"],
                        value=m["value"],
                        ok=m["ok"],
                        passed=m["passed"],
                        nominal=m["characteristic__nominal"],
                        lower_limit=_limit(
                            m["characteristic__nominal"], m["characteristic__lower_tolerance"], -1
                        ),
                        upper_limit=_limit(
                            m["characteristic__nominal"], m["characteristic__upper_tolerance"], 1
                        ),
                        unit=m["characteristic__unit"],
                    )
                    for m in measurements.get(r["id"], [])
                ],
            )
        )
    return rows


def _identity_q(units: list[int], lots: list[int]) -> Q:
    q = Q(pk__in=[])
    if units:
        q |= Q(unit_id__in=units)
    if lots:
        q |= Q(lot_id__in=lots)
    return q


def _key(row: dict) -> tuple[str, int]:
    return ("unit", row["unit_id"]) if row["unit_id"] else ("lot", row["lot_id"])


def _load_level(
    nodes: dict[tuple[str, int], Genealogy], seen: set, hints: dict[tuple[str, int], tuple]
) -> list[Genealogy]:
    """Fill the operations, inspections and materials of every node on one level (at most
    six queries); return the nodes of the next level (consumed lots not seen yet).

    `hints` says, for lots met as materials, whether any event or inspection names them
    (asked in the issues query), so received lots cost no query of their own."""
    units = [n.id for n in nodes.values() if n.kind == "unit"]
    lots = [n.id for n in nodes.values() if n.kind == "lot"]
    made_lots = [i for i in lots if hints.get(("lot", i), (True, True))[0]]
    inspected_lots = [i for i in lots if hints.get(("lot", i), (True, True))[1]]
    events = []
    if units or made_lots:
        events = list(
            ProductionEvent.objects.filter(_identity_q(units, made_lots))
            .values(*EVENT_FIELDS)
            .order_by("occurred_at", "id")
        )
    records = []
    if units or inspected_lots:
        records = list(
            InspectionRecord.objects.filter(_identity_q(units, inspected_lots))
            .values(*RECORD_FIELDS)
            .order_by("inspected_at", "id")
        )
    measurements: dict[int, list[dict]] = defaultdict(list)
    if records:
        for m in (
            Measurement.objects.filter(record_id__in=[r["id"] for r in records])
            .values(*MEASUREMENT_FIELDS)
            .order_by("record_id", "characteristic_id")
        ):
            measurements[m["record_id"]].append(m)
    events_of: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for e in events:
        events_of[_key(e)].append(e)
    records_of: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for r in records:
        records_of[_key(r)].append(r)

    order_ids = list(dict.fromkeys(e["order_id"] for e in events))
    ops_of: dict[int, list[dict]] = defaultdict(list)
    issues_at: dict[int, list[dict]] = defaultdict(list)
    if order_ids:
        for op in (
            OrderOperation.objects.filter(order_id__in=order_ids)
            .values(*OPERATION_FIELDS)
            .order_by("order_id", "sequence")
        ):
            ops_of[op["order_id"]].append(op)
        for issue in (
            MaterialIssue.objects.filter(requirement__order_id__in=order_ids)
            .annotate(
                lot_made=Exists(ProductionEvent.objects.filter(lot_id=OuterRef("lot_id"))),
                lot_inspected=Exists(InspectionRecord.objects.filter(lot_id=OuterRef("lot_id"))),
            )
            .values(*ISSUE_FIELDS, "lot_made", "lot_inspected")
            .order_by("issued_at", "id")
        ):
            issues_at[issue["requirement__operation_id"]].append(issue)

    next_level: list[Genealogy] = []
    for node in nodes.values():
        mine = events_of.get(node.key, [])
        node.produced = bool(mine)
        node.scrapped_by = _scrapped_by(
            scrap_record=_current_scrap(records_of.get(node.key, [])),
            scrap_reported=any(e["quantity_scrap"] for e in mine)
            and not any(e["quantity_good"] for e in mine),
        )
        node.scrapped = bool(node.scrapped_by)
        by_op: dict[int, list[dict]] = defaultdict(list)
        for e in mine:
            by_op[e["operation_id"]].append(e)
        inspections_by_op: dict[int, list[dict]] = defaultdict(list)
        for r in records_of.get(node.key, []):
            inspections_by_op[r["operation_id"]].append(r)
        shown_ops: set[int] = set()
        for order_id in dict.fromkeys(e["order_id"] for e in mine):
            for op in ops_of.get(order_id, []):
                shown_ops.add(op["id"])
                row = _operation_row(op, by_op.get(op["id"], []))
                row.inspections = _inspection_rows(
                    inspections_by_op.get(op["id"], []), measurements
                )
                for issue in issues_at.get(op["id"], []):
                    material = _material_row(issue)
                    row.materials.append(material)
                    if issue["lot_id"] is None:
                        continue
                    key = ("lot", issue["lot_id"])
                    if key in seen:
                        material.source = "repeated"
                        continue
                    seen.add(key)
                    hints[key] = (issue["lot_made"], issue["lot_inspected"])
                    material.genealogy = Genealogy(
                        kind="lot",
                        id=issue["lot_id"],
                        item=issue["lot__item__code"],
                        item_name=issue["lot__item__name"],
                        identity=issue["lot__code"],
                        trace_code=issue["lot__trace_code__code"] or "",
                        supplier_lot=issue["lot__supplier_lot"],
                        level=node.level + 1,
                    )
                    next_level.append(material.genealogy)
                node.operations.append(row)
            if ops_of.get(order_id):
                node.orders.append(ops_of[order_id][0]["order__number"])
        node.other_inspections = _inspection_rows(
            [r for op_id, rs in inspections_by_op.items() if op_id not in shown_ops for r in rs],
            measurements,
        )
    return next_level


def _operation_row(op: dict, events: list[dict]) -> OperationRow:
    starts = [
        e["occurred_at"]
        for e in events
        if e["kind"] in (ProductionEvent.Kind.START, ProductionEvent.Kind.RESUME)
    ]
    ends = [
        e["occurred_at"]
        for e in events
        if e["kind"] in (ProductionEvent.Kind.REPORT, ProductionEvent.Kind.COMPLETE)
    ]
    operators = list(
        dict.fromkeys(
            _operator(e["operator__badge"], e["operator__name"])
            for e in events
            if e["operator__badge"]
        )
    )
    machines = list(dict.fromkeys(e["equipment__code"] for e in events if e["equipment__code"]))
    # Where no event names the unit or lot, the operation's task says what is known.
    if not operators and op["task__operator__badge"]:
        operators = [_operator(op["task__operator__badge"], op["task__operator__name"])]
    if not machines:
        fallback = op["task__equipment__code"] or op["equipment__code"]
        machines = [fallback] if fallback else []
    if events:
        basis = "own"
    elif op["task__started_at"]:
        basis = "task"
    else:
        basis = "none"
    return OperationRow(
        order=op["order__number"],
        sequence=op["sequence"],
        name=op["name"],
        work_center=op["work_center__code"],
        status=op["status"],
        basis=basis,
        started_at=min(starts) if starts else op["task__started_at"],
        ended_at=max(ends) if ends else op["task__ended_at"],
        operators=operators,
        equipment=machines,
        good=sum((e["quantity_good"] for e in events), ZERO),
        scrap=sum((e["quantity_scrap"] for e in events), ZERO),
        events=[
            EventRow(
                kind=e["kind"],
                occurred_at=e["occurred_at"],
                operator=_operator(e["operator__badge"], e["operator__name"]),
                equipment=e["equipment__code"] or "",
                good=e["quantity_good"],
                scrap=e["quantity_scrap"],
                reason=e["reason"],
            )
            for e in events
        ],
    )


def _material_row(issue: dict) -> MaterialRow:
    has_lot = issue["lot_id"] is not None
    return MaterialRow(
        item=issue["requirement__item__code"],
        item_name=issue["requirement__item__name"],
        lot=issue["lot__code"] if has_lot else "",
        trace_code=(issue["lot__trace_code__code"] or "") if has_lot else "",
        supplier_lot=issue["lot__supplier_lot"] if has_lot else "",
        quantity=issue["quantity"],
        uom=issue["requirement__item__uom"],
        issued_at=issue["issued_at"],
        location=issue["location__code"],
        source="received" if has_lot else "untracked",
    )


def genealogy(
    *, unit: SerialUnit | None = None, lot: MaterialLot | None = None, max_levels: int = MAX_LEVELS
) -> Genealogy:
    """The full history of a unit or lot, down through the lots it consumed."""
    if (unit is None) == (lot is None):
        raise ValueError("Name one unit or one lot.")
    root = _node(unit or lot, 0)
    seen = {root.key}
    hints: dict[tuple[str, int], tuple] = {}
    level: list[Genealogy] = [root]
    depth = 0
    while level:
        if depth >= max_levels:
            for node in level:
                node.truncated = True
            break
        level = _load_level({n.key: n for n in level}, seen, hints)
        depth += 1
    _mark_sources(root)
    return root


def _mark_sources(node: Genealogy) -> None:
    for op in node.operations:
        for m in op.materials:
            if m.genealogy is not None:
                if m.genealogy.produced:
                    m.source = "produced"
                _mark_sources(m.genealogy)


def genealogy_lots(node: Genealogy) -> list[Genealogy]:
    """Every lot below a node, depth first (for tests and flat listings)."""
    out = []
    for op in node.operations:
        for m in op.materials:
            if m.genealogy is not None:
                out.append(m.genealogy)
                out.extend(genealogy_lots(m.genealogy))
    return out


# --- up: where-used --------------------------------------------------------------------


@dataclass
class ProducedRow:
    kind: str  # unit | lot
    id: int
    item: str
    identity: str
    trace_code: str
    scrapped: bool
    level: int
    scrapped_by: str = ""  # see the module docstring
    uses: list[UseRow] = field(default_factory=list)
    repeated: bool = False  # already followed elsewhere in this answer
    truncated: bool = False


@dataclass
class UseRow:
    lot: str
    order: str
    order_item: str
    sequence: int
    operation: str
    quantity: Decimal
    uom: str
    issued_at: datetime
    produced: list[ProducedRow] = field(default_factory=list)

    @property
    def units(self) -> list[ProducedRow]:
        return [p for p in self.produced if p.kind == "unit"]

    @property
    def lots(self) -> list[ProducedRow]:
        return [p for p in self.produced if p.kind == "lot"]


@dataclass
class WhereUsed:
    item: str
    lot: str
    lot_id: int
    trace_code: str
    uses: list[UseRow] = field(default_factory=list)
    end_items: list[ProducedRow] = field(default_factory=list)
    levels: int = 0
    truncated: bool = False

    @property
    def end_units(self) -> list[ProducedRow]:
        return [p for p in self.end_items if p.kind == "unit"]


def where_used(*, lot: MaterialLot, max_levels: int = MAX_LEVELS) -> WhereUsed:
    """Which orders consumed the lot, what they produced, and so on up to the end items."""
    tc = code_of(lot)
    result = WhereUsed(
        item=lot.item.code, lot=lot.code, lot_id=lot.pk, trace_code=tc.code if tc else ""
    )
    frontier: dict[int, list[UseRow]] = {lot.pk: result.uses}
    seen_lots = {lot.pk}
    produced_all: list[ProducedRow] = []
    level = 0
    while frontier:
        if level >= max_levels:
            result.truncated = True
            for row in produced_all:
                if row.kind == "lot" and row.id in frontier:
                    row.truncated = True
            break
        level += 1
        uses: dict[tuple[int, int, int], UseRow] = {}
        for issue in (
            MaterialIssue.objects.filter(lot_id__in=list(frontier))
            .values(
                "lot_id",
                "lot__code",
                "quantity",
                "issued_at",
                "requirement__item__uom",
                "requirement__order_id",
                "requirement__order__number",
                "requirement__order__item__code",
                "requirement__operation_id",
                "requirement__operation__sequence",
                "requirement__operation__name",
            )
            .order_by("issued_at", "id")
        ):
            key = (
                issue["lot_id"],
                issue["requirement__order_id"],
                issue["requirement__operation_id"],
            )
            if key in uses:
                uses[key].quantity += issue["quantity"]
                continue
            uses[key] = UseRow(
                lot=issue["lot__code"],
                order=issue["requirement__order__number"],
                order_item=issue["requirement__order__item__code"],
                sequence=issue["requirement__operation__sequence"],
                operation=issue["requirement__operation__name"],
                quantity=issue["quantity"],
                uom=issue["requirement__item__uom"],
                issued_at=issue["issued_at"],
            )
            frontier[issue["lot_id"]].append(uses[key])
        if not uses:
            break
        # What those orders made: every unit or lot their events name, once per order (an
        # order makes its own item). Three narrow queries rather than one join: the events
        # per order vary a thousandfold (a lot's order has a few, a serial order thousands),
        # which misleads the planner's estimate of a joined query.
        made = list(
            ProductionEvent.objects.filter(order_id__in=list({key[1] for key in uses}))
            .filter(Q(unit__isnull=False) | Q(lot__isnull=False))
            .values("order_id", "unit_id", "lot_id")
            .annotate(
                scrap=Max("quantity_scrap"), good=Sum("quantity_good"), first=Min("occurred_at")
            )
            .order_by("first", "unit_id", "lot_id")
        )
        unit_ids = [m["unit_id"] for m in made if m["unit_id"]]
        lot_ids = [m["lot_id"] for m in made if m["lot_id"]]
        names: dict[tuple[str, int], list[str]] = {}
        if unit_ids:
            for u in SerialUnit.objects.filter(pk__in=unit_ids).values(
                "id", "serial", "item__code"
            ):
                names[("unit", u["id"])] = [u["item__code"], u["serial"], ""]
            for tc in TraceCode.objects.filter(unit_id__in=unit_ids).values("unit_id", "code"):
                names[("unit", tc["unit_id"])][2] = tc["code"]
        if lot_ids:
            for lot_row in MaterialLot.objects.filter(pk__in=lot_ids).values(
                "id", "code", "item__code", "trace_code__code"
            ):
                names[("lot", lot_row["id"])] = [
                    lot_row["item__code"],
                    lot_row["code"],
                    lot_row["trace_code__code"] or "",
                ]
        # The gate's scrap (a current record with a scrap disposition), for everything made
        # on this level in one query; the oldest such record is the one named.
        scraps: dict[tuple[str, int], dict] = {}
        if unit_ids or lot_ids:
            for r in (
                InspectionRecord.objects.filter(
                    _identity_q(unit_ids, lot_ids),
                    corrected_by__isnull=True,
                    disposition__decision=Disposition.Decision.SCRAP,
                )
                .values("id", "unit_id", "lot_id", "operation__sequence")
                .order_by("inspected_at", "id")
            ):
                scraps.setdefault(_key(r), r)
        by_order: dict[int, list[ProducedRow]] = defaultdict(list)
        next_frontier: dict[int, list[UseRow]] = {}
        for m in made:
            is_unit = m["unit_id"] is not None
            key = ("unit", m["unit_id"]) if is_unit else ("lot", m["lot_id"])
            item_code, identity, trace_code = names[key]
            scrapped_by = _scrapped_by(
                scrap_record=scraps.get(key), scrap_reported=bool(m["scrap"]) and not m["good"]
            )
            row = ProducedRow(
                kind=key[0],
                id=key[1],
                item=item_code,
                identity=identity,
                trace_code=trace_code,
                scrapped=bool(scrapped_by),
                scrapped_by=scrapped_by,
                level=level,
            )
            if row.kind == "lot":
                if row.id in seen_lots:
                    row.repeated = True
                else:
                    seen_lots.add(row.id)
                    next_frontier[row.id] = row.uses
            by_order[m["order_id"]].append(row)
            produced_all.append(row)
        for (_kind, order_id, _rest), use in uses.items():
            use.produced = by_order.get(order_id, [])
        frontier = next_frontier
    result.levels = level
    ends: dict[tuple[str, int], ProducedRow] = {}
    for row in produced_all:
        if row.kind == "lot" and (row.uses or row.repeated or row.truncated):
            continue
        ends.setdefault((row.kind, row.id), row)
    result.end_items = list(ends.values())
    return result
