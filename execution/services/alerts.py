"""Exceptions (work alerts): raise, route by severity, notify, escalate, act on the plan,
resolve and verify — the feedback half of the loop.

Effects on the plan:
- an equipment fault puts the machine in fault and blocks its open tasks; backup machines
  that may run the work are proposed with their free capacity, and each affected order gets
  an expected delay (the repair time without a backup; with one, the wait for the backup's
  running job + the operation's setup + a transfer time);
- a material shortage blocks the operation that needs the material (the scheduler then keeps
  it behind the arrival date) and, where the rule says so, starts an urgent requisition;
- every affected sales order carries the expected delay for the people who talk to the
  customer.
Resolving records cause and action, puts the machine back to running, releases the blocked
tasks, clears the delays and queues a rescheduling.
"""

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.audit import audit_record
from core.events import emit
from core.exceptions import StateConflict
from core.notifications import people_notify
from core.numbering import number_next
from core.policy import may
from core.roles import Role, role_label
from core.texts import Text, choice, role, text_columns
from planning.models import OrderOperation, ProductionOrder, SalesOrder
from planning.services.feedback import production_order_exception_delay_set
from planning.services.operations import (
    operation_equipment_set,
    operation_unblock,
    operations_block,
)
from planning.services.purchasing import requisition_create, requisition_expedite
from planning.services.sales_orders import sales_order_delay_set
from planning.services.schedule import schedule_run_start
from resources.models import Equipment
from resources.services.equipment import equipment_status_set

from ..models import (
    SEVERITY_RANK,
    AlertRule,
    AlertStep,
    AlertType,
    MaterialShortage,
    Severity,
    Task,
    WorkAlert,
)
from ..selectors.alerts import backup_options
from ..selectors.ownership import alert_rule

# What the exception loop writes on timelines and in notifications, kept as message ids and
# read in the reader's language (core/texts.py).
RAISED_BY = {
    WorkAlert.RaisedVia.PERSON: gettext_noop("%(description)s (raised by a person)"),
    WorkAlert.RaisedVia.DEVICE: gettext_noop("%(description)s (raised by a machine)"),
    WorkAlert.RaisedVia.RULE: gettext_noop("%(description)s (raised by a rule)"),
}
# Reasons on the requisition an exception raises or expedites.
EXCEPTION_SHORTAGE = gettext_noop("%(number)s: shortage for %(order)s")
EXCEPTION_STOPS = gettext_noop("%(number)s: production stops without it")
RAISED_BY_RULE = gettext_noop("%(description)s (raised by %(rule)s)")
TOLD = gettext_noop("%(text)s → %(names)s")
TOLD_NOBODY = gettext_noop("%(text)s → nobody holds the role %(role)s")
NOTICE = gettext_noop("%(number)s: %(type)s — %(description)s")
NOTICE_DEADLINE = gettext_noop(
    "%(number)s: %(type)s, acknowledge by %(deadline)s — %(description)s"
)
NOTICE_ESCALATED = gettext_noop("%(number)s escalated to you: %(description)s")
SUBJECT = gettext_noop("[ClosedLoop] %(number)s %(severity)s: %(type)s")
FAULT_EFFECT = gettext_noop(
    "%(equipment)s in fault; %(tasks)s task(s) blocked; delay without a backup ≈ %(downtime)s min."
)
FAULT_EFFECT_BACKUP = gettext_noop(
    "%(equipment)s in fault; %(tasks)s task(s) blocked; delay without a backup ≈ %(downtime)s "
    "min. Backup %(backup)s: %(free)s free minutes in the next 7 days for %(needed)s needed."
)
SHORTAGE_EFFECT = gettext_noop(
    "%(tasks)s task(s) blocked until the material arrives (about %(days)s days)."
)
SHORTAGE_EFFECT_REQUISITION = gettext_noop(
    "%(tasks)s task(s) blocked until the material arrives (about %(days)s days). Urgent "
    "requisition %(requisition)s for %(quantity)s %(uom)s."
)
ACKNOWLEDGED_IN_TIME = gettext_noop("in time")
ACKNOWLEDGED_LATE = gettext_noop("after the deadline")
ESCALATED = gettext_noop("Not acknowledged in time by the %(previous)s; now the %(next)s.")
MOVED = gettext_noop("%(tasks)s task(s) moved to %(backup)s; expected delay now %(delays)s.")
ORDER_DELAY = gettext_noop("%(order)s %(minutes)s min")
RESOLVED = gettext_noop("Cause: %(cause)s. Action: %(action)s. %(tasks)s task(s) released.")
VERIFIED = gettext_noop("The fix holds.")
CLEARED = gettext_noop(
    "Cleared by machine at %(time)s: %(equipment)s left the fault before the exception was "
    "acknowledged. It stays open until resolved."
)
# A sales order's and a production order's delay note: the exception behind the delay
# (the same words as its notification).
DELAY_NOTE = NOTICE
# A task an exception had blocked comes back paused, for its operator.
WAS_BLOCKED = gettext_noop("Was blocked by %(number)s")
# The cause written when a quality hold's release resolves its exception (quality's
# _hold_alert_resolve); a cause a person types is kept as typed.
CAUSE_HOLD_RELEASED = gettext_noop(
    "Defect rate back under control (quality hold %(hold)s released)"
)
CLEARED_NO_MACHINE = gettext_noop(
    "Cleared by machine at %(time)s: the machine left the fault before the exception was "
    "acknowledged. It stays open until resolved."
)

