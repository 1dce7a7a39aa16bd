"""Inspection records and dispositions (ISA-95 test results, nonconformance disposition).

- Records are append-only. `inspection_correct` writes a new record naming the one it
  corrects; a record that has been corrected no longer counts ("current" records are those
  nobody corrected). A unit inspected again after rework simply gets a new record; the
  latest current record of a unit at an operation is its verdict.
- Dispositions of a failed record: rework, scrap, or use as is — which only a quality
  supervisor may decide (and so approve).

A record's verdict comes from quality/values.py; a scrap disposition and the correction of a
scrapped record move the counters through quality/services/scrap.py.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.audit import audit_record
from core.events import emit
from core.exceptions import StateConflict
from core.lists import list_text
from core.models import Signature
from core.parsing import instant_parse
from core.policy import may
from core.signatures import signature_sign
from planning.models import OrderOperation, ProductionOrder
from resources.models import MaterialLot, SerialUnit

from ..models import DefectCode, Disposition, InspectionPlan, InspectionRecord, Measurement
from ..selectors.inspections import (
    plan_for_operation,
    step_not_reached,
    target_code,
    target_find,
)
from ..values import Verdict, failures_reason, measurements_judge
from .holds import defect_rate_check
from .scrap import scrap_post, scrap_reverse

ORDER_TAKES_INSPECTIONS = (
    ProductionOrder.Status.RELEASED,
    ProductionOrder.Status.IN_PROGRESS,
    ProductionOrder.Status.COMPLETED,
)


def _check_recorder(by) -> None:
    if getattr(by, "is_authenticated", False) and not may(by, "quality.inspectionrecord", "add"):
        raise PermissionDenied(_("Only inspectors, operators and supervisors enter inspections."))


def _defect_code(code) -> DefectCode | None:
    if isinstance(code, DefectCode) or code is None:
        return code
    code = str(code).strip()
    if not code:
        return None
    found = DefectCode.objects.filter(code__iexact=code).first()
    if found is None:
        raise ValidationError({"defect_code": _("No defect code %(code)s.") % {"code": repr(code)}})
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
    result = InspectionRecord.Result.FAIL if failed else InspectionRecord.Result.PASS
    reason_id, reason_params = "", {}
    if not reason and failed:  # a typed reason is kept as typed; a generated one by id
        text = failures_reason(failed)
        reason, reason_id, reason_params = text.english(), text.msgid, text.params
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
        reason_id=reason_id,
        reason_params=reason_params,
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
    defect_rate_check(record=record, by=by)
    return record


def _check_reached(*, operation: OrderOperation, unit, lot) -> None:
    """A unit or lot is inspected at a step it has reached (quality/selectors/inspections.py
    step_not_reached): an inspection ahead of the unit is a wrong scan or a wrong step."""
    not_reached = step_not_reached(operation=operation, unit=unit, lot=lot)
    if not_reached is None:
        return
    missing = not_reached.missing
    message = _(
        "%(code)s has not been through step %(missing)s (%(name)s) yet; inspect it at step "
        "%(missing)s or before, or at step %(sequence)s after step %(missing)s is reported."
    ) % {
        "code": target_code(unit, lot),
        "missing": missing.sequence,
        "name": missing.name,
        "sequence": operation.sequence,
    }
    raise ValidationError({"sequence": message})


def _check_defect_named(*, verdicts: list[Verdict], defect: DefectCode | None) -> None:
    """A failed inspection names its defect code: a failure without one is counted in no
    defect Pareto and judged by no defect-rate rule."""
    failed = [v for v in verdicts if not v.passed]
    if failed and defect is None:
        raise ValidationError(
            {
                "defect_code": _("%(failures)s: a failed inspection needs a defect code.")
                % {"failures": failures_reason(failed).render()}
            }
        )


def _external_id(raw) -> str:
    external_id = str(raw or "").strip()
    if not external_id:
        raise ValidationError({"external_id": _("Every inspection needs an external_id.")})
    if len(external_id) > 100:
        raise ValidationError({"external_id": _("At most 100 characters.")})
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
            _("Order %(order)s is %(status)s; inspections are recorded for released orders.")
            % {"order": order.number, "status": str(order.get_status_display()).lower()}
        )
    plan = plan_for_operation(operation)
    if plan is None:
        raise ValidationError(
            {
                "sequence": _("Operation %(sequence)s of %(order)s has no inspection plan.")
                % {"sequence": operation.sequence, "order": order.number}
            }
        )
    if unit is None and lot is None:
        unit, lot = target_find(
            operation=operation, trace_code=trace_code, serial=serial, lot=lot_code
        )
    _check_reached(operation=operation, unit=unit, lot=lot)
    inspected = instant_parse(inspected_at, now=timezone.now(), field="inspected_at")
    verdicts = measurements_judge(plan, values)
    defect = _defect_code(defect_code)
    _check_defect_named(verdicts=verdicts, defect=defect)
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


# Stored in English, shown in the reader's language where raised.
CORRECTOR_ONLY = gettext_noop(
    "Only the inspector who recorded this inspection or a quality supervisor may correct it."
)
OWN_TO_PASS = gettext_noop(
    "You recorded this inspection; a correction to a pass needs a quality supervisor "
    "other than the inspector."
)


def _chain(record: InspectionRecord) -> list[tuple[int | None, str]]:
    """(inspector id, result) of the record and of every record it corrects, back to the
    first; one query per record, and chains are short."""
    chain: list[tuple[int | None, str]] = []
    seen: set[int] = set()
    current: InspectionRecord | None = record
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        chain.append((current.inspector_id, current.result))
        current = (
            InspectionRecord.objects.filter(pk=current.corrects_id)
            .only("pk", "inspector", "result", "corrects")
            .first()
            if current.corrects_id
            else None
        )
    return chain


def may_correct(*, record: InspectionRecord, by) -> bool:
    """Whether `by` may correct the record at all: a quality supervisor, or an inspector who
    recorded it or a record it corrects (to a pass only under the rules of
    inspection_correct)."""
    if not getattr(by, "is_authenticated", False):
        return False
    if may(by, "quality.inspectionrecord", "correct_any"):  # the policy: quality supervisors
        return True
    return any(inspector == by.pk for inspector, _result in _chain(record))


def _check_corrector(*, original: InspectionRecord, verdicts: list[Verdict], by) -> None:
    """Separation of duties for a correction (see inspection_correct)."""
    if not may_correct(record=original, by=by):
        raise PermissionDenied(_(CORRECTOR_ONLY))
    if not all(v.passed for v in verdicts):
        return
    # To a pass: not by whoever recorded this record, nor by whoever recorded a FAIL that
    # it corrects (correcting one's own FAIL to another FAIL first changes nothing).
    own_fail = any(
        inspector == by.pk and result == InspectionRecord.Result.FAIL
        for inspector, result in _chain(original)
    )
    if by.pk == original.inspector_id or own_fail:
        raise PermissionDenied(_(OWN_TO_PASS))


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
    password: str | None = None,
) -> tuple[InspectionRecord, bool]:
    """Correct a record: a new record for the same unit or lot, operation and plan version
    that names the one it corrects; from then on the correction is the one that counts.
    Only the latest record of a chain can be corrected. Returns (record, created).

    A correction is a signed decision (meaning "corrected", with the corrector's password
    and a reason), and duties are separated: only a quality supervisor or the inspector who
    recorded the record (or a record it corrects) corrects it; nobody corrects to a pass a
    record they recorded, nor a chain in which they recorded a FAIL — a FAIL turned into a
    PASS always carries a second person's signature. The corrected record stays, linked
    from the correction, and is shown with it."""
    external_id = _external_id(external_id)
    existing = InspectionRecord.objects.filter(external_id=external_id).first()
    if existing is not None:
        if existing.corrects_id != record.pk:
            raise ValidationError(
                {
                    "external_id": _("%(external_id)s is already used by record %(pk)s.")
                    % {"external_id": external_id, "pk": existing.pk}
                }
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
                    _(
                        "Inspection record %(pk)s was already corrected by record %(newer)s; "
                        "correct the latest one."
                    )
                    % {"pk": original.pk, "newer": newer.pk}
                )
            verdicts = measurements_judge(original.plan, values)
            _check_corrector(original=original, verdicts=verdicts, by=by)
            # A correction to a fail names its defect like any failure; a correction to a
            # pass needs none, and carries none (the page offers the corrected record's code,
            # which a pass leaves behind).
            defect = _defect_code(defect_code)
            _check_defect_named(verdicts=verdicts, defect=defect)
            if all(v.passed for v in verdicts):
                defect = None
            corrected = _record_write(
                external_id=external_id,
                plan=original.plan,
                operation=original.operation,
                unit=original.unit,
                lot=original.lot,
                verdicts=verdicts,
                defect_code=defect,
                reason=(reason or "").strip(),
                gauge=original.gauge if gauge is None else gauge.strip(),
                inspected_at=(
                    original.inspected_at
                    if inspected_at in (None, "")
                    else instant_parse(inspected_at, now=timezone.now(), field="inspected_at")
                ),
                by=by,
                corrects=original,
            )
            # In this transaction, under the original record's lock: a retried correction
            # finds the record written above and never gets here, so a scrap is moved back
            # once (and the disposition's moved_back_at marks it moved back for good).
            if Disposition.objects.filter(
                record=original, decision=Disposition.Decision.SCRAP
            ).exists():
                scrap_reverse(record=original, correction=corrected, by=by)
            signature_sign(
                user=by,
                password=password,
                meaning=Signature.Meaning.CORRECTED,
                reason=reason,
                record=corrected,
            )
    except IntegrityError:
        existing = InspectionRecord.objects.filter(external_id=external_id).first()
        if existing is not None and existing.corrects_id == record.pk:
            return existing, False
        raise StateConflict(
            _("Inspection record %(pk)s was corrected at the same time; reload it.")
            % {"pk": record.pk}
        ) from None
    return corrected, True


# Dispositions that change what counts as good or scrap are signed (core.signatures), with
# these meanings; rework is not (the unit is inspected again).
SIGNED_DISPOSITIONS = {
    Disposition.Decision.SCRAP: Signature.Meaning.DISPOSITIONED,
    Disposition.Decision.USE_AS_IS: Signature.Meaning.APPROVED,
}


def disposition_record(
    *,
    record: InspectionRecord,
    decision: str,
    note: str = "",
    by=None,
    password: str | None = None,
    reason: str = "",
) -> tuple[Disposition, bool]:
    """Decide what happens to a unit or lot that failed: rework, scrap, or use as is.
    Use as is is a quality supervisor's decision, and that decision is its approval.
    Scrap and use as is are signed by the person deciding: their password, and a reason
    (`reason`, else the note); a refused signature decides nothing.

    Returns (disposition, created). A retried request — the record already carries the same
    decision — gets that disposition back and changes nothing; another decision is refused:
    a disposition stands once decided (correct the inspection record instead)."""
    if decision not in Disposition.Decision.values:
        raise ValidationError(
            {
                "decision": _("Unknown decision %(decision)s; use %(choices)s.")
                % {"decision": repr(decision), "choices": list_text(Disposition.Decision.values)}
            }
        )
    authenticated = getattr(by, "is_authenticated", False)
    if decision == Disposition.Decision.USE_AS_IS:
        if not authenticated or not may(by, "quality.inspectionrecord", "use_as_is"):
            raise PermissionDenied(_("Only a quality supervisor may approve use as is."))
    elif authenticated and not may(by, "quality.inspectionrecord", "disposition"):
        raise PermissionDenied(_("Only inspectors and supervisors decide dispositions."))
    with transaction.atomic():
        locked = InspectionRecord.objects.select_for_update().get(pk=record.pk)
        if locked.result != InspectionRecord.Result.FAIL:
            raise StateConflict(
                _("Inspection record %(pk)s passed; it needs no disposition.") % {"pk": locked.pk}
            )
        newer = InspectionRecord.objects.filter(corrects=locked).first()
        if newer is not None:
            raise StateConflict(
                _(
                    "Inspection record %(pk)s was corrected by record %(newer)s; decide on the "
                    "latest one."
                )
                % {"pk": locked.pk, "newer": newer.pk}
            )
        existing = Disposition.objects.filter(record=locked).select_related("decided_by").first()
        if existing is not None:
            if existing.decision == decision:
                return existing, False
            values = {
                "pk": locked.pk,
                "decision": str(existing.get_decision_display()).lower(),
                "who": existing.decided_by.username if existing.decided_by_id else "",
            }
            message = (
                _(
                    "Inspection record %(pk)s already has a disposition: %(decision)s by "
                    "%(who)s. A disposition is not changed; correct the inspection record if "
                    "it was wrong."
                )
                if existing.decided_by_id
                else _(
                    "Inspection record %(pk)s already has a disposition: %(decision)s. A "
                    "disposition is not changed; correct the inspection record if it was wrong."
                )
            )
            raise StateConflict(message % values)
        reason = (reason or "").strip() or (note or "").strip()
        disposition = Disposition(
            record=locked,
            decision=decision,
            note=((note or "").strip() or reason)[:300],
            decided_by=by if authenticated else None,
            approved_by=by if decision == Disposition.Decision.USE_AS_IS else None,
        )
        disposition.full_clean(exclude=["record"])
        # The disposition row and the counters move in one transaction, under the record's
        # lock: a retried request finds the disposition and is refused above, so what it
        # scraps is posted once.
        disposition.save()
        data: dict = {"decision": decision}
        if decision == Disposition.Decision.SCRAP:
            data["scrap"] = scrap_post(record=locked, disposition=disposition)
        if decision in SIGNED_DISPOSITIONS:
            signature_sign(
                user=by,
                password=password,
                meaning=SIGNED_DISPOSITIONS[decision],
                reason=reason,
                record=disposition,
            )
        audit_record(actor=by, action="inspection.disposition", obj=disposition, data=data)
        emit(
            "quality.disposition.decided",
            {
                "record_id": locked.pk,
                "decision": decision,
                "unit_id": locked.unit_id,
                "lot_id": locked.lot_id,
                "operation_id": locked.operation_id,
                "quantity_scrapped": data["scrap"]["moved"]
                if decision == Disposition.Decision.SCRAP
                else "0",
            },
            dispatch_on_commit=False,
        )
    return disposition, True
