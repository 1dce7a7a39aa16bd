"""Signed supervisor decisions on what the floor recorded: held production events (backdated
or over-delivering, see `plausibility.py`) and manual labour corrections.

A held event is approved by a supervisor of its task's work center (the work center's named
supervisor when it has one, any supervisor otherwise), never by the person who sent it. The
approval applies the event through the same path as any event (`events._record`), with
every rule but the plausibility checks asked again, in the decision's transaction: an event
that can no longer be applied (its task moved on) is refused and the approval stays
pending. A decision is signed (core.signatures); a refused signature writes nothing.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.events import emit
from core.exceptions import StateConflict
from core.models import Signature
from core.signatures import signature_check, signature_sign

from ..models import EventApproval, LabourBooking
from ..selectors.ownership import supervises
from . import events


def event_approval_may_decide(*, approval: EventApproval, user) -> bool:
    """Whether `user` may decide this held event (for pages and buttons)."""
    return supervises(user, approval.task.operation.work_center) and (
        approval.requested_by_id is None or approval.requested_by_id != user.pk
    )


def event_approval_decide(
    *, approval: EventApproval, approve: bool, by, password: str, reason: str
) -> EventApproval:
    """Approve (the event is booked now, once) or reject a held event, signed by `by`."""
    # Refuse a bad signature before anything runs (the signature is checked again below,
    # inside the transaction, where it is stored).
    meaning = Signature.Meaning.APPROVED if approve else Signature.Meaning.REJECTED
    signature_check(user=by, password=password, meaning=meaning, reason=reason)
    with transaction.atomic():
        locked = (
            EventApproval.objects.select_for_update(of=("self",))
            .select_related("task__operation__work_center")
            .get(pk=approval.pk)
        )
        if locked.status != EventApproval.Status.PENDING:
            raise StateConflict(
                _("This held %(kind)s was already %(status)s.")
                % {
                    "kind": locked.get_kind_display().lower(),
                    "status": locked.get_status_display().lower(),
                }
            )
        work_center = locked.task.operation.work_center
        if not supervises(by, work_center):
            raise PermissionDenied(
                _("Only a supervisor of %(work_center)s decides events held at it.")
                % {"work_center": work_center.code}
            )
        if locked.requested_by_id is not None and locked.requested_by_id == by.pk:
            raise PermissionDenied(_("An event you sent is approved by another supervisor."))
        if approve:
            result = _apply(locked)
            locked.applied_event = result.event
            locked.status = EventApproval.Status.APPROVED
        else:
            locked.status = EventApproval.Status.REJECTED
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.decision_note = reason.strip()[:200]
        locked.save()
        signature_sign(user=by, password=password, meaning=meaning, reason=reason, record=locked)
        audit_record(actor=by, action=f"execution.event.{locked.status}", obj=locked)
        emit(
            f"execution.event.{locked.status}",
            {"approval_id": locked.pk, "task_id": locked.task_id},
        )
    return locked


def _apply(approval: EventApproval) -> events.EventResult:
    """Book the held event as it was sent, by whom it was sent, in the caller's transaction."""
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves the decision unwritten
            return events._record(
                approval.event_id,
                approval.kind,
                approval.payload,
                approval.requested_by,
                approval.source,
                approved=True,
            )
    except events.REFUSALS as exc:
        answer = events._rejection(approval.event_id, exc)
        detail = " ".join(str(v) for v in answer.errors.values())
        raise StateConflict(
            _("The held event cannot be booked now: %(detail)s") % {"detail": detail}
        ) from None


def labour_booking_correct(
    *, booking: LabourBooking, minutes: Decimal, by, password: str, reason: str
) -> LabourBooking:
    """A supervisor sets a booking's minutes (signed, with a reason); the booked minutes
    before the first correction are kept in `original_minutes`."""
    try:
        minutes = Decimal(str(minutes))
    except ArithmeticError:
        raise ValidationError(
            {"minutes": _("%(value)r is not a number.") % {"value": minutes}}
        ) from None
    if not minutes.is_finite() or minutes < 0:
        raise ValidationError({"minutes": _("must be a number of minutes ≥ 0.")})
    if minutes > 24 * 60:
        raise ValidationError({"minutes": _("A booking is at most one day (1440 minutes).")})
    signature_check(user=by, password=password, meaning=Signature.Meaning.CORRECTED, reason=reason)
    with transaction.atomic():
        locked = (
            LabourBooking.objects.select_for_update(of=("self",))
            .select_related("task__operation__work_center")
            .get(pk=booking.pk)
        )
        work_center = locked.task.operation.work_center
        if not supervises(by, work_center):
            raise PermissionDenied(
                _("Only a supervisor of %(work_center)s corrects its labour.")
                % {"work_center": work_center.code}
            )
        if locked.original_minutes is None:
            locked.original_minutes = Decimal(str(locked.minutes)).quantize(Decimal("0.1"))
        locked.ended_at = locked.started_at + timedelta(minutes=float(minutes))
        locked.correction_reason = reason.strip()[:200]
        locked.corrected_by = by
        locked.corrected_at = timezone.now()
        locked.save()
        signature_sign(
            user=by,
            password=password,
            meaning=Signature.Meaning.CORRECTED,
            reason=reason,
            record=locked,
        )
        audit_record(
            actor=by,
            action="execution.labour.corrected",
            obj=locked,
            data={"minutes": str(minutes), "original_minutes": str(locked.original_minutes)},
        )
        # Costing posts the difference in hours (costing/services/actual.py).
        emit(
            "execution.labour.corrected",
            {
                "booking_id": locked.pk,
                "order_id": locked.task.order_id,
                "operation_id": locked.task.operation_id,
                "minutes": str(minutes),
            },
        )
    return locked
