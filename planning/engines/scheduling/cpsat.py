"""CP-SAT model of the scheduling problem, solved lexicographically in two phases.

Variables: a start and an end per free operation; per eligible machine (mode) a presence
literal and an optional fixed-size interval, exactly one present. Constraints: ``NoOverlap``
per machine over those intervals, the fixed operations' intervals and the machine's
non-working time (the gaps between its working intervals, as fixed intervals), so an
operation that overlaps no gap lies inside one working interval; precedence
``end(pred) <= start(succ)``; releases and ``now`` as lower bounds of the start. (Calendars
as per-mode allowed start domains were tried too: same answers, but presolve on a 50-machine
plant took most of the time limit.)

Objective, lexicographic: phase 1 minimises the total weighted tardiness (skipped when no
job has a due date, or when the heuristic already reaches zero); phase 2 adds
``weighted tardiness <= best phase-1 value`` as a constraint and minimises the makespan.
Each phase is seeded with the best schedule known so far through ``AddHint``.

The time horizon is the largest of: the heuristic's makespan, the latest fixed end or floor
plus the sum of the longest durations (no semi-active schedule without calendars ends later,
so "optimal" is then exact), and the end of the longest finite calendar.

Large problems (more than ``SolveOptions.window_operations`` operations): the whole model
spends its time in presolve and in building neighbourhoods, so instead the heuristic
schedule is improved window by window (a large-neighbourhood search of our own): the
operations starting in a sliding window of the current schedule are re-optimised by CP-SAT,
everything else stays put, minimising the window's jobs' weighted tardiness first and the
sum of its operations' ends second, never ending later than the window did. Each accepted
window lowers (weighted tardiness, makespan, sum of ends) lexicographically, so the schedule
only gets better; there is no global bound from CP-SAT then (the simple bounds are
reported).

Sequence-dependent setups: on each *setup machine* (`Prepared.setup_machine`: two families
that may run there need a changeover) the operations that may run there are the nodes of an
``AddCircuit`` with a dummy node for the start and end of the sequence; an absent
operation's node takes its self-loop (the negation of its presence literal). An arc a -> b
implies ``start(b) >= end(a)``, and a free operation's block has a size variable equal to
``setup + run + sum(changeover(a, b) * arc(a, b))`` (the arc from the dummy node costs
the changeover from the machine's initial family). Into a fixed operation the
arc from a free one implies ``start(b) >= end(a) + changeover(a, b)`` instead (model.py).
A circuit has O(n^2) arcs for n operations on its machine, so above ``CIRCUIT_MAX_ARCS``
arcs in the whole model the problem is improved window by window (or by the LNS) instead,
whose models hold a few dozen operations per machine. In a window the kept operations on a
setup machine that the window's operations may come next to are nodes too, at their place:
the one that ends last before the window, those inside it and the first one after it; a
kept free operation keeps its block, so only operations needing the same changeover into it
may come right before it.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .calendar import UNBOUNDED, intervals_merge, intervals_subtract
from .heuristic import Schedule, schedule_compact, schedule_key
from .model import Interval, NoScheduleError, SolveOptions
from .prepared import Prepared

# Above this many circuit arcs in the whole model (sum over setup machines of n^2 for n
# operations that may run there) the full model is not built: windows or the LNS instead.
CIRCUIT_MAX_ARCS = 40_000


def circuit_arcs(prep: Prepared) -> int:
    """Arcs the full model's circuits would have (0 without setups)."""
    if not prep.has_setups:
        return 0
    count = [0] * len(prep.machine_ids)
    for op in prep.ops:
        for k, _ in op.modes:
            count[k] += 1
    return sum(n * n for k, n in enumerate(count) if prep.setup_machine[k])


