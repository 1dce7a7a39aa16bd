"""Writes on equipment: its state as the plant reports it (running, idle, in fault, in
maintenance, disconnected).

Execution puts a machine in fault when an exception reports one and back to running when
the last fault exception on it is resolved; the device gateway will report states here too.
"""

from django.core.exceptions import ValidationError

from ..models import Equipment


def equipment_status_set(*, equipment: Equipment | int, status: str) -> None:
    """Set a machine's status (one UPDATE, inside the caller's transaction)."""
    if status not in Equipment.Status.values:
        raise ValidationError({"status": f"Unknown equipment status {status!r}."})
    pk = equipment if isinstance(equipment, int) else equipment.pk
    Equipment.objects.filter(pk=pk).update(status=status)
