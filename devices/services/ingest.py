"""The gateway's entry point: a batch of samples (and changes of connection) in, telemetry,
counters, production counts, state intervals and fault exceptions out — in one transaction.

`samples_ingest` is what both ways of running the adapters (the Celery beat job and
`run_device_gateway`) call, and what the gateway's spool replays:

- a batch with a `batch_id` already processed (IngestBatch) changes nothing: a retry or a
  replay of the spool is answered as a duplicate;
- each sample's machine and signal are looked up in the device map stored in the database,
  loaded once per batch (a constant number of queries, however many samples); an unknown
  machine or signal is logged and skipped;
- a malformed value (not a number, NaN or infinite, a state code the map does not name, a
  counter that is not a whole number) is logged and skipped; the rest of the batch goes on;
- telemetry is appended for every good sample (`telemetry_append`): the engineering value
  raw × scale + offset, a state's raw code, 1/0 for bits;
- per machine, samples are applied in time order: counters (`counts.py`), then states and
  faults (`states.py`, `faults.py`).
"""

import logging
import math
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import IntegrityError, transaction

from ..engines.devicemap import BIT_TABLES
from ..engines.samples import LinkChange, Sample
from ..models import EquipmentLink, IngestBatch, Signal
from .counts import COUNTER_SIGNALS, CountReading, counts_apply
from .states import StateInput, states_apply
from .telemetry import telemetry_append

logger = logging.getLogger(__name__)

STATE, FAULT = "state", "fault"


@dataclass
class IngestResult:
    """What a batch did (the gateway logs it; tests read it)."""

    batch_id: str | None = None
    duplicate: bool = False
    samples: int = 0  # received
    written: int = 0  # telemetry rows appended
    skipped: int = 0  # unknown machine or signal, malformed value
    parts: int = 0  # parts counted on part counters
    events: int = 0  # production events posted (accepted or already known)
    transitions: int = 0  # state intervals opened
    alerts: int = 0  # fault exceptions raised
    problems: list[str] = field(default_factory=list)  # the first few skip reasons

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.problems) < 20:
            self.problems.append(reason)
        logger.warning("device sample skipped: %s", reason)


class MappedSignal(NamedTuple):
    """What the ingest reads of a mapped signal (a plain row: a batch reads every signal of
    its machines, and model instances cost ten times as much to build)."""

    name: str
    table: str
    node: str
    data_type: str
    scale: float
    offset: float
    state_map: dict


SIGNAL_FIELDS = ("link_id", *MappedSignal._fields)


def _device_map(codes: set[str]) -> dict[str, tuple[EquipmentLink, dict[str, MappedSignal]]]:
    """The links (with their machines) and signals of these machines, in two queries."""
    links = {
        link.equipment.code: (link, {})
        for link in EquipmentLink.objects.select_related("equipment").filter(
            equipment__code__in=codes
        )
    }
    by_id = {link.pk: signals for link, signals in links.values()}
    for link_id, *values in Signal.objects.filter(link_id__in=by_id).values_list(*SIGNAL_FIELDS):
        signal = MappedSignal(*values)
        by_id[link_id][signal.name] = signal
    return links


def _number(raw) -> float | None:
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float) and math.isfinite(raw):
        return float(raw)
    return None


def _state_code(raw: float) -> str:
    return str(int(raw)) if float(raw).is_integer() else str(raw)


TIMELINE_ORDER = operator.itemgetter(0, 1, 2)
RECONNECTING = ("down", "up")


def _state_inputs(items: list[tuple], readings: list[CountReading]) -> list[StateInput]:
    """One machine's timeline (sorted) as state inputs; its counter readings go to
    `readings`. A sample that only says the machine answered ("seen") matters to the state
    where it is the first input, or follows a lost or restored connection (it ends the
    disconnection); after any other input it only moves "last seen". So of a run of such
    samples the first that matters is kept, and the latest of the rest is kept just before
    the next input (or at the end): the intervals and the link come out as if every sample
    had been applied, at a fraction of the work (a machine sends several a second)."""
    states: list[StateInput] = []
    needs_seen, pending = True, None
    for at, _order, _position, item in items:
        if item is None or type(item) is CountReading:
            if item is not None:
                readings.append(item)
            if needs_seen:
                states.append(StateInput("seen", at))
                needs_seen, pending = False, None
            else:
                pending = at
            continue
        if pending is not None:
            states.append(StateInput("seen", pending))
            pending = None
        states.append(item)
        needs_seen = item.kind in RECONNECTING
    if pending is not None:
        states.append(StateInput("seen", pending))
    return states


