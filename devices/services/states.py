"""State intervals: how long each machine ran, stood, was in fault or was unreachable.

Each machine has at most one open StateInterval (no end). Its state comes from the machine's
live inputs, in this order of precedence:

1. the connection: an endpoint that went down (LinkChange connected=False) puts its machines
   in "disconnected" until a sample arrives again (any sample: it was read, so it is back);
   the state then comes from that sample and the last known inputs;
2. the fault bit: fault = 1 forces "fault", whatever the state signal says;
3. the state signal's mapped state (running, stopped, fault, maintenance, idle). A machine
   that is "stopped" while it has no open work — no task queued, ready, running, paused or
   blocked on it (the task's machine or its operation's scheduled machine) — is "idle":
   standing with nothing to do is not a stop of production (OEE counts it outside the
   planned busy time's losses).

A change closes the open interval and opens the next at the sample's instant, so intervals
never overlap; an input older than the open interval's start is logged and ignored. A
"stopped" interval shorter than DEVICES_MICRO_STOP_SECONDS (120 s) is marked small_stop when
it closes. Equipment.status follows the live state through resources' `equipment_status_set`
(stopped → idle, as resources has no "stopped"). A fault interval raises one exception when
it opens and is marked "cleared by machine" when it closes before anyone acknowledged it
(`faults.py`). A machine with no state signal and no fault bit gets intervals only while
disconnected.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_noop

from core.rawsql import rows_update
from core.texts import Text
from execution.models import Task
from resources.models import Equipment
from resources.services.equipment import equipment_status_set

from ..models import EquipmentLink, StateInterval
from .faults import fault_cleared, fault_raise

logger = logging.getLogger(__name__)

# What a fault is, in the exception's description (core/texts.py).
FAULT_STATE_CODE = gettext_noop("state code %(code)s")
FAULT_SIGNAL_ON = gettext_noop("fault signal on")
FAULT = gettext_noop("fault")

# The machine's state → Equipment.status (resources knows no "stopped").
EQUIPMENT_STATUS = {
    StateInterval.State.RUNNING: Equipment.Status.RUNNING,
    StateInterval.State.IDLE: Equipment.Status.IDLE,
    StateInterval.State.STOPPED: Equipment.Status.IDLE,
    StateInterval.State.FAULT: Equipment.Status.FAULT,
    StateInterval.State.MAINTENANCE: Equipment.Status.MAINTENANCE,
    StateInterval.State.DISCONNECTED: Equipment.Status.DISCONNECTED,
}


def micro_stop_seconds() -> float:
    return float(getattr(settings, "DEVICES_MICRO_STOP_SECONDS", 120))


@dataclass(frozen=True, slots=True)
class StateInput:
    """One input to a machine's state, in time order: kind is "state" (value: the mapped
    state, code: the raw code), "fault" (value: True/False), "down", "up" or "seen" (any
    other sample)."""

    kind: str
    at: datetime
    value: object = None
    code: str = ""


@dataclass
class StatesResult:
    transitions: int = 0
    alerts: int = 0
    cleared: int = 0


def _machines_with_work(equipment_ids: set[int]) -> set[int]:
    rows = Task.objects.filter(
        Q(equipment_id__in=equipment_ids) | Q(operation__equipment_id__in=equipment_ids),
        status__in=Task.OPEN,
    ).values_list("equipment_id", "operation__equipment_id")
    return {pk for pair in rows for pk in pair if pk in equipment_ids}


class _Machine:
    """One machine's state while a batch is applied."""

    def __init__(self, link: EquipmentLink, open_interval: StateInterval | None, busy: bool):
        self.link = link
        self.equipment = link.equipment
        self.open = open_interval
        self.busy = busy
        self.machine_state = link.machine_state
        self.fault_on = link.fault_on
        self.connected = link.connected
        self.last_seen = link.last_seen_at
        self.fault_code: Text | None = None

    def effective(self) -> str | None:
        if self.fault_on:
            return StateInterval.State.FAULT
        state = self.machine_state or None
        if state == StateInterval.State.STOPPED and not self.busy:
            return StateInterval.State.IDLE
        return state

    def apply(self, item: StateInput, result: StatesResult) -> None:
        if item.kind == "down":
            self.connected = False
            self._move(StateInterval.State.DISCONNECTED, item.at, result)
            return
        if item.kind == "up":
            self.connected = True  # the state comes from the next sample
            return
        self.connected = True
        self.last_seen = max(self.last_seen, item.at) if self.last_seen else item.at
        if item.kind == "state":
            self.machine_state = str(item.value)
            if item.value == StateInterval.State.FAULT:
                self.fault_code = Text(FAULT_STATE_CODE, code=item.code)
        elif item.kind == "fault":
            self.fault_on = bool(item.value)
            if self.fault_on:
                self.fault_code = Text(FAULT_SIGNAL_ON)
        state = self.effective()
        if state is None:
            if self.open is not None and self.open.state == StateInterval.State.DISCONNECTED:
                self._close(item.at, result)  # back, with nothing that says its state
            return
        self._move(state, item.at, result)

    def _close(self, at: datetime, result: StatesResult) -> bool:
        interval = self.open
        if interval is None:
            return True
        if at < interval.start:
            logger.warning(
                "%s: input at %s is older than the open %s interval (from %s); ignored",
                self.equipment.code,
                at.isoformat(),
                interval.state,
                interval.start.isoformat(),
            )
            return False
        interval.end = at
        interval.small_stop = interval.state == StateInterval.State.STOPPED and (
            at - interval.start
        ) < timedelta(seconds=micro_stop_seconds())
        StateInterval.objects.filter(pk=interval.pk).update(
            end=interval.end, small_stop=interval.small_stop
        )
        if interval.state == StateInterval.State.FAULT and fault_cleared(interval=interval):
            result.cleared += 1
        self.open = None
        return True

    def _move(self, state: str, at: datetime, result: StatesResult) -> None:
        if self.open is not None and self.open.state == state:
            return
        if not self._close(at, result):
            return
        self.open = StateInterval.objects.create(equipment=self.equipment, state=state, start=at)
        self.open.equipment = self.equipment
        result.transitions += 1
        equipment_status_set(equipment=self.equipment, status=EQUIPMENT_STATUS[state])
        if state == StateInterval.State.FAULT:
            fault_raise(interval=self.open, fault_code=self.fault_code or Text(FAULT))
            result.alerts += 1


def states_apply(*, inputs: dict[int, tuple[EquipmentLink, list[StateInput]]]) -> StatesResult:
    """Apply each machine's inputs (equipment id → its link and inputs in time order) inside
    the caller's transaction: intervals, equipment status, the link's connection and last
    inputs, fault exceptions (see the module docstring)."""
    result = StatesResult()
    if not inputs:
        return result
    ids = set(inputs)
    open_by_machine = {
        i.equipment_id: i
        for i in StateInterval.objects.select_for_update()
        .filter(equipment_id__in=ids, end__isnull=True)
        .order_by("pk")
    }
    busy = _machines_with_work(ids)
    links = []
    for equipment_id in sorted(ids):
        link, items = inputs[equipment_id]
        machine = _Machine(link, open_by_machine.get(equipment_id), equipment_id in busy)
        if machine.open is not None:
            machine.open.equipment = link.equipment
        for item in items:
            machine.apply(item, result)
        link.connected, link.last_seen_at = machine.connected, machine.last_seen
        link.machine_state, link.fault_on = machine.machine_state, machine.fault_on
        links.append(link)
    rows_update(links, ["connected", "last_seen_at", "machine_state", "fault_on"])
    return result
