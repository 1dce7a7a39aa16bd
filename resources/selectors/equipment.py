"""Equipment reads."""

from ..models import Equipment


def work_center_only_machine(work_center_id: int) -> Equipment | None:
    """The machine of a work center that has exactly one, else None."""
    machines = list(Equipment.objects.filter(work_center_id=work_center_id)[:2])
    return machines[0] if len(machines) == 1 else None
