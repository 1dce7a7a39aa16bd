"""Sequence-dependent setups (changeovers) in the scheduling engine.

Pure tests (no database): the checker's rules, the heuristic, CP-SAT (full and window
models), the LNS and the JSON format all agree on model.py's semantics. CP-SAT runs with two
workers and short limits.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.engines.scheduling import (
    Assignment,
    Job,
    Machine,
    Mode,
    NoScheduleError,
    Operation,
    Placement,
    Problem,
    ProblemError,
    SolveOptions,
    Status,
    machine_changeover,
    problem_reschedule,
    schedule_changeover_minutes,
    schedule_check,
    schedule_evaluate,
    schedule_solve,
)
from planning.engines.scheduling.calendar import calendar_repeat
from planning.engines.scheduling.cpsat import (
    CIRCUIT_MAX_ARCS,
    _window_solve,
    circuit_arcs,
    cpsat_solve,
)
from planning.engines.scheduling.heuristic import (
    NON_DELAY,
    heuristic_best,
    heuristic_schedule,
    rules_for,
    schedule_compact,
)
from planning.engines.scheduling.io import ProblemFormatError, problem_from_dict, problem_to_dict
from planning.engines.scheduling.prepared import problem_prepare
from planning.engines.scheduling.solve import _assignments
from planning.engines.scheduling.tabu import tabu_applies

FAST = SolveOptions(time_limit=5, workers=2, lns=False)


def assert_feasible(problem: Problem, result) -> None:
    assert schedule_check(problem, result.assignments) == []
    assert schedule_evaluate(problem, result.assignments) == (
        result.weighted_tardiness,
        result.makespan,
    )
    assert result.tardiness_bound <= result.weighted_tardiness
    assert result.makespan_bound <= result.makespan


def one_machine(durations_families, machine: Machine, dues=None) -> Problem:
    jobs = tuple(
        Job(
            f"J{n}",
            (Operation(f"O{n}", (Mode(machine.id, run=d),), family=family),),
            due=None if dues is None else dues[n],
        )
        for n, (d, family) in enumerate(durations_families)
    )
    return Problem(jobs=jobs, machines=(machine,))


def placed(op_id, job, start, end, machine="M") -> Assignment:
    return Assignment(op_id=op_id, job=job, op_index=0, machine=machine, start=start, end=end)


# --- semantics and the checker --------------------------------------------------------------------


def test_machine_changeover_pairs_override_the_default():
    machine = Machine("M", changeover=30, changeovers=(("steel", "alu", 45), ("alu", "steel", 0)))
    assert machine_changeover(machine, "steel", "alu") == 45
    assert machine_changeover(machine, "alu", "steel") == 0
    assert machine_changeover(machine, "steel", "brass") == 30
    assert machine_changeover(machine, "steel", "steel") == 0
    assert machine_changeover(machine, "", "alu") == 0


def test_checker_accepts_a_block_with_its_changeover_and_rejects_one_without():
    problem = one_machine([(10, "A"), (20, "B"), (5, "")], Machine("M", changeover=15))
    good = [placed("O0", "J0", 0, 10), placed("O1", "J1", 10, 45), placed("O2", "J2", 45, 50)]
    assert schedule_check(problem, good) == []
    assert schedule_changeover_minutes(problem, good) == 15
    short = [placed("O0", "J0", 0, 10), placed("O1", "J1", 10, 30), placed("O2", "J2", 30, 35)]
    errors = schedule_check(problem, short)
    assert errors == [
        "operation 'O1': lasts 20 min on 'M', should be 35 (with a changeover of 15 after 'O0')"
    ]
    # The first operation on a machine needs no changeover; neither does one after no family.
    first = [placed("O1", "J1", 0, 35), placed("O0", "J0", 35, 60), placed("O2", "J2", 60, 65)]
    assert schedule_check(problem, first) == ["operation 'O1': lasts 35 min on 'M', should be 20"]


def test_the_first_operation_needs_the_changeover_from_the_machines_initial_family():
    machine = Machine("M", changeover=15, changeovers=(("B", "A", 40),), initial_family="B")
    problem = one_machine([(10, "A"), (20, "B")], machine)
    # B first: the machine is set up for it already; A after it needs B -> A.
    good = [placed("O1", "J1", 0, 20), placed("O0", "J0", 20, 70)]
    assert schedule_check(problem, good) == []
    assert schedule_changeover_minutes(problem, good) == 40
    # A first needs the changeover from B too, and the B after it A -> B.
    as_if_none = [placed("O0", "J0", 0, 10), placed("O1", "J1", 10, 45)]
    assert schedule_check(problem, as_if_none) == [
        "operation 'O0': lasts 10 min on 'M', should be 50 (with a changeover of 40 after "
        "the initial family)"
    ]
    result = schedule_solve(problem, FAST)
    assert_feasible(problem, result)
    assert result.status == Status.OPTIMAL and result.makespan == 70
    # A fixed first operation's block holds the changeover from the initial family too.
    fixed = Problem(
        jobs=(Job("J", (Operation("F", (Mode("M", 10),), fixed=Placement("M", 0), family="A"),)),),
        machines=(machine,),
    )
    assert schedule_solve(fixed, FAST).by_operation()["F"].end == 50


def test_checker_fixed_operation_keeps_the_changeover_from_the_fixed_one_before_it():
    machine = Machine("M", changeover=15)
    problem = Problem(
        jobs=(
            Job("J0", (Operation("A", (Mode("M", 10),), fixed=Placement("M", 0), family="X"),)),
            Job("J1", (Operation("B", (Mode("M", 10),), fixed=Placement("M", 100), family="Y"),)),
            Job("J2", (Operation("C", (Mode("M", 10),), family="X"),)),
        ),
        machines=(machine,),
    )
    # B's block holds the changeover from A (the fixed one before it) whatever runs between.
    ok = [placed("A", "J0", 0, 10), placed("C", "J2", 20, 30), placed("B", "J1", 100, 125)]
    assert schedule_check(problem, ok) == []
    # A free operation right before a fixed one leaves the changeover into it free.
    tight = [placed("A", "J0", 0, 10), placed("C", "J2", 80, 90), placed("B", "J1", 100, 125)]
    assert schedule_check(problem, tight) == [
        "operation 'C' ends at 90 on 'M', less than the changeover of 15 min before the fixed "
        "operation 'B' at 100"
    ]
    without = [placed("A", "J0", 0, 10), placed("C", "J2", 20, 30), placed("B", "J1", 100, 110)]
    assert schedule_check(problem, without) == [
        "operation 'B': lasts 10 min on 'M', should be 25 (with a changeover of 15 after 'A')"
    ]
    prep = problem_prepare(problem)
    assert prep.ops[1].fixed == (0, 100, 125)
    result = schedule_solve(problem, FAST)
    assert_feasible(problem, result)
    assert result.by_operation()["B"].end == 125


def test_reschedule_keeps_a_started_block_with_its_changeover():
    problem = one_machine([(10, "X"), (10, "Y"), (10, "X")], Machine("M", changeover=15))
    result = schedule_solve(problem, FAST)
    assert_feasible(problem, result)
    order = sorted(result.assignments, key=lambda a: a.start)
    assert [a.end - a.start for a in order] == [10, 10, 25]  # the two X first, then Y
    replan = problem_reschedule(problem, result.assignments, now=order[2].start + 1)
    again = schedule_solve(replan, FAST)
    assert_feasible(replan, again)
    assert again.by_operation() == result.by_operation()


@pytest.mark.parametrize(
    ("machine", "message"),
    [
        (Machine("M", changeover=-1), "machine 'M': changeover must be whole minutes"),
        (Machine("M", changeovers=(("A", "B", -5),)), "changeover 'A' -> 'B' must be whole"),
        (Machine("M", changeovers=(("A", "", 5),)), "families must be named"),
        (Machine("M", changeovers=(("A", "B"),)), "expected \\(from family, to family"),
        (Machine("M", changeovers=(("A", "B", 5), ("A", "B", 6))), "listed twice"),
    ],
)
def test_malformed_changeovers_are_rejected_naming_the_machine(machine, message):
    problem = one_machine([(10, "A")], machine)
    with pytest.raises(ProblemError, match=message):
        problem_prepare(problem)


def test_setup_machines_are_only_those_where_a_changeover_can_happen():
    problem = Problem(
        jobs=(
            Job("J0", (Operation("a", (Mode("M1", 5), Mode("M2", 5)), family="A"),)),
            Job("J1", (Operation("b", (Mode("M1", 5), Mode("M3", 5)), family="B"),)),
        ),
        machines=(
            Machine("M1", changeovers=(("B", "A", 7),)),
            Machine("M2", changeover=10),  # one family only
            Machine("M3"),
        ),
    )
    prep = problem_prepare(problem)
    assert prep.setup_machine == [True, False, False]
    assert prep.has_setups and not tabu_applies(prep)
    assert circuit_arcs(prep) == 4
    # One family on a machine set up for another: its first operation needs a changeover.
    machines = (
        problem.machines[0],
        Machine("M2", changeover=10, initial_family="B"),
        Machine("M3"),
    )
    prep = problem_prepare(Problem(jobs=problem.jobs, machines=machines))
    assert prep.setup_machine == [True, True, False]
    with pytest.raises(ProblemError, match="machine 'M3': initial family must be text"):
        problem_prepare(
            Problem(jobs=problem.jobs, machines=(*machines[:2], Machine("M3", initial_family=1)))
        )


# --- heuristic ---------------------------------------------------------------------------------


def test_family_rule_groups_families_when_nothing_is_urgent():
    problem = one_machine([(10, "A"), (10, "B"), (10, "A"), (10, "B")], Machine("M", changeover=30))
    prep = problem_prepare(problem)
    assert "est-family" in rules_for(prep)
    est = heuristic_schedule(prep, "est")
    assert est.makespan() == 40 + 3 * 30
    best = heuristic_best(prep)
    assert best.rule == "est-family" and best.makespan() == 40 + 30
    assert schedule_check(problem, _assignments(prep, best)) == []


def test_heuristic_leaves_the_changeover_before_a_frozen_operation():
    problem = Problem(
        jobs=(
            Job("J0", (Operation("F", (Mode("M", 10),), fixed=Placement("M", 30), family="Y"),)),
            Job("J1", (Operation("C", (Mode("M", 20),), family="X"),)),
            Job("J2", (Operation("D", (Mode("M", 10),), family="Y"),)),
        ),
        machines=(Machine("M", changeover=15),),
    )
    prep = problem_prepare(problem)
    for rule in rules_for(prep):
        sched = schedule_compact(prep, heuristic_schedule(prep, rule))
        assert schedule_check(problem, _assignments(prep, sched)) == [], rule
    # C (20 min + 15 min into F) cannot go before F at 30; D (same family as F) can.
    sched = heuristic_schedule(prep, "est")
    assert sched.start[2] == 0 and sched.start[1] >= 40


# --- CP-SAT against brute force on one machine -----------------------------------------------------

SIX = [(12, "A"), (7, "B"), (9, "C"), (5, "A"), (11, "B"), (6, "C")]
MATRIX = Machine(
    "M",
    changeover=20,
    changeovers=(("A", "B", 5), ("B", "C", 5), ("C", "A", 5), ("A", "C", 35)),
)


def brute_force(problem: Problem) -> tuple[int, int]:
    """(weighted tardiness, makespan) of the best sequence on the single machine."""
    machine = problem.machines[0]
    best = None
    for order in itertools.permutations(problem.jobs):
        t, family, key_wt = 0, machine.initial_family, 0
        for job in order:
            op = job.operations[0]
            t += machine_changeover(machine, family, op.family) + op.modes[0].run
            family = op.family  # after an operation without a family: no changeover
            if job.due is not None:
                key_wt += job.weight * max(0, t - job.due)
        key = (key_wt, t)
        best = key if best is None or key < best else best
    return best


def test_one_machine_with_two_families_runs_each_family_together():
    problem = one_machine([(10, "A"), (10, "B")] * 3, Machine("M", changeover=25))
    result = schedule_solve(problem, FAST)
    assert_feasible(problem, result)
    assert result.status == Status.OPTIMAL and result.makespan == 60 + 25
    families = {j.operations[0].id: j.operations[0].family for j in problem.jobs}
    order = [families[a.op_id] for a in sorted(result.assignments, key=lambda a: a.start)]
    assert order in (["A"] * 3 + ["B"] * 3, ["B"] * 3 + ["A"] * 3)
    assert schedule_changeover_minutes(problem, result.assignments) == 25


def test_cpsat_groups_families_and_matches_brute_force_on_makespan():
    problem = one_machine(SIX, MATRIX)
    result = schedule_solve(problem, FAST)
    assert_feasible(problem, result)
    assert result.status == Status.OPTIMAL
    assert (0, result.makespan) == brute_force(problem) == (0, 50 + 5 + 5)
    assert result.makespan_bound == result.makespan


def test_the_makespan_bound_counts_the_changeovers_a_machine_cannot_avoid():
    # Fifty minutes of work in three families; the cheapest way into each is 5 minutes, and
    # the family that goes first needs none (no initial family): at least 60.
    assert problem_prepare(one_machine(SIX, MATRIX)).lower_bounds()[1] == 60
    # Set up for a fourth family, every family needs its changeover (the cheapest way into
    # each is still 5, from another of the three).
    d = Machine("M", changeover=20, changeovers=MATRIX.changeovers, initial_family="D")
    assert problem_prepare(one_machine(SIX, d)).lower_bounds()[1] == 50 + 15
    # Set up for B: B may go first, A and C need their 5.
    b = Machine("M", changeover=20, changeovers=MATRIX.changeovers, initial_family="B")
    assert problem_prepare(one_machine(SIX, b)).lower_bounds()[1] == 60
    # An operation without a family breaks the chain (no changeover after it): no claim.
    assert problem_prepare(one_machine([*SIX, (1, "")], MATRIX)).lower_bounds()[1] == 51
    # And so does a family another machine could open: only B and C count (5 + 5 - 5).
    problem = one_machine(SIX, MATRIX)
    first = problem.jobs[0].operations[0]
    shared = replace(first, modes=(*first.modes, Mode("M2", run=12)))
    problem = Problem(
        jobs=(replace(problem.jobs[0], operations=(shared,)), *problem.jobs[1:]),
        machines=(MATRIX, Machine("M2")),
    )
    assert problem_prepare(problem).lower_bounds()[1] == 38 + 5
    for p in (problem, one_machine(SIX, d), one_machine(SIX, b)):
        result = schedule_solve(p, FAST)
        assert_feasible(p, result)


def test_cpsat_matches_brute_force_on_weighted_tardiness_then_makespan():
    problem = one_machine(SIX, MATRIX, dues=[30, 20, 60, 15, 80, 40])
    result = schedule_solve(problem, FAST)
    assert_feasible(problem, result)
    assert result.status == Status.OPTIMAL
    assert (result.weighted_tardiness, result.makespan) == brute_force(problem)


@pytest.mark.parametrize("initial", ["A", "B", "C"])
@pytest.mark.parametrize("dues", [None, [30, 20, 60, 15, 80, 40]])
def test_cpsat_and_the_heuristic_start_from_the_machines_initial_family(initial, dues):
    machine = Machine(
        "M", changeover=MATRIX.changeover, changeovers=MATRIX.changeovers, initial_family=initial
    )
    problem = one_machine(SIX, machine, dues=dues)
    result = schedule_solve(problem, FAST)
    assert_feasible(problem, result)
    assert result.status == Status.OPTIMAL
    assert (result.weighted_tardiness, result.makespan) == brute_force(problem)
    prep = problem_prepare(problem)
    for rule in rules_for(prep):
        sched = heuristic_schedule(prep, rule)
        assert schedule_check(problem, _assignments(prep, schedule_compact(prep, sched))) == []


def test_above_the_circuit_size_the_full_model_gives_way_to_windows(monkeypatch):
    problem = one_machine(SIX, MATRIX)
    prep = problem_prepare(problem)
    heuristic = schedule_compact(prep, heuristic_best(prep))
    monkeypatch.setattr("planning.engines.scheduling.cpsat.CIRCUIT_MAX_ARCS", 10)
    outcome = cpsat_solve(prep, heuristic, SolveOptions(time_limit=1, workers=2))
    assert outcome.phases[0].startswith("windows")
    assert schedule_check(problem, _assignments(prep, outcome.schedule)) == []
    assert circuit_arcs(prep) == 36 < CIRCUIT_MAX_ARCS


def plant(seed: int, *, jobs=12, machines=3, families="ABC") -> Problem:
    rng = random.Random(seed)
    machine_list = tuple(
        Machine(
            f"M{k}",
            working=tuple(calendar_repeat([(0, 300)], period=360, start=0, end=20_000)),
            changeover=rng.randint(5, 25),
            changeovers=(("A", "B", rng.randint(0, 10)),),
        )
        for k in range(machines)
    )
    job_list = []
    for j in range(jobs):
        ops = []
        for n in range(3):
            eligible = rng.sample(range(machines), rng.choice([1, 2]))
            modes = tuple(
                Mode(f"M{k}", run=rng.randint(5, 40), setup=rng.randint(0, 5)) for k in eligible
            )
            ops.append(Operation(f"{j}/{n}", modes, family=rng.choice(families + " ").strip()))
        job_list.append(Job(j, tuple(ops), due=rng.randint(100, 600), weight=rng.randint(1, 3)))
    return Problem(jobs=tuple(job_list), machines=machine_list)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_window_model_respects_changeovers_from_and_to_kept_neighbours(seed):
    problem = plant(seed)
    prep = problem_prepare(problem)
    sched = schedule_compact(prep, heuristic_best(prep))
    order = sorted(range(len(prep.ops)), key=lambda i: (sched.start[i], i))
    improved = 0
    for first in range(0, len(order) - 6, 5):
        window = order[first : first + 8]
        found = _window_solve(prep, sched, window, SolveOptions(workers=2), 0.5)
        assert found is not None  # the current placement is always a solution
        assert schedule_check(problem, _assignments(prep, found)) == [], window
        compacted = schedule_compact(prep, found)
        assert schedule_check(problem, _assignments(prep, compacted)) == []
        improved += sum(found.end) < sum(sched.end)
        sched = compacted
    assert improved > 0


def test_lns_path_on_a_plant_with_families():
    problem = plant(7, jobs=30)
    options = SolveOptions(time_limit=2, workers=2, lns_min_operations=0, seed=3)
    result = schedule_solve(problem, options)
    assert_feasible(problem, result)
    assert (result.weighted_tardiness, result.makespan) <= (
        result.heuristic_weighted_tardiness,
        result.heuristic_makespan,
    )
    assert not any(note.startswith("tabu") for note in result.notes)


# --- random problems ----------------------------------------------------------------------------


@st.composite
def setup_problems(draw):
    n_machines = draw(st.integers(1, 3))
    machines = []
    for k in range(n_machines):
        working = None
        downtime = ()
        if draw(st.booleans()):
            shift = draw(st.integers(45, 70))
            working = tuple(calendar_repeat([(0, shift)], period=80, start=0, end=6000))
            downtime = tuple(
                (s, s + draw(st.integers(1, 20)))
                for s in draw(st.lists(st.integers(0, 400), max_size=2))
            )
        pairs = draw(
            st.lists(
                st.tuples(st.sampled_from("ABC"), st.sampled_from("ABC"), st.integers(0, 12)),
                max_size=3,
                unique_by=lambda p: p[:2],
            )
        )
        machines.append(
            Machine(
                k,
                working=working,
                downtime=downtime,
                changeover=draw(st.integers(0, 12)),
                changeovers=tuple(p for p in pairs if p[0] != p[1]),
                initial_family=draw(st.sampled_from(["", "A", "B", "C"])),
            )
        )
    jobs = []
    for j in range(draw(st.integers(1, 4))):
        ops = []
        for n in range(draw(st.integers(1, 3))):
            eligible = draw(
                st.lists(st.integers(0, n_machines - 1), min_size=1, max_size=2, unique=True)
            )
            modes = tuple(
                Mode(k, draw(st.integers(1, 20)), draw(st.integers(0, 4))) for k in eligible
            )
            ops.append(
                Operation(
                    f"{j}/{n}",
                    modes,
                    release=draw(st.none() | st.integers(0, 60)),
                    family=draw(st.sampled_from(["", "A", "B", "C"])),
                )
            )
        jobs.append(
            Job(
                j,
                tuple(ops),
                due=draw(st.none() | st.integers(40, 300)),
                weight=draw(st.integers(1, 3)),
            )
        )
    return Problem(jobs=tuple(jobs), machines=tuple(machines))


def solver_options(solver: str) -> SolveOptions:
    return SolveOptions(
        time_limit=0.4,
        workers=2,
        seed=1,
        use_cpsat=solver != "heuristic",
        window_operations=2 if solver == "windows" else 1500,
        lns=solver == "lns",
        lns_min_operations=0,
        lns_bound_workers=1 if solver == "lns" else 0,
    )


def frozen_closure(result, frozen: set) -> set:
    """``frozen`` and every operation before one of them on its machine (model.py: then the
    frozen blocks stay as they were)."""
    by_machine: dict = {}
    for a in result.assignments:
        by_machine.setdefault(a.machine, []).append(a)
    out = set(frozen)
    for booked in by_machine.values():
        booked.sort(key=lambda a: a.start)
        last = max((n for n, a in enumerate(booked) if a.op_id in frozen), default=-1)
        out.update(a.op_id for a in booked[: last + 1])
    return out


@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    problem=setup_problems(),
    solver=st.sampled_from(["heuristic", "cp-sat", "windows", "lns"]),
    now=st.integers(0, 150),
    data=st.data(),
)
def test_random_problems_with_families_calendars_and_frozen_operations(problem, solver, now, data):
    result = schedule_solve(problem, solver_options(solver))
    assert_feasible(problem, result)
    ids = [a.op_id for a in result.assignments]
    frozen = frozen_closure(result, set(data.draw(st.lists(st.sampled_from(ids), max_size=2))))
    replan = problem_reschedule(problem, result.assignments, now=now, frozen=frozen)
    again = schedule_solve(replan, solver_options(solver))
    assert_feasible(replan, again)
    before, after = result.by_operation(), again.by_operation()
    for op_id in ids:
        if before[op_id].start < now or op_id in frozen:
            assert (after[op_id].machine, after[op_id].start, after[op_id].end) == (
                before[op_id].machine,
                before[op_id].start,
                before[op_id].end,
            )
        else:
            assert after[op_id].start >= now


# Frozen operations whose machine neighbours were not frozen with them (found by a random
# search): every dispatching rule leaves an operation with no room before the frozen one
# it must precede, while a plan exists.
STUCK = {
    "now": 31,
    "machines": [
        {
            "id": 0,
            "working": [list(w) for w in calendar_repeat([(0, 51)], period=80, start=0, end=6000)],
            "downtime": [[46, 66], [222, 241]],
            "changeover": 7,
            "changeovers": [
                {"from": "B", "to": "C", "minutes": 7},
                {"from": "B", "to": "A", "minutes": 9},
                {"from": "A", "to": "B", "minutes": 4},
            ],
            "initial_family": "B",
        }
    ],
    "jobs": [
        {
            "id": 0,
            "operations": [
                {
                    "id": "0/0",
                    "modes": [{"machine": 0, "setup": 2, "run": 9}],
                    "release": 29,
                    "family": "A",
                },
                {
                    "id": "0/1",
                    "modes": [{"machine": 0, "setup": 1, "run": 18}],
                    "release": 24,
                    "family": "A",
                },
                {
                    "id": "0/2",
                    "modes": [{"machine": 0, "setup": 3, "run": 6}],
                    "fixed": {"machine": 0, "start": 320},
                    "family": "B",
                },
            ],
            "weight": 2,
        },
        {
            "id": 1,
            "operations": [
                {
                    "id": "1/0",
                    "modes": [{"machine": 0, "setup": 4, "run": 2}],
                    "release": 49,
                    "family": "C",
                },
                {
                    "id": "1/1",
                    "modes": [{"machine": 0, "setup": 3, "run": 5}],
                    "fixed": {"machine": 0, "start": 93},
                    "family": "B",
                },
            ],
            "due": 82,
            "weight": 3,
        },
        {
            "id": 2,
            "operations": [{"id": "2/0", "modes": [{"machine": 0, "setup": 4, "run": 11}]}],
            "weight": 3,
        },
        {
            "id": 3,
            "operations": [
                {
                    "id": "3/0",
                    "modes": [{"machine": 0, "setup": 0, "run": 17}],
                    "release": 45,
                    "family": "B",
                },
                {
                    "id": "3/1",
                    "modes": [{"machine": 0, "setup": 1, "run": 8}],
                    "release": 13,
                    "fixed": {"machine": 0, "start": 281},
                    "family": "A",
                },
            ],
            "weight": 3,
        },
        {
            "id": 4,
            "operations": [
                {
                    "id": "4/0",
                    "modes": [{"machine": 0, "setup": 1, "run": 5}],
                    "fixed": {"machine": 0, "start": 0},
                    "family": "B",
                },
                {
                    "id": "4/1",
                    "modes": [{"machine": 0, "setup": 1, "run": 2}],
                    "release": 55,
                    "fixed": {"machine": 0, "start": 123},
                },
                {
                    "id": "4/2",
                    "modes": [{"machine": 0, "setup": 3, "run": 9}],
                    "release": 47,
                    "family": "A",
                },
            ],
        },
    ],
}


@pytest.fixture
def serial_rules_only(monkeypatch):
    """STUCK defeats every serial rule; the non-delay rule places it (the test below), so
    the fallbacks are exercised with the serial rules alone."""
    from planning.engines.scheduling import heuristic

    every = heuristic.rules_for
    monkeypatch.setattr(
        heuristic, "rules_for", lambda prep: [r for r in every(prep) if r != heuristic.NON_DELAY]
    )


def test_the_non_delay_rule_places_what_no_serial_rule_can():
    problem = problem_from_dict(STUCK)
    prep = problem_prepare(problem)
    serial = [r for r in rules_for(prep) if r != NON_DELAY]
    assert serial and all(heuristic_schedule(prep, r) is None for r in serial)
    found = heuristic_best(prep)
    assert found is not None and found.rule == NON_DELAY
    result = schedule_solve(problem, replace(FAST, use_cpsat=False))
    assert_feasible(problem, result)


def test_when_no_dispatching_rule_places_every_operation_cp_sat_still_answers(
    serial_rules_only,
):
    problem = problem_from_dict(STUCK)
    assert heuristic_best(problem_prepare(problem)) is None
    result = schedule_solve(problem, FAST)
    assert_feasible(problem, result)
    assert "the dispatching heuristic could not place every operation" in result.notes


def test_above_the_cp_sat_threshold_a_problem_no_rule_can_place_still_gets_a_plan(
    serial_rules_only,
):
    """The threshold keeps large plans on the heuristic; where no rule places every
    operation, CP-SAT on the whole model is still tried instead of answering "no plan"."""
    problem = problem_from_dict(STUCK)
    options = replace(FAST, max_cpsat_operations=3)
    result = schedule_solve(problem, options)
    assert_feasible(problem, result)
    assert any("no dispatching rule placed every operation" in n for n in result.notes)
    with pytest.raises(NoScheduleError):
        schedule_solve(problem, replace(options, use_cpsat=False))


# --- JSON ---------------------------------------------------------------------------------------


def test_json_round_trips_families_and_changeovers():
    data = {
        "machines": [
            {
                "id": "CNC-01",
                "changeover": 30,
                "changeovers": [{"from": "steel", "to": "alu", "minutes": 45}],
                "initial_family": "alu",
            }
        ],
        "jobs": [
            {
                "id": "MO-1",
                "operations": [
                    {"modes": [{"machine": "CNC-01", "run": 60}], "family": "steel"},
                    {"modes": [{"machine": "CNC-01", "run": 60}], "family": "alu"},
                ],
            }
        ],
    }
    problem = problem_from_dict(data)
    assert problem.machines[0].changeovers == (("steel", "alu", 45),)
    assert problem.jobs[0].operations[1].family == "alu"
    assert problem.machines[0].initial_family == "alu"
    assert problem_from_dict(json.loads(json.dumps(problem_to_dict(problem)))) == problem
    result = schedule_solve(problem, FAST)
    # Set up for alu: steel first needs alu -> steel (the default 30), then steel -> alu.
    assert result.makespan == 30 + 60 + 45 + 60


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"changeover": -5}, r"machines\[0\]\.changeover: must not be negative"),
        (
            {"changeovers": [{"from": "a", "to": "b", "minutes": -1}]},
            r"machines\[0\]\.changeovers\[0\]\.minutes: must not be negative",
        ),
        (
            {"changeovers": [{"from": "a", "to": "b", "minute": 1}]},
            r"machines\[0\]\.changeovers\[0\]: unknown field 'minute'",
        ),
        ({"changeovers": [{"from": "a", "minutes": 1}]}, r"needs 'from', 'to' and 'minutes'"),
        ({"changeover": 1.5}, r"machines\[0\]\.changeover: expected whole minutes"),
        ({"changeovres": []}, r"machines\[0\]: unknown field 'changeovres'"),
        ({"initial_family": 7}, r"machines\[0\]\.initial_family: expected a family name"),
    ],
)
def test_json_changeover_errors_name_the_field(patch, message):
    data = {
        "machines": [{"id": "M", **patch}],
        "jobs": [{"operations": [{"modes": [{"machine": "M", "run": 5}]}]}],
    }
    with pytest.raises(ProblemFormatError, match=message):
        problem_from_dict(data)


def test_json_operation_family_must_be_text_and_unknown_fields_are_named():
    base = {"jobs": [{"operations": [{"modes": [{"machine": "M", "run": 5}], "family": 3}]}]}
    with pytest.raises(ProblemFormatError, match=r"operations\[0\]\.family: expected a family"):
        problem_from_dict(base)
    base["jobs"][0]["operations"][0] = {"modes": [{"machine": "M", "run": 5}], "familly": "A"}
    with pytest.raises(ProblemFormatError, match=r"jobs\[0\]\.operations\[0\]: unknown field"):
        problem_from_dict(base)
