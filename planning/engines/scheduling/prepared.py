"""The problem validated and indexed once, for the heuristic and the CP-SAT model.

Everything here is integers and lists indexed by position: operation ``i``, machine ``k``,
job ``j``. Validation raises `ProblemError` with a message naming the job, operation or
machine. (The checker does not use this module: it re-reads the `Problem` on its own.)

Setup families are numbered from 1 (0: no family) and each machine's changeovers become a
default and a dict of the pairs that differ from it, so `Prepared.changeover` is a couple of
comparisons and one dict look-up. A machine is a *setup machine* when two of the families
that may run on it need a changeover between them; everywhere else the engines keep their
plain (faster) models.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass, field

from ortools.graph.python import linear_sum_assignment

from .calendar import UNBOUNDED, MachineTimeline, calendar_normalise, intervals_merge
from .model import Interval, Key, Problem, ProblemError


@dataclass
class PreparedOp:
    index: int
    id: Key
    job: int
    op_index: int  # position in its job's list
    modes: list[tuple[int, int]]  # (machine index, duration), only modes that can fit
    floor: int  # earliest start (now, releases); fixed ops: their start
    fixed: tuple[int, int, int] | None  # (machine, start, end), end with its changeover
    preds: list[int] = field(default_factory=list)
    succs: list[int] = field(default_factory=list)
    family: int = 0  # index in Prepared.families, 0: no family
    duration: dict[int, int] = field(default_factory=dict)  # machine -> setup + run

    @property
    def min_duration(self) -> int:
        return min(d for _, d in self.modes)


@dataclass
class PreparedJob:
    index: int
    id: Key
    due: int | None
    weight: int
    ops: list[int]


@dataclass
class Prepared:
    ops: list[PreparedOp]
    jobs: list[PreparedJob]
    machine_ids: list[Key]
    calendars: list[list[Interval]]  # normalised working intervals per machine
    has_calendar: list[bool]
    topo: list[int]  # operations in a precedence-respecting order
    now: int
    notes: list[str]
    families: list[str] = field(default_factory=lambda: [""])
    setup_machine: list[bool] = field(default_factory=list)
    changeover_default: list[int] = field(default_factory=list)
    changeover_pairs: list[dict[tuple[int, int], int]] = field(default_factory=list)
    initial_family: list[int] = field(default_factory=list)  # per machine, 0: none

    @property
    def has_setups(self) -> bool:
        """Some machine needs a changeover between two families that may run on it."""
        return any(self.setup_machine)

    def changeover(self, k: int, before: int, after: int) -> int:
        """Minutes of changeover on machine ``k`` from family ``before`` to ``after``
        (indices; 0 when either has no family or both are the same)."""
        if before == after or not before or not after:
            return 0
        return self.changeover_pairs[k].get((before, after), self.changeover_default[k])

    def changeover_max_into(self, k: int, family: int) -> int:
        """The longest changeover into ``family`` on machine ``k`` (0 on plain machines)."""
        if not family or not self.setup_machine[k]:
            return 0
        into = [m for (_, b), m in self.changeover_pairs[k].items() if b == family]
        return max([self.changeover_default[k], *into])

    @property
    def has_due_dates(self) -> bool:
        return any(j.due is not None and j.weight > 0 for j in self.jobs)

    def weighted_tardiness(self, ends: list[int]) -> int:
        total = 0
        for job in self.jobs:
            if job.due is None or not job.ops:
                continue
            completion = max(ends[i] for i in job.ops)
            total += job.weight * max(0, completion - job.due)
        return total

    def lower_bounds(self) -> tuple[int, int]:
        """(weighted tardiness bound, makespan bound) from heads and machine loads.

        Head of an operation: earliest start through its predecessors, ignoring machine
        conflicts; its earliest end is the earliest any of its modes can end on an empty
        machine, inside one working interval of that machine's calendar (a job whose work
        cannot start before a weekend ends after it). The makespan is at least every earliest
        end, and at least each machine's load from operations that can only run there, after
        the earliest such operation can start.
        """
        head = [0] * len(self.ops)
        end = [0] * len(self.ops)
        empty = [
            MachineTimeline(cal) if has else None
            for cal, has in zip(self.calendars, self.has_calendar, strict=True)
        ]
        for i in self.topo:
            op = self.ops[i]
            if op.fixed is not None:
                head[i], end[i] = op.fixed[1], op.fixed[2]
                continue
            h = op.floor
            for p in op.preds:
                h = max(h, end[p])
            head[i] = h
            ends = []
            for k, d in op.modes:
                t = h if empty[k] is None else empty[k].earliest_fit(h, d)
                if t is not None:
                    ends.append(t + d)
            end[i] = min(ends, default=h + op.min_duration)
        makespan_lb = max(end, default=0)
        load: dict[int, int] = {}
        first: dict[int, int] = {}
        for op in self.ops:
            if op.fixed is None and len(op.modes) == 1:
                k, d = op.modes[0]
                load[k] = load.get(k, 0) + d
                first[k] = min(first.get(k, head[op.index]), head[op.index])
        changeovers = self._changeovers_needed() if self.has_setups else {}
        for k, total in load.items():
            makespan_lb = max(makespan_lb, first[k] + total + changeovers.get(k, 0))
        makespan_lb = max(makespan_lb, self._group_load_bound(head))
        wt_lb = self.weighted_tardiness(end)
        if self.has_due_dates:
            wt_lb = max(wt_lb, self._group_tardiness_bound(head, end))
        return wt_lb, makespan_lb

    def _changeovers_needed(self) -> dict[int, int]:
        """Per setup machine, the minutes of changeover it must spend in the blocks of the free
        operations that can only run there (so after the earliest of them can start).

        Counted only for the families none of whose operations could open that family on
        the machine elsewhere (no fixed or multi-mode operation of the family may run there),
        on a machine where every operation has a family (one without would end the changeover
        chain). Each such family's first block holds a changeover from another family (or the
        initial one) of at least the cheapest way into it — except the first family of all
        when the machine has no initial family, or the initial family itself. One pass over
        the operations for every machine."""
        exclusive: dict[int, set[int]] = {}
        shared: dict[int, set[int]] = {}
        unnamed: set[int] = set()
        for op in self.ops:
            alone = op.fixed is None and len(op.modes) == 1
            for k, _ in op.modes:
                if not self.setup_machine[k]:
                    continue
                if not op.family:
                    unnamed.add(k)
                else:
                    (exclusive if alone else shared).setdefault(k, set()).add(op.family)
        out: dict[int, int] = {}
        for k, mine in exclusive.items():
            families = mine - shared.get(k, set())
            if k in unnamed or not families:
                continue
            initial = self.initial_family[k]
            sources = mine | shared.get(k, set()) | ({initial} - {0})
            cheapest = {
                f: min((self.changeover(k, g, f) for g in sources if g != f), default=0)
                for f in families
            }
            # The family that may come first needs none.
            spared = max(cheapest.values()) if not initial else cheapest.get(initial, 0)
            out[k] = sum(cheapest.values()) - spared
        return out

    def _machine_groups(self) -> list[int]:
        """Per machine, its group's representative: machines are grouped when some free
        operation may run on either (connected components)."""
        parent = list(range(len(self.machine_ids)))

        def root(k: int) -> int:
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        for op in self.ops:
            if op.fixed is None:
                first = root(op.modes[0][0])
                for k, _ in op.modes[1:]:
                    parent[root(k)] = first
        return [root(k) for k in range(len(parent))]

    def _group_tardiness_bound(self, head: list[int], end: list[int]) -> int:
        """Weighted tardiness bound from the contention inside each group of machines.

        Relaxation (each step only makes the problem easier, so the bound stays valid): a
        group's machines become one machine that works, at any instant, as fast as the
        number of them working then (so its free operations may share it and be split);
        fixed operations, setups and precedence between the group's operations are dropped,
        each operation keeping only its head (earliest start). On that machine the k-th
        operation to finish can finish no earlier than the k-th completion of the shortest-
        remaining-work-first schedule (SRPT; Chu's bound for 1|r_j|ΣT_j), mapped back through
        the machines' working time. Each job is then counted once, through one of its free
        operations, in that operation's group: it finishes at least at the later of the
        completion of the rank that operation gets and its own earliest end, plus the work
        after it in the job — and that work can only be done while some machine of the plant
        works, so it also ends no earlier than that many minutes of the plant's working time
        later (the night or the weekend in between counts). The cheapest assignment of the
        counted operations to distinct ranks (OR-Tools' linear sum assignment) is at most
        what any schedule pays. Jobs are never counted twice, so the groups' sums add up; a
        job with no free operation counts its own earliest end.

        Any choice of one operation per job gives a valid bound, so two are tried and the
        higher kept: each job's last free operation; and the groups in the order of their
        congestion, each taking every job not counted yet that has a free operation there
        (so a bottleneck counts all its jobs, not only those that end there). Congestion: the
        weighted tardiness of the group's operations if it finished them at the SRPT ranks in
        the order of their due dates less the work after them, then its last rank.
        """
        group_of = self._machine_groups()
        n = len(self.ops)
        tail = [0] * n  # work that must follow each operation in its own job
        free_tail = [0] * n  # the part of it that must lie in working time (free operations)
        for i in reversed(self.topo):
            op = self.ops[i]
            for s_ in op.succs:
                succ = self.ops[s_]
                if succ.job != op.job:  # another order's work does not end this one
                    continue
                d = succ.fixed[2] - succ.fixed[1] if succ.fixed is not None else succ.min_duration
                tail[i] = max(tail[i], d + tail[s_])
                free = 0 if succ.fixed is not None else succ.min_duration
                free_tail[i] = max(free_tail[i], free + free_tail[s_])
        after = self._working_after()

        def finish(i: int, rank: int) -> int:
            """The earliest the job of ``i`` can end when ``i`` ends at ``rank`` or later."""
            t = max(rank, end[i])
            return max(t + tail[i], after(t, free_tail[i]))

        members: dict[int, list[int]] = {}
        for op in self.ops:
            if op.fixed is None:
                members.setdefault(group_of[op.modes[0][0]], []).append(op.index)
        ranks: dict[int, list[int]] = {}
        for g, ops in members.items():
            machines = [k for k in range(len(group_of)) if group_of[k] == g]
            ranks[g] = self._srpt_completions(machines, ops, head)
        position = {i: p for p, i in enumerate(self.topo)}
        late = self._late_in_order(members, ranks, finish, tail)
        congestion = {
            g: sum(max(0, late[i]) for i in ops if i in late) for g, ops in members.items()
        }
        order = sorted(members, key=lambda g: (-congestion[g], -ranks[g][-1], g))
        rank_of = {g: x for x, g in enumerate(order)}
        by_last: dict[int, list[int]] = {}  # group -> the last free operation of its jobs
        by_order: dict[int, list[int]] = {}  # group -> its operations of the jobs it takes
        total = 0
        for job in self.jobs:
            if job.due is None or job.weight <= 0 or not job.ops:
                continue
            free = [i for i in job.ops if self.ops[i].fixed is None]
            if not free:
                total += job.weight * max(0, max(end[i] for i in job.ops) - job.due)
                continue
            last = max(free, key=lambda i: position[i])
            by_last.setdefault(group_of[self.ops[last].modes[0][0]], []).append(last)
            # The first group in the order takes the job, through its latest operation there.
            taken = min(
                free,
                key=lambda i: (rank_of[group_of[self.ops[i].modes[0][0]]], -late[i], -position[i]),
            )
            by_order.setdefault(group_of[self.ops[taken].modes[0][0]], []).append(taken)
        best = 0
        for counted in (by_last, by_order):
            best = max(
                best,
                sum(self._ranks_assign(ops, ranks[g], finish) for g, ops in counted.items()),
            )
        return total + best

    def _late_in_order(self, members, ranks, finish, tail) -> dict[int, int]:
        """Per free operation of a job with a due date: its job's weighted lateness (negative
        when early) if each group finished its operations at the SRPT ranks in the order of
        their due dates less the work after them. Only a guide to which operation counts a
        job (any choice gives a valid bound); a sort per group."""
        out: dict[int, int] = {}
        for g, ops in members.items():
            keyed = []
            for i in ops:
                job = self.jobs[self.ops[i].job]
                if job.due is not None and job.weight > 0:
                    keyed.append((job.due - tail[i], i))
            keyed.sort()
            for (_, i), rank in zip(keyed, ranks[g], strict=False):
                job = self.jobs[self.ops[i].job]
                out[i] = job.weight * (finish(i, rank) - job.due)
        return out

    def _working_after(self):
        """``after(t, minutes)``: the earliest instant by which ``minutes`` of working time
        of the plant (the union of all machines' working intervals) have passed since ``t``.
        Free operations run only inside their machine's working intervals, so a chain of them
        after ``t`` ends no earlier than that."""
        union = intervals_merge(iv for cal in self.calendars for iv in cal)
        starts = [a for a, _ in union]
        before = []  # working minutes of the union before each interval starts
        total = 0
        for a, b in union:
            before.append(total)
            total += b - a
        upto = [w + b - a for w, (a, b) in zip(before, union, strict=True)]

        def after(t: int, minutes: int) -> int:
            if minutes <= 0 or not union:
                return t
            x = bisect.bisect_right(starts, t) - 1
            done = 0 if x < 0 else before[x] + min(t, union[x][1]) - union[x][0]
            goal = done + minutes
            y = bisect.bisect_left(upto, goal)  # the first interval by whose end it is done
            if y == len(union):  # the calendars end first: their end is still a lower bound
                return max(t, union[-1][1])
            return max(t, union[y][0] + goal - before[y])

        return after

    def _srpt_completions(self, machines: list[int], ops: list[int], head: list[int]) -> list[int]:
        """Sorted completion times of `ops` under SRPT on the group's pooled working time."""
        start = min(head[i] for i in ops)
        changes: dict[int, int] = {}
        for k in machines:
            for a, b in self.calendars[k]:
                if b <= start:
                    continue
                a = max(a, start)
                changes[a] = changes.get(a, 0) + 1
                if b < UNBOUNDED:
                    changes[b] = changes.get(b, 0) - 1
        if not changes:  # no working time after the heads: no plan can do these at all
            return [start] * len(ops)
        times = sorted(changes)
        cum = []  # working minutes of the pooled machine from `start` to times[x]
        rates = []  # machines working on [times[x], times[x + 1])
        work = rate = 0
        for x, t in enumerate(times):
            if x:
                work += rate * (t - times[x - 1])
            cum.append(work)
            rate += changes[t]
            rates.append(rate)

        def pooled(t: int) -> int:  # working minutes available before t
            x = bisect.bisect_right(times, t) - 1
            return 0 if x < 0 else cum[x] + rates[x] * (t - times[x])

        def instant(u: float) -> int:  # the earliest t by which u minutes were available
            y = bisect.bisect_left(cum, u)
            if y < len(cum) and (cum[y] == u or y == 0):
                return times[y]
            x = y - 1  # cum[x] < u: reached inside [times[x], times[x + 1])
            if rates[x] <= 0:  # the calendars end first: their end is still a lower bound
                return times[x]
            return times[x] + math.ceil((u - cum[x]) / rates[x])

        released = sorted((pooled(head[i]), self.ops[i].min_duration) for i in ops)
        done: list[float] = []
        waiting: list[float] = []  # remaining work (SRPT: the least first)
        clock = 0.0
        x = 0
        while x < len(released) or waiting:
            if not waiting:
                clock = max(clock, released[x][0])
            while x < len(released) and released[x][0] <= clock:
                heapq.heappush(waiting, released[x][1])
                x += 1
            left = heapq.heappop(waiting)
            following = released[x][0] if x < len(released) else math.inf
            if clock + left <= following:
                clock += left
                done.append(clock)
            else:
                heapq.heappush(waiting, left - (following - clock))
                clock = following
        return [instant(u) for u in done]

    def _ranks_assign(self, ops: list[int], ranks: list[int], finish) -> int:
        """The least weighted tardiness of `ops` (one per job) given distinct ranks among the
        sorted completions `ranks`, a job ending at ``finish(i, rank)`` at the earliest.

        Costs only grow with the rank, so the first len(ops) ranks are enough, and an
        operation that costs nothing even at the last of them may take the last rank (swap
        it with whoever has it: neither pays more); the others then share the ranks before,
        until every one left would pay something at the last rank it may get."""
        size = len(ops)
        while True:
            paying = []
            for i in ops:
                job = self.jobs[self.ops[i].job]
                if finish(i, ranks[size - 1]) > job.due:
                    paying.append(i)
            if not paying:
                return 0
            if len(paying) == size:
                break
            ops, size = paying, len(paying)
        cost = []
        for i in ops:
            job = self.jobs[self.ops[i].job]
            cost.append([job.weight * max(0, finish(i, r) - job.due) for r in ranks[:size]])
        if size == 1:
            return cost[0][0]
        assignment = linear_sum_assignment.SimpleLinearSumAssignment()
        lefts = [a for a in range(size) for _ in range(size)]
        rights = [b for _ in range(size) for b in range(size)]
        assignment.add_arcs_with_cost(lefts, rights, [c for row in cost for c in row])
        if assignment.solve() != assignment.OPTIMAL:
            return 0
        return assignment.optimal_cost()

    def _group_load_bound(self, head: list[int]) -> int:
        """Makespan bound from the work of each group of interchangeable machines.

        Machines are grouped when some free operation may run on either (connected
        components). A group's free operations need at least the sum of their shortest
        durations of machine time, which its machines can give only inside their working
        intervals from the earliest head of those operations on. Relaxing everything else
        (precedence, non-preemption, fixed operations) keeps it a valid bound; with calendars
        it is what makes the bound meaningful on a plant.
        """
        group_of = self._machine_groups()
        free = [op for op in self.ops if op.fixed is None]
        work: dict[int, int] = {}
        begin: dict[int, int] = {}
        for op in free:
            g = group_of[op.modes[0][0]]
            work[g] = work.get(g, 0) + op.min_duration
            begin[g] = min(begin.get(g, head[op.index]), head[op.index])
        bound = 0
        for g, total in work.items():
            machines = [k for k in range(len(group_of)) if group_of[k] == g]
            start = begin[g]

            def capacity(t: int, machines=machines, start=start) -> int:
                return sum(
                    max(0, min(b, t) - max(a, start))
                    for k in machines
                    for a, b in self.calendars[k]
                    if a < t and b > start
                )

            low, high = start, start + total  # one machine always working needs `total`
            if capacity(high) < total:
                last = max(
                    (self.calendars[k][-1][1] for k in machines if self.calendars[k]), default=0
                )
                if last >= UNBOUNDED or capacity(last) < total:
                    continue  # the calendars end first: no bound from this group
                high = last
            while low < high:  # the earliest t with enough working time before it
                mid = (low + high) // 2
                if capacity(mid) >= total:
                    high = mid
                else:
                    low = mid + 1
            bound = max(bound, low)
        return bound


def _interval(value, what: str) -> Interval:
    try:
        start, end = value
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise ProblemError(f"{what}: expected [start, end], got {value!r}") from None
    if end < start:
        raise ProblemError(f"{what}: end {end} is before start {start}")
    return start, end


def problem_prepare(problem: Problem) -> Prepared:
    """Validate and index the problem. Raises `ProblemError` naming the culprit."""
    notes: list[str] = []
    machine_index: dict[Key, int] = {}
    calendars: list[list[Interval]] = []
    has_calendar: list[bool] = []
    family_index: dict[str, int] = {"": 0}
    changeover_default: list[int] = []
    changeover_pairs: list[dict[tuple[int, int], int]] = []
    initial_family: list[int] = []
    for machine in problem.machines:
        if machine.id in machine_index:
            raise ProblemError(f"machine {machine.id!r} is listed twice")
        default, pairs = _changeovers(machine, family_index)
        changeover_default.append(default)
        changeover_pairs.append(pairs)
        initial = machine.initial_family
        if not isinstance(initial, str):
            raise ProblemError(
                f"machine {machine.id!r}: initial family must be text, got {initial!r}"
            )
        initial_family.append(family_index.setdefault(initial, len(family_index)))
        machine_index[machine.id] = len(calendars)
        working = None
        if machine.working is not None:
            working = [_interval(w, f"machine {machine.id!r} working") for w in machine.working]
        downtime = [_interval(w, f"machine {machine.id!r} downtime") for w in machine.downtime]
        calendars.append(calendar_normalise(working, downtime))
        has_calendar.append(machine.working is not None or bool(machine.downtime))
    longest = [max((e - s for s, e in cal), default=0) for cal in calendars]

    ops: list[PreparedOp] = []
    jobs: list[PreparedJob] = []
    op_index: dict[Key, int] = {}
    job_ids: set[Key] = set()
    raw_preds: list[tuple[Key, ...]] = []
    for j, job in enumerate(problem.jobs):
        if job.id in job_ids:
            raise ProblemError(f"job {job.id!r} is listed twice")
        job_ids.add(job.id)
        if job.weight < 0:
            raise ProblemError(f"job {job.id!r}: weight must not be negative")
        pjob = PreparedJob(index=j, id=job.id, due=job.due, weight=int(job.weight), ops=[])
        jobs.append(pjob)
        for position, op in enumerate(job.operations):
            where = f"job {job.id!r} operation {op.id!r}"
            if op.id in op_index:
                raise ProblemError(f"{where}: operation id is used twice")
            if not op.modes:
                raise ProblemError(f"{where}: no eligible machine")
            if not isinstance(op.family, str):
                raise ProblemError(f"{where}: family must be text, got {op.family!r}")
            modes: list[tuple[int, int]] = []
            all_modes: dict[int, int] = {}
            for mode in op.modes:
                if mode.machine not in machine_index:
                    raise ProblemError(f"{where}: unknown machine {mode.machine!r}")
                if mode.setup < 0 or mode.run < 0:
                    raise ProblemError(f"{where}: setup and run must not be negative")
                duration = int(mode.setup) + int(mode.run)
                if duration < 1:
                    raise ProblemError(
                        f"{where}: duration on {mode.machine!r} must be at least 1 minute"
                    )
                k = machine_index[mode.machine]
                if k in all_modes:
                    raise ProblemError(f"{where}: machine {mode.machine!r} is listed twice")
                all_modes[k] = duration
                if duration <= longest[k]:
                    modes.append((k, duration))
            fixed = None
            if op.fixed is not None:
                k = machine_index.get(op.fixed.machine)
                if k is None or k not in all_modes:
                    raise ProblemError(
                        f"{where}: fixed on {op.fixed.machine!r}, which is not one of its machines"
                    )
                start = int(op.fixed.start)
                fixed = (k, start, start + all_modes[k])
                # A fixed operation is a fact: it keeps its machine even if a calendar would
                # not let it be scheduled there now.
                modes = [(k, all_modes[k])]
                floor = start
            else:
                if not modes:
                    raise ProblemError(
                        f"{where}: longer than every working interval of its machines "
                        "(operations are not split across breaks)"
                    )
                if len(modes) < len(all_modes):
                    notes.append(f"{where}: machines whose shifts are too short were skipped")
                floor = max(
                    problem.now,
                    job.release if job.release is not None else problem.now,
                    op.release if op.release is not None else problem.now,
                )
            i = len(ops)
            op_index[op.id] = i
            ops.append(
                PreparedOp(
                    index=i,
                    id=op.id,
                    job=j,
                    op_index=position,
                    modes=modes,
                    floor=int(floor),
                    fixed=fixed,
                    family=family_index.setdefault(op.family, len(family_index)),
                    duration=dict(modes),
                )
            )
            pjob.ops.append(i)
            preds = tuple(op.predecessors)
            if job.sequential and position > 0:
                preds = (job.operations[position - 1].id, *preds)
            raw_preds.append(preds)

    for i, preds in enumerate(raw_preds):
        seen: set[int] = set()
        for pred in preds:
            p = op_index.get(pred)
            if p is None:
                raise ProblemError(f"operation {ops[i].id!r}: unknown predecessor {pred!r}")
            if p == i:
                raise ProblemError(f"operation {ops[i].id!r} cannot precede itself")
            if p not in seen:
                seen.add(p)
                ops[i].preds.append(p)
                ops[p].succs.append(i)

    # Kahn's algorithm: a topological order, or the cycle is reported.
    indegree = [len(op.preds) for op in ops]
    topo = [i for i, d in enumerate(indegree) if d == 0]
    for i in topo:
        for s in ops[i].succs:
            indegree[s] -= 1
            if indegree[s] == 0:
                topo.append(s)
    if len(topo) < len(ops):
        stuck = [ops[i].id for i, d in enumerate(indegree) if d > 0][:5]
        raise ProblemError(f"the precedences have a cycle through operations {stuck!r}")

    families = list(family_index)
    setup_machine = _setup_machines(
        ops, len(calendars), changeover_default, changeover_pairs, initial_family
    )

    def changeover(k: int, before: int, after: int) -> int:
        if before == after or not before or not after:
            return 0
        return changeover_pairs[k].get((before, after), changeover_default[k])

    # A fixed operation's block starts with the changeover from the fixed operation before
    # it on its machine (model.py); then fixed operations may not overlap one another on a
    # machine: nothing could repair that.
    by_machine: dict[int, list[tuple[int, int, Key]]] = {}
    fixed_ops: dict[int, list[PreparedOp]] = {}
    for op in ops:
        if op.fixed is not None:
            fixed_ops.setdefault(op.fixed[0], []).append(op)
    for k, on_machine in fixed_ops.items():
        on_machine.sort(key=lambda op: (op.fixed[1], op.index))
        previous = initial_family[k]
        for op in on_machine:
            _, start, end = op.fixed
            op.fixed = (k, start, end + changeover(k, previous, op.family))
            previous = op.family
            by_machine.setdefault(k, []).append((start, op.fixed[2], op.id))
    for k, booked in by_machine.items():
        booked.sort()
        for (_, end_a, id_a), (start_b, _, id_b) in zip(booked, booked[1:], strict=False):
            if start_b < end_a:
                raise ProblemError(
                    f"fixed operations {id_a!r} and {id_b!r} overlap on machine "
                    f"{list(machine_index)[k]!r}"
                )

    return Prepared(
        ops=ops,
        jobs=jobs,
        machine_ids=list(machine_index),
        calendars=calendars,
        has_calendar=has_calendar,
        topo=topo,
        now=int(problem.now),
        notes=notes,
        families=families,
        setup_machine=setup_machine,
        changeover_default=changeover_default,
        changeover_pairs=changeover_pairs,
        initial_family=initial_family,
    )


def _changeovers(machine, family_index: dict[str, int]) -> tuple[int, dict[tuple[int, int], int]]:
    """A machine's changeover minutes, validated: (default, {(from, to): minutes})."""
    where = f"machine {machine.id!r}"
    default = machine.changeover
    if isinstance(default, bool) or not isinstance(default, int) or default < 0:
        raise ProblemError(f"{where}: changeover must be whole minutes, not negative")
    pairs: dict[tuple[int, int], int] = {}
    for entry in machine.changeovers:
        try:
            before, after, minutes = entry
        except (TypeError, ValueError):
            raise ProblemError(
                f"{where}: changeovers: expected (from family, to family, minutes), got {entry!r}"
            ) from None
        if not isinstance(before, str) or not isinstance(after, str) or not before or not after:
            raise ProblemError(f"{where}: changeover {entry!r}: families must be named")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            raise ProblemError(
                f"{where}: changeover {before!r} -> {after!r} must be whole minutes, not negative"
            )
        key = (
            family_index.setdefault(before, len(family_index)),
            family_index.setdefault(after, len(family_index)),
        )
        if key in pairs:
            raise ProblemError(f"{where}: changeover {before!r} -> {after!r} is listed twice")
        if before != after:
            pairs[key] = minutes
    return default, pairs


def _setup_machines(
    ops: list[PreparedOp],
    machines: int,
    default: list[int],
    pairs: list[dict[tuple[int, int], int]],
    initial: list[int],
) -> list[bool]:
    """Per machine: may two operations that can run on it (or its initial family and one of
    them) need a changeover between them?"""
    present: list[set[int]] = [{f} if f else set() for f in initial]
    for op in ops:
        if op.family:
            for k, _ in op.modes:
                present[k].add(op.family)
    out = []
    for k in range(machines):
        families = present[k]
        if len(families) < 2:
            out.append(False)
        elif default[k] > 0:
            out.append(True)
        else:
            out.append(
                any(m > 0 and a in families and b in families for (a, b), m in pairs[k].items())
            )
    return out