def samples_ingest(
    *,
    samples: list[Sample],
    changes: list[LinkChange] = (),
    batch_id: str | None = None,
) -> IngestResult:
    """Ingest a batch from the gateway (see the module docstring); idempotent per batch_id."""
    samples, changes = list(samples), list(changes)
    result = IngestResult(batch_id=batch_id, samples=len(samples))
    if batch_id and IngestBatch.objects.filter(batch_id=batch_id).exists():
        result.duplicate = True
        return result
    try:
        with transaction.atomic():
            if batch_id:
                IngestBatch.objects.create(batch_id=batch_id[:100], samples=len(samples))
            _ingest(samples, changes, result)
    except IntegrityError:
        # Another process took the same batch between the check and the insert.
        if batch_id and IngestBatch.objects.filter(batch_id=batch_id[:100]).exists():
            return IngestResult(batch_id=batch_id, duplicate=True, samples=len(samples))
        raise
    return result


def _ingest(samples: list[Sample], changes: list[LinkChange], result: IngestResult) -> None:
    codes = {s.equipment for s in samples} | {c for ch in changes for c in ch.equipment}
    device_map = _device_map(codes)
    rows = []
    # Per machine: (instant, order within the instant, position, what) — connections that
    # come back first, then samples in arrival order, then connections lost.
    timeline: dict[int, list[tuple]] = defaultdict(list)
    for position, change in enumerate(changes):
        for code in change.equipment:
            entry = device_map.get(code)
            if entry is None:
                result.skip(f"{code}: no such machine in the device map (connection change)")
                continue
            link = entry[0]
            kind = "up" if change.connected else "down"
            timeline[link.equipment_id].append(
                (change.at, 0 if change.connected else 2, position, StateInput(kind, change.at))
            )
    for position, sample in enumerate(samples):
        entry = device_map.get(sample.equipment)
        if entry is None:
            result.skip(f"{sample.equipment}: no such machine in the device map")
            continue
        link, signals = entry
        signal = signals.get(sample.signal)
        if signal is None:
            result.skip(f"{sample.equipment}.{sample.signal}: no such signal in the device map")
            continue
        raw = sample.raw
        if type(raw) is not float or not math.isfinite(raw):
            raw = _number(raw)
            if raw is None:
                result.skip(f"{sample.equipment}.{sample.signal}: {sample.raw!r} is not a number")
                continue
        at = sample.at
        if at is None or at.tzinfo is None:
            result.skip(
                f"{sample.equipment}.{sample.signal}: the sample has no timezone-aware instant"
            )
            continue
        name = signal.name
        item = None  # None: a sample that only says the machine answered ("seen")
        if name == STATE:
            code = _state_code(raw)
            state = signal.state_map.get(code)
            if state is None:
                result.skip(f"{sample.equipment}.{name}: state code {code} is not in the map")
                continue
            value, item = raw, StateInput(STATE, at, state, code)
        elif name == FAULT or signal.table in BIT_TABLES:
            value = 1.0 if raw else 0.0
            if name == FAULT:
                item = StateInput(FAULT, at, bool(raw))
        elif name in COUNTER_SIGNALS:
            if not raw.is_integer():
                result.skip(f"{sample.equipment}.{name}: {sample.raw!r} is not a whole count")
                continue
            value = raw
            item = CountReading(link.equipment, signal, int(raw), at)
        else:
            value = raw * signal.scale + signal.offset
        rows.append((link.equipment_id, name, value, at))
        timeline[link.equipment_id].append((at, 1, position, item))
    result.written = telemetry_append(rows=rows) if rows else 0

    links = {entry[0].equipment_id: entry[0] for entry in device_map.values()}
    readings: list[CountReading] = []
    inputs: dict[int, tuple[EquipmentLink, list[StateInput]]] = {}
    for equipment_id, items in timeline.items():
        items.sort(key=TIMELINE_ORDER)
        inputs[equipment_id] = (links[equipment_id], _state_inputs(items, readings))
    counted = counts_apply(readings=readings)
    result.skipped += counted.skipped
    result.parts = counted.parts
    result.events = sum(1 for r in counted.events if r.status in ("accepted", "duplicate"))
    states = states_apply(inputs=inputs)
    result.transitions = states.transitions
    result.alerts = states.alerts
