"""Who works each operation of an order and on which machine, for planning's order page
(registered with planning.selectors.floor in apps.py). One query."""

from planning.selectors.floor import OperationOnFloor

from ..models import Task


def operations_on_floor(operation_ids: list[int]) -> dict[int, OperationOnFloor]:
    tasks = Task.objects.filter(operation_id__in=operation_ids).select_related(
        "operator", "equipment"
    )
    return {
        t.operation_id: OperationOnFloor(
            operator=t.operator.name if t.operator else "",
            machine=t.equipment.code if t.equipment else "",
        )
        for t in tasks
    }