# Who is next when nobody answers in time (used past the rule's own escalate_to_role).
ESCALATION_CHAIN = [Role.OPERATOR, Role.SUPERVISOR, Role.PLANT_MANAGER, Role.ADMIN]


def transfer_minutes() -> int:
    """Time to move work in progress to another machine (default 30 minutes)."""
    return int(getattr(settings, "EXECUTION_TRANSFER_MINUTES", 30))


def _rule(alert_type: str, severity: str) -> AlertRule:
    rule = AlertRule.objects.filter(alert_type=alert_type, severity=severity).first()
    if rule is None:  # the admin deleted it: fall back to the supervisor within an hour
        rule = AlertRule(
            alert_type=alert_type, severity=severity, handler_role=Role.SUPERVISOR, ack_minutes=60
        )
    return rule


def severity_for_impact(
    *,
    alert_type: str,
    stop_minutes: float | None = None,
    bites_in_minutes: float | None = None,
    at_least: str = Severity.GENERAL,
) -> str:
    """The severity an exception's expected impact calls for, by the thresholds on the
    exception rules (admin → Exception rules; docs/exceptions.md "Severity"): for an equipment
    fault the expected stop length, for a material shortage the time until it bites (the
    first operation needing the material is planned to start). The highest severity whose
    threshold the impact meets, and never below `at_least`."""
    chosen = at_least
    for rule in AlertRule.objects.filter(alert_type=alert_type):
        met = (
            stop_minutes is not None
            and rule.stop_minutes_from is not None
            and stop_minutes >= rule.stop_minutes_from
        ) or (
            bites_in_minutes is not None
            and rule.shortage_within_hours is not None
            and bites_in_minutes <= rule.shortage_within_hours * 60
        )
        if met and SEVERITY_RANK[rule.severity] > SEVERITY_RANK[chosen]:
            chosen = rule.severity
    return chosen


def default_downtime_minutes(alert_type: str = AlertType.EQUIPMENT_FAULT) -> int:
    """The expected repair time when the reporter gives none: the urgent rule's."""
    return _rule(alert_type, Severity.URGENT).default_downtime_minutes


def _number() -> str:
    return number_next(WorkAlert, "EX")


def _step(alert: WorkAlert, kind: str, text: Text | str = "", by=None, role: str = "") -> AlertStep:
    """A timeline step; a `Text` is kept with its message id (read in the reader's language)
    and in English."""
    return AlertStep.objects.create(
        alert=alert,
        kind=kind,
        **text_columns("text", text),
        by=by if getattr(by, "is_authenticated", False) else None,
        role=role,
    )


def alert_description(alert: WorkAlert) -> Text | str:
    """What happened, as a parameter of another text: the system's words by their message
    id (read in the reader's language), a person's as typed."""
    if alert.description_id:
        return Text(alert.description_id, **alert.description_params)
    return alert.description


def _recipients(alert: WorkAlert) -> list:
    if alert.handler_id:
        return [alert.handler]
    users = get_user_model().objects.filter(groups__name=alert.handler_role, is_active=True)
    return list(users.distinct())


