"""Benchmark of the finite-capacity scheduling engine (prints figures; not part of pytest).

(a) A plant-sized random problem: 1,000 orders x 8 operations on 50 machines, routings with
    2-3 alternative machines per operation (each with its own setup and run time), two
    shifts a day on weekdays with maintenance windows, release and due dates. Reports the
    time to the first feasible schedule (the dispatching heuristic), and what CP-SAT makes of
    it within the time limit: weighted tardiness and makespan of both.
(b) Job-shop instances from bench/data at a 10 s limit: makespan, bound and the gap to the
    published optimum.
(c) The job-shop table by size class (10x10 to 100x20, at least 3 instances each; Taillard's
    instances from bench/taillard.py): gap to the best-known makespan at a 10 s limit for
    `schedule_solve` and for plain OR-Tools CP-SAT (default parameters, no hint), measured
    one after the other in the same run; then the worker split on one instance per large
    class (search + a one-worker full-model CP-SAT run, against the search alone).

Every figure is printed with the load average of the host when it was taken: the machine is
shared, and CP-SAT and the search get less CPU than the limit suggests when it is loaded.

Run from the repository root:

    .venv/bin/python bench/scheduling_bench.py [--time-limit 30] [--workers 0] [--only a|b|c]
        [--runs 3] [--classes 15x15 ...] [--families 6 --changeover 30]

``--families N`` gives (a)'s operations one of N setup families at random and every machine
``--changeover`` minutes between two families (sequence-dependent setups); (a) then also
prints the minutes spent in changeovers by the heuristic and by the final schedule.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from pathlib import Path

from ortools.sat.python import cp_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planning.engines.scheduling import (  # noqa: E402
    Job,
    Machine,
    Mode,
    Operation,
    Problem,
    SolveOptions,
    schedule_changeover_minutes,
    schedule_check,
    schedule_solve,
)
from planning.engines.scheduling.calendar import calendar_repeat  # noqa: E402
from planning.engines.scheduling.heuristic import heuristic_best, schedule_key  # noqa: E402
from planning.engines.scheduling.io import problem_load  # noqa: E402
from planning.engines.scheduling.prepared import problem_prepare  # noqa: E402
from planning.engines.scheduling.solve import _assignments  # noqa: E402

DAY = 24 * 60
DATA = ROOT / "bench" / "data"
CLASSES = {
    "10x10": ["ft10", "la16", "la17", "la18"],
    "15x15": ["ta01", "ta02", "ta03"],
    "20x20": ["ta21", "ta22", "ta23"],
    "30x20": ["ta41", "ta43", "ta44"],
    "50x15": ["ta51", "ta52", "ta53"],
    "100x20": ["ta71", "ta72", "ta73"],
}
SPLIT_INSTANCES = ["ta21", "ta41", "ta51", "ta71"]


def best_known(name: str) -> int | None:
    """The optimum or best-known makespan stated in the instance file's header."""
    text = (DATA / f"{name}.txt").read_text()
    found = re.search(r"(?:best-known|optimal) makespan (\d+)", text)
    return int(found.group(1)) if found else None


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def plain_cpsat(problem: Problem, seconds: float) -> int:
    """Plain OR-Tools CP-SAT on a job shop: the textbook model, default parameters, no hint."""
    model = cp_model.CpModel()
    horizon = sum(op.modes[0].duration for job in problem.jobs for op in job.operations)
    per_machine: dict = {}
    ends = []
    for job in problem.jobs:
        previous = None
        for op in job.operations:
            mode = op.modes[0]
            start = model.new_int_var(0, horizon, "")
            end = model.new_int_var(0, horizon, "")
            per_machine.setdefault(mode.machine, []).append(
                model.new_interval_var(start, mode.duration, end, "")
            )
            if previous is not None:
                model.add(previous <= start)
            previous = end
        ends.append(previous)
    for intervals in per_machine.values():
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    status = solver.solve(model)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE), solver.status_name(status)
    return int(solver.objective_value)


