"""The weighted-tardiness lower bound sees contention inside a group of machines
(Prepared._group_tardiness_bound), and stays a lower bound: never above a proven optimum."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.engines.scheduling import (
    Job,
    Machine,
    Mode,
    NoScheduleError,
    Operation,
    Placement,
    Problem,
    SolveOptions,
    Status,
    schedule_solve,
)
from planning.engines.scheduling.calendar import calendar_repeat
from planning.engines.scheduling.prepared import problem_prepare

DAY = 24 * 60


def test_a_bottleneck_machine_makes_late_what_no_chain_does():
    # Ten one-operation jobs on one machine, all free at 0, each due at 60: every chain is
    # on time alone, but only two can finish by 60 — the bound is the true optimum.
    jobs = tuple(
        Job(f"J{j}", (Operation(f"J{j}/0", (Mode("M", run=30),)),), due=60, weight=1)
        for j in range(10)
    )
    problem = Problem(jobs=jobs, machines=(Machine("M"),))
    prep = problem_prepare(problem)
    assert prep.weighted_tardiness([op.min_duration for op in prep.ops]) == 0  # chains: 0
    bound, _ = prep.lower_bounds()
    optimum = sum(max(0, 30 * k - 60) for k in range(1, 11))
    assert bound == optimum
    result = schedule_solve(problem, SolveOptions(time_limit=5))
    assert result.weighted_tardiness == optimum and result.status == Status.OPTIMAL


def test_two_interchangeable_machines_share_the_work_and_weights_pick_who_waits():
    # Six jobs of 60 min on either of two machines, due at 60: in the best plan two finish
    # by 60, two by 120, two by 180, the heavy ones first (360). The pooled machine of the
    # bound may split an operation over both machines, so its ranks end at 60, 60, 90, 120,
    # 150 and 180: 300, a lower bound that no chain alone gives.
    jobs = tuple(
        Job(
            f"J{j}",
            (Operation(f"J{j}/0", (Mode("A", run=60), Mode("B", run=60))),),
            due=60,
            weight=5 if j < 2 else 1,
        )
        for j in range(6)
    )
    problem = Problem(jobs=jobs, machines=(Machine("A"), Machine("B")))
    bound, _ = problem_prepare(problem).lower_bounds()
    assert bound == 30 + 60 + 90 + 120
    assert schedule_solve(problem, SolveOptions(time_limit=5)).weighted_tardiness == 360


def test_the_bound_follows_the_calendar():
    # Two shifts a day on weekdays: four 8-hour jobs due the first evening. Only two fit
    # on the first day; the others finish on the second day's shifts at the earliest.
    working = tuple(calendar_repeat([(6 * 60, 22 * 60)], period=DAY, start=0, end=14 * DAY))
    jobs = tuple(
        Job(f"J{j}", (Operation(f"J{j}/0", (Mode("M", run=480),)),), due=22 * 60, weight=1)
        for j in range(4)
    )
    problem = Problem(jobs=jobs, machines=(Machine("M", working=working),))
    bound, _ = problem_prepare(problem).lower_bounds()
    # Ends 14:00, 22:00 on day 0; 14:00 and 22:00 on day 1.
    assert bound == (DAY + 14 * 60 - 22 * 60) + (DAY + 22 * 60 - 22 * 60)
    assert schedule_solve(problem, SolveOptions(time_limit=5)).weighted_tardiness == bound


def test_a_bottleneck_early_in_the_routing_counts_every_job_that_passes_it():
    # Ten jobs: 30 min on the one machine M, then 10 min on a machine of their own, due at 70.
    # Counted through their last operations (each alone on its machine) the jobs are all on
    # time; counted through M, where they queue, the k-th ends at 30 k + 10 at the earliest:
    # the optimum.
    jobs = tuple(
        Job(
            f"J{j}",
            (
                Operation(f"J{j}/0", (Mode("M", run=30),)),
                Operation(f"J{j}/1", (Mode(f"N{j}", run=10),)),
            ),
            due=70,
            weight=1,
        )
        for j in range(10)
    )
    machines = (Machine("M"), *(Machine(f"N{j}") for j in range(10)))
    problem = Problem(jobs=jobs, machines=machines)
    prep = problem_prepare(problem)
    assert prep.weighted_tardiness([30, 40] * 10) == 0  # each job alone: on time
    bound, _ = prep.lower_bounds()
    optimum = sum(max(0, 30 * k + 10 - 70) for k in range(1, 11))
    assert bound == optimum == 1080
    result = schedule_solve(problem, SolveOptions(time_limit=5))
    assert result.weighted_tardiness == optimum and result.status == Status.OPTIMAL


def test_the_work_after_a_bottleneck_waits_for_the_next_shift():
    # Two jobs of 8 hours on M, then 2 hours on N, both due at 22:00 on the first day; both
    # machines work 06:00-22:00. The second job leaves M at 22:00 at the earliest and its
    # last two hours are done the next morning (08:00): 10 hours late, not 2.
    working = tuple(calendar_repeat([(6 * 60, 22 * 60)], period=DAY, start=0, end=14 * DAY))
    jobs = tuple(
        Job(
            f"J{j}",
            (
                Operation(f"J{j}/0", (Mode("M", run=480),)),
                Operation(f"J{j}/1", (Mode("N", run=120),)),
            ),
            due=22 * 60,
            weight=1,
        )
        for j in range(2)
    )
    problem = Problem(
        jobs=jobs, machines=(Machine("M", working=working), Machine("N", working=working))
    )
    bound, _ = problem_prepare(problem).lower_bounds()
    assert bound == DAY + 8 * 60 - 22 * 60
    result = schedule_solve(problem, SolveOptions(time_limit=5))
    assert result.weighted_tardiness == bound and result.status == Status.OPTIMAL


@st.composite
def staged_problems(draw):
    """A few jobs through two to three stages of one to two machines each (every job visits
    every stage in order), shifts on some days, releases and due dates: small enough for
    CP-SAT to prove its optimum."""
    seed = draw(st.integers(0, 10**6))
    rng = random.Random(seed)
    stages = [[f"S{s}M{k}" for k in range(rng.choice([1, 1, 2]))] for s in range(rng.randint(2, 3))]
    shift = rng.random() < 0.5
    machines = []
    for stage in stages:
        for k in stage:
            working = None
            if shift:
                start, stop = rng.choice([(6, 14), (6, 22), (0, 12)])
                working = tuple(
                    calendar_repeat([(start * 60, stop * 60)], period=DAY, start=0, end=20 * DAY)
                )
            machines.append(Machine(k, working=working))
    jobs = []
    for j in range(rng.randint(2, 4)):
        ops = tuple(
            Operation(
                f"J{j}/{s}",
                tuple(
                    Mode(k, run=rng.randint(30, 300), setup=rng.randint(0, 30))
                    for k in rng.sample(stage, rng.randint(1, len(stage)))
                ),
            )
            for s, stage in enumerate(stages)
        )
        release = rng.randint(0, 300)
        jobs.append(
            Job(
                f"J{j}",
                ops,
                release=release,
                due=release + rng.randint(0, 2 * DAY),
                weight=rng.randint(1, 5),
            )
        )
    return Problem(jobs=tuple(jobs), machines=tuple(machines))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(staged_problems())
def test_the_bound_never_exceeds_the_proven_optimum_of_a_staged_plant(problem):
    prep = problem_prepare(problem)
    bound, _ = prep.lower_bounds()
    # CP-SAT proves these optimal in well under a second; the limit only keeps a stuck run
    # from hanging the suite, and a plan it did not prove still lies above every bound.
    result = schedule_solve(problem, SolveOptions(time_limit=60))
    assert bound <= result.weighted_tardiness
    if result.status == Status.OPTIMAL:
        assert result.tardiness_bound == result.weighted_tardiness


@st.composite
def small_problems(draw):
    seed = draw(st.integers(0, 10**6))
    rng = random.Random(seed)
    machines = [f"M{k}" for k in range(rng.choice([1, 2, 3]))]
    calendar = rng.random() < 0.5
    machine_list = tuple(
        Machine(
            k,
            working=tuple(
                calendar_repeat(
                    [(rng.choice([0, 6]) * 60, rng.choice([14, 22]) * 60)],
                    period=DAY,
                    start=0,
                    end=30 * DAY,
                )
            )
            if calendar
            else None,
        )
        for k in machines
    )
    jobs = []
    for j in range(rng.randint(2, 5)):
        ops = []
        for n in range(rng.randint(1, 3)):
            eligible = rng.sample(machines, rng.randint(1, len(machines)))
            ops.append(
                Operation(
                    f"J{j}/{n}",
                    tuple(
                        Mode(k, run=rng.randint(10, 240), setup=rng.randint(0, 20))
                        for k in eligible
                    ),
                )
            )
        jobs.append(
            Job(
                f"J{j}",
                tuple(ops),
                release=rng.randint(0, 600),
                due=rng.randint(0, 2 * DAY),
                weight=rng.randint(1, 5),
            )
        )
    return Problem(jobs=tuple(jobs), machines=machine_list)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_the_bound_never_exceeds_a_proven_optimum(problem):
    bound, _ = problem_prepare(problem).lower_bounds()
    result = schedule_solve(problem, SolveOptions(time_limit=5))
    assert bound <= result.weighted_tardiness
    if result.status == Status.OPTIMAL:
        assert result.tardiness_bound <= result.weighted_tardiness


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_job_whose_work_is_all_fixed_counts_its_own_end(jobs):
    fixed = tuple(
        Job(
            f"F{j}",
            (Operation(f"F{j}/0", (Mode("M", run=60),), fixed=Placement("M", 100 * j)),),
            due=0,
            weight=2,
        )
        for j in range(jobs)
    )
    bound, _ = problem_prepare(Problem(jobs=fixed, machines=(Machine("M"),))).lower_bounds()
    assert bound == sum(2 * (100 * j + 60) for j in range(jobs))


def test_a_machine_whose_calendar_ends_before_the_work_can_start_is_named_not_a_crash():
    # A/0 fits M's only shift, which is over before A is released: no plan exists. The bound
    # still answers (B alone is 5 minutes late), and the solve names the operation.
    problem = Problem(
        jobs=(
            Job("A", (Operation("A/0", (Mode("M", run=10),), release=200),), due=300, weight=1),
            Job("B", (Operation("B/0", (Mode("N", run=10),)),), due=5, weight=1),
        ),
        machines=(Machine("M", working=((0, 100),)), Machine("N")),
    )
    bound, _ = problem_prepare(problem).lower_bounds()
    assert bound == 5
    with pytest.raises(NoScheduleError, match="A/0"):
        schedule_solve(problem, SolveOptions(time_limit=2))
