"""The engine's entry points: `schedule_solve` and `problem_reschedule`."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable

from .checker import schedule_check
from .cpsat import cpsat_solve, horizon_for
from .heuristic import Schedule, heuristic_best, schedule_compact, schedule_key
from .lns import lns_solve
from .model import (
    Assignment,
    Key,
    NoScheduleError,
    Placement,
    Problem,
    ProblemError,
    ScheduleResult,
    SolveOptions,
    Status,
)
from .prepared import Prepared, problem_prepare
from .tabu import tabu_applies, tabu_search


def _assignments(prep: Prepared, sched: Schedule) -> tuple[Assignment, ...]:
    return tuple(
        Assignment(
            op_id=op.id,
            job=prep.jobs[op.job].id,
            op_index=op.op_index,
            machine=prep.machine_ids[sched.machine[op.index]],
            start=sched.start[op.index],
            end=sched.end[op.index],
        )
        for op in prep.ops
    )


def hybrid_applies(prep: Prepared, options: SolveOptions) -> bool:
    """A mid-size classic job shop: tabu search, then CP-SAT on the whole model (`SolveOptions`)."""
    return (
        options.hybrid_tabu_share > 0
        and options.lns_min_operations <= len(prep.ops) <= options.hybrid_max_operations
        and tabu_applies(prep)
    )


def schedule_solve(problem: Problem, options: SolveOptions | None = None) -> ScheduleResult:
    """A feasible schedule for the problem: CP-SAT seeded by the heuristic, or the heuristic.

    Raises `ProblemError` for a malformed problem and `NoScheduleError` when no feasible
    schedule was found (calendars too short for the work, a frozen operation that leaves no
    room for its free predecessors, ...). Every schedule returned has passed `schedule_check`.
    """
    options = options or SolveOptions()
    began = time.monotonic()
    prep = problem_prepare(problem)
    notes = list(prep.notes)
    heuristic = heuristic_best(prep)
    if heuristic is None:
        notes.append("the dispatching heuristic could not place every operation")
    else:
        heuristic = schedule_compact(prep, heuristic)
    tardiness_bound, makespan_bound = prep.lower_bounds()

    best, status = heuristic, Status.HEURISTIC
    use_cpsat = options.use_cpsat and options.time_limit > 0
    if len(prep.ops) > options.max_cpsat_operations:
        if heuristic is not None:
            use_cpsat = False
            notes.append(
                f"{len(prep.ops)} operations is above the CP-SAT threshold "
                f"({options.max_cpsat_operations}): heuristic schedule"
            )
        elif use_cpsat:
            # No dispatching rule placed every operation: CP-SAT on the whole model is the
            # only way left to a plan, however large.
            notes.append(
                f"{len(prep.ops)} operations is above the CP-SAT threshold "
                f"({options.max_cpsat_operations}), but no dispatching rule placed every "
                "operation: CP-SAT on the whole model"
            )
    # The limit counts from the call: keep back what compaction and the checker need.
    reserve = 0.05 + 20e-6 * len(prep.ops)
    hybrid = use_cpsat and heuristic is not None and hybrid_applies(prep, options)
    use_lns = options.lns and len(prep.ops) >= options.lns_min_operations and not hybrid
    if use_cpsat and prep.ops and use_lns and heuristic is not None:
        deadline = began + options.time_limit - reserve
        lns = lns_solve(prep, heuristic, options, deadline, horizon_for(prep, heuristic))
        notes.extend(lns.notes)
        if lns.improved or lns.proved_optimal:
            best = lns.schedule
            status = Status.OPTIMAL if lns.proved_optimal else Status.FEASIBLE
        tardiness_bound = max(tardiness_bound, lns.tardiness_bound)
        makespan_bound = max(makespan_bound, lns.makespan_bound)
    elif use_cpsat and prep.ops:
        start, cp_options = heuristic, options
        if hybrid:
            # A mid-size classic job shop: the tabu search finds a good schedule within a
            # second, then CP-SAT's own portfolio works on the whole model from it.
            found, moves = tabu_search(
                prep,
                heuristic,
                began + options.hybrid_tabu_share * options.time_limit,
                options.seed,
            )
            notes.append(f"tabu search: {moves} moves, then CP-SAT on the whole model")
            if schedule_key(prep, found) < schedule_key(prep, heuristic):
                start = best = found
                status = Status.FEASIBLE
            remaining = options.time_limit - (time.monotonic() - began) - reserve
            cp_options = dataclasses.replace(
                options,
                time_limit=max(remaining, 0.05),
                workers=options.workers or options.hybrid_workers or os.cpu_count() or 1,
            )
        outcome = cpsat_solve(prep, start, cp_options)
        notes.extend(outcome.phases)
        if outcome.found and (
            best is None or schedule_key(prep, outcome.schedule) <= schedule_key(prep, best)
        ):
            best = outcome.schedule
            status = Status.OPTIMAL if outcome.proved_optimal else Status.FEASIBLE
        tardiness_bound = max(tardiness_bound, outcome.tardiness_bound)
        makespan_bound = max(makespan_bound, outcome.makespan_bound)
    if best is None:
        raise NoScheduleError(
            "no feasible schedule found: "
            + ("; ".join(notes) or "the heuristic could not place every operation")
        )
    if best is not heuristic:
        best = schedule_compact(prep, best)

    assignments = _assignments(prep, best)
    errors = schedule_check(problem, assignments)
    if errors and best is not heuristic and heuristic is not None:
        # Belt and braces: a schedule the independent checker rejects is never returned.
        notes.append(f"CP-SAT schedule rejected by the checker ({errors[0]}); heuristic kept")
        best, status = heuristic, Status.HEURISTIC
        assignments = _assignments(prep, best)
        errors = schedule_check(problem, assignments)
    if errors:
        raise RuntimeError(f"internal error, infeasible schedule: {errors[:3]}")

    weighted_tardiness, makespan = schedule_key(prep, best)
    if status == Status.FEASIBLE and (weighted_tardiness, makespan) == (
        tardiness_bound,
        makespan_bound,
    ):
        status = Status.OPTIMAL  # both objectives meet their lower bounds: nothing is better
    heuristic_key = schedule_key(prep, heuristic) if heuristic is not None else (None, None)
    primary = "weighted_tardiness" if prep.has_due_dates else "makespan"
    return ScheduleResult(
        status=status,
        assignments=assignments,
        weighted_tardiness=weighted_tardiness,
        makespan=makespan,
        objective=primary,
        bound=tardiness_bound if primary == "weighted_tardiness" else makespan_bound,
        tardiness_bound=tardiness_bound,
        makespan_bound=makespan_bound,
        heuristic_weighted_tardiness=heuristic_key[0],
        heuristic_makespan=heuristic_key[1],
        heuristic_rule=heuristic.rule if heuristic is not None else "",
        wall_time=time.monotonic() - began,
        notes=tuple(notes),
    )


def problem_reschedule(
    problem: Problem,
    previous: Iterable[Assignment],
    *,
    now: int,
    frozen: Iterable[Key] = (),
) -> Problem:
    """The problem for rescheduling at ``now`` from a previous schedule.

    Operations the previous schedule started before ``now`` (they are running or done), and
    those named in ``frozen``, become fixed at their previous machine and start; every other
    operation is free again and may not start before ``now``. Operations already finished
    and reported should be left out of ``problem`` by the caller; operations that already
    carry ``fixed`` keep it.
    """
    placed = {a.op_id: a for a in previous}
    frozen = set(frozen)
    missing = frozen - placed.keys()
    if missing:
        raise ProblemError(
            f"frozen operations not in the previous schedule: {sorted(map(str, missing))}"
        )
    jobs = []
    for job in problem.jobs:
        ops = []
        for op in job.operations:
            before = placed.get(op.id)
            if op.fixed is None and before is not None and (before.start < now or op.id in frozen):
                op = dataclasses.replace(op, fixed=Placement(before.machine, before.start))
            ops.append(op)
        jobs.append(dataclasses.replace(job, operations=tuple(ops)))
    return dataclasses.replace(problem, jobs=tuple(jobs), now=now)
