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

Sequence-dependent setups (model.py): on a setup machine an operation's block starts with
the changeover from the operation before it, so the earliest fit is searched gap by gap
(`SetupTimeline`): the block's length depends on the booking before the gap, a fixed booking
after it needs its changeover before it, and a free booking after it keeps its block only if
the changeover into it stays the same (otherwise the gap is skipped). With setups two more
rules compete, which see the changeover an operation would need at the machine:

* ``est-family``: earliest start plus that changeover first (keeps a family together when
  the next one could not start much earlier anyway);
* ``edd-family``: latest start plus that changeover first (the same trade against urgency).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from .calendar import MachineTimeline
from .model import Interval
from .prepared import Prepared

INF = float("inf")


class SetupTimeline:
    """A setup machine's working intervals and its bookings in time order, with families.

    ``entry`` per booking: ``None`` for a fixed operation (a free one before it must leave
    the changeover into it free), else the changeover inside its block (a free operation
    inserted before it must need the same changeover into it, so its block stays valid).
    ``default`` and ``pairs`` are the machine's changeovers as in `Prepared`; ``initial`` its
    initial family (the changeover into the first booking is from it).
    """

    __slots__ = (
        "_work",
        "_work_starts",
        "_starts",
        "_ends",
        "_families",
        "_entry",
        "_default",
        "_pairs",
        "_initial",
    )

    def __init__(
        self,
        working: Sequence[Interval],
        default: int,
        pairs: dict[tuple[int, int], int],
        initial: int = 0,
    ):
        self._work = list(working)
        self._work_starts = [s for s, _ in self._work]
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._families: list[int] = []
        self._entry: list[int | None] = []
        self._default = default
        self._pairs = pairs
        self._initial = initial

    def _fit(self, t: int, length: int, limit: float) -> int | None:
        """Earliest start >= t of [start, start + length) in one working interval, ending by
        ``limit``."""
        work = self._work
        i = max(bisect.bisect_right(self._work_starts, t) - 1, 0)
        while i < len(work) and (work[i][1] <= t or max(t, work[i][0]) + length > work[i][1]):
            i += 1
        if i == len(work):
            return None
        t = max(t, work[i][0])
        return t if t + length <= limit else None

    def earliest_fit(
        self, earliest: int, duration: int, family: int, latest_end: int | None = None
    ) -> tuple[int, int] | None:
        """(start, changeover) of the earliest block for an operation of ``family`` taking
        ``duration`` minutes of setup and run, at or after ``earliest``; or None."""
        starts, ends, families, entry = self._starts, self._ends, self._families, self._entry
        default, pairs = self._default, self._pairs
        n = len(starts)
        j = bisect.bisect_right(ends, earliest)
        while j <= n:
            lo = ends[j - 1] if j and ends[j - 1] > earliest else earliest
            if latest_end is not None and lo + duration > latest_end:
                return None
            # Most gaps are too short even without a changeover: skip them cheaply.
            if j < n and starts[j] - lo < duration:
                j += 1
                continue
            before = families[j - 1] if j else self._initial
            c = 0
            if before and family and before != family:
                c = pairs.get((before, family), default)
            limit: float = INF if latest_end is None else latest_end
            if j < n:
                after = families[j]
                into = 0
                if after and family and after != family:
                    into = pairs.get((family, after), default)
                if entry[j] is None:
                    limit = min(limit, starts[j] - into)
                elif entry[j] != into:
                    j += 1
                    continue
                else:
                    limit = min(limit, starts[j])
                if lo + c + duration > limit:
                    j += 1
                    continue
            t = self._fit(lo, c + duration, limit)
            if t is not None:
                return t, c
            j += 1
        return None

    def book(self, start: int, end: int, family: int, entry: int | None) -> None:
        """Book [start, end) (the caller guarantees it fits, as `earliest_fit` found)."""
        j = bisect.bisect_right(self._starts, start)
        self._starts.insert(j, start)
        self._ends.insert(j, end)
        self._families.insert(j, family)
        self._entry.insert(j, entry)


