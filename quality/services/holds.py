"""Defect-rate alarms and quality holds.

The rolling defect rate of an operation (a routing step) at a work center is taken over
its inspection records: the last `window` units or lots inspected there, each counted once
with its first current result at that operation (first-pass: a unit that failed, was
reworked and then passed counts as one failure), and only records entered since the last
hold of that operation was released (a release starts a fresh window — otherwise the
failures that caused the hold would put it straight back).

Scrap quantities reported with production events are deliberately not counted: an
operator's scrap report is already a decision about a known-bad part, while the alarm
watches what inspections find, in units the window can count one by one.

When the rate reaches the rule's threshold over at least its minimum sample, the operation
goes on hold (one active hold per routing step and work center), a severe quality exception
is raised through execution's `alert_raise` and linked to the hold both ways.

What a hold stops: the inspected operation at that work center, and the operations of the
same routing before it at the same work center — those made what the inspection found bad
(the housings' visual check at INJ holds the moulding at INJ too; a line that keeps
moulding would keep making short shots). Where the hold names the machine that made them,
an earlier operation assigned to another machine of the work center runs on; one with no
machine yet is held. While the hold is active, `hold_gate_check` (registered with
execution's gates) refuses every START and RESUME of those tasks, saying why; reports of
work already running are accepted (what was made is counted), and the exception lists the
tasks running then so that the supervisor can stop them. Only a quality supervisor releases a
hold, with a reason; releasing it resolves the linked exception through execution's own
`alert_resolve` (cause: the defect rate is back under control; action: the release reason),
by the same person in the same transaction — unless someone already resolved or verified
it, which is left as it is. Verifying the fix stays a separate step of the exception.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.audit import audit_record
from core.events import emit
from core.exceptions import StateConflict
from core.models import Signature
from core.policy import may
from core.signatures import signature_sign
from core.texts import Text
from execution.models import AlertType, ProductionEvent, Severity, Task, WorkAlert
from execution.services.alerts import CAUSE_HOLD_RELEASED, alert_raise, alert_resolve
from planning.models import RoutingStep
from resources.models import Equipment, WorkCenter
from resources.selectors.equipment import work_center_only_machine

from ..models import DefectRateRule, InspectionRecord, QualityHold
from ..selectors.holds import (
    active_hold_for,
    defect_rate,
    held_running_tasks,
    hold_stop_message,
    rule_for,
)

RULE_NAME = gettext_noop("defect-rate alarm")

# What a hold and its exception say, read in the reader's language (core/texts.py).
REASON = gettext_noop("defect rate %(rate)s %% over %(sample)s units (threshold %(threshold)s %%)")
ALARM = gettext_noop(
    "Defect-rate alarm, %(item)s operation %(step)s %(name)s at %(work_center)s%(where)s: "
    "%(reason)s. The operation is on quality hold (hold %(hold)s) until a quality supervisor "
    "releases it.%(scope)s%(stop)s"
)
ON_MACHINE = gettext_noop(" on %(equipment)s")
EARLIER_HELD = gettext_noop(
    " So are the operations before it at %(work_center)s (%(steps)s)%(where)s."
)
RUNNING_STOP = gettext_noop(" Running now, to be stopped: %(tasks)s.")
RUNNING_STOP_MORE = gettext_noop(" Running now, to be stopped: %(tasks)s and %(more)s more.")
STEP = gettext_noop("%(step)s %(name)s")
RUNNING_TASK = {
    # (on a machine, by an operator)
    (False, False): gettext_noop("%(order)s operation %(sequence)s"),
    (True, False): gettext_noop("%(order)s operation %(sequence)s on %(equipment)s"),
    (False, True): gettext_noop("%(order)s operation %(sequence)s (%(operator)s)"),
    (True, True): gettext_noop("%(order)s operation %(sequence)s on %(equipment)s (%(operator)s)"),
}


def _equipment_for(record: InspectionRecord) -> Equipment | None:
    """The machine that made what was inspected: the last machine at this work center the
    unit or lot was reported on, else the operation's machine, else the work center's only
    machine."""
    trace = {"unit_id": record.unit_id} if record.unit_id else {"lot_id": record.lot_id}
    event = (
        ProductionEvent.objects.filter(
            order_id=record.order_id,
            equipment__work_center_id=record.work_center_id,
            **trace,
        )
        .select_related("equipment")
        .order_by("-occurred_at", "-id")
        .first()
    )
    if event is not None:
        return event.equipment
    if record.operation.equipment_id:
        return record.operation.equipment
    return work_center_only_machine(record.work_center_id)


def defect_rate_check(*, record: InspectionRecord, by=None) -> QualityHold | None:
    """After a record: put the operation on hold if its defect rate crossed the rule."""
    routing_step = record.plan.routing_step
    work_center = record.work_center
    rule = rule_for(routing_step=routing_step, work_center=work_center)
    if rule is None:
        return None
    with transaction.atomic():
        # Checks of one operation run one after the other: the rule row is the lock.
        # (No default ordering here: it would outer-join the nullable routing step, which
        # PostgreSQL cannot lock.)
        DefectRateRule.objects.select_for_update().filter(pk=rule.pk).order_by().first()
        if QualityHold.objects.filter(
            routing_step=routing_step, work_center=work_center, status=QualityHold.Status.ACTIVE
        ).exists():
            return None
        failed, inspected = defect_rate(
            routing_step=routing_step, work_center=work_center, window=rule.window
        )
        if inspected < rule.min_sample or inspected == 0:
            return None
        rate = (Decimal(failed) * 100 / Decimal(inspected)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        if rate < rule.threshold_pct:
            return None
        return hold_place(
            routing_step=routing_step,
            work_center=work_center,
            equipment=_equipment_for(record),
            rate=rate,
            sample=inspected,
            threshold=rule.threshold_pct,
            record=record,
            by=by,
        )


def hold_place(
    *,
    routing_step: RoutingStep,
    work_center: WorkCenter,
    equipment: Equipment | None,
    rate: Decimal,
    sample: int,
    threshold: Decimal,
    record: InspectionRecord | None = None,
    by=None,
) -> QualityHold:
    """Put an operation on hold and raise the quality exception linked to it."""
    reason = Text(REASON, rate=rate, sample=sample, threshold=threshold)
    with transaction.atomic():
        hold = QualityHold(
            routing_step=routing_step,
            work_center=work_center,
            equipment=equipment,
            reason=reason.english(),
            reason_id=reason.msgid,
            reason_params=reason.params,
            defect_rate_pct=rate,
            sample_size=sample,
        )
        hold.full_clean(exclude=["routing_step", "work_center", "equipment", "alert"])
        hold.save()
        item = routing_step.routing.item.code
        where = Text(ON_MACHINE, equipment=equipment.code) if equipment else ""
        earlier = list(
            RoutingStep.objects.filter(
                routing_id=routing_step.routing_id,
                work_center_id=work_center.pk,
                step_no__lt=routing_step.step_no,
            )
            .order_by("step_no")
            .values_list("step_no", "name")
        )
        scope = (
            Text(
                EARLIER_HELD,
                work_center=work_center.code,
                steps=[Text(STEP, step=no, name=name) for no, name in earlier],
                where=where,
            )
            if earlier
            else ""
        )
        running = held_running_tasks(hold)
        stop = ""
        if running:
            tasks = [
                Text(
                    RUNNING_TASK[(bool(t.equipment_id), bool(t.operator_id))],
                    order=t.order.number,
                    sequence=t.operation.sequence,
                    equipment=t.equipment.code if t.equipment_id else "",
                    operator=t.operator.name if t.operator_id else "",
                )
                for t in running[:10]
            ]
            stop = (
                Text(RUNNING_STOP_MORE, tasks=tasks, more=len(running) - 10)
                if len(running) > 10
                else Text(RUNNING_STOP, tasks=tasks)
            )
        alert = alert_raise(
            alert_type=AlertType.QUALITY,
            severity=Severity.SEVERE,
            description=Text(
                ALARM,
                item=item,
                step=routing_step.step_no,
                name=routing_step.name,
                work_center=work_center.code,
                where=where,
                reason=reason,
                hold=hold.pk,
                scope=scope,
                stop=stop,
            ),
            equipment=equipment,
            order=record.order if record else None,
            operation=record.operation if record else None,
            lot=record.lot if record else None,
            external_id=f"hold:{hold.pk}",
            raised_via=WorkAlert.RaisedVia.RULE,
            rule_name=RULE_NAME,
            link={"hold_id": hold.pk},
            by=None,  # raised by the rule, not by whoever entered the last inspection
        )
        QualityHold.objects.filter(pk=hold.pk).update(alert=alert)
        hold.alert = alert
        audit_record(actor=by, action="quality_hold.place", obj=hold, data={"reason": hold.reason})
        emit(
            "quality.hold.placed",
            {
                "hold_id": hold.pk,
                "routing_step_id": routing_step.pk,
                "work_center_id": work_center.pk,
                "alert_id": alert.pk,
                "defect_rate_pct": str(rate),
                "sample": sample,
            },
        )
    return hold


def hold_release(*, hold: QualityHold, reason: str, by, password: str | None = None) -> QualityHold:
    """Release a hold: only a quality supervisor, with a reason, signed with their password
    (meaning "released"; core.signatures). A refused signature releases nothing."""
    if not may(by, "quality.qualityhold", "release"):
        raise PermissionDenied(_("Only a quality supervisor may release a quality hold."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the hold is released.")})
    with transaction.atomic():
        locked = QualityHold.objects.select_for_update().get(pk=hold.pk)
        if locked.status != QualityHold.Status.ACTIVE:
            if locked.released_by_id:
                raise StateConflict(
                    _("Hold %(pk)s was already released by %(who)s.")
                    % {"pk": locked.pk, "who": locked.released_by}
                )
            raise StateConflict(_("Hold %(pk)s was already released.") % {"pk": locked.pk})
        locked.status = QualityHold.Status.RELEASED
        locked.released_by = by
        locked.released_at = timezone.now()
        locked.release_reason = reason[:300]
        locked.save(update_fields=["status", "released_by", "released_at", "release_reason"])
        signature_sign(
            user=by,
            password=password,
            meaning=Signature.Meaning.RELEASED,
            reason=reason,
            record=locked,
        )
        alert_outcome = _hold_alert_resolve(hold=locked, reason=reason, by=by)
        audit_record(
            actor=by,
            action="quality_hold.release",
            obj=locked,
            data={"reason": reason, "alert": alert_outcome},
        )
        emit(
            "quality.hold.released",
            {
                "hold_id": locked.pk,
                "alert_id": locked.alert_id,
                "reason": reason,
                "alert": alert_outcome,
            },
        )
    return locked


def _hold_alert_resolve(*, hold: QualityHold, reason: str, by) -> str:
    """Resolve the hold's exception as part of its release; returns what became of it:
    "resolved", "already <status>" when someone closed it first, or "none".

    Runs inside the release's transaction, after the hold row is locked: hold, then
    exception, the order `hold_place` creates them in. The exception row is locked here
    before its status is read, so nobody can resolve it between the look and the resolve.
    A quality supervisor may resolve a quality exception under execution's own rule
    (`alert_resolve` admits the quality supervisor for quality exceptions), so the releasing
    user resolves it in person; no system actor is needed."""
    if hold.alert_id is None:  # the exception was deleted (the link is SET_NULL)
        return "none"
    alert = WorkAlert.objects.select_for_update().filter(pk=hold.alert_id).first()
    if alert is None:
        return "none"
    if alert.status not in (WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED):
        return f"already {alert.status}"
    alert_resolve(
        alert=alert,
        by=by,
        cause=Text(CAUSE_HOLD_RELEASED, hold=hold.pk),
        action=reason,
    )
    return "resolved"


def hold_resolve_check(*, alert, by) -> None:
    """Execution asks this before it closes an exception: the exception of an active hold
    stays open while the hold does. Releasing the hold (a quality supervisor, with a
    reason) resolves it; closing it alone would leave the operation held with nobody
    told."""
    hold = (
        QualityHold.objects.filter(alert_id=alert.pk, status=QualityHold.Status.ACTIVE)
        .select_related("routing_step", "work_center")
        .first()
    )
    if hold is not None:
        raise StateConflict(
            _(
                "%(alert)s is the exception of quality hold %(hold)s on operation %(step)s "
                "%(name)s at %(work_center)s, which is still active: a quality supervisor "
                "releases the hold with a reason (Quality → Holds), and that resolves this "
                "exception."
            )
            % {
                "alert": alert.number,
                "hold": hold.pk,
                "step": hold.routing_step.step_no,
                "name": hold.routing_step.name,
                "work_center": hold.work_center.code,
            }
        )


def hold_gate_check(*, task: Task, kind: str, unit, lot) -> None:
    """Refuse a START or RESUME of an operation a quality hold stops."""
    if kind not in (ProductionEvent.Kind.START, ProductionEvent.Kind.RESUME):
        return
    hold = active_hold_for(task)
    if hold is not None:
        raise StateConflict(hold_stop_message(hold, task))