def _notify(alert: WorkAlert, text: Text, also=()) -> None:
    """Tell the exception's handlers (its handler, else everyone with its role), and `also`
    (people kept informed: the work center's supervisor of a severe one), with a link to
    its page."""
    recipients = _recipients(alert)
    recipients += [u for u in also if u is not None and u not in recipients]
    subject = Text(
        SUBJECT,
        number=alert.number,
        severity=choice(WorkAlert, "severity", alert.severity),
        type=choice(WorkAlert, "alert_type", alert.alert_type),
    )
    people_notify(
        recipients,
        text,
        subject=subject,
        url=reverse("execution:alert_detail", args=[alert.pk]),
        link_text=alert.number,
    )
    # A list parameter: listed in the reader's language when the step is read (core/texts.py).
    names = [u.username for u in recipients]
    told = (
        Text(TOLD, text=text, names=names)
        if names
        else Text(TOLD_NOBODY, text=text, role=role(alert.handler_role, lower=True))
    )
    _step(alert, AlertStep.Kind.NOTIFIED, told, role=alert.handler_role)


def alert_raise(
    *,
    alert_type: str,
    severity: str,
    description: Text | str,
    equipment: Equipment | None = None,
    order: ProductionOrder | None = None,
    operation: OrderOperation | None = None,
    lot=None,
    shortage: MaterialShortage | None = None,
    external_id: str | None = None,
    raised_via: str = WorkAlert.RaisedVia.PERSON,
    rule_name: str = "",
    expected_downtime_minutes: int | None = None,
    link: dict | None = None,
    by=None,
) -> WorkAlert:
    """Raise an exception; a repeated external_id returns the first one and changes nothing.
    A `description` the system writes is a `Text` (read in the reader's language); a
    person's is a string, kept as typed."""
    written = description if isinstance(description, Text) else None
    description = written.english() if written else description
    if alert_type not in AlertType.values:
        raise ValidationError({"alert_type": _("Unknown type %(type)r.") % {"type": alert_type}})
    if severity not in Severity.values:
        raise ValidationError(
            {"severity": _("Unknown severity %(severity)r.") % {"severity": severity}}
        )
    if not (description or "").strip():
        raise ValidationError({"description": _("Say what happened.")})
    if alert_type == AlertType.EQUIPMENT_FAULT and equipment is None:
        raise ValidationError({"equipment": _("An equipment fault names the machine.")})
    if alert_type == AlertType.MATERIAL_SHORTAGE and operation is None and shortage is None:
        raise ValidationError({"operation": _("A material shortage names the operation it stops.")})
    if external_id:
        existing = WorkAlert.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    if shortage is not None and operation is None:
        operation = shortage.requirement.operation
    if operation is not None and order is None:
        order = operation.order
    rule = _rule(alert_type, severity)
    now = timezone.now()
    with transaction.atomic():
        alert = WorkAlert(
            number=_number(),
            external_id=external_id or None,
            alert_type=alert_type,
            severity=severity,
            description=description.strip(),
            description_id=written.msgid if written else "",
            description_params=written.params if written else {},
            raised_via=raised_via,
            rule_name=rule_name,
            raised_by=by if getattr(by, "is_authenticated", False) else None,
            equipment=equipment,
            order=order,
            operation=operation,
            lot=lot,
            shortage=shortage,
            handler_role=rule.handler_role,
            ack_deadline=now + timedelta(minutes=rule.ack_minutes) if rule.ack_minutes else None,
            expected_downtime_minutes=expected_downtime_minutes,
            link=link or {},
        )
        work_center = (equipment.work_center if equipment else None) or (
            operation.work_center if operation else None
        )
        supervisor = work_center.supervisor if work_center is not None else None
        if severity == Severity.URGENT and supervisor is not None:
            alert.handler = supervisor
        alert.save()
        what = alert_description(alert)
        raised = (
            Text(RAISED_BY_RULE, description=what, rule=Text(rule_name))
            if rule_name
            else Text(RAISED_BY.get(alert.raised_via, RAISED_BY_RULE), description=what)
        )
        _step(alert, AlertStep.Kind.RAISED, raised, by=by)
        kind = choice(WorkAlert, "alert_type", alert.alert_type)
        notice = (
            Text(
                NOTICE_DEADLINE,
                number=alert.number,
                type=kind,
                deadline=f"{timezone.localtime(alert.ack_deadline):%H:%M}",
                description=what,
            )
            if alert.ack_deadline
            else Text(NOTICE, number=alert.number, type=kind, description=what)
        )
        # A severe exception goes to its rule's role (the plant manager, the supply-chain
        # director), and the work center's production supervisor hears of it too: the work
        # stopped is theirs.
        _notify(alert, notice, also=[supervisor] if severity == Severity.SEVERE else ())
        if alert_type == AlertType.EQUIPMENT_FAULT:
            _fault_effects(alert, rule)
        elif alert_type == AlertType.MATERIAL_SHORTAGE:
            _shortage_effects(alert, rule)
        audit_record(actor=by, action="alert.raise", obj=alert)
        emit(
            "execution.alert.raised",
            {
                "alert_id": alert.pk,
                "type": alert_type,
                "severity": severity,
                "order_id": alert.order_id,
            },
        )
    return alert


