"""Counters: part and good counts from the machines move the shop floor.

For each batch the ingest hands over (`counts_apply`), in one transaction:

1. The Counter rows of the batch's machines are locked (select_for_update, primary-key
   order) and moved reading by reading through wrap-around and resets
   (devices/engines/counters.py). A reading at or before the counter's last one is a
   replay and is skipped, so the same samples sent twice count once.
2. A ProductionCount row is appended per machine and instant with parts: total, good (when
   a good counter is mapped), the order operation running on the machine and its ideal
   cycle (the operation's run time per unit, else the machine's rated rate), and added to
   the machine's hourly sums (`count_rows_write`). Counts outside shifts and with no task
   running are kept (operation empty), never dropped.
3. On a step "counted by machine" (RoutingStep.counted_by_machine, copied to the
   operation), the machine's new parts become one production event (kind report, source
   "device") for the task running on it, all of the batch's in one `events_record` call.
   The running task is the one with status running on that machine; if several are, the
   one started last (the one the operator began most recently is the one at the machine).
   Good parts are the good counter's parts, capped at the part counter's; scrap the rest.
   Parts wait for the good counter's reading of them when the two arrive apart (`_post`);
   parts counted while no counted step runs are settled without posting.
   Event ids name the machine, the counter and the range of its total the parts cover
   (`dev:CNC-01:part_count:1200-1212`): a replay posts nothing twice.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.rawsql import rows_update
from execution.models import ProductionEvent, Task
from execution.services.events import events_record
from resources.models import Equipment

from ..engines.counters import CounterValueError, counter_raw, counter_step
from ..engines.devicemap import TYPE_MODULUS
from ..models import Counter, ProductionCount, Signal
from .count_hours import count_rows_write

logger = logging.getLogger(__name__)

PART_COUNT, GOOD_COUNT = "part_count", "good_count"
COUNTER_SIGNALS = (PART_COUNT, GOOD_COUNT)


def signal_modulus(signal) -> int | None:
    """The range the counter on this signal wraps at (None: it does not wrap)."""
    if signal.table in ("coil", "discrete"):
        return None
    if signal.node:
        return 1 << 32  # OPC UA counters: UInt32
    return TYPE_MODULUS.get(signal.data_type or "uint16")


@dataclass
class CountReading:
    """One counter sample, in the batch's time order for its machine."""

    equipment: Equipment
    signal: Signal  # or the ingest's MappedSignal: name, table, node, data_type
    raw: float | int
    at: datetime


@dataclass
class CountsResult:
    parts: int = 0  # parts counted (part counters)
    counts: int = 0  # ProductionCount rows written
    events: list = field(default_factory=list)  # EventResults of the posted events
    skipped: int = 0


def _running_tasks(equipment_ids: set[int]) -> dict[int, Task]:
    """The task running on each machine (the one started last where several are)."""
    running: dict[int, Task] = {}
    rows = (
        Task.objects.filter(equipment_id__in=equipment_ids, status=Task.Status.RUNNING)
        .select_related("operation")
        .order_by("equipment_id", "-started_at", "-pk")
    )
    for task in rows:
        running.setdefault(task.equipment_id, task)
    return running


def _ideal_cycle(task: Task | None, equipment: Equipment) -> float | None:
    if task is not None and task.operation.run_minutes_per_unit > 0:
        return float(task.operation.run_minutes_per_unit) * 60
    if equipment.rated_rate and equipment.rated_rate > 0:
        return 3600 / float(equipment.rated_rate)
    return None


def _counters_locked(equipment_ids: set[int]) -> dict[tuple[int, str], Counter]:
    return {
        (c.equipment_id, c.signal): c
        for c in Counter.objects.select_for_update()
        .filter(equipment_id__in=equipment_ids, signal__in=COUNTER_SIGNALS)
        .order_by("pk")
    }


