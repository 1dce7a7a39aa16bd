"""The gate (`inspection_gate_check`, registered with execution in `QualityConfig.ready`):
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

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import StateConflict
from execution.models import ProductionEvent, Task
from planning.models import OrderOperation
from resources.models import Item

from ..models import Disposition, InspectionPlan, InspectionRecord
from ..selectors.inspections import (
    Status,
    current_records,
    gated_plans_before,
    inspection_status,
    target_code,
)
from ..selectors.sampling import first_article_passed, nth_sampled


def _refusal(code: str, status: str, operation: OrderOperation, plan: InspectionPlan) -> str:
    """The refusal in the reader's language (the operator's, at the terminal)."""
    where = _("operation %(sequence)s (%(plan)s)") % {
        "sequence": operation.sequence,
        "plan": plan.code,
    }
    values = {"code": code, "where": where}
    if status == Status.MISSING:
        return _("%(code)s has no passing inspection at %(where)s; inspect it first.") % values
    if status == Status.FAILED:
        return (
            _(
                "%(code)s failed the inspection at %(where)s; it needs a disposition: rework "
                "and a passing re-inspection, or use as is approved by a quality supervisor."
            )
            % values
        )
    if status == Status.REWORK:
        return (
            _(
                "%(code)s is in rework after failing the inspection at %(where)s; re-inspect it first."
            )
            % values
        )
    return _("%(code)s was scrapped at the inspection at %(where)s; it cannot go on.") % values


def inspection_gate_check(*, task: Task, kind: str, unit, lot) -> None:
    """Refuse an event of a later operation while a gated inspection is missing or failed
    (see the module docstring); raises StateConflict with the reason."""
    if kind not in (
        ProductionEvent.Kind.START,
        ProductionEvent.Kind.REPORT,
        ProductionEvent.Kind.COMPLETE,
    ):
        return
    if unit is None and lot is None and kind != ProductionEvent.Kind.START:
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
            if plan.sampling == InspectionPlan.Sampling.EVERY_NTH and not nth_sampled(
                plan, task.order_id, unit, lot
            ):
                continue
            if plan.sampling == InspectionPlan.Sampling.FIRST_ARTICLE and first_article_passed(
                operation, now
            ):
                continue
        raise StateConflict(_refusal(code, status, operation, plan))


def _start_gate(task: Task, gated: list[tuple[OrderOperation, InspectionPlan]]) -> None:
    """A START without a unit or lot: refused only while nothing of the order has passed."""
    for operation, plan in gated:
        passed = (
            current_records(operation=operation)
            .filter(
                Q(result=InspectionRecord.Result.PASS)
                | Q(disposition__decision=Disposition.Decision.USE_AS_IS)
            )
            .exists()
        )
        if not passed:
            values = {
                "order": task.order.number,
                "step": task.operation.sequence,
                "sequence": operation.sequence,
                "plan": plan.code,
            }
            if task.order.item.tracking == Item.Tracking.SERIAL:
                message = _(
                    "Task %(order)s/%(step)s cannot start: no unit of %(order)s has passed the "
                    "inspection at "
                    "operation %(sequence)s (%(plan)s) yet; inspect one first."
                )
            else:
                message = _(
                    "Task %(order)s/%(step)s cannot start: no lot of %(order)s has passed the "
                    "inspection at "
                    "operation %(sequence)s (%(plan)s) yet; inspect one first."
                )
            raise StateConflict(message % values)