def _block(alert: WorkAlert, tasks: list[Task], until) -> None:
    """Block tasks; the scheduler keeps their operations after `until`."""
    ids = [t.pk for t in tasks]
    Task.objects.filter(pk__in=ids).update(status=Task.Status.BLOCKED)
    operations_block(operation_ids={t.operation_id for t in tasks}, until=until)
    alert.blocked_tasks.add(*ids)


def _sales_delays_refresh(order_ids: set[int]) -> None:
    """Each affected production order and sales order shows the largest delay of its open
    exceptions (the production order's feeds its delivery risk: planning/selectors/risk.py)."""
    orders = list(
        ProductionOrder.objects.filter(pk__in=order_ids).values_list("pk", "sales_order_id")
    )
    sales_ids = {so for _pk, so in orders if so is not None}
    open_alerts = WorkAlert.objects.filter(
        status__in=(WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED)
    ).exclude(impact={})
    worst_so: dict[str, tuple[int, Text | str]] = {}
    worst_mo: dict[int, tuple[int, Text | str]] = {}
    for alert in open_alerts:
        for row in alert.impact.get("orders", []):
            minutes = row.get("delay_minutes", 0)
            note = Text(
                DELAY_NOTE,
                number=alert.number,
                type=choice(WorkAlert, "alert_type", alert.alert_type, lower=True),
                description=alert_description(alert),
            )
            if row.get("sales_order") and minutes > worst_so.get(row["sales_order"], (0, ""))[0]:
                worst_so[row["sales_order"]] = (minutes, note)
            if row.get("order_id") and minutes > worst_mo.get(row["order_id"], (0, ""))[0]:
                worst_mo[row["order_id"]] = (minutes, note)
    for pk, _so in orders:
        minutes, note = worst_mo.get(pk, (0, ""))
        production_order_exception_delay_set(order=pk, minutes=minutes, note=note)
    for so in SalesOrder.objects.filter(pk__in=sales_ids):
        minutes, note = worst_so.get(so.number, (0, ""))
        sales_order_delay_set(sales_order=so, minutes=minutes, note=note)


def _impact(alert: WorkAlert, tasks: list[Task], delay_for) -> dict:
    rows = []
    for task in tasks:
        order = task.order
        rows.append(
            {
                "order": order.number,
                "order_id": order.pk,
                "sequence": task.operation.sequence,
                "sales_order": order.sales_order.number if order.sales_order_id else None,
                "customer": order.sales_order.customer if order.sales_order_id else None,
                "delay_minutes": int(math.ceil(delay_for(task))),
            }
        )
    return {"orders": rows}