def counts_apply(*, readings: list[CountReading]) -> CountsResult:
    """Move the counters by `readings` (already in time order per machine) and post the
    parts of counted steps; inside the caller's transaction (see the module docstring)."""
    result = CountsResult()
    if not readings:
        return result
    machines = {r.equipment.pk: r.equipment for r in readings}
    keys = {(r.equipment.pk, r.signal.name) for r in readings}
    counters = _counters_locked(set(machines))
    if keys - set(counters):  # the first reading of a counter: create it, then lock it too
        Counter.objects.bulk_create(
            [Counter(equipment_id=e, signal=s) for e, s in sorted(keys - set(counters))],
            ignore_conflicts=True,
        )
        counters = _counters_locked(set(machines))
    # Per machine and instant: parts of each counter.
    per_instant: dict[tuple[int, datetime], dict[str, int]] = {}
    moved: set[tuple[int, str]] = set()
    for r in readings:
        counter = counters[(r.equipment.pk, r.signal.name)]
        if counter.last_at is not None and r.at <= counter.last_at:
            continue  # already counted (a replay, or an older reading arriving late)
        try:
            raw = counter_raw(r.raw, signal_modulus(r.signal))
        except CounterValueError as exc:
            logger.warning("%s.%s: %s; skipped", r.equipment.code, r.signal.name, exc)
            result.skipped += 1
            continue
        step = counter_step(counter.last_raw, raw, signal_modulus(r.signal))
        before = counter.total
        counter.last_raw, counter.last_at = step.raw, r.at
        counter.total += step.delta
        counter.wraps += int(step.wrapped)
        counter.resets += int(step.reset)
        moved.add((r.equipment.pk, r.signal.name))
        if step.reset:
            logger.info("%s.%s reset (%s → %s)", r.equipment.code, r.signal.name, before, raw)
        if step.delta:
            slot = per_instant.setdefault((r.equipment.pk, r.at), {})
            slot[r.signal.name] = slot.get(r.signal.name, 0) + step.delta
    running = _running_tasks(set(machines))
    has_good = {r.equipment.pk for r in readings if r.signal.name == GOOD_COUNT}
    rows = []
    for (equipment_id, at), parts in sorted(per_instant.items(), key=lambda kv: kv[0]):
        total = parts.get(PART_COUNT, 0)
        task = running.get(equipment_id)
        good = parts.get(GOOD_COUNT, 0) if equipment_id in has_good else None
        if not total and not good:
            continue
        rows.append(
            ProductionCount(
                equipment_id=equipment_id,
                at=at,
                total=total,
                good=min(good, total) if good is not None else None,
                operation_id=task.operation_id if task else None,
                ideal_cycle_seconds=_ideal_cycle(task, machines[equipment_id]),
            )
        )
        result.parts += total
    count_rows_write(rows)
    result.counts = len(rows)
    result.events, settled = _post(machines, running, per_instant, counters)
    rows_update(
        [counters[k] for k in sorted(moved | settled, key=lambda k: counters[k].pk)],
        ["last_raw", "last_at", "total", "posted", "wraps", "resets"],
    )
    return result


GOOD_WAIT = timedelta(seconds=60)


def _post(machines, running, per_instant, counters) -> tuple[list, set]:
    """One report per machine on a counted step with parts not yet posted, all in one
    events_record; returns the results and the counters whose `posted` moved.

    The parts posted are the part counter's since its last posting ([posted, total]); with a
    good counter, the good ones are the good counter's since its own, capped at the parts.
    The two counters may arrive apart (OPC UA sends each change with its own timestamp, and a
    batch can be cut between them): parts wait until the good counter has been read at or
    after the part counter's last reading, at most GOOD_WAIT, so good and scrap are not
    split wrongly. Parts counted while no counted step runs on the machine are settled
    without posting (the next counted task does not inherit them)."""
    items, posted_for, settled = [], [], set()
    for equipment_id in sorted(machines):
        part = counters.get((equipment_id, PART_COUNT))
        good = counters.get((equipment_id, GOOD_COUNT))
        if part is None or part.total <= part.posted:
            continue
        task = running.get(equipment_id)
        if task is None or not task.operation.counted_by_machine:
            for counter in (part, good):
                if counter is not None and counter.posted != counter.total:
                    counter.posted = counter.total
                    settled.add((equipment_id, counter.signal))
            continue
        parts = part.total - part.posted
        if good is not None:
            behind = good.last_at is None or good.last_at < part.last_at
            if behind and (good.last_at is None or part.last_at - good.last_at < GOOD_WAIT):
                continue  # the good counter's reading of these parts is still to come
            good_parts = min(max(good.total - good.posted, 0), parts)
        else:
            good_parts = parts
        last_at = max((at for (e, at) in per_instant if e == equipment_id), default=part.last_at)
        code = machines[equipment_id].code
        items.append(
            {
                "event_id": f"dev:{code}:{PART_COUNT}:{part.posted}-{part.total}",
                "kind": ProductionEvent.Kind.REPORT.value,
                "task": task.pk,
                "equipment": code,
                "quantity_good": good_parts,
                "quantity_scrap": parts - good_parts,
                "occurred_at": last_at.isoformat(),
            }
        )
        posted_for.append((equipment_id, part, good, good_parts))
    if not items:
        return [], settled
    results = events_record(items=items, source=ProductionEvent.Source.DEVICE)
    for (equipment_id, part, good, good_parts), res in zip(posted_for, results, strict=True):
        if res.status in ("accepted", "duplicate"):
            part.posted = part.total
            settled.add((equipment_id, PART_COUNT))
            if good is not None:
                good.posted += good_parts
                settled.add((equipment_id, GOOD_COUNT))
        else:
            logger.warning(
                "%s: %d parts not posted to the floor (%s %s): %s",
                machines[equipment_id].code,
                part.total - part.posted,
                res.status,
                res.code,
                res.errors,
            )
    return results, settled
