"""Inspection plans and records, the inspection gate and dispositions (ISA-95 quality
operations: test specifications, test results, nonconformance disposition).

Rules kept here:

- A plan belongs to one routing step and is versioned by code: a new version is a new row
  (same code, version + 1) that becomes the step's active plan; records keep the version they
  were judged against.
- A record is judged from its measurements: a measured value passes when
  ``nominal - lower_tolerance <= value <= nominal + upper_tolerance`` (Decimal, limits
  inclusive: 49.90 and 50.10 pass a 50.00 ± 0.10 bore, 49.8999 fails); an attribute passes
  when it is ok. The record passes when every characteristic passes.
- Records are append-only. `inspection_correct` writes a new record naming the one it
  corrects; a record that has been corrected no longer counts ("current" records are those
  nobody corrected). A unit inspected again after rework simply gets a new record; the
  latest current record of a unit at an operation is its verdict.
- Dispositions of a failed record: rework, scrap, or use as is — which only a quality
  supervisor may decide (and so approve).
- A scrap disposition moves what it scraps from good to scrap on the counters of the
  inspected operation: its task (quantity_good → quantity_scrap), the order operation
  (quantity_done → quantity_scrap) and, when that operation is the order's last, the order
  (quantity_done → quantity_scrap). What it scraps is 1 for a unit; for a lot, the lot's
  quantity in the order: the good reported for the lot at the inspected operation, else at
  the latest earlier operation that reported it (what came to the inspection). What moves is
  capped at what was reported good for that unit or lot at the inspected operation (the
  counters hold what was reported, nothing else; a unit reported as scrap by the operator,
  or not reported there yet, moves nothing) and at each counter, so none goes negative; a
  unit or lot already scrapped at that operation by an earlier record moves nothing again.
  The disposition keeps what moved and on which task and order (``quantity_moved``,
  ``moved_task``, ``moved_order``), written with the counters; its audit entry says what
  was scrapped, what moved and why any less. Rework and use as is change no counters (their
  ``quantity_moved`` stays blank).
- A correction of a scrapped record (whatever the correction says) ends that scrap: the
  scrapped record is no longer current, so the gate no longer holds the unit or lot as
  scrapped, and the counters follow — what the scrap moved goes back from scrap to good, on
  the same counters, as the disposition keeps it (recomputing it from today's events could
  give another figure) and capped at each counter's scrap. It happens once per scrap (the
  disposition's ``moved_back_at`` and ``quantity_moved_back``, written with the counters,
  mark it moved back; an ``inspection.scrap_reverse`` audit entry records it) and only when
  no other current record of the unit or lot at that operation is still scrapped: while one
  is, the counters keep it as scrap and the scraps moved back later, when the last of them
  is corrected. A correction that fails takes its own disposition; a scrap then posts
  again. (A scrap posted before dispositions kept these took them from its audit entries;
  where those could not be read, what it moved is not known and nothing moves back for it.)

The gate (`inspection_gate_check`, registered with execution in `QualityConfig.ready`):
an event of operation n+1 is refused while a gated inspection of an earlier operation is
missing or failed for the event's unit (serial items) or lot (lot items):

- passes: the latest current record passed, or it failed and a quality supervisor approved
  use as is; rework then a passing re-inspection passes (the new record is the latest);
- a scrapped unit never passes; a failed one without a disposition, or in rework, does not;
- sampling decides which units must have a record: every unit; every n-th unit (the 1st,
  n+1-th, 2n+1-th … unit of the order, counted in the order the units first appeared in the
  order's production events); first article per shift (a unit without its own record may go
  on once a unit of that operation has passed in the current shift of its work center — a
  unit that was inspected is always judged by its own result);
- a START that names no unit or lot is refused only while no unit (lot) of the order has
  passed the earlier gated inspection at all — the operation can begin on the units that
  did pass, and each of them is checked again when it is reported;
- items that are not tracked have no units or lots to inspect: the gate does not apply.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.audit import audit_record
from core.events import emit
from core.exceptions import StateConflict
from core.roles import Role, user_has_role
from execution.models import ProductionEvent, Task
from planning.models import OrderOperation, ProductionOrder, RoutingStep
from resources.models import Item, MaterialLot, SerialUnit, WorkCenter

from ..models import (
    Characteristic,
    DefectCode,
    Disposition,
    InspectionPlan,
    InspectionRecord,
    Measurement,
    TraceCode,
)

R = InspectionRecord.Result
D = Disposition.Decision
S = InspectionPlan.Sampling
K = ProductionEvent.Kind
FUTURE_TOLERANCE = timedelta(minutes=5)
# Who may enter inspection results: inspectors, operators doing their own visual checks,
# supervisors and quality supervisors (admins always).
RECORD_ROLES = (Role.INSPECTOR, Role.OPERATOR, Role.SUPERVISOR, Role.QUALITY_SUPERVISOR)
DISPOSITION_ROLES = (Role.INSPECTOR, Role.SUPERVISOR, Role.QUALITY_SUPERVISOR)
ORDER_TAKES_INSPECTIONS = (
    ProductionOrder.Status.RELEASED,
    ProductionOrder.Status.IN_PROGRESS,
    ProductionOrder.Status.COMPLETED,
)
_VALUE_FIELD = Measurement._meta.get_field("value")
VALUE_PLACES = _VALUE_FIELD.decimal_places
VALUE_LIMIT = Decimal(10) ** (_VALUE_FIELD.max_digits - _VALUE_FIELD.decimal_places)
TRUE_WORDS = {"true", "ok", "pass", "yes", "y", "1", "good"}
FALSE_WORDS = {"false", "nok", "not ok", "fail", "no", "n", "0", "bad"}


def fmt_number(value: Decimal | None) -> str:
    """A Decimal as people write it: 50, 49.9 (no trailing zeros, no exponent)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


# --- plans -----------------------------------------------------------------------------


