"""Benchmark of the finite-capacity scheduling engine (prints figures; not part of pytest).

(a) A plant-sized random problem: 1,000 orders x 8 operations on 50 machines, routings with
    2-3 alternative machines per operation (each with its own setup and run time), two
    shifts a day on weekdays with maintenance windows, release and due dates. Reports the
    time to the first feasible schedule (the dispatching heuristic), and what CP-SAT makes of
    it within the time limit: weighted tardiness and makespan of both.
(b) Job-shop instances from bench/data at a 10 s limit: makespan, bound and the gap to the
    published optimum.

Run from the repository root:

    .venv/bin/python bench/scheduling_bench.py [--time-limit 30] [--workers 0] [--only a|b]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planning.engines.scheduling import (  # noqa: E402
    Job,
    Machine,
    Mode,
    Operation,
    Problem,
    SolveOptions,
    schedule_check,
    schedule_solve,
)
from planning.engines.scheduling.calendar import calendar_repeat  # noqa: E402
from planning.engines.scheduling.heuristic import heuristic_best, schedule_key  # noqa: E402
from planning.engines.scheduling.io import problem_load  # noqa: E402
from planning.engines.scheduling.prepared import problem_prepare  # noqa: E402

DAY = 24 * 60
OPTIMA = {"ft06": 55, "ft10": 930, "la01": 666, "la02": 655, "la03": 597, "la04": 590, "la05": 593}


def plant_problem(*, orders=1000, ops_per_order=8, machines=50, seed=1) -> Problem:
    """The random plant of (a): 10 work centres of 5 machines, 8 weeks of calendar."""
    rng = random.Random(seed)
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
        machine_list.append(Machine(f"M{k:02d}", working=tuple(working), downtime=tuple(downtime)))
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
            ops.append(Operation(f"O{j}/{n}", modes))
        # Due 4 to 18 days after release: the plant is loaded for about 3 weeks, so the
        # tight ones are late whatever the order, and sequencing decides how late.
        due = release + int(rng.uniform(4, 18) * DAY)
        jobs.append(
            Job(f"O{j}", tuple(ops), release=release, due=due, weight=rng.choice([1, 1, 2, 3, 5]))
        )
    return Problem(jobs=tuple(jobs), machines=tuple(machine_list))


def bench_plant(time_limit: float, workers: int) -> None:
    problem = plant_problem()
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
    options = SolveOptions(time_limit=time_limit, workers=workers)
    began = time.monotonic()
    result = schedule_solve(problem, options)
    total = time.monotonic() - began
    errors = schedule_check(problem, result.assignments)
    print(
        f"    schedule_solve (CP-SAT limit {time_limit:g} s, workers {workers or 'all'}): "
        f"{result.status} in {total:.1f} s wall, checker: {'OK' if not errors else errors[:2]}"
    )
    print(
        f"    weighted tardiness {result.heuristic_weighted_tardiness} -> "
        f"{result.weighted_tardiness} (bound {result.tardiness_bound}); makespan "
        f"{result.heuristic_makespan} -> {result.makespan} min (bound {result.makespan_bound})"
    )
    print(f"    phases: {'; '.join(result.notes)}")


def bench_instances(workers: int, time_limit: float = 10.0) -> None:
    print(f"(b) job-shop instances, {time_limit:g} s limit, workers {workers or 'all'}")
    print(
        f"    {'instance':8} {'size':>6} {'makespan':>9} {'bound':>6} {'optimum':>8} {'gap':>6} {'time':>6}  status"
    )
    for path in sorted((ROOT / "bench" / "data").glob("*.txt")):
        problem = problem_load(path)
        name = path.stem
        began = time.monotonic()
        result = schedule_solve(problem, SolveOptions(time_limit=time_limit, workers=workers))
        elapsed = time.monotonic() - began
        optimum = OPTIMA.get(name)
        gap = f"{100 * (result.makespan - optimum) / optimum:.1f}%" if optimum else "-"
        size = f"{len(problem.jobs)}x{len(problem.machines)}"
        print(
            f"    {name:8} {size:>6} {result.makespan:>9} {result.bound:>6} "
            f"{optimum or '-':>8} {gap:>6} {elapsed:>5.1f}s  {result.status}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0, help="CP-SAT seconds for (a)")
    parser.add_argument("--workers", type=int, default=0, help="CP-SAT workers (0: all cores)")
    parser.add_argument("--only", choices=["a", "b"])
    args = parser.parse_args()
    print(
        f"{platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    if args.only in (None, "a"):
        bench_plant(args.time_limit, args.workers)
    if args.only in (None, "b"):
        bench_instances(args.workers)


if __name__ == "__main__":
    main()