def timelines_for(prep: Prepared) -> list:
    """A `SetupTimeline` per setup machine, a `MachineTimeline` per other machine."""
    out: list = []
    for k, cal in enumerate(prep.calendars):
        if prep.setup_machine[k]:
            out.append(
                SetupTimeline(
                    cal,
                    prep.changeover_default[k],
                    prep.changeover_pairs[k],
                    prep.initial_family[k],
                )
            )
        else:
            out.append(MachineTimeline(cal))
    return out


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


def _fixed_booked(prep: Prepared):
    """What every rule starts from: per machine whether it has changeovers and its timeline
    with the fixed operations booked; per operation its machine, start, end and whether it
    is placed (the fixed ones)."""
    n = len(prep.ops)
    setups = prep.has_setups
    setup_machine = prep.setup_machine if setups else [False] * len(prep.calendars)
    timelines = timelines_for(prep) if setups else [MachineTimeline(c) for c in prep.calendars]
    machine, start, end = [-1] * n, [0] * n, [0] * n
    placed = [False] * n
    for op in prep.ops:
        if op.fixed is not None:
            k, s, e = op.fixed
            if setup_machine[k]:
                timelines[k].book(s, e, op.family, None)
            else:
                timelines[k].book(s, e)
            machine[op.index], start[op.index], end[op.index] = k, s, e
            placed[op.index] = True
    return setup_machine, timelines, machine, start, end, placed


def rules_for(prep: Prepared) -> list[str]:
    rules = ["est", "mwkr", "edd", "wslack"] if prep.has_due_dates else ["est", "mwkr"]
    if prep.has_setups:
        rules += ["est-family", "edd-family"] if prep.has_due_dates else ["est-family"]
    if prep.has_due_dates:
        rules.append(NON_DELAY)
    return rules


# The one rule built by time rather than by operation (`nondelay_schedule`).
NON_DELAY = "nondelay-edd"
# On a machine with changeovers: how many of the most urgent operations that fit there now
# are weighed with their changeover.
SETUP_CANDIDATES = 8