def _characteristics_build(plan: InspectionPlan, specs: list[dict]) -> list[Characteristic]:
    if not specs:
        raise ValidationError({"characteristics": "A plan checks at least one characteristic."})
    built, seen = [], set()
    for index, spec in enumerate(specs, start=1):
        if not isinstance(spec, dict):
            raise ValidationError({"characteristics": f"Row {index}: expected an object."})
        name = str(spec.get("name") or "").strip()
        if name.lower() in seen:
            raise ValidationError({"characteristics": f"Row {index}: {name!r} appears twice."})
        seen.add(name.lower())
        char = Characteristic(
            plan=plan,
            name=name,
            kind=spec.get("kind") or Characteristic.Kind.VARIABLE,
            nominal=spec.get("nominal"),
            lower_tolerance=spec.get("lower_tolerance"),
            upper_tolerance=spec.get("upper_tolerance"),
            unit=spec.get("unit") or "",
            description=spec.get("description") or "",
        )
        if char.kind == Characteristic.Kind.ATTRIBUTE:
            char.nominal = char.lower_tolerance = char.upper_tolerance = None
        try:
            char.full_clean(exclude=["plan"], validate_unique=False)
        except ValidationError as exc:
            messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise ValidationError(
                {"characteristics": f"Row {index} ({name or 'no name'}): {messages}"}
            ) from None
        built.append(char)
    return built


def _check_plan_editor(by) -> None:
    if by is not None and not user_has_role(by, Role.QUALITY_SUPERVISOR):
        raise PermissionDenied("Only a quality supervisor may change inspection plans.")


def inspection_plan_create(
    *,
    code: str,
    routing_step: RoutingStep,
    characteristics: list[dict],
    sampling: str = S.EVERY_UNIT,
    sample_every: int = 1,
    gate: bool = True,
    by=None,
) -> InspectionPlan:
    """The first version of a plan for a routing step; the step then refers to its code."""
    _check_plan_editor(by)
    with transaction.atomic():
        if InspectionPlan.objects.filter(code=code).exists():
            raise ValidationError({"code": f"{code} exists; make a new version of it instead."})
        if InspectionPlan.objects.filter(routing_step=routing_step, active=True).exists():
            raise ValidationError(
                {"routing_step": f"{routing_step} already has an active inspection plan."}
            )
        plan = InspectionPlan(
            code=code,
            version=1,
            routing_step=routing_step,
            sampling=sampling,
            sample_every=sample_every,
            gate=gate,
        )
        plan.full_clean()
        plan.save()
        Characteristic.objects.bulk_create(_characteristics_build(plan, characteristics))
        if routing_step.inspection_plan_ref != code:
            RoutingStep.objects.filter(pk=routing_step.pk).update(inspection_plan_ref=code)
        audit_record(actor=by, action="inspection_plan.create", obj=plan)
        emit("quality.plan.created", {"plan_id": plan.pk, "code": code, "version": 1})
    return plan


def inspection_plan_new_version(
    *,
    plan: InspectionPlan,
    characteristics: list[dict] | None = None,
    sampling: str | None = None,
    sample_every: int | None = None,
    gate: bool | None = None,
    by=None,
) -> InspectionPlan:
    """A new version of the plan (same code, version + 1) that becomes the routing step's
    active plan; what is not given is copied from the version it replaces."""
    _check_plan_editor(by)
    with transaction.atomic():
        # Lock every version of the code: two editors cannot both make version n + 1.
        versions = list(
            InspectionPlan.objects.select_for_update().filter(code=plan.code).order_by("pk")
        )
        base = next(p for p in versions if p.pk == plan.pk)
        latest = max(p.version for p in versions)
        new = InspectionPlan(
            code=base.code,
            version=latest + 1,
            routing_step_id=base.routing_step_id,
            sampling=sampling or base.sampling,
            sample_every=base.sample_every if sample_every is None else sample_every,
            gate=base.gate if gate is None else gate,
            active=True,
        )
        new.full_clean(exclude=["active"], validate_constraints=False)
        if characteristics is None:
            characteristics = [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "nominal": c.nominal,
                    "lower_tolerance": c.lower_tolerance,
                    "upper_tolerance": c.upper_tolerance,
                    "unit": c.unit,
                    "description": c.description,
                }
                for c in base.characteristics.all()
            ]
        chars = _characteristics_build(new, characteristics)
        InspectionPlan.objects.filter(routing_step_id=base.routing_step_id, active=True).update(
            active=False
        )
        new.save()
        for char in chars:
            char.plan = new
        Characteristic.objects.bulk_create(chars)
        audit_record(
            actor=by,
            action="inspection_plan.new_version",
            obj=new,
            data={"replaces": base.pk, "version": new.version},
        )
        emit(
            "quality.plan.version",
            {"plan_id": new.pk, "code": new.code, "version": new.version, "replaces": base.pk},
        )
    return new


def plan_for_operation(operation: OrderOperation) -> InspectionPlan | None:
    """The active plan of the operation's routing step (or, for an order made without a
    routing, the active plan its inspection_plan_ref names)."""
    order = operation.order
    if order.routing_id:
        plan = (
            InspectionPlan.objects.filter(
                active=True,
                routing_step__routing_id=order.routing_id,
                routing_step__step_no=operation.sequence,
            )
            .prefetch_related("characteristics")
            .first()
        )
        if plan is not None:
            return plan
    if operation.inspection_plan_ref:
        return (
            InspectionPlan.objects.filter(code=operation.inspection_plan_ref, active=True)
            .prefetch_related("characteristics")
            .first()
        )
    return None


def routing_step_of(operation: OrderOperation) -> RoutingStep | None:
    routing_id = operation.order.routing_id
    if not routing_id:
        return None
    return RoutingStep.objects.filter(routing_id=routing_id, step_no=operation.sequence).first()


# --- parsing ------------------------------------------------------------------------------


def _inspected_at(raw, now: datetime) -> datetime:
    if raw in (None, ""):
        return now
    value = raw if isinstance(raw, datetime) else parse_datetime(str(raw))
    if value is None:
        raise ValidationError({"inspected_at": f"{raw!r} is not an ISO 8601 date-time."})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + FUTURE_TOLERANCE:
        raise ValidationError({"inspected_at": f"{value.isoformat()} is in the future."})
    return value


