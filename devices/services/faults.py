"""Fault → exception: a machine in fault raises one equipment-fault exception per fault
interval, through execution's exception loop (severity DEVICES_FAULT_SEVERITY, its rule's
routing and deadline, the backup machine with free capacity, the delay estimate).

The exception's external id names the machine and the instant the fault interval began, so a
replayed batch, a repeated fault sample or a retried transaction raises nothing new. When
the fault clears before the exception is acknowledged, the exception stays on the record,
marked "cleared by machine" (on the interval and on the exception's timeline).
"""

from django.conf import settings
from django.utils.translation import gettext_noop

from core.texts import Text
from execution.models import AlertType, Severity, WorkAlert
from execution.services.alerts import alert_machine_cleared, alert_raise

from ..models import StateInterval

# The exception's description, read in the reader's language (core/texts.py).
FAULT_REPORTED = gettext_noop("%(equipment)s reports a fault (%(fault)s).")


def fault_external_id(interval: StateInterval) -> str:
    return f"device-fault:{interval.equipment.code}:{interval.start.isoformat()}"


def fault_raise(*, interval: StateInterval, fault_code: Text | str) -> WorkAlert:
    """Raise the equipment-fault exception of a fault interval just opened; store its id."""
    severity = getattr(settings, "DEVICES_FAULT_SEVERITY", Severity.URGENT)
    equipment = interval.equipment
    alert = alert_raise(
        alert_type=AlertType.EQUIPMENT_FAULT,
        severity=severity,
        description=Text(FAULT_REPORTED, equipment=equipment.code, fault=fault_code),
        equipment=equipment,
        external_id=fault_external_id(interval),
        raised_via=WorkAlert.RaisedVia.DEVICE,
    )
    StateInterval.objects.filter(pk=interval.pk).update(alert_id=alert.pk)
    interval.alert_id = alert.pk
    return alert


def fault_cleared(*, interval: StateInterval) -> bool:
    """The fault interval closed: mark it and its exception "cleared by machine" when nobody
    has acknowledged the exception yet. Returns whether it did."""
    if interval.alert_id is None:
        return False
    alert = WorkAlert.objects.filter(pk=interval.alert_id).first()
    if alert is None or alert.status != WorkAlert.Status.OPEN:
        return False
    alert_machine_cleared(alert=alert, at=interval.end)
    StateInterval.objects.filter(pk=interval.pk).update(cleared_by_machine=True)
    interval.cleared_by_machine = True
    return True
