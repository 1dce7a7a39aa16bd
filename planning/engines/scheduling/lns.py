"""Large-neighbourhood search (LNS) around CP-SAT, with an optional full-model CP-SAT run.

Plain CP-SAT on the whole model is exact on small problems, but on many jobs and machines
its own search spends the time limit on a model it cannot explore. LNS keeps a complete
schedule at all times and improves it piece by piece:

1. Start from the best of the dispatching rules (`heuristic.heuristic_best`), improved on
   classic job shops by the tabu search of `tabu` (N5 moves on the critical path), which
   takes ``SolveOptions.tabu_share`` of the time.
2. Repeat until the deadline: choose a *neighbourhood* (a set of operations to relax), keep
   every other operation exactly where it is, and let CP-SAT re-solve the relaxed
   operations for a short time in a small model of their own, hinted with the current
   schedule (`_Search.solve`). A result that is better lexicographically (weighted
   tardiness, then makespan, then the sum of the operations' ends) replaces the current
   schedule after a left shift, which turns the neighbourhood's gains into earlier starts
   for the operations after it. (A model of the whole plan with the kept operations only
   ordered was tried first: a stronger neighbourhood, but CP-SAT's presolve took 0.2-0.5 s
   per solve at 750 operations.)
3. Optionally (``lns_bound_workers`` > 0) a second thread runs CP-SAT on the full model (the
   *bound run*): it proves lower bounds (and, on small problems, optimality, which ends the
   search) and its solutions are taken when they are better. Off by default: on 2 cores
   the search alone did better (bench/README.md).

Neighbourhoods, chosen adaptively (each one's weight is a moving average of its rewards: a
better tardiness or makespan counts far more than a left shift; every kind keeps a floor so
none starves):

* ``machines``: every operation on a few random machines (re-sequence whole machines);
* ``window``: the operations that start in a random stretch of time;
* ``critical``: the jobs of a stretch of the critical path (a chain of operations with no
  slack that ends at the makespan, or at the completion of the most costly late job);
* ``related``: operations close in time to a random operation, on the machines its job
  visits (they compete for the same machines at the same time);
* ``late``: late jobs (costliest first, at random) with a few jobs that have slack.

Size adapts per neighbourhood, as in CP-SAT's own LNS: when CP-SAT solves a neighbourhood to
optimality within its short limit the next one of that kind is larger, otherwise smaller.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .cpsat import CIRCUIT_MAX_ARCS, _Model, circuit_arcs, window_model
from .heuristic import Schedule, schedule_compact
from .model import SolveOptions
from .prepared import Prepared
from .priority import RULES as PRIORITY_RULES
from .priority import priority_applies, priority_search
from .tabu import tabu_applies, tabu_search

NEIGHBOURHOODS = ("machines", "window", "critical", "related", "late")
MIN_RELAXED = 4  # operations: below this a neighbourhood cannot change anything useful
# Operations relaxed at once: start at a tenth of the free operations but at most
# SIZE_START (CP-SAT solves ~60 operations with their modes well within a fraction of a
# second), then adapt between MIN_RELAXED and SIZE_MAX.
SIZE_START = 60
# With changeovers the window models hold a circuit per setup machine (O(n^2) arcs): start
# smaller, and let ``machines`` re-sequence a stretch of each machine rather than all of it.
SIZE_START_SETUPS = 20
COMPACT_ALWAYS_OPERATIONS = 2_000
COMPACT_EVERY = 10
SIZE_MAX = 600


@dataclass
class LnsStats:
    tried: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NEIGHBOURHOODS, 0))
    improved: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NEIGHBOURHOODS, 0))
    bound_solutions_taken: int = 0

    def summary(self) -> str:
        parts = [f"{n} {self.improved[n]}/{self.tried[n]}" for n in NEIGHBOURHOODS]
        return (
            f"LNS: {sum(self.tried.values())} neighbourhoods solved, "
            f"{sum(self.improved.values())} improved ({', '.join(parts)}); "
            f"{self.bound_solutions_taken} solutions taken from the full-model run"
        )


@dataclass
class LnsOutcome:
    schedule: Schedule
    improved: bool
    proved_optimal: bool
    tardiness_bound: int
    makespan_bound: int
    notes: list[str]


def lns_key(prep: Prepared, sched: Schedule) -> tuple[int, int, int]:
    """(weighted tardiness, makespan, sum of the operations' ends): lower is better."""
    return prep.weighted_tardiness(sched.end), sched.makespan(), sum(sched.end)


def critical_path(prep: Prepared, sched: Schedule, rng: random.Random, target: int) -> list[int]:
    """Operations on a chain without slack that ends at operation ``target``.

    Walking back from ``target``, the next link is an operation that ends exactly when the
    current one starts, either its predecessor in the routing or the one before it on its
    machine (ties broken at random). The walk stops at an operation that could not start
    earlier for neither reason (a release, ``now``, a calendar break, a fixed operation).
    """
    by_machine: dict[int, list[int]] = {}
    for i in range(len(prep.ops)):
        by_machine.setdefault(sched.machine[i], []).append(i)
    before: dict[int, int] = {}
    for ops in by_machine.values():
        ops.sort(key=lambda i: (sched.start[i], sched.end[i]))
        for a, b in zip(ops, ops[1:], strict=False):
            before[b] = a
    path = [target]
    seen = {target}
    i = target
    while True:
        links = [p for p in prep.ops[i].preds if sched.end[p] == sched.start[i]]
        m = before.get(i)
        if m is not None and sched.end[m] == sched.start[i]:
            links.append(m)
        links = [j for j in links if j not in seen and prep.ops[j].fixed is None]
        if not links:
            return path
        i = rng.choice(links)
        seen.add(i)
        path.append(i)


def _hint(model, base, prep: Prepared, sched: Schedule, free: list[int]) -> None:
    """A complete hint (every variable) from ``sched``: CP-SAT then starts from it at once."""
    model.clear_hints()
    for i in free:
        model.add_hint(base.start[i], sched.start[i])
        model.add_hint(base.end[i], sched.end[i])
        for k, _, p in base.presence[i]:
            if not isinstance(p, bool):
                model.add_hint(p, sched.machine[i] == k)
    for circuit in base.circuits:
        circuit.hint(model, sched)
    model.add_hint(base.makespan, max(sched.end, default=0))
    tardy_jobs = [j for j in prep.jobs if j.due is not None and j.weight > 0 and j.ops]
    for job, (_, t) in zip(tardy_jobs, base.tardy, strict=True):
        model.add_hint(t, max(0, max(sched.end[i] for i in job.ops) - job.due))


class _Search:
    """One LNS run: the base model, the current schedule and the adaptive statistics."""

    def __init__(self, prep: Prepared, start: Schedule, options: SolveOptions, horizon: int):
        self.prep = prep
        self.options = options
        self.rng = random.Random(options.seed)
        self.horizon = horizon
        self.scale = horizon + 1  # a minute of weighted tardiness outweighs any makespan
        self.base: _Model | None = None
        if (
            options.lns_bound_workers > 0
            and len(prep.ops) <= options.lns_bound_max_operations
            and circuit_arcs(prep) <= CIRCUIT_MAX_ARCS
        ):
            # The full model, for the bound run only (neighbourhoods get small models).
            m = self.base = _Model(prep, horizon)
            objective = m.makespan
            if m.tardy:
                objective = self.scale * m.weighted_tardiness + m.makespan
            m.model.minimize(objective)
        self.free = [op.index for op in prep.ops if op.fixed is None]
        self.current = start
        self.key = lns_key(prep, start)
        start_size = SIZE_START_SETUPS if prep.has_setups else SIZE_START
        first = float(min(start_size, max(MIN_RELAXED, len(self.free) // 10)))
        self.size = dict.fromkeys(NEIGHBOURHOODS, first)
        self.score = dict.fromkeys(NEIGHBOURHOODS, 1.0)
        if not prep.has_due_dates:
            self.score["late"] = 0.0  # nothing is late without due dates
        self.stats = LnsStats()
        self.lock = threading.Lock()

    # --- neighbourhoods ---------------------------------------------------------------------

    def _count(self, kind: str) -> int:
        return max(MIN_RELAXED, int(self.size[kind]))

    def neighbourhood(self, kind: str) -> set[int]:
        sched, rng, prep = self.current, self.rng, self.prep
        count = self._count(kind)
        if count >= len(self.free):
            return set(self.free)
        if kind == "machines":
            machines = list({sched.machine[i] for i in self.free})
            rng.shuffle(machines)
            per_machine: dict[int, list[int]] = {}
            for i in self.free:
                per_machine.setdefault(sched.machine[i], []).append(i)
            chosen: set[int] = set()
            for k in machines:
                if len(chosen) >= count:
                    break
                on_k = per_machine[k]
                take = max(MIN_RELAXED, count - len(chosen))
                if prep.has_setups and len(on_k) > take:
                    on_k.sort(key=lambda i: (sched.start[i], i))
                    first = rng.randrange(len(on_k) - take + 1)
                    on_k = on_k[first : first + take]
                chosen.update(on_k)
            return chosen
        if kind == "window":
            order = sorted(self.free, key=lambda i: (sched.start[i], i))
            first = rng.randrange(max(1, len(order) - count + 1))
            return set(order[first : first + count])
        if kind == "critical":
            target = self._critical_target()
            path = critical_path(prep, sched, rng, target)
            first = rng.randrange(len(path))
            jobs: list[int] = []
            for i in path[first:] + path[:first]:
                if prep.ops[i].job not in jobs:
                    jobs.append(prep.ops[i].job)
            chosen = set()
            for j in jobs:
                if len(chosen) >= count:
                    break
                chosen.update(i for i in prep.jobs[j].ops if prep.ops[i].fixed is None)
            return chosen
        if kind == "late":
            return self._late(count)
        # related: close in time to a seed operation, on the machines its job visits
        seed = rng.choice(self.free)
        machines = {sched.machine[i] for i in prep.jobs[prep.ops[seed].job].ops}
        t = sched.start[seed]
        near = sorted(
            (i for i in self.free if sched.machine[i] in machines),
            key=lambda i: abs(sched.start[i] - t),
        )
        return set(near[:count])

    def _late(self, count: int) -> set[int]:
        """Operations of late jobs (costliest first, at random) and a few jobs with slack.

        Late jobs trade places by weight; the jobs with slack make room for them.
        """
        prep, sched, rng = self.prep, self.current, self.rng
        late, early = [], []
        for job in prep.jobs:
            if job.due is None or job.weight <= 0 or not job.ops:
                continue
            lateness = max(sched.end[i] for i in job.ops) - job.due
            (late if lateness > 0 else early).append((job.weight * max(lateness, 0), job.index))
        if not late:
            return set()
        late.sort(reverse=True)
        per_job = max(1, len(prep.ops) // max(1, len(prep.jobs)))
        jobs = max(1, count // per_job)
        pool = [j for _, j in late[: max(2 * jobs, len(late) // 4)]]
        chosen = rng.sample(pool, min(len(pool), jobs - jobs // 4))
        chosen += rng.sample([j for _, j in early], min(len(early), jobs // 4))
        return {i for j in chosen for i in prep.jobs[j].ops if prep.ops[i].fixed is None}

    def _critical_target(self) -> int:
        """The operation whose end sets the objective: the costliest late job's, or the last."""
        prep, sched = self.prep, self.current
        worst, target = 0, None
        for job in prep.jobs:
            if job.due is None or job.weight <= 0 or not job.ops:
                continue
            last = max(job.ops, key=lambda i: sched.end[i])
            cost = job.weight * (sched.end[last] - job.due)
            if cost > worst and self.rng.random() < 0.5:
                worst, target = cost, last
        if target is None:
            target = max(range(len(prep.ops)), key=lambda i: (sched.end[i], i))
        return target

    def choose(self) -> str:
        total = sum(self.score.values())
        pick = self.rng.random() * total
        for kind in NEIGHBOURHOODS:
            pick -= self.score[kind]
            if pick <= 0:
                return kind
        return NEIGHBOURHOODS[-1]

    # --- one neighbourhood solve ------------------------------------------------------------

    def solve(
        self, relaxed: set[int], seconds: float, workers: int
    ) -> tuple[Schedule | None, bool]:
        """(the neighbourhood's best schedule or None, whether CP-SAT proved it optimal).

        The model holds only the relaxed operations: every other operation stays where it is
        and blocks its machine, calendars block their breaks, and a relaxed operation may
        not end later than the latest end among them (so neither objective can get worse).
        Minimised: the relaxed jobs' weighted tardiness, then the latest end among the
        relaxed operations, then the sum of their ends (left-shifting, which the compaction
        after each accepted neighbourhood turns into earlier starts for their successors).
        """
        prep, sched = self.prep, self.current
        window = sorted(relaxed)
        w = window_model(prep, sched, window)
        m, end, lo, hi = w.model, w.end, w.lo, w.hi
        latest_end = m.new_int_var(lo, hi, "")
        m.add_max_equality(latest_end, list(end.values()))
        spread = len(window) * (hi - lo + 1) + 1  # above any change in the sum of ends
        objective = spread * latest_end + sum(end.values())
        if w.tardy:
            objective += spread * (hi - lo + 1) * sum(wt * t for wt, t in w.tardy)
        m.minimize(objective)
        w.hint(sched)
        m.add_hint(latest_end, hi)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(seconds, 0.02)
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = self.rng.randrange(1 << 30)
        if not w.probing:
            solver.parameters.cp_model_probing_level = 0
        status = solver.solve(m)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, False
        return w.schedule(solver, sched, "lns"), status == cp_model.OPTIMAL

    def offer(self, sched: Schedule, compact: bool = True) -> bool:
        """Take ``sched`` if it is better than the current schedule.

        Compaction (every operation as early as its machine order allows) turns a
        neighbourhood's left shift into earlier starts downstream. It costs a pass over the
        whole plan (0.1 s at 8,000 operations), so large plans are compacted every
        COMPACT_EVERY accepted neighbourhoods, small ones every time.
        """
        if compact:
            sched = schedule_compact(self.prep, sched)
        key = lns_key(self.prep, sched)
        with self.lock:
            if key < self.key:
                self.current, self.key = sched, key
                return True
        return False


class _BoundRun(cp_model.CpSolverSolutionCallback):
    """CP-SAT on the full model in a thread: lower bounds, and solutions for the search."""

    def __init__(self, search: _Search, seconds: float, workers: int):
        super().__init__()
        self.search = search
        self.solutions: list[Schedule] = []
        self.solver = cp_model.CpSolver()
        self.solver.parameters.max_time_in_seconds = max(seconds, 0.05)
        self.solver.parameters.num_workers = workers
        self.solver.parameters.random_seed = search.options.seed
        if len(search.prep.ops) > 500:
            self.solver.parameters.cp_model_probing_level = 0
        self.status = cp_model.UNKNOWN
        self.done = threading.Event()
        self.model = search.base.model.clone()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def on_solution_callback(self) -> None:
        base = self.search.base
        machine, start, end = [], [], []
        for op in self.search.prep.ops:
            if op.fixed is not None:
                k, s, e = op.fixed
            else:
                i = op.index
                s, e = self.value(base.start[i]), self.value(base.end[i])
                k = next(k for k, _, p in base.presence[i] if p is True or self.boolean_value(p))
            machine.append(k)
            start.append(s)
            end.append(e)
        self.solutions.append(Schedule(machine, start, end, rule="cp-sat"))

    def _run(self) -> None:
        search = self.search
        _hint(self.model, search.base, search.prep, search.current, search.free)
        try:
            self.status = self.solver.solve(self.model, self)
        finally:
            self.done.set()

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float) -> bool:
        """Stop the run; False if it has not stopped within `timeout` seconds (its thread
        then ends at its own time limit, and its status and bound are not read)."""
        self.solver.stop_search()
        self.thread.join(max(timeout, 0.05))
        return not self.thread.is_alive()

    def bounds(self) -> tuple[int, int]:
        """(weighted tardiness bound, makespan bound) from the run's objective bound."""
        if self.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return 0, 0
        bound = math.ceil(self.solver.best_objective_bound - 1e-6)
        if self.search.base.tardy:
            # objective = scale * tardiness + makespan with makespan <= horizon < scale
            search = self.search
            return max(0, -(-(bound - search.horizon) // search.scale)), 0
        return 0, bound


def lns_solve(
    prep: Prepared, start: Schedule, options: SolveOptions, deadline: float, horizon: int
) -> LnsOutcome:
    """Improve ``start`` until ``deadline`` (a `time.monotonic()` instant)."""
    search = _Search(prep, start, options, horizon)
    first = search.key
    bound_workers = options.lns_bound_workers
    lns_workers = max(1, options.lns_workers)
    bound = None
    if search.base is not None:
        bound = _BoundRun(search, deadline - time.monotonic(), bound_workers)
        bound.start()
    seconds = options.lns_seconds
    taken = 0
    tabu_moves = 0
    accepted = 0
    whole_proved = False
    if options.tabu_share > 0 and tabu_applies(prep):
        now = time.monotonic()
        found, tabu_moves = tabu_search(
            prep,
            search.current,
            now + options.tabu_share * (deadline - now),
            options.seed,
            stop=None if bound is None else bound.done.is_set,
        )
        search.offer(found)
    priority_passes = 0
    # The priority search re-runs the serial due-date rules with offsets: it can only help
    # when one of them gave the first plan. A non-delay first plan was better than both
    # (bench/README.md, (a) at 30 s: the search then gained −0.1 to −0.5 %, the LNS alone
    # −2.3 to −6.3 %), so the LNS gets the whole time.
    if (
        options.priority_share > 0
        and priority_applies(prep)
        and search.current.rule in PRIORITY_RULES
    ):
        now = time.monotonic()
        found, priority_passes = priority_search(
            prep, search.current, now + options.priority_share * (deadline - now), options.seed
        )
        search.offer(found)
    while search.free and time.monotonic() < deadline - 0.02:
        if bound is not None:
            if bound.done.is_set() and bound.status == cp_model.OPTIMAL:
                break
            while taken < len(bound.solutions):
                if search.offer(bound.solutions[taken]):
                    search.stats.bound_solutions_taken += 1
                taken += 1
        kind = search.choose()
        relaxed = search.neighbourhood(kind)
        if not relaxed:  # e.g. no late job left: try that kind less often
            search.score[kind] *= 0.5
            continue
        limit = min(seconds, deadline - time.monotonic())
        if limit <= 0.02:
            break
        found, optimal = search.solve(relaxed, limit, lns_workers)
        search.stats.tried[kind] += 1
        compact = len(prep.ops) <= COMPACT_ALWAYS_OPERATIONS or accepted % COMPACT_EVERY == 0
        before = search.key
        better = found is not None and search.offer(found, compact)
        accepted += better
        if better:
            search.stats.improved[kind] += 1
        # Adaptive choice: a moving average of success, with a floor so no kind starves.
        # Reward a better objective (tardiness or makespan) far above a mere left shift.
        reward = 0.0 if not better else 4.0 if search.key[:2] < before[:2] else 0.5
        search.score[kind] = max(0.1, 0.8 * search.score[kind] + 0.2 * reward)
        # Adaptive size: grow what CP-SAT explores completely, shrink what it cannot.
        if optimal and len(relaxed) == len(search.free):
            # Everything was relaxed and CP-SAT proved it: nothing is left to search.
            # Without due dates that is a proof of the optimal makespan.
            whole_proved = found is not None and not prep.has_due_dates
            break
        factor = 1.1 if optimal else 0.93
        search.size[kind] = min(SIZE_MAX, max(MIN_RELAXED, search.size[kind] * factor))
    proved = whole_proved
    tardiness_bound = makespan_bound = 0
    if proved:
        makespan_bound = search.key[1]
    notes = []
    if bound is not None and not bound.stop(deadline - time.monotonic() + 0.1):
        notes.append("full-model CP-SAT: still stopping at the deadline, left out")
        bound = None
    if bound is not None:
        for sched in bound.solutions[taken:]:
            if search.offer(sched):
                search.stats.bound_solutions_taken += 1
        run_tardiness, run_makespan = bound.bounds()
        tardiness_bound = max(tardiness_bound, run_tardiness)
        makespan_bound = max(makespan_bound, run_makespan)
        name = bound.solver.status_name(bound.status)
        notes.append(f"full-model CP-SAT ({bound_workers} worker): {name}")
        if bound.status == cp_model.OPTIMAL:
            proved = True
            wt, makespan, _ = search.key
            tardiness_bound, makespan_bound = wt, makespan
    if tabu_moves:
        notes.append(f"tabu search: {tabu_moves} moves")
    if priority_passes:
        notes.append(f"priority search: {priority_passes} schedules generated")
    notes.append(search.stats.summary())
    return LnsOutcome(
        schedule=search.current,
        improved=search.key < first,
        proved_optimal=proved,
        tardiness_bound=tardiness_bound,
        makespan_bound=makespan_bound,
        notes=notes,
    )
