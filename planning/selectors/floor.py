"""What the shop floor knows about an order's operations, asked through a registry: who works
each operation and on which machine. Execution (downstream) registers the answer in its
`AppConfig.ready()`; planning never imports it (ARCHITECTURE.md, direction of dependencies).
Without a registration the order page shows the planned machine and no operator."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class OperationOnFloor:
    operator: str  # the person's name as pages write it; "" when nobody is assigned
    machine: str  # the machine's code the floor works it on; "" when not known


_sources: list[Callable[[list[int]], dict[int, OperationOnFloor]]] = []


def operation_floor_register(fn: Callable[[list[int]], dict[int, OperationOnFloor]]) -> None:
    """Declare where the floor's operator and machine of operations come from: `fn(ids)`
    answers {operation id: OperationOnFloor} in a constant number of queries."""
    if fn not in _sources:
        _sources.append(fn)


def operations_on_floor(operation_ids: list[int]) -> dict[int, OperationOnFloor]:
    found: dict[int, OperationOnFloor] = {}
    for fn in _sources:
        found.update(fn(operation_ids))
    return found