@dataclass
class _Node:
    """One operation in a setup machine's circuit, or (windows) a run of kept operations
    with no room between them, named by its first operation."""

    op: int
    family: int  # of the (first) operation: the changeover into the node
    start: object  # int (fixed or kept) or IntVar
    end: object
    lit: object = True  # presence on this machine: True or a BoolVar
    size: object = None  # free operations: the block's size (changeover + setup + run)
    duration: int = 0  # free operations: setup + run
    entry: int | None = None  # kept free (first) operation: the changeover inside its block
    fixed_in: bool = False  # the (first) operation is fixed: the changeover comes before it
    fixed_out: bool = False  # the (last) operation is fixed
    exit_family: int | None = None  # of the last operation of a run (None: ``family``)
    first: bool = False  # windows: the kept operations just before the window
    last: bool = False  # windows: the kept operations just after it
    earliest: int = -UNBOUNDED  # free operations: no start before
    latest: int = UNBOUNDED  # free operations: no end after


@dataclass
class _Circuit:
    machine: int
    nodes: list[_Node]
    arcs: dict  # (op before or -1, op after or -1) -> literal
    empty: object  # literal of the empty machine, or None

    def hint(self, model: cp_model.CpModel, sched: Schedule) -> None:
        k = self.machine
        present = sorted(
            (n.op for n in self.nodes if sched.machine[n.op] == k),
            key=lambda i: (sched.start[i], sched.end[i], i),
        )
        chain = set(zip([-1, *present], [*present, -1], strict=True))
        for key, lit in self.arcs.items():
            model.add_hint(lit, key in chain)
        if self.empty is not None:
            model.add_hint(self.empty, not present)
        for n in self.nodes:
            if n.size is not None:
                on = sched.machine[n.op] == k
                model.add_hint(n.size, sched.end[n.op] - sched.start[n.op] if on else n.duration)


def _add_circuit(m: cp_model.CpModel, prep: Prepared, k: int, nodes: list[_Node]) -> _Circuit:
    """The sequence of ``nodes`` on setup machine ``k`` and the changeovers it implies."""
    arcs: list[tuple[int, int, object]] = []
    lits: dict = {}
    has_first = any(n.first for n in nodes)
    has_last = any(n.last for n in nodes)
    empty = None
    if all(n.lit is not True for n in nodes):
        empty = m.new_bool_var("")
        arcs.append((0, 0, empty))
    into: list[list] = [[] for _ in nodes]
    # Operations that stay where they are (fixed, kept) follow one another in time: only the
    # next one can come right after one of them, and only the first can open the sequence.
    placed = sorted((n.start, a) for a, n in enumerate(nodes, start=1) if isinstance(n.start, int))
    next_placed = {a: b for (_, a), (_, b) in zip(placed, placed[1:], strict=False)}
    first_placed = placed[0][1] if placed else None
    last_placed = placed[-1][1] if placed else None
    for b, nb in enumerate(nodes, start=1):
        if nb.lit is not True:
            arcs.append((b, b, ~nb.lit))
        fixed_b = isinstance(nb.start, int)
        # Opening the machine's sequence: the changeover from its initial family (a fixed
        # operation holds it in its block; a window's first kept run is outside the window).
        c0 = prep.changeover(k, prep.initial_family[k], nb.family)
        if (
            (not has_first or nb.first)
            and (nb.entry is None or nb.entry == c0 or nb.first)
            and (not fixed_b or b == first_placed)
        ):
            lit = m.new_bool_var("")
            arcs.append((0, b, lit))
            lits[(-1, nb.op)] = lit
            if nb.size is not None and c0 and not nb.first:
                into[b - 1].append((c0, lit))
        if (not has_last or nb.last) and (not fixed_b or b == last_placed):
            lit = m.new_bool_var("")
            arcs.append((b, 0, lit))
            lits[(nb.op, -1)] = lit
        if nb.first:
            continue  # what comes before it is outside the window and stays
        for a, na in enumerate(nodes, start=1):
            if a == b or na.last:
                continue
            fixed_a = isinstance(na.end, int)
            if fixed_a and fixed_b and next_placed.get(a) != b:
                continue
            out = na.family if na.exit_family is None else na.exit_family
            c = prep.changeover(k, out, nb.family)
            gap = 0
            if nb.entry is not None and c != nb.entry:
                continue  # a kept block holds the changeover it has
            if nb.fixed_in and not na.fixed_out:
                gap = c  # the changeover into a fixed operation comes before it
            # The earliest end of a, then the latest b can be: too late, no arc.
            a_end = na.end if fixed_a else na.earliest + na.duration
            if (nb.start if fixed_b else nb.latest - nb.duration) < a_end + gap:
                continue
            if fixed_a and fixed_b:
                lit = m.new_bool_var("")
            else:
                lit = m.new_bool_var("")
                m.add(nb.start >= na.end + gap).only_enforce_if(lit)
            arcs.append((a, b, lit))
            lits[(na.op, nb.op)] = lit
            if nb.size is not None and c:
                into[b - 1].append((c, lit))
    for b, nb in enumerate(nodes):
        if nb.size is not None:
            m.add(nb.size == nb.duration + sum(c * lit for c, lit in into[b]))
    m.add_circuit(arcs)
    return _Circuit(k, nodes, lits, empty)


