"""Downtime reasons: why a machine stood still, as the people at it say.

An operator of the machine's work center (their home work center) or its supervisor (the
one the work center names, any supervisor where it names none) gives a stopped, idle or
fault interval one of the DowntimeReasons, with a note. Giving another reason later
replaces it (the person and time are kept). OEE reads the reason's loss for its analysis.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.exceptions import StateConflict
from core.policy import may
from core.roles import Role, user_roles
from execution.selectors.ownership import operator_of, supervises

from ..models import DowntimeReason, StateInterval

# The intervals a reason is given to: the machine stood still.
DOWN_STATES = StateInterval.DOWN


def downtime_rule(user, action: str, interval: StateInterval) -> bool | None:
    """The policy's object rule for "devices.downtime": operators of the machine's work
    center, the work center's supervisor."""
    if action != "reason":
        return None
    work_center = interval.equipment.work_center
    if supervises(user, work_center):
        return True
    operator = operator_of(user)
    if Role.OPERATOR in user_roles(user) and operator is not None:
        return operator.home_work_center_id == work_center.pk
    return False


def interval_reason_set(
    *, interval: StateInterval, reason: DowntimeReason | None, note: str = "", by
) -> StateInterval:
    """Give a stop its downtime reason (see the module docstring)."""
    if not may(by, "devices.downtime", "reason", interval):
        raise PermissionDenied(
            _(
                "Only an operator of %(work_center)s or its supervisor gives a reason to a "
                "stop of %(equipment)s."
            )
            % {
                "work_center": interval.equipment.work_center.code,
                "equipment": interval.equipment.code,
            }
        )
    if reason is None:
        raise ValidationError({"reason": _("Pick a downtime reason.")})
    if not reason.active:
        raise ValidationError(
            {"reason": _("%(code)s is no longer in use.") % {"code": reason.code}}
        )
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": _("At most 200 characters.")})
    with transaction.atomic():
        locked = StateInterval.objects.select_for_update().get(pk=interval.pk)
        if locked.state not in DOWN_STATES:
            raise StateConflict(
                _(
                    "%(equipment)s was %(state)s then: only a stop, idle time or a fault takes "
                    "a downtime reason."
                )
                % {
                    "equipment": interval.equipment.code,
                    "state": locked.get_state_display().lower(),
                }
            )
        locked.reason = reason
        locked.reason_note = note
        locked.reason_by = by
        locked.reason_at = timezone.now()
        locked.save(update_fields=["reason", "reason_note", "reason_by", "reason_at"])
        audit_record(
            actor=by,
            action="devices.downtime.reason",
            obj=locked,
            data={"reason": reason.code, "note": note},
        )
    locked.equipment = interval.equipment
    return locked
