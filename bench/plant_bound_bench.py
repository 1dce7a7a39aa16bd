"""How far the weighted-tardiness bound can go on the plant of scheduling_bench (a).

Prints, for the seeded plant of `scheduling_bench.plant_problem`:

1. `Prepared.lower_bounds()`: both bounds and the time they take (three times).
2. A *preemptive* schedule of the plant: routings, releases, eligible machines with their
   own durations, calendars and maintenance windows all kept; only an operation may stop and
   go on later, on another of its machines (never on two at once). Each machine, whenever it
   works and is free, takes the waiting operation with the earliest due date less the work
   after it in its job. If it is on time, no bound that relaxes the plant at least as far as
   this (pooled machine groups, heads and tails, SRPT ranks, any choice of operations to
   count, Lagrangian or LP relaxations of time-indexed capacity) can be above 0.
3. A feasible (non-preemptive) plan from the same rule, dispatched as machines fall free in
   time (each operation on the free eligible machine where it is shortest, inside one working
   interval), checked by `schedule_check`: its weighted tardiness is an upper bound on the
   optimum.

Run from the repository root: ``.venv/bin/python bench/plant_bound_bench.py [--seed 1]``
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scheduling_bench import plant_problem  # noqa: E402

from planning.engines.scheduling import schedule_check  # noqa: E402
from planning.engines.scheduling.heuristic import Schedule  # noqa: E402
from planning.engines.scheduling.prepared import Prepared, problem_prepare  # noqa: E402
from planning.engines.scheduling.solve import _assignments  # noqa: E402


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def due_less_tail(prep: Prepared) -> list[int]:
    """Per operation: its job's due date less the shortest work after it in the job."""
    tail = [0] * len(prep.ops)
    for i in reversed(prep.topo):
        for s in prep.ops[i].succs:
            tail[i] = max(tail[i], prep.ops[s].min_duration + tail[s])
    return [prep.jobs[op.job].due - tail[op.index] for op in prep.ops]


def preemptive(prep: Prepared) -> list[float]:
    """Completion times of the preemptive schedule (event by event)."""
    key = due_less_tail(prep)
    n, machines = len(prep.ops), len(prep.calendars)
    changes: dict[int, list[tuple[int, int]]] = {}
    for k, cal in enumerate(prep.calendars):
        for a, b in cal:
            changes.setdefault(a, []).append((k, 1))
            changes.setdefault(b, []).append((k, -1))
    times = sorted(changes)
    working = [0] * machines
    left = [1.0] * n  # share of each operation still to do
    waiting = [len(op.preds) for op in prep.ops]
    arrivals = sorted((op.floor, op.index) for op in prep.ops if not op.preds)
    ready: list[tuple[int, int]] = []  # (due less tail, operation), sorted
    done = [0.0] * n
    finished = x = y = 0
    t = 0.0
    while finished < n:
        while x < len(times) and times[x] <= t:
            for k, change in changes[times[x]]:
                working[k] += change
            x += 1
        while y < len(arrivals) and arrivals[y][0] <= t:
            bisect.insort(ready, (key[arrivals[y][1]], arrivals[y][1]))
            y += 1
        following = math.inf
        if x < len(times):
            following = times[x]
        if y < len(arrivals):
            following = min(following, arrivals[y][0])
        free = [working[k] > 0 for k in range(machines)]
        running = []
        for _, i in ready:
            modes = [(d, k) for k, d in prep.ops[i].modes if free[k]]
            if modes:
                d, k = min(modes)
                free[k] = False
                running.append((i, d))
                following = min(following, t + left[i] * d)
        step = following - t
        for i, d in running:
            left[i] -= step / d
            if left[i] <= 1e-9:
                ready.remove((key[i], i))
                done[i] = following
                finished += 1
                for s in prep.ops[i].succs:
                    waiting[s] -= 1
                    if waiting[s] == 0:
                        bisect.insort(ready, (key[s], s))
        t = following
    return done


def dispatched(prep: Prepared) -> Schedule:
    """A non-preemptive plan: at each instant a machine falls free or starts working, the
    waiting operations in order of due date less the work after them take the free machine
    where they are shortest and fit before the end of its working interval."""
    key = due_less_tail(prep)
    n, machines = len(prep.ops), len(prep.calendars)
    cal = prep.calendars

    def interval_end(k: int, t: int) -> int | None:
        x = bisect.bisect_right(cal[k], (t, math.inf)) - 1
        return cal[k][x][1] if x >= 0 and cal[k][x][0] <= t < cal[k][x][1] else None

    events = sorted({a for c in cal for a, _ in c} | {op.floor for op in prep.ops})
    heapq.heapify(events)
    free_at = [0] * machines
    waiting = [len(op.preds) for op in prep.ops]
    later = [(op.floor, op.index) for op in prep.ops if not op.preds]
    heapq.heapify(later)
    ready: list[tuple[int, int]] = []
    running: list[tuple[int, int]] = []
    machine, start, end = [0] * n, [0] * n, [0] * n
    finished = 0
    while finished < n:
        t = heapq.heappop(events)
        while events and events[0] == t:
            heapq.heappop(events)
        while running and running[0][0] <= t:
            e, i = heapq.heappop(running)
            finished += 1
            for s in prep.ops[i].succs:
                waiting[s] -= 1
                if waiting[s] == 0:
                    at = max(prep.ops[s].floor, e)
                    heapq.heappush(later, (at, s))
                    heapq.heappush(events, at)
        while later and later[0][0] <= t:
            i = heapq.heappop(later)[1]
            bisect.insort(ready, (key[i], i))
        free = {k for k in range(machines) if free_at[k] <= t and interval_end(k, t) is not None}
        taken = []
        for entry in ready:
            if not free:
                break
            i = entry[1]
            fits = [
                (d, k) for k, d in prep.ops[i].modes if k in free and t + d <= interval_end(k, t)
            ]
            if fits:
                d, k = min(fits)
                free.discard(k)
                free_at[k] = t + d
                machine[i], start[i], end[i] = k, t, t + d
                heapq.heappush(running, (t + d, i))
                heapq.heappush(events, t + d)
                taken.append(entry)
        for entry in taken:
            ready.remove(entry)
    return Schedule(machine=machine, start=start, end=end, rule="dispatch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="the plant's seed (bench (a): 1)")
    args = parser.parse_args()
    problem = plant_problem(seed=args.seed)
    prep = problem_prepare(problem)
    print(
        f"plant seed {args.seed}: {len(prep.jobs)} orders, {len(prep.ops)} operations, load {load()}"
    )
    for _ in range(3):
        began = time.perf_counter()
        bounds = prep.lower_bounds()
        print(
            f"  lower_bounds (tardiness, makespan) {bounds} in {time.perf_counter() - began:.2f} s, "
            f"load {load()}"
        )
    done = preemptive(prep)
    ends = [math.ceil(c - 1e-6) for c in done]
    slack = min(j.due - max(ends[i] for i in j.ops) for j in prep.jobs)
    print(
        f"  preemptive schedule: weighted tardiness {prep.weighted_tardiness(ends)}, "
        f"least slack {slack} min, last end {max(ends)} min"
    )
    plan = dispatched(prep)
    errors = schedule_check(problem, _assignments(prep, plan))
    late = sum(1 for j in prep.jobs if max(plan.end[i] for i in j.ops) > j.due)
    print(
        f"  dispatched plan: weighted tardiness {prep.weighted_tardiness(plan.end)} ({late} orders "
        f"late), makespan {plan.makespan()} min, checker {'OK' if not errors else errors[:2]}"
    )


if __name__ == "__main__":
    main()