@dataclass
class CpOutcome:
    schedule: Schedule | None  # best schedule known: CP-SAT's, or the heuristic's if better
    found: bool  # CP-SAT found a solution of its own
    proved_optimal: bool
    tardiness_bound: int
    makespan_bound: int
    phases: list[str]


def horizon_for(prep: Prepared, heuristic: Schedule | None) -> int:
    base = prep.now
    total = 0
    for op in prep.ops:
        if op.fixed is not None:
            base = max(base, op.fixed[2])
        else:
            base = max(base, op.floor)
            total += max(d + prep.changeover_max_into(k, op.family) for k, d in op.modes)
    horizon = base + total
    if heuristic is not None:
        horizon = max(horizon, heuristic.makespan())
    for cal, has in zip(prep.calendars, prep.has_calendar, strict=True):
        if has and cal and cal[-1][1] < UNBOUNDED:
            horizon = max(horizon, cal[-1][1])
    return horizon


def _start_domain(cal, floor: int, duration: int, horizon: int) -> list[list[int]]:
    """Starts at which [start, start + duration) lies in one working interval."""
    out = []
    for a, b in cal:
        lo, hi = max(a, floor), min(b, horizon) - duration
        if lo <= hi:
            out.append([lo, hi])
    return out


class _Model:
    def __init__(self, prep: Prepared, horizon: int):
        self.prep = prep
        m = self.model = cp_model.CpModel()
        self.start: list = []
        self.end: list = []
        self.presence: list[list[tuple[int, int, object]]] = []  # (machine, duration, literal)
        per_machine: list[list] = [[] for _ in prep.machine_ids]
        setup = prep.setup_machine if prep.has_setups else [False] * len(prep.machine_ids)
        nodes: list[list[_Node]] = [[] for _ in prep.machine_ids]
        low = min([prep.now] + [op.fixed[1] for op in prep.ops if op.fixed is not None])
        for op in prep.ops:
            if op.fixed is not None:
                k, s, e = op.fixed
                self.start.append(s)
                self.end.append(e)
                self.presence.append([])
                per_machine[k].append(m.new_fixed_size_interval_var(s, e - s, f"fixed{op.index}"))
                if setup[k]:
                    nodes[k].append(_Node(op.index, op.family, s, e, fixed_in=True, fixed_out=True))
                continue
            domains = {
                k: _start_domain(prep.calendars[k], op.floor, d, horizon) for k, d in op.modes
            }
            modes = [(k, d) for k, d in op.modes if domains[k]]
            if not modes:
                raise NoScheduleError(
                    f"operation {op.id!r} fits no working interval in the horizon"
                )
            start = m.new_int_var(
                min(domains[k][0][0] for k, _ in modes),
                max(domains[k][-1][1] for k, _ in modes),
                f"s{op.index}",
            )
            low_end = min(d for _, d in modes) + op.floor
            end = m.new_int_var(low_end, horizon, f"e{op.index}")
            lits = []
            if any(setup[k] for k, _ in modes):
                for k, d in modes:
                    lit = True if len(modes) == 1 else m.new_bool_var(f"p{op.index}_{k}")
                    if setup[k]:
                        size = m.new_int_var(
                            d, d + prep.changeover_max_into(k, op.family), f"z{op.index}_{k}"
                        )
                        if lit is True:
                            interval = m.new_interval_var(start, size, end, "")
                        else:
                            interval = m.new_optional_interval_var(start, size, end, lit, "")
                        nodes[k].append(
                            _Node(
                                op.index,
                                op.family,
                                start,
                                end,
                                lit,
                                size,
                                d,
                                earliest=op.floor,
                                latest=horizon,
                            )
                        )
                    elif lit is True:
                        interval = m.new_fixed_size_interval_var(start, d, "")
                        m.add(end == start + d)
                    else:
                        interval = m.new_optional_fixed_size_interval_var(start, d, lit, "")
                        m.add(end == start + d).only_enforce_if(lit)
                    per_machine[k].append(interval)
                    lits.append((k, d, lit))
                if len(lits) > 1:
                    m.add_exactly_one(lit for _, _, lit in lits)
            elif len(modes) == 1:
                k, d = modes[0]
                per_machine[k].append(m.new_fixed_size_interval_var(start, d, f"i{op.index}"))
                m.add(end == start + d)
                lits.append((k, d, True))
            else:
                for k, d in modes:
                    lit = m.new_bool_var(f"p{op.index}_{k}")
                    per_machine[k].append(
                        m.new_optional_fixed_size_interval_var(start, d, lit, f"i{op.index}_{k}")
                    )
                    lits.append((k, d, lit))
                m.add_exactly_one(lit for _, _, lit in lits)
                m.add(end == start + sum(d * lit for _, d, lit in lits))
            self.start.append(start)
            self.end.append(end)
            self.presence.append(lits)
        self._add_gaps(per_machine, low, horizon)
        self.circuits = [
            _add_circuit(m, prep, k, on) for k, on in enumerate(nodes) if setup[k] and on
        ]
        for intervals in per_machine:
            if len(intervals) > 1:
                m.add_no_overlap(intervals)
        for op in prep.ops:
            for p in op.preds:
                if op.fixed is not None and prep.ops[p].fixed is not None:
                    continue
                m.add(self.end[p] <= self.start[op.index])

        sinks = [op.index for op in prep.ops if not op.succs]
        self.makespan = m.new_int_var(low, horizon, "makespan")
        m.add_max_equality(self.makespan, [self.end[i] for i in sinks] or [0])
        self.tardy: list[tuple[int, object]] = []
        for job in prep.jobs:
            if job.due is None or job.weight <= 0 or not job.ops:
                continue
            last = [
                i
                for i in job.ops
                if not any(prep.ops[s].job == job.index for s in prep.ops[i].succs)
            ]
            t = m.new_int_var(0, max(0, horizon - job.due), f"t{job.index}")
            for i in last:
                m.add(t >= self.end[i] - job.due)
            self.tardy.append((job.weight, t))
        self.weighted_tardiness = sum(w * t for w, t in self.tardy)

    def _add_gaps(self, per_machine: list[list], low: int, horizon: int) -> None:
        """Non-working time as fixed intervals in each machine's NoOverlap.

        Where a fixed operation sits in non-working time (it is exempt from the calendar),
        its own interval already blocks that stretch, so it is cut out of the gap.
        """
        prep = self.prep
        fixed_on: dict[int, list[Interval]] = {}
        for op in prep.ops:
            if op.fixed is not None:
                fixed_on.setdefault(op.fixed[0], []).append((op.fixed[1], op.fixed[2]))
        for k, cal in enumerate(prep.calendars):
            if not prep.has_calendar[k]:
                continue
            gaps = intervals_subtract([(low, horizon + 1)], cal)
            gaps = intervals_subtract(gaps, fixed_on.get(k, []))
            for n, (a, b) in enumerate(gaps):
                per_machine[k].append(
                    self.model.new_fixed_size_interval_var(a, b - a, f"off{k}_{n}")
                )

    def hint(self, sched: Schedule) -> None:
        m = self.model
        m.clear_hints()
        for op in self.prep.ops:
            if op.fixed is not None:
                continue
            i = op.index
            m.add_hint(self.start[i], sched.start[i])
            m.add_hint(self.end[i], sched.end[i])
            for k, _, lit in self.presence[i]:
                if not isinstance(lit, bool):
                    m.add_hint(lit, sched.machine[i] == k)
        for circuit in self.circuits:
            circuit.hint(m, sched)
        m.add_hint(self.makespan, max(sched.end, default=0))
        ends = sched.end
        for job, (_, t) in zip(
            [j for j in self.prep.jobs if j.due is not None and j.weight > 0 and j.ops],
            self.tardy,
            strict=True,
        ):
            m.add_hint(t, max(0, max(ends[i] for i in job.ops) - job.due))

    def read(self, solver: cp_model.CpSolver) -> Schedule:
        machine, start, end = [], [], []
        for op in self.prep.ops:
            if op.fixed is not None:
                k, s, e = op.fixed
            else:
                i = op.index
                s, e = solver.value(self.start[i]), solver.value(self.end[i])
                k = next(
                    k for k, _, lit in self.presence[i] if lit is True or solver.boolean_value(lit)
                )
            machine.append(k)
            start.append(s)
            end.append(e)
        return Schedule(machine=machine, start=start, end=end, rule="cp-sat")