def _values_dict(values) -> dict:
    """{name: value} from a dict, or a list of {"characteristic": name, "value"/"ok": …}."""
    if values is None:
        return {}
    if isinstance(values, dict):
        return {str(k).strip(): v for k, v in values.items()}
    if isinstance(values, list | tuple):
        out = {}
        for index, row in enumerate(values, start=1):
            if not isinstance(row, dict) or not str(row.get("characteristic") or "").strip():
                raise ValidationError(
                    {"values": f"Row {index}: name the characteristic and give its value."}
                )
            name = str(row["characteristic"]).strip()
            if name in out:
                raise ValidationError({"values": f"{name}: given twice."})
            out[name] = row["value"] if "value" in row else row.get("ok")
        return out
    raise ValidationError(
        {"values": "Give the values as {characteristic: value} or a list of them."}
    )


def _parse_number(raw) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError
    value = Decimal(str(raw).strip().replace(",", ".") if isinstance(raw, str) else str(raw))
    if not value.is_finite():
        raise ValueError
    return value


def _parse_ok(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError


@dataclass
class Verdict:
    """One characteristic judged."""

    characteristic: Characteristic
    value: Decimal | None
    ok: bool | None
    passed: bool

    def describe(self) -> str:
        c = self.characteristic
        if c.kind == Characteristic.Kind.VARIABLE:
            unit = f" {c.unit}" if c.unit else ""
            return (
                f"{c.name} {fmt_number(self.value)}{unit} outside "
                f"{fmt_number(c.lower_limit)}–{fmt_number(c.upper_limit)}{unit}"
            )
        return f"{c.name}: not ok"


def judge(characteristic: Characteristic, raw) -> Verdict:
    """Judge one value against its characteristic; raises ValueError for unreadable input."""
    if characteristic.kind == Characteristic.Kind.VARIABLE:
        value = _parse_number(raw)
        passed = characteristic.lower_limit <= value <= characteristic.upper_limit
        return Verdict(characteristic, value, None, passed)
    ok = _parse_ok(raw)
    return Verdict(characteristic, None, ok, ok)


def measurements_judge(plan: InspectionPlan, values) -> list[Verdict]:
    """Every characteristic of the plan judged from `values`; every problem is reported at
    once under `values`, each message naming its characteristic."""
    given = _values_dict(values)
    chars = list(plan.characteristics.all())
    by_name = {c.name.lower(): c for c in chars}
    problems: list[str] = []
    for name in given:
        if name.lower() not in by_name:
            known = ", ".join(c.name for c in chars)
            problems.append(f"{name}: unknown characteristic; {plan} checks {known}.")
    normalized = {name.lower(): raw for name, raw in given.items()}
    verdicts = []
    for char in chars:
        raw = normalized.get(char.name.lower())
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            problems.append(f"{char.name}: a value is needed.")
            continue
        try:
            verdict = judge(char, raw)
        except (ValueError, InvalidOperation, ArithmeticError):
            if char.kind == Characteristic.Kind.VARIABLE:
                problems.append(f"{char.name}: {raw!r} is not a number.")
            else:
                problems.append(f"{char.name}: answer ok or not ok (true/false), not {raw!r}.")
            continue
        if verdict.value is not None:
            if verdict.value.as_tuple().exponent < -VALUE_PLACES:
                problems.append(
                    f"{char.name}: at most {VALUE_PLACES} decimal places ({raw!r} has more)."
                )
                continue
            if abs(verdict.value) >= VALUE_LIMIT:
                problems.append(f"{char.name}: {raw!r} is out of range.")
                continue
        verdicts.append(verdict)
    if problems:
        raise ValidationError({"values": problems})
    return verdicts


# --- what is inspected ------------------------------------------------------------------


def operation_find(*, order: str, sequence) -> OrderOperation:
    """An order's operation by order number and sequence, for API and page input."""
    order_obj = ProductionOrder.objects.filter(number=str(order or "").strip()).first()
    if order_obj is None:
        raise ValidationError({"order": f"No order {order!r}."})
    try:
        number = int(str(sequence).strip())
    except (TypeError, ValueError):
        raise ValidationError({"sequence": f"{sequence!r} is not an operation number."}) from None
    operation = (
        OrderOperation.objects.select_related("order__item", "work_center")
        .filter(order=order_obj, sequence=number)
        .first()
    )
    if operation is None:
        raise ValidationError({"sequence": f"{order_obj.number} has no operation {number}."})
    return operation


def target_find(
    *, operation: OrderOperation, trace_code: str = "", serial: str = "", lot: str = ""
) -> tuple[SerialUnit | None, MaterialLot | None]:
    """The unit or lot an inspection names: by its trace code (label), serial or lot code.
    It must be of the order's item and have been made in the order."""
    order = operation.order
    item: Item = order.item
    trace_code, serial, lot = (str(v or "").strip() for v in (trace_code, serial, lot))
    field = "trace_code" if trace_code else ("unit" if serial else "lot")
    code = trace_code or serial or lot
    if item.tracking == Item.Tracking.NONE:
        raise ValidationError(
            {field: f"{item.code} is not tracked: there is no unit or lot to inspect."}
        )
    if not code:
        what = "unit" if item.tracking == Item.Tracking.SERIAL else "lot"
        raise ValidationError(
            {"trace_code": f"{item.code} is {item.tracking}-tracked: name the {what} inspected."}
        )
    found_unit = found_lot = None
    if trace_code:
        label = TraceCode.objects.filter(code=trace_code).select_related("unit", "lot").first()
        if label is not None:
            if label.item_id != item.pk:
                raise ValidationError(
                    {"trace_code": f"{trace_code} is a {label.item.code}, not a {item.code}."}
                )
            found_unit, found_lot = label.unit, label.lot
    serial_item = item.tracking == Item.Tracking.SERIAL
    if found_unit is None and found_lot is None:
        if serial_item and not lot:
            found_unit = SerialUnit.objects.filter(item=item, serial=code).first()
        elif not serial_item and not serial:
            found_lot = MaterialLot.objects.filter(item=item, code=code).first()
        else:
            what = "units" if serial_item else "lots"
            raise ValidationError({field: f"{item.code} is inspected by {what[:-1]}."})
    if found_unit is None and found_lot is None:
        what = "unit" if serial_item else "lot"
        raise ValidationError({field: f"No {what} {code} of {item.code}."})
    if serial_item and found_unit is None:
        raise ValidationError({field: f"{code} is a lot; {item.code} is inspected by unit."})
    if not serial_item and found_lot is None:
        raise ValidationError({field: f"{code} is a unit; {item.code} is inspected by lot."})
    made_here = ProductionEvent.objects.filter(
        order=order, **({"unit": found_unit} if found_unit else {"lot": found_lot})
    ).exists()
    if not made_here:
        raise ValidationError(
            {field: f"{code} has no production event in {order.number}: is it the right order?"}
        )
    return found_unit, found_lot


def target_code(record_or_unit=None, lot=None) -> str:
    unit = record_or_unit
    if isinstance(record_or_unit, InspectionRecord):
        unit, lot = record_or_unit.unit, record_or_unit.lot
    if unit is not None:
        return unit.serial
    return lot.code if lot is not None else ""


# --- records -----------------------------------------------------------------------------


def _check_recorder(by) -> None:
    if getattr(by, "is_authenticated", False) and not user_has_role(by, *RECORD_ROLES):
        raise PermissionDenied("Only inspectors, operators and supervisors enter inspections.")


def _defect_code(code) -> DefectCode | None:
    if isinstance(code, DefectCode) or code is None:
        return code
    code = str(code).strip()
    if not code:
        return None
    found = DefectCode.objects.filter(code__iexact=code).first()
    if found is None:
        raise ValidationError({"defect_code": f"No defect code {code!r}."})
    return found


def _record_write(
    *,
    external_id: str,
    plan: InspectionPlan,
    operation: OrderOperation,
    unit: SerialUnit | None,
    lot: MaterialLot | None,
    verdicts: list[Verdict],
    defect_code: DefectCode | None,
    reason: str,
    gauge: str,
    inspected_at: datetime,
    by,
    corrects: InspectionRecord | None = None,
) -> InspectionRecord:
    failed = [v for v in verdicts if not v.passed]
    result = R.FAIL if failed else R.PASS
    if not reason and failed:
        reason = "; ".join(v.describe() for v in failed)
    record = InspectionRecord(
        external_id=external_id,
        plan=plan,
        order_id=operation.order_id,
        operation=operation,
        work_center_id=operation.work_center_id,
        unit=unit,
        lot=lot,
        result=result,
        defect_code=defect_code,
        reason=reason[:300],
        inspector=by if getattr(by, "is_authenticated", False) else None,
        gauge=(gauge or "")[:64],
        inspected_at=inspected_at,
        corrects=corrects,
    )
    record.full_clean(exclude=["corrects", "external_id"])
    record.save()
    Measurement.objects.bulk_create(
        [
            Measurement(
                record=record,
                characteristic=v.characteristic,
                value=v.value,
                ok=v.ok,
                passed=v.passed,
            )
            for v in verdicts
        ]
    )
    action = "inspection.correct" if corrects else "inspection.record"
    audit_record(actor=by, action=action, obj=record, data={"result": result})
    emit(
        "quality.inspection.recorded",
        {
            "record_id": record.pk,
            "external_id": external_id,
            "order_id": operation.order_id,
            "operation_id": operation.pk,
            "unit_id": record.unit_id,
            "lot_id": record.lot_id,
            "result": result,
            "corrects": corrects.pk if corrects else None,
        },
        dispatch_on_commit=False,
    )
    from .holds import defect_rate_check  # holds read records; records trigger the check

    defect_rate_check(record=record, by=by)
    return record


def _external_id(raw) -> str:
    external_id = str(raw or "").strip()
    if not external_id:
        raise ValidationError({"external_id": "Every inspection needs an external_id."})
    if len(external_id) > 100:
        raise ValidationError({"external_id": "At most 100 characters."})
    return external_id


def inspection_record(
    *,
    external_id: str,
    operation: OrderOperation,
    values,
    unit: SerialUnit | None = None,
    lot: MaterialLot | None = None,
    trace_code: str = "",
    serial: str = "",
    lot_code: str = "",
    defect_code=None,
    reason: str = "",
    gauge: str = "",
    inspected_at=None,
    by=None,
) -> tuple[InspectionRecord, bool]:
    """Record the inspection of a unit or lot at an operation against the operation's active
    plan; returns (record, created). A repeated external_id returns the first record and
    changes nothing."""
    external_id = _external_id(external_id)
    existing = InspectionRecord.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing, False
    _check_recorder(by)
    order = operation.order
    if order.status not in ORDER_TAKES_INSPECTIONS:
        raise StateConflict(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            "inspections are recorded for released orders."
        )
    plan = plan_for_operation(operation)
    if plan is None:
        raise ValidationError(
            {
                "sequence": f"Operation {operation.sequence} of {order.number} has no inspection plan."
            }
        )
    if unit is None and lot is None:
        unit, lot = target_find(
            operation=operation, trace_code=trace_code, serial=serial, lot=lot_code
        )
    inspected = _inspected_at(inspected_at, timezone.now())
    verdicts = measurements_judge(plan, values)
    defect = _defect_code(defect_code)
    try:
        with transaction.atomic():
            record = _record_write(
                external_id=external_id,
                plan=plan,
                operation=operation,
                unit=unit,
                lot=lot,
                verdicts=verdicts,
                defect_code=defect,
                reason=(reason or "").strip(),
                gauge=(gauge or "").strip(),
                inspected_at=inspected,
                by=by,
            )
    except IntegrityError:
        # Another request recorded the same external_id between our check and insert.
        existing = InspectionRecord.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing, False
        raise
    return record, True


def inspection_correct(
    *,
    record: InspectionRecord,
    external_id: str,
    values,
    defect_code=None,
    reason: str = "",
    gauge: str | None = None,
    inspected_at=None,
    by=None,
) -> tuple[InspectionRecord, bool]:
    """Correct a record: a new record for the same unit or lot, operation and plan version
    that names the one it corrects; from then on the correction is the one that counts.
    Only the latest record of a chain can be corrected. Returns (record, created)."""
    external_id = _external_id(external_id)
    existing = InspectionRecord.objects.filter(external_id=external_id).first()
    if existing is not None:
        if existing.corrects_id != record.pk:
            raise ValidationError(
                {"external_id": f"{external_id} is already used by record {existing.pk}."}
            )
        return existing, False
    _check_recorder(by)
    try:
        with transaction.atomic():
            # Lock only the record's own row: PostgreSQL cannot lock the nullable side of
            # the outer joins (unit, lot) that select_related adds.
            original = (
                InspectionRecord.objects.select_for_update(of=("self",))
                .select_related("plan", "operation", "unit", "lot")
                .get(pk=record.pk)
            )
            newer = InspectionRecord.objects.filter(corrects=original).first()
            if newer is not None:
                if newer.external_id == external_id:
                    # The same request, retried while the first was committing.
                    return newer, False
                raise StateConflict(
                    f"Inspection record {original.pk} was already corrected by record "
                    f"{newer.pk}; correct the latest one."
                )
            verdicts = measurements_judge(original.plan, values)
            corrected = _record_write(
                external_id=external_id,
                plan=original.plan,
                operation=original.operation,
                unit=original.unit,
                lot=original.lot,
                verdicts=verdicts,
                defect_code=_defect_code(defect_code),
                reason=(reason or "").strip(),
                gauge=original.gauge if gauge is None else gauge.strip(),
                inspected_at=(
                    original.inspected_at
                    if inspected_at in (None, "")
                    else _inspected_at(inspected_at, timezone.now())
                ),
                by=by,
                corrects=original,
            )
            # In this transaction, under the original record's lock: a retried correction
            # finds the record written above and never gets here, so a scrap is moved back
            # once (and the disposition's moved_back_at marks it moved back for good).
            if Disposition.objects.filter(record=original, decision=D.SCRAP).exists():
                _scrap_reverse(record=original, correction=corrected, by=by)
    except IntegrityError:
        existing = InspectionRecord.objects.filter(external_id=external_id).first()
        if existing is not None and existing.corrects_id == record.pk:
            return existing, False
        raise StateConflict(
            f"Inspection record {record.pk} was corrected at the same time; reload it."
        ) from None
    return corrected, True


def disposition_record(
    *, record: InspectionRecord, decision: str, note: str = "", by=None
) -> tuple[Disposition, bool]:
    """Decide what happens to a unit or lot that failed: rework, scrap, or use as is.
    Use as is is a quality supervisor's decision, and that decision is its approval.

    Returns (disposition, created). A retried request — the record already carries the same
    decision — gets that disposition back and changes nothing; another decision is refused:
    a disposition stands once decided (correct the inspection record instead)."""
    if decision not in D.values:
        raise ValidationError(
            {"decision": f"Unknown decision {decision!r}; use {', '.join(D.values)}."}
        )
    authenticated = getattr(by, "is_authenticated", False)
    if decision == D.USE_AS_IS:
        if not authenticated or not user_has_role(by, Role.QUALITY_SUPERVISOR):
            raise PermissionDenied("Only a quality supervisor may approve use as is.")
    elif authenticated and not user_has_role(by, *DISPOSITION_ROLES):
        raise PermissionDenied("Only inspectors and supervisors decide dispositions.")
    with transaction.atomic():
        locked = InspectionRecord.objects.select_for_update().get(pk=record.pk)
        if locked.result != R.FAIL:
            raise StateConflict(f"Inspection record {locked.pk} passed; it needs no disposition.")
        newer = InspectionRecord.objects.filter(corrects=locked).first()
        if newer is not None:
            raise StateConflict(
                f"Inspection record {locked.pk} was corrected by record {newer.pk}; "
                "decide on the latest one."
            )
        existing = Disposition.objects.filter(record=locked).select_related("decided_by").first()
        if existing is not None:
            if existing.decision == decision:
                return existing, False
            who = f" by {existing.decided_by.username}" if existing.decided_by_id else ""
            raise StateConflict(
                f"Inspection record {locked.pk} already has a disposition: "
                f"{existing.get_decision_display().lower()}{who}. A disposition is not "
                "changed; correct the inspection record if it was wrong."
            )
        disposition = Disposition(
            record=locked,
            decision=decision,
            note=(note or "").strip()[:300],
            decided_by=by if authenticated else None,
            approved_by=by if decision == D.USE_AS_IS else None,
        )
        disposition.full_clean(exclude=["record"])
        # The disposition row and the counters move in one transaction, under the record's
        # lock: a retried request finds the disposition and is refused above, so what it
        # scraps is posted once.
        disposition.save()
        data: dict = {"decision": decision}
        if decision == D.SCRAP:
            data["scrap"] = _scrap_post(record=locked, disposition=disposition)
        audit_record(actor=by, action="inspection.disposition", obj=disposition, data=data)
        emit(
            "quality.disposition.decided",
            {
                "record_id": locked.pk,
                "decision": decision,
                "unit_id": locked.unit_id,
                "lot_id": locked.lot_id,
                "operation_id": locked.operation_id,
                "quantity_scrapped": data["scrap"]["moved"] if decision == D.SCRAP else "0",
            },
            dispatch_on_commit=False,
        )
    return disposition, True


SCRAP_REVERSED = "inspection.scrap_reverse"
SCRAP_KEPT = "inspection.scrap_kept"


@dataclass
class ScrapPosting:
    """What one scrap disposition of a unit or lot at an operation moved on the counters,
    as the disposition keeps it."""

    disposition: Disposition
    current: bool  # its record is not corrected: the scrap stands

    @property
    def record_id(self) -> int:
        return self.disposition.record_id

    @property
    def moved(self) -> Decimal | None:
        """None: not known (a scrap posted before dispositions kept it, whose audit entry
        could not be read)."""
        return self.disposition.quantity_moved

    @property
    def task_id(self) -> int | None:
        return self.disposition.moved_task_id

    @property
    def order_id(self) -> int | None:
        return self.disposition.moved_order_id

    @property
    def reversed(self) -> bool:
        """Moved back by a correction."""
        return self.disposition.moved_back_at is not None

    @property
    def on_counters(self) -> bool:
        """What it moved may still be on the counters (unknown counts as may)."""
        return not self.reversed and (self.moved is None or self.moved > 0)


def _scrap_postings(record: InspectionRecord) -> list[ScrapPosting]:
    """Every scrap disposition of the record's unit or lot at its operation (this record's
    own included), oldest record first. One query. Read it under the counter locks: a
    disposition or correction of another record of the same unit commits before or after."""
    target = (
        {"record__unit_id": record.unit_id} if record.unit_id else {"record__lot_id": record.lot_id}
    )
    dispositions = (
        Disposition.objects.filter(
            decision=D.SCRAP, record__operation_id=record.operation_id, **target
        )
        .annotate(correction_id=F("record__corrected_by__id"))
        .order_by("record_id")
    )
    return [ScrapPosting(d, current=d.correction_id is None) for d in dispositions]


def _counters_lock(record: InspectionRecord) -> tuple[Task | None, OrderOperation, bool]:
    """Lock the inspected operation's task and operation; also says whether the operation
    is the order's last (whose counters the order's follow)."""
    # Lock in the order the production events take them: task → operation → order. NO KEY
    # UPDATE, as their UPDATEs take (the events' inserts only need KEY SHARE on the task).
    # No default ordering: it would join other tables into the FOR UPDATE.
    task = (
        Task.objects.select_for_update(of=("self",), no_key=True)
        .filter(operation_id=record.operation_id)
        .order_by()
        .first()
    )
    operation = (
        OrderOperation.objects.select_for_update(no_key=True).order_by().get(pk=record.operation_id)
    )
    last_sequence = max(
        OrderOperation.objects.filter(order_id=record.order_id).values_list("sequence", flat=True)
    )
    return task, operation, operation.sequence == last_sequence


def _order_lock(order_id: int) -> ProductionOrder:
    return ProductionOrder.objects.select_for_update(no_key=True).order_by().get(pk=order_id)


def _scrap_post(*, record: InspectionRecord, disposition: Disposition) -> dict:
    """Move a scrapped unit or lot from good to scrap on the inspected operation's task and
    operation, and on the order when that operation is its last (see the module docstring),
    and keep on the `disposition` what moved and where. Returns what was scrapped and moved,
    for the audit trail."""
    task, operation, last = _counters_lock(record)
    order = _order_lock(record.order_id) if last else None
    target = {"unit_id": record.unit_id} if record.unit_id else {"lot_id": record.lot_id}
    code = target_code(record)
    events = ProductionEvent.objects.filter(order_id=record.order_id, **target)
    reported_here = events.filter(operation_id=record.operation_id).aggregate(
        good=Sum("quantity_good")
    )["good"] or Decimal(0)
    if record.unit_id:
        quantity = Decimal(1)
    else:
        quantity = reported_here
        if not quantity:
            earlier = (
                events.filter(operation__sequence__lt=operation.sequence)
                .values("operation__sequence")
                .annotate(good=Sum("quantity_good"))
                .filter(good__gt=0)
                .order_by("-operation__sequence")
                .first()
            )
            quantity = earlier["good"] if earlier else Decimal(0)
    # Already scrapped here: by a scrap that stands, or by one whose record was corrected
    # but whose move is still on the counters (another scrap stood when it was corrected —
    # it goes back when the last standing one is corrected). A corrected scrap that was
    # moved back no longer counts: the unit was good again, and this scrap posts anew.
    already = next(
        (
            p
            for p in _scrap_postings(record)
            if p.record_id != record.pk and (p.current or p.on_counters)
        ),
        None,
    )
    where = f"operation {operation.sequence}"
    if already is not None:
        moved = Decimal(0)
        if already.current:
            note = (
                f"{code} was already scrapped at {where} (record {already.record_id}); "
                "nothing moved again."
            )
        else:
            note = (
                f"{code} is still counted as scrap at {where} from record "
                f"{already.record_id}; nothing moved again."
            )
    else:
        caps = [quantity, reported_here, operation.quantity_done]
        if task is not None:
            caps.append(task.quantity_good)
        if order is not None:
            caps.append(order.quantity_done)
        moved = max(min(caps), Decimal(0))
        if quantity <= 0:
            # A lot with no good reported in the order: nothing is known to move.
            note = f"{code}: no good quantity of it is reported in the order; nothing moved."
        elif moved == quantity:
            note = f"{code}: {fmt_number(moved)} moved from good to scrap at {where}."
        elif reported_here < quantity:
            note = (
                f"{code}: {fmt_number(quantity)} scrapped, but only {fmt_number(reported_here)} "
                f"was reported good at {where}; {fmt_number(moved)} moved from good to scrap."
            )
        else:
            note = (
                f"{code}: {fmt_number(quantity)} scrapped, but the counters of {where} held "
                f"only {fmt_number(moved)} good; {fmt_number(moved)} moved from good to scrap."
            )
    if moved > 0:
        if task is not None:
            Task.objects.filter(pk=task.pk).update(
                quantity_good=F("quantity_good") - moved, quantity_scrap=F("quantity_scrap") + moved
            )
        OrderOperation.objects.filter(pk=operation.pk).update(
            quantity_done=F("quantity_done") - moved, quantity_scrap=F("quantity_scrap") + moved
        )
        if order is not None:
            ProductionOrder.objects.filter(pk=order.pk).update(
                quantity_done=F("quantity_done") - moved,
                quantity_scrap=F("quantity_scrap") + moved,
            )
    # Under the counter locks, with the counters: what a correction moves back.
    disposition.quantity_moved = moved
    disposition.moved_task = task
    disposition.moved_order = order
    disposition.save(update_fields=["quantity_moved", "moved_task", "moved_order"])
    return {
        # As people write them: the database gives the column's scale (50.0000).
        "quantity": fmt_number(quantity),
        "reported_good": fmt_number(reported_here),
        "moved": fmt_number(moved),
        "task_id": task.pk if task is not None else None,
        "operation_id": operation.pk,
        "order_id": order.pk if order is not None else None,
        "note": note,
    }


def _scrap_reverse(*, record: InspectionRecord, correction: InspectionRecord, by) -> Decimal:
    """The scrapped `record` was corrected by `correction`: move what its scrap moved back
    from scrap to good (see the module docstring), unless another current record of the unit
    or lot at the operation is still scrapped. Audited on each disposition concerned;
    returns what moved back."""
    task, operation, _last = _counters_lock(record)
    postings = _scrap_postings(record)
    own = next(p for p in postings if p.record_id == record.pk)
    code = target_code(record)
    where = f"operation {operation.sequence}"
    standing = next((p for p in postings if p.current and p.record_id != record.pk), None)
    event = {
        "record_id": record.pk,
        "correction_id": correction.pk,
        "unit_id": record.unit_id,
        "lot_id": record.lot_id,
        "operation_id": operation.pk,
    }
    if standing is not None:
        # The gate still holds it as scrapped (status_of): so do the counters.
        audit_record(
            actor=by,
            action=SCRAP_KEPT,
            obj=own.disposition,
            data={
                "record_id": record.pk,
                "correction_id": correction.pk,
                "standing_record_id": standing.record_id,
                "note": (
                    f"{code}: record {record.pk} was corrected by record {correction.pk}, but "
                    f"record {standing.record_id} still scraps it at {where}; the counters "
                    "keep it as scrap."
                ),
            },
        )
        emit(
            "quality.scrap.reversed",
            {**event, "quantity_returned": "0", "standing_record_id": standing.record_id},
            dispatch_on_commit=False,
        )
        return Decimal(0)
    to_reverse = [p for p in postings if not p.reversed]
    order = None
    if any(p.order_id == record.order_id for p in to_reverse):
        order = _order_lock(record.order_id)
    # What each counter holds as scrap: no move back takes it below zero.
    room = {
        "task": task.quantity_scrap if task is not None else Decimal(0),
        "operation": operation.quantity_scrap,
        "order": order.quantity_scrap if order is not None else Decimal(0),
    }
    back_on = {"task": Decimal(0), "operation": Decimal(0), "order": Decimal(0)}
    now = timezone.now()
    for p in to_reverse:
        on = ["operation"]
        if task is not None and p.task_id == task.pk:
            on.append("task")
        if order is not None and p.order_id == order.pk:
            on.append("order")
        moved = p.moved if p.moved is not None else Decimal(0)
        back = max(min([moved] + [room[c] for c in on]), Decimal(0))
        for counter in on:
            room[counter] -= back
            back_on[counter] += back
        why = (
            f"record {record.pk} was corrected by record {correction.pk}"
            if p.record_id == record.pk
            else (
                f"record {p.record_id} was corrected earlier, but its scrap stayed on the "
                f"counters while record {record.pk} still scrapped it; record {record.pk} was "
                f"corrected by record {correction.pk}"
            )
        )
        if p.moved is None:
            note = (
                f"{code}: {why}; what the scrap of record {p.record_id} moved is not known (it "
                "was not in the audit trail when dispositions began to keep it), so nothing "
                f"moved back: check the counters of {where}."
            )
        elif moved == 0:
            note = f"{code}: {why}; its scrap moved nothing at {where}, so nothing moved back."
        elif back == moved:
            note = f"{code}: {why}; {fmt_number(back)} moved back from scrap to good at {where}."
        else:
            note = (
                f"{code}: {why}; its scrap moved {fmt_number(moved)}, but the counters of "
                f"{where} held only {fmt_number(back)} scrap; {fmt_number(back)} moved back "
                "from scrap to good."
            )
        audit_record(
            actor=by,
            action=SCRAP_REVERSED,
            obj=p.disposition,
            data={
                "record_id": p.record_id,
                "correction_id": correction.pk,
                "moved": None if p.moved is None else fmt_number(p.moved),
                "moved_back": fmt_number(back),
                "task_id": task.pk if "task" in on else None,
                "operation_id": operation.pk,
                "order_id": order.pk if "order" in on else None,
                "note": note,
            },
        )
        # Under the counter locks, with the counters: marks it moved back for good.
        p.disposition.moved_back_at = now
        p.disposition.quantity_moved_back = back
        p.disposition.save(update_fields=["moved_back_at", "quantity_moved_back"])
    if back_on["task"] > 0:
        Task.objects.filter(pk=task.pk).update(
            quantity_good=F("quantity_good") + back_on["task"],
            quantity_scrap=F("quantity_scrap") - back_on["task"],
        )
    if back_on["operation"] > 0:
        OrderOperation.objects.filter(pk=operation.pk).update(
            quantity_done=F("quantity_done") + back_on["operation"],
            quantity_scrap=F("quantity_scrap") - back_on["operation"],
        )
    if back_on["order"] > 0:
        ProductionOrder.objects.filter(pk=order.pk).update(
            quantity_done=F("quantity_done") + back_on["order"],
            quantity_scrap=F("quantity_scrap") - back_on["order"],
        )
    emit(
        "quality.scrap.reversed",
        {
            **event,
            "quantity_returned": fmt_number(back_on["operation"]),
            "standing_record_id": None,
        },
        dispatch_on_commit=False,
    )
    return back_on["operation"]


# --- status of a unit or lot at an operation -----------------------------------------------


class Status:
    PASSED = "passed"
    USE_AS_IS = "use_as_is"
    FAILED = "failed"
    REWORK = "rework"
    SCRAPPED = "scrapped"
    MISSING = "missing"

    GOES_ON = (PASSED, USE_AS_IS)


def current_records(**filters):
    """Records nobody corrected (the latest of each chain), newest first."""
    return (
        InspectionRecord.objects.filter(corrected_by__isnull=True, **filters)
        .select_related("disposition")
        .order_by("-inspected_at", "-id")
    )


def status_of(records: list[InspectionRecord]) -> tuple[str, InspectionRecord | None]:
    """A unit's or lot's standing at one operation from its current records, newest first."""
    if not records:
        return Status.MISSING, None
    for record in records:
        disposition = getattr(record, "disposition", None)
        if disposition is not None and disposition.decision == D.SCRAP:
            return Status.SCRAPPED, record
    latest = records[0]
    if latest.result == R.PASS:
        return Status.PASSED, latest
    disposition = getattr(latest, "disposition", None)
    if disposition is None:
        return Status.FAILED, latest
    if disposition.decision == D.USE_AS_IS:
        return Status.USE_AS_IS, latest
    return Status.REWORK, latest


def inspection_status(
    *, operation: OrderOperation, unit=None, lot=None
) -> tuple[str, InspectionRecord | None]:
    filters = (
        {"operation": operation, "unit": unit} if unit else {"operation": operation, "lot": lot}
    )
    return status_of(list(current_records(**filters)))


# --- sampling -------------------------------------------------------------------------------


def _nth_sampled(plan: InspectionPlan, order_id: int, unit, lot) -> bool:
    """Every n-th unit: the 1st, n+1-th, 2n+1-th … unit (lot) of the order, counted in the
    order they first appear in the order's production events. A unit not in the log yet is
    taken as sampled (the strict answer): so is a unit first seen earlier in a batch run
    not written yet, and the batch path asks again, after writing the run, about any event
    the gate refuses for a unit or lot with events in the run (see execution's ingest.py)."""
    n = plan.sample_every
    if n <= 1:
        return True
    field = "unit" if unit is not None else "lot"
    target = unit if unit is not None else lot
    events = ProductionEvent.objects.filter(order_id=order_id, **{f"{field}__isnull": False})
    first = events.filter(**{field: target}).aggregate(m=Min("id"))["m"]
    if first is None:
        return True  # never seen in the order: be safe
    earlier = events.values(field).annotate(first=Min("id")).filter(first__lt=first).count()
    return earlier % n == 0


def shift_start(work_center: WorkCenter, at: datetime) -> datetime:
    """When the shift of the work center that `at` falls in began (plant-local shift
    patterns; a night shift belongs to the day it starts); midnight when no shift runs."""
    tz = ZoneInfo(work_center.area.site.time_zone)
    local = at.astimezone(tz)
    best = None
    for pattern in work_center.shifts.all():
        for day in (local.date(), local.date() - timedelta(days=1)):
            if day.isoweekday() not in pattern.weekday_set:
                continue
            start = datetime.combine(day, pattern.start_time, tzinfo=tz)
            end_day = day if pattern.end_time > pattern.start_time else day + timedelta(days=1)
            end = datetime.combine(end_day, pattern.end_time, tzinfo=tz)
            if start <= local < end and (best is None or start > best):
                best = start
    if best is None:
        best = datetime.combine(local.date(), datetime.min.time(), tzinfo=tz)
    return best


def _first_article_passed(operation: OrderOperation, now: datetime) -> bool:
    work_center = WorkCenter.objects.select_related("area__site").get(pk=operation.work_center_id)
    since = shift_start(work_center, now)
    return (
        current_records(operation=operation, inspected_at__gte=since)
        .filter(Q(result=R.PASS) | Q(disposition__decision=D.USE_AS_IS))
        .exists()
    )


# --- the gate ------------------------------------------------------------------------------


def gated_plans_before(task: Task) -> list[tuple[OrderOperation, InspectionPlan]]:
    """The order's earlier operations that have a gated inspection plan, with the plan.

    Kept on the task object: a batch asks for the same task many times."""
    cached = getattr(task, "_quality_gated_before", None)
    if cached is not None:
        return cached
    order = task.order
    sequence = task.operation.sequence
    pairs: list[tuple[OrderOperation, InspectionPlan]] = []
    plans: dict[int, InspectionPlan] = {}
    if order.routing_id:
        for plan in InspectionPlan.objects.filter(
            active=True,
            gate=True,
            routing_step__routing_id=order.routing_id,
            routing_step__step_no__lt=sequence,
        ).select_related("routing_step"):
            plans[plan.routing_step.step_no] = plan
    else:
        refs = dict(
            OrderOperation.objects.filter(order_id=order.pk, sequence__lt=sequence)
            .exclude(inspection_plan_ref="")
            .values_list("sequence", "inspection_plan_ref")
        )
        if refs:
            by_code = {
                p.code: p
                for p in InspectionPlan.objects.filter(
                    active=True, gate=True, code__in=set(refs.values())
                )
            }
            plans = {seq: by_code[code] for seq, code in refs.items() if code in by_code}
    if plans:
        for operation in OrderOperation.objects.filter(
            order_id=order.pk, sequence__in=list(plans)
        ).order_by("sequence"):
            operation.order = order
            pairs.append((operation, plans[operation.sequence]))
    task._quality_gated_before = pairs
    return pairs


def _refusal(code: str, status: str, operation: OrderOperation, plan: InspectionPlan) -> str:
    where = f"operation {operation.sequence} ({plan.code})"
    return {
        Status.MISSING: f"{code} has no passing inspection at {where}; inspect it first.",
        Status.FAILED: (
            f"{code} failed the inspection at {where}; it needs a disposition: rework and a "
            "passing re-inspection, or use as is approved by a quality supervisor."
        ),
        Status.REWORK: (
            f"{code} is in rework after failing the inspection at {where}; re-inspect it first."
        ),
        Status.SCRAPPED: f"{code} was scrapped at the inspection at {where}; it cannot go on.",
    }[status]


def inspection_gate_check(*, task: Task, kind: str, unit, lot) -> None:
    """Refuse an event of a later operation while a gated inspection is missing or failed
    (see the module docstring); raises StateConflict with the reason."""
    if kind not in (K.START, K.REPORT, K.COMPLETE):
        return
    if unit is None and lot is None and kind != K.START:
        return  # a report without a unit or lot: only untracked items (or nothing reported)
    if task.order.item.tracking == Item.Tracking.NONE:
        return
    gated = gated_plans_before(task)
    if not gated:
        return
    if unit is None and lot is None:
        _start_gate(task, gated)
        return
    code = target_code(unit, lot)
    now = timezone.now()
    for operation, plan in gated:
        status, _record = inspection_status(operation=operation, unit=unit, lot=lot)
        if status in Status.GOES_ON:
            continue
        if status == Status.MISSING:
            if plan.sampling == S.EVERY_NTH and not _nth_sampled(plan, task.order_id, unit, lot):
                continue
            if plan.sampling == S.FIRST_ARTICLE and _first_article_passed(operation, now):
                continue
        raise StateConflict(_refusal(code, status, operation, plan))


def _start_gate(task: Task, gated: list[tuple[OrderOperation, InspectionPlan]]) -> None:
    """A START without a unit or lot: refused only while nothing of the order has passed."""
    for operation, plan in gated:
        passed = (
            current_records(operation=operation)
            .filter(Q(result=R.PASS) | Q(disposition__decision=D.USE_AS_IS))
            .exists()
        )
        if not passed:
            what = "unit" if task.order.item.tracking == Item.Tracking.SERIAL else "lot"
            raise StateConflict(
                f"{task} cannot start: no {what} of {task.order.number} has passed the "
                f"inspection at operation {operation.sequence} ({plan.code}) yet; "
                "inspect one first."
            )