def _fault_effects(alert: WorkAlert, rule: AlertRule) -> None:
    equipment = alert.equipment
    equipment_status_set(equipment=equipment, status=Equipment.Status.FAULT)
    tasks = list(
        Task.objects.filter(
            equipment=equipment,
            status__in=(
                Task.Status.QUEUED,
                Task.Status.READY,
                Task.Status.RUNNING,
                Task.Status.PAUSED,
            ),
        )
        .select_related("order__sales_order", "operation")
        .prefetch_related("operation__eligible_equipment")
    )
    if alert.order_id:
        tasks += [
            t
            for t in Task.objects.filter(order_id=alert.order_id, operation__equipment=equipment)
            .exclude(status__in=(Task.Status.DONE, Task.Status.CANCELLED, Task.Status.BLOCKED))
            .select_related("order__sales_order", "operation")
            if t.pk not in {x.pk for x in tasks}
        ]
    downtime = alert.expected_downtime_minutes or rule.default_downtime_minutes
    _block(alert, tasks, timezone.now() + timedelta(minutes=downtime))
    alert.impact = _impact(alert, tasks, lambda t: downtime)
    alert.impact["backups"] = backup_options(
        equipment=equipment, tasks=tasks, order_id=alert.order_id
    )
    alert.impact["downtime_minutes"] = downtime
    alert.save(update_fields=["impact"])
    best = alert.impact["backups"][0] if alert.impact["backups"] else None
    said = {"equipment": equipment.code, "tasks": len(tasks), "downtime": downtime}
    text = (
        Text(
            FAULT_EFFECT_BACKUP,
            **said,
            backup=best["equipment"],
            free=best["free_minutes"],
            needed=best["needed_minutes"],
        )
        if best
        else Text(FAULT_EFFECT, **said)
    )
    _step(alert, AlertStep.Kind.EFFECT, text)
    _sales_delays_refresh({t.order_id for t in tasks})


def _shortage_effects(alert: WorkAlert, rule: AlertRule) -> None:
    operation = alert.operation
    tasks = list(
        Task.objects.filter(operation=operation)
        .exclude(status__in=(Task.Status.DONE, Task.Status.CANCELLED))
        .select_related("order__sales_order", "operation")
    )
    shortage = alert.shortage
    if shortage is None and operation is not None:
        # Raised by a person (the terminal's "Material missing"): the operation's open
        # shortage, if the material check found one, is the one meant.
        shortage = (
            MaterialShortage.objects.filter(
                requirement__operation=operation, status=MaterialShortage.Status.OPEN
            )
            .select_related("requisition", "requirement__item")
            .first()
        )
    requisition = shortage.requisition if shortage else None
    if requisition is None and rule.auto_requisition and shortage is not None:
        requisition = requisition_create(
            item=shortage.requirement.item,
            quantity=shortage.quantity_short,
            need_date=timezone.localdate(),
            urgent=True,
            reason=Text(EXCEPTION_SHORTAGE, number=alert.number, order=alert.order.number),
        )
        MaterialShortage.objects.filter(pk=shortage.pk).update(requisition=requisition)
    elif requisition is not None and rule.auto_requisition and not requisition.urgent:
        # A severe shortage starts urgent purchasing: the requisition the material check
        # raised (ordinary, the need being days away then) is expedited.
        requisition = requisition_expedite(
            requisition=requisition,
            need_date=timezone.localdate(),
            reason=Text(EXCEPTION_STOPS, number=alert.number),
        )
    alert.requisition = requisition
    item = shortage.requirement.item if shortage else None
    arrival_days = item.lead_time_days if item else 0
    start = operation.planned_start or timezone.now()
    arrival = timezone.now() + timedelta(days=arrival_days)
    delay = max((arrival - start).total_seconds() / 60, 0)
    _block(alert, tasks, arrival)
    alert.impact = _impact(alert, tasks, lambda t: delay)
    # In the plant's zone, as every time the API shows (docs/api.md "Numbers and times").
    alert.impact["material_expected"] = timezone.localtime(arrival).isoformat()
    alert.save(update_fields=["impact", "requisition"])
    text = (
        Text(
            SHORTAGE_EFFECT_REQUISITION,
            tasks=len(tasks),
            days=arrival_days,
            requisition=requisition.number,
            quantity=requisition.quantity,
            uom=requisition.item.uom,
        )
        if requisition
        else Text(SHORTAGE_EFFECT, tasks=len(tasks), days=arrival_days)
    )
    _step(alert, AlertStep.Kind.EFFECT, text)
    _sales_delays_refresh({t.order_id for t in tasks})