# Above this many operations presolve probing is switched off: on a 1,440-operation plant
# with calendars it took the whole 10 s limit before the search (and the hint) could start.
PROBING_MAX_OPERATIONS = 500
PROBING_MAX_ARCS = 1_000  # the same for changeover circuits


def _solver(options: SolveOptions, seconds: float, operations: int = 0) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.05)
    # Auto: one worker per core but at least 4. On 2 cores, 4 interleaved workers (a wider
    # portfolio: more LNS kinds) reached ft10's optimum more often in 10 s than 2 workers.
    solver.parameters.num_workers = options.workers or max(4, os.cpu_count() or 1)
    solver.parameters.random_seed = options.seed
    solver.parameters.log_search_progress = options.log
    if operations > PROBING_MAX_OPERATIONS:
        solver.parameters.cp_model_probing_level = 0
    return solver


def cpsat_solve(prep: Prepared, heuristic: Schedule | None, options: SolveOptions) -> CpOutcome:
    """Run both phases within ``options.time_limit`` seconds of wall time."""
    deadline = time.monotonic() + options.time_limit
    too_large = len(prep.ops) > options.window_operations
    if (too_large or circuit_arcs(prep) > CIRCUIT_MAX_ARCS) and heuristic is not None:
        return _windows_improve(prep, heuristic, options, deadline)
    model = _Model(prep, horizon_for(prep, heuristic))
    best = heuristic
    found_any = False
    phases: list[str] = []

    def better(found: Schedule) -> bool:
        return best is None or schedule_key(prep, found) < schedule_key(prep, best)

    tardiness_bound = 0
    tardiness_proved = True
    if model.tardy:
        if heuristic is not None and prep.weighted_tardiness(heuristic.end) == 0:
            phases.append("tardiness: the heuristic reaches 0")
        else:
            model.model.minimize(model.weighted_tardiness)
            if best is not None:
                model.hint(best)
            solver = _solver(options, options.time_limit * options.tardiness_share, len(prep.ops))
            status = solver.solve(model.model)
            phases.append(f"tardiness: {solver.status_name(status)}")
            if status == cp_model.INFEASIBLE and best is None:
                raise NoScheduleError("no feasible schedule exists (CP-SAT proved it)")
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                found_any = True
                found = model.read(solver)
                if better(found):
                    best = found
                tardiness_bound = math.ceil(solver.best_objective_bound - 1e-6)
            tardiness_proved = status == cp_model.OPTIMAL
        if best is not None:
            # Lexicographic: the makespan phase may not give back any tardiness.
            cap = prep.weighted_tardiness(best.end)
            model.model.add(model.weighted_tardiness <= cap)
            if tardiness_proved:
                tardiness_bound = cap
        model.model.clear_objective()

    model.model.minimize(model.makespan)
    if best is not None:
        model.hint(best)
    solver = _solver(options, deadline - time.monotonic(), len(prep.ops))
    status = solver.solve(model.model)
    phases.append(f"makespan: {solver.status_name(status)}")
    if status == cp_model.INFEASIBLE and best is None:
        raise NoScheduleError("no feasible schedule exists (CP-SAT proved it)")
    makespan_bound = 0
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found_any = True
        found = model.read(solver)
        makespan_bound = math.ceil(solver.best_objective_bound - 1e-6)
        if better(found):
            best = found
    return CpOutcome(
        schedule=best,
        found=found_any,
        proved_optimal=tardiness_proved and status == cp_model.OPTIMAL,
        tardiness_bound=tardiness_bound,
        makespan_bound=makespan_bound,
        phases=phases,
    )