def plant_problem(
    *, orders=1000, ops_per_order=8, machines=50, seed=1, families=0, changeover=30
) -> Problem:
    """The random plant of (a): 10 work centres of 5 machines, 8 weeks of calendar; with
    ``families`` > 0, setup families on the operations and ``changeover`` minutes between
    two of them on every machine."""
    rng = random.Random(seed)
    family_rng = random.Random(seed + 1)  # the same plant with or without families
    weeks = 8
    # Two shifts, 06:00-14:00 and 14:00-22:00, Monday to Friday.
    weekdays = [(d * DAY + 6 * 60, d * DAY + 22 * 60) for d in range(5)]
    machine_list = []
    for k in range(machines):
        working = calendar_repeat(weekdays, period=7 * DAY, start=0, end=weeks * 7 * DAY)
        downtime = []
        for week in range(weeks):  # one 4-hour maintenance window a week, at random
            day = rng.randrange(5)
            start = week * 7 * DAY + day * DAY + rng.choice([6, 10, 14, 18]) * 60
            downtime.append((start, start + 240))
        machine_list.append(
            Machine(
                f"M{k:02d}",
                working=tuple(working),
                downtime=tuple(downtime),
                changeover=changeover if families else 0,
            )
        )
    centres = [list(range(c * 5, c * 5 + 5)) for c in range(machines // 5)]
    jobs = []
    for j in range(orders):
        release = rng.randrange(0, 10) * DAY
        ops = []
        for n in range(ops_per_order):
            centre = rng.choice(centres)
            eligible = rng.sample(centre, rng.choice([2, 2, 3]))
            base = rng.randint(20, 120)
            modes = tuple(
                Mode(f"M{k:02d}", run=int(base * rng.uniform(0.8, 1.3)), setup=rng.randint(10, 30))
                for k in eligible
            )
            family = f"F{family_rng.randrange(families)}" if families else ""
            ops.append(Operation(f"O{j}/{n}", modes, family=family))
        # Due 4 to 18 days after release: the plant is loaded for about 3 weeks, so the
        # tight ones are late whatever the order, and sequencing decides how late.
        due = release + int(rng.uniform(4, 18) * DAY)
        jobs.append(
            Job(f"O{j}", tuple(ops), release=release, due=due, weight=rng.choice([1, 1, 2, 3, 5]))
        )
    return Problem(jobs=tuple(jobs), machines=tuple(machine_list))


def bench_plant(families: int = 0, changeover: int = 30) -> None:
    problem = plant_problem(families=families, changeover=changeover)
    n_ops = sum(len(j.operations) for j in problem.jobs)
    print(
        f"(a) plant: {len(problem.jobs)} orders, {n_ops} operations, {len(problem.machines)} machines"
    )
    began = time.monotonic()
    prep = problem_prepare(problem)
    heuristic = heuristic_best(prep)
    first_feasible = time.monotonic() - began
    wt, ms = schedule_key(prep, heuristic)
    print(
        f"    heuristic ({heuristic.rule}): feasible after {first_feasible:.1f} s, "
        f"weighted tardiness {wt}, makespan {ms} min"
    )
    if families:
        minutes = schedule_changeover_minutes(problem, _assignments(prep, heuristic))
        print(
            f"    {families} setup families, {changeover} min changeover: the heuristic spends "
            f"{minutes} min in changeovers"
        )


def bench_instances(workers: int, time_limit: float = 10.0) -> None:
    names = ["ft06", "ft10", "la01", "la02", "la03", "la04", "la05"]
    print(f"(b) job-shop instances, {time_limit:g} s limit, workers {workers or 'all'}")
    print(
        f"    {'instance':8} {'size':>6} {'makespan':>9} {'bound':>6} {'optimum':>8} {'gap':>6} "
        f"{'time':>6}  {'load':>5}  status"
    )
    for name in names:
        problem = problem_load(DATA / f"{name}.txt")
        began = time.monotonic()
        result = schedule_solve(problem, SolveOptions(time_limit=time_limit, workers=workers))
        elapsed = time.monotonic() - began
        optimum = best_known(name)
        gap = f"{100 * (result.makespan - optimum) / optimum:.1f}%" if optimum else "-"
        size = f"{len(problem.jobs)}x{len(problem.machines)}"
        print(
            f"    {name:8} {size:>6} {result.makespan:>9} {result.bound:>6} "
            f"{optimum or '-':>8} {gap:>6} {elapsed:>5.1f}s  {load():>5}  {result.status}"
        )


def bench_classes(time_limit: float = 10.0, only: list[str] | None = None, runs: int = 1) -> None:
    print(f"(c) job-shop classes, {time_limit:g} s each, gap to best known, {runs} run(s)")
    print(
        f"    {'class':7} {'run':>3} {'instance':8} {'best':>5} {'ours':>6} {'gap':>6} "
        f"{'wall':>6} {'load':>5} | {'plain':>6} {'gap':>6} {'load':>5} | notes"
    )
    summary = []
    for size, names in CLASSES.items():
        if only and size not in only:
            continue
        # (ours, plain): the class's average gap in each run
        per_run: list[tuple[float, float]] = []
        for run in range(1, runs + 1):
            ours_gaps, plain_gaps = [], []
            for name in names:
                problem = problem_load(DATA / f"{name}.txt")
                best = best_known(name)
                load_ours = load()
                began = time.monotonic()
                result = schedule_solve(problem, SolveOptions(time_limit=time_limit))
                wall = time.monotonic() - began
                errors = schedule_check(problem, result.assignments)
                assert not errors, errors[:3]
                load_plain = load()
                plain = plain_cpsat(problem, time_limit)
                ours_gaps.append(100 * (result.makespan - best) / best)
                plain_gaps.append(100 * (plain - best) / best)
                notes = "; ".join(n for n in result.notes if n.startswith(("tabu", "full")))
                print(
                    f"    {size:7} {run:>3} {name:8} {best:>5} {result.makespan:>6} "
                    f"{ours_gaps[-1]:>5.1f}% {wall:>5.1f}s {load_ours:>5} | {plain:>6} "
                    f"{plain_gaps[-1]:>5.1f}% {load_plain:>5} | {notes}",
                    flush=True,
                )
            per_run.append((sum(ours_gaps) / len(names), sum(plain_gaps) / len(names)))
        summary.append((size, per_run))
    print("    average gap by class: ours / plain CP-SAT (over all runs; each run's in brackets)")
    for size, per_run in summary:
        ours = sum(o for o, _ in per_run) / len(per_run)
        plain = sum(p for _, p in per_run) / len(per_run)
        each = ", ".join(f"{o:.1f} / {p:.1f}" for o, p in per_run)
        print(f"      {size:7} {ours:5.1f}% / {plain:5.1f}%   [{each}]")
    if only:
        return

    print(f"(c') worker split on 2 cores, {time_limit:g} s: search + 1-worker full model vs search")
    for name in SPLIT_INSTANCES:
        problem = problem_load(DATA / f"{name}.txt")
        best = best_known(name)
        row = []
        for bound_workers in (1, 0):
            before = load()
            result = schedule_solve(
                problem, SolveOptions(time_limit=time_limit, lns_bound_workers=bound_workers)
            )
            gap = 100 * (result.makespan - best) / best
            row.append(
                f"{result.makespan} ({gap:.1f}%, bound {result.makespan_bound}, load {before})"
            )
        print(f"    {name}: with full-model run {row[0]}; search alone {row[1]}", flush=True)


def bench_plant_runs(
    time_limit: float,
    runs: int,
    priority_share: float | None = None,
    families: int = 0,
    changeover: int = 30,
) -> None:
    problem = plant_problem(families=families, changeover=changeover)
    share = SolveOptions.priority_share if priority_share is None else priority_share
    print(
        f"(a') plant, {runs} runs at {time_limit:g} s (limit counted from the call), "
        f"priority search for {share:.0%} of the time"
    )
    for run in range(1, runs + 1):
        before = load()
        began = time.monotonic()
        options = SolveOptions(time_limit=time_limit, seed=run - 1, priority_share=share)
        result = schedule_solve(problem, options)
        wall = time.monotonic() - began
        errors = schedule_check(problem, result.assignments)
        hw, hm = result.heuristic_weighted_tardiness, result.heuristic_makespan
        wt, ms = result.weighted_tardiness, result.makespan
        print(
            f"    run {run}: weighted tardiness {hw} -> {wt} ({100 * (wt - hw) / hw:+.1f}%), "
            f"makespan {hm} -> {ms} ({100 * (ms - hm) / hm:+.1f}%); bounds: tardiness "
            f"{result.tardiness_bound}, makespan {result.makespan_bound} (gap "
            f"{100 * (ms - result.makespan_bound) / ms:.0f}%); wall {wall:.1f} s; load {before}; "
            f"checker {'OK' if not errors else errors[:2]}",
            flush=True,
        )
        if families:
            prep = problem_prepare(problem)
            heuristic = heuristic_best(prep)
            spent = schedule_changeover_minutes(problem, result.assignments)
            first = schedule_changeover_minutes(problem, _assignments(prep, heuristic))
            print(f"      changeover minutes: heuristic {first}, schedule {spent}")
        print(f"      {'; '.join(result.notes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds for (a)")
    parser.add_argument("--workers", type=int, default=0, help="CP-SAT workers (0: all cores)")
    parser.add_argument("--only", choices=["a", "b", "c"])
    parser.add_argument("--runs", type=int, default=3, help="runs of (a) and of (c)")
    parser.add_argument(
        "--priority-share", type=float, help="(a): share of the time for the priority search"
    )
    parser.add_argument("--classes", nargs="*", help="(c) for these size classes only, no split")
    parser.add_argument("--families", type=int, default=0, help="(a): setup families (0: none)")
    parser.add_argument("--changeover", type=int, default=30, help="(a): minutes per changeover")
    args = parser.parse_args()
    print(
        f"{platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}, load {load()}"
    )
    if args.only in (None, "a"):
        bench_plant(args.families, args.changeover)
        bench_plant_runs(
            args.time_limit, args.runs, args.priority_share, args.families, args.changeover
        )
    if args.only in (None, "b"):
        bench_instances(args.workers)
    if args.only in (None, "c"):
        bench_classes(only=args.classes, runs=args.runs)


if __name__ == "__main__":
    main()