def alert_acknowledge(*, alert: WorkAlert, by) -> WorkAlert:
    with transaction.atomic():
        locked = WorkAlert.objects.select_for_update().get(pk=alert.pk)
        # Who answers it: execution/selectors/ownership.py (the policy's object rule).
        if not alert_rule(by, "acknowledge", locked):
            raise PermissionDenied(
                _("%(number)s is for the %(role)s to answer.")
                % {"number": locked.number, "role": role_label(locked.handler_role).lower()}
            )
        if locked.status != WorkAlert.Status.OPEN:
            raise StateConflict(
                _("%(number)s is %(status)s; only open ones are acknowledged.")
                % {"number": locked.number, "status": locked.get_status_display().lower()}
            )
        locked.status = WorkAlert.Status.ACKNOWLEDGED
        locked.acknowledged_by = by
        locked.acknowledged_at = timezone.now()
        locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        late = locked.ack_deadline and locked.acknowledged_at > locked.ack_deadline
        _step(
            locked,
            AlertStep.Kind.ACKNOWLEDGED,
            Text(ACKNOWLEDGED_LATE if late else ACKNOWLEDGED_IN_TIME),
            by=by,
        )
        audit_record(actor=by, action="alert.acknowledge", obj=locked)
        # Only an open exception gets here (a second acknowledgement is a conflict above),
        # so each exception announces its acknowledgement once.
        emit(
            "execution.alert.acknowledged",
            {
                "alert_id": locked.pk,
                "by": getattr(by, "username", None) or None,
                "acknowledged_at": locked.acknowledged_at.isoformat(),
                "late": bool(late),
            },
        )
    return locked


def alerts_escalate(*, now=None) -> int:
    """Escalate every open exception whose acknowledgement deadline has passed."""
    now = now or timezone.now()
    count = 0
    due = WorkAlert.objects.filter(status=WorkAlert.Status.OPEN, ack_deadline__lt=now).order_by(
        "pk"
    )
    for alert_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            alert = WorkAlert.objects.select_for_update().get(pk=alert_id)
            if (
                alert.status != WorkAlert.Status.OPEN
                or not alert.ack_deadline
                or alert.ack_deadline >= now
            ):
                continue
            rule = _rule(alert.alert_type, alert.severity)
            if alert.escalation_level == 0 and rule.escalate_to_role:
                next_role = rule.escalate_to_role
            else:
                position = (
                    ESCALATION_CHAIN.index(alert.handler_role)
                    if alert.handler_role in ESCALATION_CHAIN
                    else 0
                )
                next_role = ESCALATION_CHAIN[min(position + 1, len(ESCALATION_CHAIN) - 1)]
            previous = alert.handler_role
            alert.handler_role = next_role
            alert.handler = None
            alert.escalation_level += 1
            alert.ack_deadline = now + timedelta(minutes=rule.ack_minutes or 60)
            alert.save(
                update_fields=["handler_role", "handler", "escalation_level", "ack_deadline"]
            )
            _step(
                alert,
                AlertStep.Kind.ESCALATED,
                Text(
                    ESCALATED,
                    previous=role(previous, lower=True),
                    next=role(next_role, lower=True),
                ),
                role=next_role,
            )
            _notify(
                alert,
                Text(NOTICE_ESCALATED, number=alert.number, description=alert_description(alert)),
            )
            emit("execution.alert.escalated", {"alert_id": alert.pk, "to": next_role})
            count += 1
    return count


def _unblock(alert: WorkAlert) -> list[Task]:
    tasks = list(alert.blocked_tasks.filter(status=Task.Status.BLOCKED).select_related("operation"))
    still_blocked = set(
        Task.objects.filter(
            pk__in=[t.pk for t in tasks],
            blocking_alerts__status__in=(WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED),
        )
        .exclude(blocking_alerts=alert)
        .values_list("pk", flat=True)
    )
    released = []
    for task in tasks:
        if task.pk in still_blocked:
            continue
        previous = (
            Task.objects.filter(
                order_id=task.order_id, operation__sequence__lt=task.operation.sequence
            )
            .order_by("-operation__sequence")
            .first()
        )
        if task.started_at:
            status, op_status = Task.Status.PAUSED, OrderOperation.Status.PAUSED
        elif previous is None or previous.status == Task.Status.DONE or previous.quantity_good > 0:
            status, op_status = Task.Status.READY, OrderOperation.Status.READY
        else:
            status, op_status = Task.Status.QUEUED, OrderOperation.Status.PENDING
        paused = Text(WAS_BLOCKED, number=alert.number) if status == Task.Status.PAUSED else None
        Task.objects.filter(pk=task.pk).update(
            status=status,
            pause_reason=paused.english() if paused else "",
            pause_reason_id=paused.msgid if paused else "",
            pause_reason_params=paused.params if paused else {},
        )
        operation_unblock(operation_id=task.operation_id, status=op_status)
        released.append(task)
    return released