WINDOW_SIZE = 60  # operations re-optimised at a time (small windows, many tries: best measured)
WINDOW_SECONDS = 0.3  # at most, per window


@dataclass
class WindowModel:
    """A CP-SAT model of the operations in a window (each on one of its machines, after its
    predecessors), every other operation fixed where `sched` has it: the windows here and
    the neighbourhoods of the large-neighbourhood search (lns.py) both build it. The caller
    sets the objective; `tardy` holds (weight, tardiness) of the window's jobs with a due
    date. Nothing in the window may end after `hi`."""

    model: cp_model.CpModel
    window: list[int]
    start: dict
    end: dict
    lits_of: dict
    lo: int
    hi: int
    tardy: list
    circuits: list = None  # _Circuit per setup machine

    @property
    def probing(self) -> bool:
        """Whether presolve probing pays: not on many operations, nor on many circuit arcs
        (on a 79-operation window with 9,000 arcs it took seconds before the search)."""
        arcs = sum(len(c.arcs) for c in self.circuits or ())
        return len(self.window) <= PROBING_MAX_OPERATIONS and arcs <= PROBING_MAX_ARCS

    def hint(self, sched: Schedule) -> None:
        """Start from where `sched` has the window's operations."""
        for i in self.window:
            self.model.add_hint(self.start[i], sched.start[i])
            self.model.add_hint(self.end[i], sched.end[i])
            for k, _, lit in self.lits_of[i]:
                self.model.add_hint(lit, sched.machine[i] == k)
        for circuit in self.circuits or ():
            circuit.hint(self.model, sched)

    def schedule(self, solver: cp_model.CpSolver, sched: Schedule, rule: str) -> Schedule:
        """`sched` with the window's operations where the solver put them."""
        machine, starts, ends = list(sched.machine), list(sched.start), list(sched.end)
        for i in self.window:
            starts[i], ends[i] = solver.value(self.start[i]), solver.value(self.end[i])
            machine[i] = next(k for k, _, lit in self.lits_of[i] if solver.boolean_value(lit))
        return Schedule(machine=machine, start=starts, end=ends, rule=rule)


