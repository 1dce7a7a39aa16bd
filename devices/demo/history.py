"""The demo's machine history: the last week of the linked machines' shifts, played through
the gateway's entry point as if the adapters had read it, so the OEE pages and the plant
manager's OEE tile show a measured week from the first start (`load_demo --history`, as
`make run` loads it) instead of the few minutes the live simulator has run.

Each machine is the simulator's model (`devices.adapters.simulator.MachineModel`: parts at
a share of the rated rate, scrap, small stops that clear by themselves), stepped through the
shifts of its work center's calendar on the whole days before today, in the plant's time
zone; longer stops (a jam, waiting for material) break some shifts, and between shifts the
machine is idle. What a PLC would hold (the map's raw state codes and counter values) goes
to `samples_ingest` in one batch per machine and day: telemetry, counters, production
counts, hourly count sums and state intervals are written by the same code as live data.
Faults are left out (a fault raises an exception for the supervisor, which a demo's past
should not leave open), and so is a machine with a task running on it now: its counted
steps would post the week's parts to today's task.

Batch ids name the machine and the day, so a second load is answered as a duplicate and
writes nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from execution.models import Task
from resources.models import Equipment
from resources.selectors.calendar import plant_time_zone, work_center_working_intervals

from ..adapters.simulator import MACHINES, MachineModel, _raw_for
from ..engines.samples import Sample
from ..selectors.devicemap import device_map_from_db
from ..services.ingest import samples_ingest

HISTORY_DAYS = 7
SPEED = 0.9  # the week's machines run at 90 % of their rated rate: a performance loss
STEP_SECONDS = 30.0  # simulated time per model step
SMALL_STOP_EVERY = 1800.0  # mean running seconds between small stops (20-100 s each)
LONG_STOP_EVERY = 3 * 3600.0  # mean running seconds between longer stops
LONG_STOP_MINUTES = (8, 35)
COUNT_EVERY = timedelta(minutes=5)  # how often the counters are read between state changes


class _Machine:
    """One machine's model through the week: its counters run on from day to day."""

    def __init__(self, code: str, endpoint: str, specs: dict):
        rate, scrap, spindle = MACHINES[code]
        self.code, self.endpoint, self.specs = code, endpoint, specs
        self.model = MachineModel(
            code,
            rate_per_hour=rate * SPEED,
            scrap=scrap,
            spindle_rpm=spindle,
            small_stop_every=SMALL_STOP_EVERY,
            fault_every=1e12,
        )
        self.rng = random.Random(code)
        self.last: dict[str, float | int | None] = {}
        self.counted: datetime | None = None

    def _read(self, at: datetime, out: list[Sample]) -> None:
        """The state when it changes; the counters with it and every COUNT_EVERY."""
        state_changed = self._sample("state", at, out)
        if state_changed or self.counted is None or at - self.counted >= COUNT_EVERY:
            self.counted = at
            for name in ("part_count", "good_count"):
                self._sample(name, at, out)

    def _sample(self, name: str, at: datetime, out: list[Sample]) -> bool:
        spec = self.specs.get(name)
        raw = None if spec is None else _raw_for(spec, self.model)
        if raw is None or raw == self.last.get(name):
            return False
        self.last[name] = raw
        out.append(Sample(self.endpoint, self.code, name, raw, at))
        return True

    def shifts(self, intervals) -> list[Sample]:
        """What the machine's signals read through these shifts, idle after each."""
        model, rng, out = self.model, self.rng, []
        for start, end in intervals:
            model.state = "running"
            at = start
            self._read(at, out)
            while at < end:
                dt = min(STEP_SECONDS, (end - at).total_seconds())
                model.step(dt, rng)
                if model.state == "running" and rng.random() < dt / LONG_STOP_EVERY:
                    model.state = "stopped"
                    model.state_left = 60 * rng.uniform(*LONG_STOP_MINUTES)
                at += timedelta(seconds=dt)
                self._read(at, out)
            model.state = "idle"
            self._read(end, out)
        return out


def history_load() -> str:
    tz = plant_time_zone()
    today = timezone.localdate()
    first = datetime.combine(today - timedelta(days=HISTORY_DAYS), time(), tzinfo=tz)
    running = set(
        Task.objects.filter(status=Task.Status.RUNNING).values_list("equipment_id", flat=True)
    )
    played, skipped, samples = [], [], 0
    device_map = device_map_from_db()
    machines = Equipment.objects.select_related("work_center__area__site").in_bulk(
        device_map.equipment_codes(), field_name="code"
    )
    for ep in device_map.endpoints:
        for code, equipment_spec in ep.equipment.items():
            machine = machines[code]
            if code not in MACHINES or machine.pk in running:
                skipped.append(code)
                continue
            played_machine = _Machine(code, ep.name, equipment_spec.signals)
            for offset in range(HISTORY_DAYS):
                day = first + timedelta(days=offset)
                intervals = work_center_working_intervals(
                    machine.work_center, day, day + timedelta(days=1)
                )
                if not intervals:
                    continue
                batch = played_machine.shifts(intervals)
                result = samples_ingest(
                    samples=batch, batch_id=f"demo-history:{code}:{day.date().isoformat()}"
                )
                samples += 0 if result.duplicate else result.samples
            played.append(code)
    text = f"{HISTORY_DAYS} days of machine data for {', '.join(played) or 'no machine'}"
    text += f" ({samples} samples)"
    if skipped:
        text += f"; not played: {', '.join(skipped)}"
    return text