def alert_move_to_backup(*, alert: WorkAlert, backup: Equipment, by=None) -> WorkAlert:
    """Move a faulty machine's blocked work to a backup, re-estimate delays, reschedule."""
    if alert.alert_type != AlertType.EQUIPMENT_FAULT:
        raise StateConflict(_("%(number)s is not an equipment fault.") % {"number": alert.number})
    if alert.status not in (WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED):
        raise StateConflict(
            _("%(number)s is %(status)s.")
            % {"number": alert.number, "status": alert.get_status_display().lower()}
        )
    if not may(by, "execution.workalert", "backup"):
        raise PermissionDenied(_("Only a supervisor or planner moves work to another machine."))
    tasks = list(
        alert.blocked_tasks.filter(status=Task.Status.BLOCKED).select_related(
            "operation", "order__sales_order"
        )
    )
    options = {
        o["equipment"]: o
        for o in backup_options(equipment=alert.equipment, tasks=tasks, order_id=alert.order_id)
    }
    if backup.code not in options:
        raise ValidationError(
            {
                "backup": _("%(backup)s cannot take this work (not eligible or not available).")
                % {"backup": backup.code}
            }
        )
    option = options[backup.code]
    with transaction.atomic():
        locked = WorkAlert.objects.select_for_update().get(pk=alert.pk)
        for task in tasks:
            Task.objects.filter(pk=task.pk).update(equipment=backup)
            operation_equipment_set(operation=task.operation, equipment=backup, eligible=True)
        released = _unblock(locked)
        wait = option["wait_minutes"]
        locked.impact["orders"] = _impact(
            locked,
            tasks,
            lambda t: wait + float(t.operation.setup_minutes) + transfer_minutes(),
        )["orders"]
        locked.impact["moved_to"] = backup.code
        locked.save(update_fields=["impact"])
        delays = [
            Text(ORDER_DELAY, order=r["order"], minutes=r["delay_minutes"])
            for r in locked.impact["orders"]
        ]
        _step(
            locked,
            AlertStep.Kind.EFFECT,
            Text(MOVED, tasks=len(released), backup=backup.code, delays=delays),
            by=by,
        )
        _sales_delays_refresh({t.order_id for t in tasks})
        _reschedule_later(by)
        audit_record(
            actor=by, action="alert.move_to_backup", obj=locked, data={"backup": backup.code}
        )
    return locked


def _reschedule_later(by) -> None:
    """After the plan changed: recompute progress and predicted delays, and reschedule."""
    # Cycle: execution.tasks imports this module (alerts_escalate_due calls alerts_escalate).
    from ..tasks import progress_rollup

    transaction.on_commit(lambda: progress_rollup.delay())
    schedule_run_start(by=by, time_limit_seconds=10)


# --- resolve checks: downstream apps may refuse to close an exception ------------------

_resolve_checks: list = []


def resolve_check_register(fn):
    """Register `fn(*, alert, by)` that raises StateConflict to refuse closing `alert` (a
    quality hold's exception stays open while the hold does: quality registers here).
    Called inside the resolve's transaction with the exception row locked."""
    if fn not in _resolve_checks:
        _resolve_checks.append(fn)
    return fn