def window_model(prep: Prepared, sched: Schedule, window: list[int]) -> WindowModel:
    """The model of `window` in `sched` (see WindowModel)."""
    inside = set(window)
    hi = max(sched.end[i] for i in window)  # nothing in the window may end later than now
    m = cp_model.CpModel()
    start, end, lits_of = {}, {}, {}
    machines: set[int] = set()
    setup = prep.setup_machine if prep.has_setups else [False] * len(prep.machine_ids)
    reach: dict[int, tuple[int, int]] = {}  # earliest start and latest end in the window
    lo = hi
    for i in window:
        op = prep.ops[i]
        floor = max([op.floor] + [sched.end[p] for p in op.preds if p not in inside])
        latest = min([hi] + [sched.start[s] for s in op.succs if s not in inside])
        lo = min(lo, floor)
        reach[i] = (floor, latest)
        start[i] = m.new_int_var(floor, latest, f"s{i}")
        end[i] = m.new_int_var(floor, latest, f"e{i}")
        lits = []
        for k, d in op.modes:
            lit = m.new_bool_var(f"p{i}_{k}")
            lits.append((k, d, lit))
            machines.add(k)
        lits_of[i] = lits
        m.add_exactly_one(lit for _, _, lit in lits)
        if not any(setup[k] for k, _ in op.modes):
            m.add(end[i] == start[i] + sum(d * lit for _, d, lit in lits))
    for i in window:
        for p in prep.ops[i].preds:
            if p in inside:
                m.add(end[p] <= start[i])
    per_machine: dict[int, list] = {k: [] for k in machines}
    nodes: dict[int, list[_Node]] = {k: [] for k in machines if setup[k]}
    for i in window:
        op = prep.ops[i]
        for k, d, lit in lits_of[i]:
            if setup[k]:
                size = m.new_int_var(d, d + prep.changeover_max_into(k, op.family), "")
                per_machine[k].append(m.new_optional_interval_var(start[i], size, end[i], lit, ""))
                nodes[k].append(
                    _Node(
                        i,
                        op.family,
                        start[i],
                        end[i],
                        lit,
                        size,
                        d,
                        earliest=reach[i][0],
                        latest=reach[i][1],
                    )
                )
            else:
                per_machine[k].append(m.new_optional_fixed_size_interval_var(start[i], d, lit, ""))
                if any(setup[k] for k, _ in op.modes):
                    m.add(end[i] == start[i] + d).only_enforce_if(lit)
    if nodes:
        _kept_nodes(prep, sched, inside, reach, nodes)
    # Everything else on these machines in [lo, hi), plus non-working time, is blocked.
    blocked: dict[int, list[Interval]] = {k: [] for k in machines}
    for i, k in enumerate(sched.machine):
        if i not in inside and k in blocked and sched.start[i] < hi and sched.end[i] > lo:
            blocked[k].append((sched.start[i], sched.end[i]))
    for k in machines:
        if prep.has_calendar[k]:
            blocked[k] += intervals_subtract([(lo, hi)], prep.calendars[k])
        for a, b in intervals_merge(blocked[k]):
            per_machine[k].append(m.new_fixed_size_interval_var(a, b - a, ""))
        m.add_no_overlap(per_machine[k])
    circuits = [_add_circuit(m, prep, k, on) for k, on in nodes.items() if on]
    tardy = []
    for j in {prep.ops[i].job for i in window}:
        job = prep.jobs[j]
        if job.due is None or job.weight <= 0:
            continue
        rest = max((sched.end[i] for i in job.ops if i not in inside), default=0)
        floor = max(0, rest - job.due)
        t = m.new_int_var(floor, max(floor, hi - job.due), f"t{j}")
        for i in job.ops:
            if i in inside:
                m.add(t >= end[i] - job.due)
        tardy.append((job.weight, t))
        m.add_hint(t, max(floor, max(sched.end[i] for i in job.ops) - job.due))
    return WindowModel(m, list(window), start, end, lits_of, lo, hi, tardy, circuits)