def nondelay_schedule(
    prep: Prepared, *, tail: list[int] | None = None, latest: list[float] | None = None
) -> Schedule | None:
    """A non-delay plan by time: whenever a machine is free and working, of the operations
    ready for it that can start there now (in one working interval, clear of fixed work,
    ending by a fixed successor's start) the one whose job is due first less the work after
    it takes it, on the free machine where it is shortest. No machine waits while something
    could run on it. None when an operation can never be placed.

    The serial rules above place operations one by one at their earliest fit, which lets a
    later-dispatched operation take a gap while an urgent one waits behind future bookings;
    on plants with many jobs sharing machines the non-delay plan is often far less late (on
    bench (a) about a tenth of the weighted tardiness, bench/README.md). On a machine with
    changeovers the operation's block starts with the changeover from the family before it,
    and of the operations that fit there now the few most urgent are weighed with their
    changeover (due date less the work after it, plus the changeover), as `edd-family` does."""
    tail = tail if tail is not None else _tails(prep)
    latest = latest if latest is not None else _deadlines(prep)
    machines = len(prep.calendars)
    setup, timelines, machine, start, end, placed = _fixed_booked(prep)
    events = [op.fixed[2] for op in prep.ops if op.fixed is not None]
    for cal in prep.calendars:
        events.extend(a for a, _ in cal)
    key = []
    for op in prep.ops:
        due = prep.jobs[op.job].due
        urgent = 0 if latest[op.index] < INF else 1
        key.append((urgent, (due if due is not None else INF) - tail[op.index], op.index))
    waiting = [sum(1 for p in op.preds if not placed[p]) for op in prep.ops]
    later: list[tuple[int, int]] = []  # (earliest start, operation) not yet ready

    def arrive(i: int) -> None:
        op = prep.ops[i]
        est = max([op.floor] + [end[p] for p in op.preds])
        heapq.heappush(later, (est, i))
        heapq.heappush(events, est)

    for op in prep.ops:
        if not placed[op.index] and waiting[op.index] == 0:
            arrive(op.index)
    heapq.heapify(events)
    queues: list[list[tuple]] = [[] for _ in range(machines)]  # per machine: (key, op)
    free_at = [0] * machines
    wake = [0] * machines  # a machine none of whose queued work fits before this instant
    modes = [dict(op.modes) for op in prep.ops]
    running: list[tuple[int, int]] = []  # (end, operation) placed here, not yet finished

    def fit_at(k: int, i: int, at: int, limit: int | None) -> tuple[int, int] | None:
        """(start, changeover) of operation i's earliest block on machine k from `at`."""
        d = modes[i][k]
        if setup[k]:
            return timelines[k].earliest_fit(at, d, prep.ops[i].family, limit)
        found = timelines[k].earliest_fit(at, d, limit)
        return None if found is None else (found, 0)

    left = sum(1 for x in placed if not x)
    while left:
        if not events:
            return None
        t = heapq.heappop(events)
        while events and events[0] == t:
            heapq.heappop(events)
        while running and running[0][0] <= t:
            _, i = heapq.heappop(running)
            for s_ in prep.ops[i].succs:
                if not placed[s_]:
                    waiting[s_] -= 1
                    if waiting[s_] == 0:
                        arrive(s_)
        while later and later[0][0] <= t:
            i = heapq.heappop(later)[1]
            for k, _ in prep.ops[i].modes:
                heapq.heappush(queues[k], (key[i], i))
                wake[k] = 0
        # Free machines take the most urgent operation that can start on them now.
        held: dict[int, list[tuple]] = {}
        while True:
            best = None  # (key with changeover, operation)
            for k in range(machines):
                queue = queues[k]
                if free_at[k] > t or wake[k] > t or not queue:
                    continue
                soonest = INF
                ready_now: list[tuple] = []  # (key with changeover, entry)
                while queue and len(ready_now) < (SETUP_CANDIDATES if setup[k] else 1):
                    entry = queue[0]
                    i = entry[1]
                    if placed[i]:
                        heapq.heappop(queue)
                        continue
                    limit = None if latest[i] == INF else int(latest[i])
                    fit = fit_at(k, i, t, limit)
                    heapq.heappop(queue)
                    if fit is not None and fit[0] == t:
                        u, slack, _ = entry[0]
                        ready_now.append(((u, slack + fit[1], i), entry))
                        continue
                    if fit is None and all(
                        fit_at(m, i, t, limit) is None for m, _ in prep.ops[i].modes
                    ):
                        return None  # it can never end by its fixed successor's start
                    if fit is not None:
                        soonest = min(soonest, fit[0])
                    held.setdefault(k, []).append(entry)  # not now
                for _, entry in ready_now:
                    heapq.heappush(queue, entry)
                if not ready_now:
                    # Nothing can start here before `soonest` unless new work arrives.
                    wake[k] = soonest
                    if soonest < INF:
                        heapq.heappush(events, int(soonest))
                    continue
                mine = min(ready_now)
                if best is None or mine[0] < best[0]:
                    best = (mine[0], mine[1][1])
            if best is None:
                break
            i = best[1]
            limit = None if latest[i] == INF else int(latest[i])
            fits = []
            for k, d in prep.ops[i].modes:
                if free_at[k] <= t:
                    fit = fit_at(k, i, t, limit)
                    if fit is not None and fit[0] == t:
                        fits.append((fit[1] + d, k, fit[1]))
            length, k, c = min(fits)
            if setup[k]:
                timelines[k].book(t, t + length, prep.ops[i].family, c)
            else:
                timelines[k].book(t, t + length)
            free_at[k] = t + length
            machine[i], start[i], end[i] = k, t, t + length
            placed[i] = True
            left -= 1
            heapq.heappush(running, (t + length, i))
            heapq.heappush(events, t + length)
        for k, entries in held.items():
            for entry in entries:
                if not placed[entry[1]]:
                    heapq.heappush(queues[k], entry)
    return Schedule(machine=machine, start=start, end=end, rule=NON_DELAY)


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
    search adjusts them). ``tail`` and ``latest`` may be passed when computed already.
    The non-delay rule (`NON_DELAY`) is built by time: `nondelay_schedule`."""
    if rule == NON_DELAY:
        return nondelay_schedule(prep, tail=tail, latest=latest)
    tail = tail if tail is not None else _tails(prep)
    latest = latest if latest is not None else _deadlines(prep)
    setup_machine, timelines, machine, start, end, placed = _fixed_booked(prep)

    waiting = [sum(1 for p in op.preds if not placed[p]) for op in prep.ops]
    heap: list[tuple] = []

    def changeover_at(i: int, est: int) -> int:
        """The least changeover operation ``i`` would need where it would go now."""
        op = prep.ops[i]
        least = 0
        for n, (k, d) in enumerate(op.modes):
            fit = timelines[k].earliest_fit(est, d, op.family) if setup_machine[k] else None
            c = fit[1] if fit is not None else 0
            least = c if n == 0 else min(least, c)
        return least

    def key_of(i: int, est: int) -> tuple:
        op = prep.ops[i]
        urgent = 0 if latest[i] < INF else 1
        job = prep.jobs[op.job]
        due = job.due if job.due is not None else INF
        if rule == "est-family":
            return (urgent, est + changeover_at(i, est), -tail[i])
        if rule == "edd-family":
            return (urgent, due - tail[i] + changeover_at(i, est), est)
        raise ValueError(f"unknown rule {rule!r}")

    family_rule = rule in ("est-family", "edd-family")

    def push(i: int) -> None:
        op = prep.ops[i]
        est = op.floor
        for p in op.preds:
            est = max(est, end[p])
        urgent = 0 if latest[i] < INF else 1
        job = prep.jobs[op.job]
        due = job.due if job.due is not None else INF
        if family_rule:
            key = key_of(i, est)
        elif rule == "est":
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
        key, i, est = heapq.heappop(heap)
        if family_rule:
            # The machines' last families change as operations are placed: a key that got
            # worse goes back (keys only grow by a bounded changeover, so this ends).
            fresh = key_of(i, est)
            if fresh > key and heap and fresh > heap[0][0]:
                heapq.heappush(heap, (fresh, i, est))
                continue
        op = prep.ops[i]
        limit = None if latest[i] == INF else int(latest[i])
        best: tuple[int, int, int, int, int] | None = None  # (end, length, machine, start, c)
        for k, d in op.modes:
            if setup_machine[k]:
                fit = timelines[k].earliest_fit(est, d, op.family, limit)
                if fit is None:
                    continue
                t, c = fit
            else:
                t, c = timelines[k].earliest_fit(est, d, limit), 0
                if t is None:
                    continue
            if best is None or (t + c + d, c + d, k, t, c) < best:
                best = (t + c + d, c + d, k, t, c)
        if best is None:
            return None
        _, d, k, t, c = best
        if setup_machine[k]:
            timelines[k].book(t, t + d, op.family, c)
        else:
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

    On setup machines each block's changeover is re-computed from the operation before it in
    the order kept (it is the same as before for a schedule that was valid).
    """
    if prep.has_setups:
        return _compact_setups(prep, sched)
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