def alert_resolve(*, alert: WorkAlert, by, cause: Text | str, action: str) -> WorkAlert:
    """Close the exception: record cause and action, restore the machine, release the work,
    clear the delays and reschedule. A `cause` the system writes is a `Text` (read in the
    reader's language); a person's is a string, kept as typed."""
    written = cause if isinstance(cause, Text) else None
    cause = written.english() if written else cause
    if not (cause or "").strip():
        raise ValidationError({"cause": _("Record the cause.")})
    if not (action or "").strip():
        raise ValidationError({"action": _("Record the action taken.")})
    with transaction.atomic():
        locked = WorkAlert.objects.select_for_update().get(pk=alert.pk)
        if not alert_rule(by, "resolve", locked):
            raise PermissionDenied(
                _("%(number)s is for the %(role)s to resolve.")
                % {"number": locked.number, "role": role_label(locked.handler_role).lower()}
            )
        if locked.status not in (WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED):
            raise StateConflict(
                _("%(number)s is already %(status)s.")
                % {"number": locked.number, "status": locked.get_status_display().lower()}
            )
        for check in _resolve_checks:
            check(alert=locked, by=by)
        locked.status = WorkAlert.Status.RESOLVED
        locked.cause = cause.strip()
        locked.cause_id = written.msgid if written else ""
        locked.cause_params = written.params if written else {}
        locked.action_taken = action.strip()
        locked.resolved_by = by
        locked.resolved_at = timezone.now()
        locked.save(
            update_fields=[
                "status",
                "cause",
                "cause_id",
                "cause_params",
                "action_taken",
                "resolved_by",
                "resolved_at",
            ]
        )
        if locked.shortage_id:
            MaterialShortage.objects.filter(pk=locked.shortage_id).update(
                status=MaterialShortage.Status.RESOLVED, resolved_at=timezone.now()
            )
        released = _unblock(locked)
        if locked.alert_type == AlertType.EQUIPMENT_FAULT and locked.equipment_id:
            others = WorkAlert.objects.filter(
                equipment_id=locked.equipment_id,
                alert_type=AlertType.EQUIPMENT_FAULT,
                status__in=(WorkAlert.Status.OPEN, WorkAlert.Status.ACKNOWLEDGED),
            ).exists()
            current = (
                Equipment.objects.filter(pk=locked.equipment_id)
                .values_list("status", flat=True)
                .first()
            )
            # Back from the fault: running if work runs on it (a task it blocked comes back
            # paused, for its operator), else idle. A state the machine itself has reported
            # since (its controller, through devices) is left alone.
            if not others and current == Equipment.Status.FAULT:
                busy = Task.objects.filter(
                    equipment_id=locked.equipment_id, status=Task.Status.RUNNING
                ).exists()
                equipment_status_set(
                    equipment=locked.equipment_id,
                    status=Equipment.Status.RUNNING if busy else Equipment.Status.IDLE,
                )
        order_ids = {t.order_id for t in locked.blocked_tasks.all()}
        _sales_delays_refresh(order_ids)
        _step(
            locked,
            AlertStep.Kind.RESOLVED,
            Text(
                RESOLVED,
                cause=written or locked.cause,
                action=locked.action_taken,
                tasks=len(released),
            ),
            by=by,
        )
        emit("execution.alert.resolved", {"alert_id": locked.pk, "orders": sorted(order_ids)})
        if order_ids:
            _reschedule_later(by)
        audit_record(actor=by, action="alert.resolve", obj=locked)
    return locked


def alert_verify(*, alert: WorkAlert, by) -> WorkAlert:
    if not may(by, "execution.workalert", "verify"):
        raise PermissionDenied(
            _("Only a supervisor, quality supervisor or plant manager verifies.")
        )
    with transaction.atomic():
        locked = WorkAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != WorkAlert.Status.RESOLVED:
            raise StateConflict(
                _("%(number)s is %(status)s; verify it after it is resolved.")
                % {"number": locked.number, "status": locked.get_status_display().lower()}
            )
        locked.status = WorkAlert.Status.VERIFIED
        locked.verified_by = by
        locked.verified_at = timezone.now()
        locked.save(update_fields=["status", "verified_by", "verified_at"])
        _step(locked, AlertStep.Kind.VERIFIED, Text(VERIFIED), by=by)
    return locked


# --- machines: a fault the machine itself cleared ------------------------------------------


def alert_machine_cleared(*, alert: WorkAlert, at=None) -> WorkAlert:
    """The machine left the fault an equipment-fault exception was raised for before anyone
    acknowledged it (the devices app calls this when the fault interval closes).

    The exception stays on the record, open, for its handler to look at and resolve: a fault
    that cleared by itself still happened, and may come back. It is marked "cleared by
    machine" (in `link` and with a step on its timeline); a repeated call changes nothing.
    An exception already acknowledged is left as it is (someone is on it)."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = WorkAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != WorkAlert.Status.OPEN or locked.link.get("cleared_by_machine"):
            return locked
        locked.link = {**locked.link, "cleared_by_machine": timezone.localtime(at).isoformat()}
        locked.save(update_fields=["link"])
        time = f"{timezone.localtime(at):%H:%M:%S}"
        _step(
            locked,
            AlertStep.Kind.EFFECT,
            Text(CLEARED, time=time, equipment=locked.equipment.code)
            if locked.equipment_id
            else Text(CLEARED_NO_MACHINE, time=time),
        )
        emit("execution.alert.cleared_by_machine", {"alert_id": locked.pk})
    return locked