def _kept_nodes(
    prep: Prepared,
    sched: Schedule,
    inside: set[int],
    reach: dict[int, tuple[int, int]],
    nodes: dict[int, list[_Node]],
) -> None:
    """Add to each setup machine's nodes the kept operations the window's ones may come next
    to: within the stretch of time the window's operations may take on that machine, plus
    the last kept one before it (first in the circuit) and the first one after it (last).
    They stay where they are; a kept free block keeps its changeover. Kept operations with
    less room between them than the shortest window operation needs are one node (a window
    operation can never go between them), which keeps the circuits small."""
    kept_on: dict[int, list[int]] = {k: [] for k in nodes}
    for i, k in enumerate(sched.machine):
        if k in kept_on and i not in inside:
            kept_on[k].append(i)
    for k, on in nodes.items():
        # Only the window's operations are nodes yet.
        lo = min(reach[n.op][0] for n in on)
        hi = max(reach[n.op][1] for n in on)
        gap = min(n.duration for n in on)
        before = after = None
        within = []
        for i in kept_on[k]:
            s, e = sched.start[i], sched.end[i]
            if e <= lo:
                if before is None or (sched.start[before], before) < (s, i):
                    before = i
            elif s >= hi:
                if after is None or (sched.start[after], after) > (s, i):
                    after = i
            else:
                within.append(i)
        within.sort(key=lambda i: (sched.start[i], i))
        sequence = [i for i in [before, *within, after] if i is not None]
        runs: list[list[int]] = []
        for i in sequence:
            if runs and sched.start[i] - sched.end[runs[-1][-1]] < gap:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            head, tail = prep.ops[run[0]], prep.ops[run[-1]]
            entry = None
            if head.fixed is None:
                entry = sched.end[head.index] - sched.start[head.index] - head.duration[k]
            on.append(
                _Node(
                    head.index,
                    head.family,
                    sched.start[head.index],
                    sched.end[tail.index],
                    entry=entry,
                    fixed_in=head.fixed is not None,
                    fixed_out=tail.fixed is not None,
                    exit_family=tail.family,
                    first=before is not None and before in run,
                    last=after is not None and after in run,
                )
            )


