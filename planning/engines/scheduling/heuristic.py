"""Dispatching heuristic: serial schedule generation with priority rules.

Operations are taken one at a time, in the order a priority rule gives among those whose
predecessors are all placed, and each is put at its earliest feasible start on the machine
(among its eligible ones) where it ends first: inside one working interval, in any gap
between operations already booked there (insertion), not before its release, ``now`` or its
predecessors' ends. Several rules are tried and the best schedule kept, by weighted
tardiness then makespan. The result seeds CP-SAT (as a hint) and is the fallback when the
problem is too large for CP-SAT or CP-SAT finds nothing in its time limit.

Rules (lower key first; ties broken by operation index so runs are reproducible):

* ``est``: earliest start first, then most work remaining in the job;
* ``mwkr``: most work remaining first (good for makespan);
* ``edd``: smallest latest start (due date minus work remaining) first;
* ``wslack``: smallest slack per unit of weight first (urgent, heavy orders).

Operations whose fixed successors impose a deadline (they must end before a frozen
operation starts) go before all others.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from .calendar import MachineTimeline
from .prepared import Prepared

INF = float("inf")


@dataclass
class Schedule:
    """Machine, start and end per operation index (the engine's internal form)."""

    machine: list[int]
    start: list[int]
    end: list[int]
    rule: str = ""

    def makespan(self) -> int:
        return max(self.end, default=0)


def _tails(prep: Prepared) -> list[int]:
    """Work remaining from each operation to the end of its chain (shortest modes)."""
    tail = [0] * len(prep.ops)
    for i in reversed(prep.topo):
        op = prep.ops[i]
        tail[i] = op.min_duration + max((tail[s] for s in op.succs), default=0)
    return tail


def _deadlines(prep: Prepared) -> list[float]:
    """Latest end of each free operation imposed by fixed successors (inf when none)."""
    latest = [INF] * len(prep.ops)
    for i in reversed(prep.topo):
        op = prep.ops[i]
        if op.fixed is not None:
            continue
        for s in op.succs:
            succ = prep.ops[s]
            bound = succ.fixed[1] if succ.fixed is not None else latest[s] - succ.min_duration
            latest[i] = min(latest[i], bound)
    return latest


def rules_for(prep: Prepared) -> list[str]:
    return ["est", "mwkr", "edd", "wslack"] if prep.has_due_dates else ["est", "mwkr"]


def heuristic_schedule(
    prep: Prepared,
    rule: str,
    offsets: list[int] | None = None,
    *,
    tail: list[int] | None = None,
    latest: list[float] | None = None,
) -> Schedule | None:
    """One serial schedule generation pass; None when some operation cannot be placed.

    ``offsets`` (rules ``edd`` and ``wslack``): minutes per job taken off its due date in the
    priority key — a job with a positive offset is dispatched as if due earlier (`priority`'s
    search adjusts them). ``tail`` and ``latest`` may be passed when computed already."""
    n = len(prep.ops)
    tail = tail if tail is not None else _tails(prep)
    latest = latest if latest is not None else _deadlines(prep)
    timelines = [MachineTimeline(cal) for cal in prep.calendars]
    machine = [-1] * n
    start = [0] * n
    end = [0] * n
    placed = [False] * n
    for op in prep.ops:
        if op.fixed is not None:
            k, s, e = op.fixed
            timelines[k].book(s, e)
            machine[op.index], start[op.index], end[op.index] = k, s, e
            placed[op.index] = True

    waiting = [sum(1 for p in op.preds if not placed[p]) for op in prep.ops]
    heap: list[tuple] = []

    def push(i: int) -> None:
        op = prep.ops[i]
        est = op.floor
        for p in op.preds:
            est = max(est, end[p])
        urgent = 0 if latest[i] < INF else 1
        job = prep.jobs[op.job]
        due = job.due if job.due is not None else INF
        if rule == "est":
            key = (urgent, est, -tail[i])
        elif rule == "mwkr":
            key = (urgent, -tail[i], est)
        elif rule == "edd":
            key = (urgent, due - tail[i] - (offsets[op.job] if offsets else 0), est)
        elif rule == "wslack":
            slack = due - est - tail[i] - (offsets[op.job] if offsets else 0)
            key = (urgent, slack / job.weight if job.weight > 0 and slack < INF else INF, est)
        else:
            raise ValueError(f"unknown rule {rule!r}")
        heapq.heappush(heap, (key, i, est))

    for op in prep.ops:
        if not placed[op.index] and waiting[op.index] == 0:
            push(op.index)
    while heap:
        _, i, est = heapq.heappop(heap)
        op = prep.ops[i]
        limit = None if latest[i] == INF else int(latest[i])
        best: tuple[int, int, int, int] | None = None  # (end, duration, machine, start)
        for k, d in op.modes:
            t = timelines[k].earliest_fit(est, d, limit)
            if t is not None and (best is None or (t + d, d, k, t) < best):
                best = (t + d, d, k, t)
        if best is None:
            return None
        _, d, k, t = best
        timelines[k].book(t, t + d)
        machine[i], start[i], end[i] = k, t, t + d
        placed[i] = True
        for s in op.succs:
            if placed[s]:
                continue
            waiting[s] -= 1
            if waiting[s] == 0:
                push(s)
    if not all(placed):
        return None
    return Schedule(machine=machine, start=start, end=end, rule=rule)


def schedule_key(prep: Prepared, sched: Schedule) -> tuple[int, int]:
    """Lexicographic objective: (weighted tardiness, makespan)."""
    return prep.weighted_tardiness(sched.end), sched.makespan()


def heuristic_best(prep: Prepared, rules: list[str] | None = None) -> Schedule | None:
    """The best schedule over the rules, or None if none could place every operation."""
    best: Schedule | None = None
    for rule in rules or rules_for(prep):
        sched = heuristic_schedule(prep, rule)
        if sched is not None and (
            best is None or schedule_key(prep, sched) < schedule_key(prep, best)
        ):
            best = sched
    return best


def schedule_compact(prep: Prepared, sched: Schedule) -> Schedule:
    """Shift every free operation as early as it can go, keeping each machine's sequence.

    Operations are revisited in order of start; each starts at its earliest fit after its
    predecessors, its release and the previous operation on its machine. By induction no
    operation moves later, so neither objective gets worse; it removes the idle time CP-SAT
    leaves where an operation's position does not change the objective.
    """
    n = len(prep.ops)
    order = sorted(range(n), key=lambda i: (sched.start[i], sched.end[i], i))
    timelines = [MachineTimeline(cal) for cal in prep.calendars]
    last_end: dict[int, int] = {}
    start = list(sched.start)
    end = list(sched.end)
    for i in order:
        op = prep.ops[i]
        k = sched.machine[i]
        if op.fixed is None:
            d = sched.end[i] - sched.start[i]
            est = max([op.floor, last_end.get(k, op.floor)] + [end[p] for p in op.preds])
            t = timelines[k].earliest_fit(est, d)
            if t is None or t > start[i]:  # cannot happen; keep the original placement
                t = start[i]
            start[i], end[i] = t, t + d
        last_end[k] = max(last_end.get(k, end[i]), end[i])
    return Schedule(machine=list(sched.machine), start=start, end=end, rule=sched.rule)