def _compact_setups(prep: Prepared, sched: Schedule) -> Schedule:
    """`schedule_compact` for a problem with setup machines."""
    n = len(prep.ops)
    order = sorted(range(n), key=lambda i: (sched.start[i], sched.end[i], i))
    timelines = [MachineTimeline(cal) for cal in prep.calendars]
    last_end: dict[int, int] = {}
    last_op: dict[int, int] = {}
    start = list(sched.start)
    end = list(sched.end)
    for i in order:
        op = prep.ops[i]
        k = sched.machine[i]
        if op.fixed is None:
            if prep.setup_machine[k]:
                before = last_op.get(k)
                family = prep.initial_family[k] if before is None else prep.ops[before].family
                c = prep.changeover(k, family, op.family)
                d = op.duration[k] + c
            else:
                d = sched.end[i] - sched.start[i]
            est = max([op.floor, last_end.get(k, op.floor)] + [end[p] for p in op.preds])
            t = timelines[k].earliest_fit(est, d)
            if t is None or t > start[i]:  # cannot happen for a valid schedule
                t = start[i]
            start[i], end[i] = t, t + d
        last_end[k] = max(last_end.get(k, end[i]), end[i])
        last_op[k] = i
    return Schedule(machine=list(sched.machine), start=start, end=end, rule=sched.rule)