def _window_solve(
    prep: Prepared, sched: Schedule, window: list[int], options: SolveOptions, seconds: float
) -> Schedule | None:
    """Re-optimise the operations in ``window``; every other operation stays where it is."""
    w = window_model(prep, sched, window)
    # One minute of weighted tardiness outweighs any change in the sum of ends.
    big = len(window) * (w.hi - w.lo + 1) + 1
    w.model.minimize(big * sum(wt * t for wt, t in w.tardy) + sum(w.end.values()))
    w.hint(sched)
    solver = _solver(options, seconds)
    if not w.probing:
        solver.parameters.cp_model_probing_level = 0
    status = solver.solve(w.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return w.schedule(solver, sched, "cp-sat windows")


def _jobs_window(prep: Prepared, sched: Schedule, rng: random.Random, size: int) -> list[int]:
    """Free operations of some late jobs (by weighted tardiness) and of jobs with slack."""
    late, early = [], []
    for job in prep.jobs:
        if job.due is None or job.weight <= 0:
            continue
        lateness = max(sched.end[i] for i in job.ops) - job.due if job.ops else 0
        (late if lateness > 0 else early).append((job.weight * max(lateness, 0), job.index))
    if not late:
        return []
    late.sort(reverse=True)
    per_job = max(1, len(prep.ops) // max(1, len(prep.jobs)))
    count = max(1, size // per_job)
    # Mostly late jobs (they trade places by weight), a few with slack to make room.
    pool = [j for _, j in late[: max(2 * count, len(late) // 4)]]
    chosen = rng.sample(pool, min(len(pool), count - count // 4))
    chosen += rng.sample([j for _, j in early], min(len(early), count // 4))
    window = [i for j in chosen for i in prep.jobs[j].ops if prep.ops[i].fixed is None]
    return window[:size]


def _windows_improve(
    prep: Prepared, heuristic: Schedule, options: SolveOptions, deadline: float
) -> CpOutcome:
    def key(s: Schedule) -> tuple[int, int, int]:
        return (*schedule_key(prep, s), sum(s.end))

    rng = random.Random(options.seed)
    best = heuristic
    free = [op.index for op in prep.ops if op.fixed is None]
    windows = accepted = 0
    found = False
    position = 0
    while free and time.monotonic() < deadline - 0.2:
        # Alternate: late jobs with jobs that have slack (tardiness), then a slice of time
        # (pulls operations earlier, which opens room for the next windows).
        window = _jobs_window(prep, best, rng, WINDOW_SIZE) if windows % 2 == 0 else []
        if not window:
            order = sorted(free, key=lambda i: (best.start[i], i))
            if position >= len(order):
                position = 0
                best = schedule_compact(prep, best)
            window = order[position : position + WINDOW_SIZE]
            position += WINDOW_SIZE // 2
        seconds = min(WINDOW_SECONDS, deadline - time.monotonic())
        candidate = _window_solve(prep, best, window, options, seconds)
        windows += 1
        if candidate is not None:
            found = True
            if key(candidate) < key(best):
                best = candidate
                accepted += 1
    best = schedule_compact(prep, best)
    return CpOutcome(
        schedule=best,
        found=found,
        proved_optimal=False,
        tardiness_bound=0,
        makespan_bound=0,
        phases=[f"windows: {windows} solved, {accepted} improved"],
    )
