"""The large-neighbourhood search (LNS) and the tabu search of the scheduling engine.

Pure tests (no database). Each search runs for a fraction of a second; timing assertions
are generous (limit x 1.05 + 0.5 s) because the host is shared.
"""

from __future__ import annotations

import importlib.util
import random
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.engines.scheduling import (
    Job,
    Machine,
    Mode,
    Operation,
    Problem,
    SolveOptions,
    Status,
    problem_reschedule,
    schedule_check,
    schedule_evaluate,
    schedule_solve,
)
from planning.engines.scheduling.calendar import calendar_repeat
from planning.engines.scheduling.cpsat import horizon_for
from planning.engines.scheduling.heuristic import heuristic_best, schedule_compact, schedule_key
from planning.engines.scheduling.io import problem_from_jobshop_text
from planning.engines.scheduling.lns import NEIGHBOURHOODS, _Search, critical_path, lns_key
from planning.engines.scheduling.prepared import problem_prepare
from planning.engines.scheduling.priority import priority_applies, priority_search
from planning.engines.scheduling.solve import _assignments, hybrid_applies
from planning.engines.scheduling.tabu import _Graph, tabu_applies, tabu_search

ROOT = Path(__file__).resolve().parents[3]
FT06 = (ROOT / "bench" / "data" / "ft06.txt").read_text()
# Search only: no full-model CP-SAT run beside it, so what is found is the search's own.
# The search itself, on any size (mid-size job shops otherwise go to CP-SAT after the tabu search).
SEARCH_ONLY = dict(lns_bound_workers=0, workers=1, lns_min_operations=0, hybrid_max_operations=0)


def _taillard():
    spec = importlib.util.spec_from_file_location("taillard", ROOT / "bench" / "taillard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_feasible(problem, result):
    assert schedule_check(problem, result.assignments) == []
    assert schedule_evaluate(problem, result.assignments) == (
        result.weighted_tardiness,
        result.makespan,
    )


def plant(*, orders: int, machines: int = 6, seed: int = 3) -> Problem:
    """A small plant like bench (a): alternative machines, shifts, maintenance, due dates."""
    rng = random.Random(seed)
    day = 24 * 60
    shifts = calendar_repeat([(6 * 60, 22 * 60)], period=day, start=0, end=60 * day)
    machine_list = []
    for k in range(machines):
        downtime = tuple((d * day + 600, d * day + 840) for d in range(0, 60, 7))
        machine_list.append(Machine(f"M{k}", working=tuple(shifts), downtime=downtime))
    jobs = []
    for j in range(orders):
        release = rng.randrange(0, 3) * day
        ops = []
        for n in range(4):
            eligible = rng.sample(range(machines), 2)
            ops.append(
                Operation(
                    f"O{j}/{n}",
                    tuple(
                        Mode(f"M{k}", run=rng.randint(30, 200), setup=rng.randint(5, 20))
                        for k in eligible
                    ),
                )
            )
        due = release + rng.randint(1, 6) * day
        jobs.append(Job(f"O{j}", tuple(ops), release=release, due=due, weight=rng.randint(1, 5)))
    return Problem(jobs=tuple(jobs), machines=tuple(machine_list))


# --- Taillard's generator -----------------------------------------------------------------------


def test_taillard_generator_reproduces_the_published_ta01():
    taillard = _taillard()
    durations, machines = taillard.taillard_generate(*taillard.INSTANCES["ta01"][:4])
    # The first job of ta01 as published: times 94 66 10 53 ..., machines 7 13 5 8 ...
    assert durations[0][:4] == [94, 66, 10, 53]
    assert machines[0][:4] == [7, 13, 5, 8]
    assert all(sorted(m) == list(range(1, 16)) for m in machines)
    assert taillard.taillard_text("ta01") == (ROOT / "bench" / "data" / "ta01.txt").read_text()


# --- textbook optimum ---------------------------------------------------------------------------


@pytest.mark.parametrize("search", ["default", "lns"])
def test_ft06_is_optimal(search):
    problem = problem_from_jobshop_text(FT06)
    options = SolveOptions(time_limit=10)
    if search == "lns":  # the search with the full-model CP-SAT run beside it, which proves it
        options = SolveOptions(
            time_limit=10, lns_min_operations=0, lns_bound_workers=1, hybrid_max_operations=0
        )
    result = schedule_solve(problem, options)
    assert result.makespan == 55
    assert result.status == Status.OPTIMAL
    assert result.bound == 55
    assert_feasible(problem, result)


def test_ft06_optimum_is_found_by_tabu_and_lns_alone():
    problem = problem_from_jobshop_text(FT06)
    result = schedule_solve(problem, SolveOptions(time_limit=1.5, **SEARCH_ONLY))
    assert result.makespan == 55
    assert result.heuristic_makespan > 55  # the search did the work, not the dispatch rules
    assert_feasible(problem, result)


# --- time limit -------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1.0, 2.0])
def test_time_limit_is_respected_on_a_taillard_instance(limit):
    problem = problem_from_jobshop_text(_taillard().taillard_text("ta21"))
    began = time.monotonic()
    result = schedule_solve(problem, SolveOptions(time_limit=limit))
    elapsed = time.monotonic() - began
    assert elapsed <= limit * 1.05 + 0.5
    assert result.wall_time <= limit * 1.05 + 0.5
    assert result.makespan < result.heuristic_makespan
    assert_feasible(problem, result)


def test_mid_size_job_shops_take_the_tabu_search_then_cp_sat_on_the_whole_model():
    shop = problem_from_jobshop_text(_taillard().taillard_text("ta01"))  # 15x15
    assert hybrid_applies(problem_prepare(shop), SolveOptions())
    began = time.monotonic()
    result = schedule_solve(shop, SolveOptions(time_limit=2.0))
    assert time.monotonic() - began <= 2.0 * 1.05 + 0.5
    assert any(note.endswith("then CP-SAT on the whole model") for note in result.notes)
    assert any(note.startswith("makespan:") for note in result.notes)  # CP-SAT's phase ran
    assert result.makespan < result.heuristic_makespan
    assert result.makespan_bound <= result.makespan
    assert_feasible(shop, result)
    # Larger job shops, plants with due dates and tiny shops keep their own paths.
    large = problem_from_jobshop_text(_taillard().taillard_text("ta41"))  # 30x20
    assert not hybrid_applies(problem_prepare(large), SolveOptions())
    assert not hybrid_applies(problem_prepare(plant(orders=40)), SolveOptions())
    assert not hybrid_applies(problem_prepare(problem_from_jobshop_text(FT06)), SolveOptions())


def test_time_limit_is_respected_on_a_plant_with_calendars_and_due_dates():
    problem = plant(orders=80)
    began = time.monotonic()
    result = schedule_solve(problem, SolveOptions(time_limit=1.5))
    elapsed = time.monotonic() - began
    assert elapsed <= 1.5 * 1.05 + 0.5, (elapsed, result.wall_time, result.notes)
    assert any(note.startswith("LNS") for note in result.notes)
    assert (result.weighted_tardiness, result.makespan) <= (
        result.heuristic_weighted_tardiness,
        result.heuristic_makespan,
    )
    assert result.tardiness_bound <= result.weighted_tardiness
    assert result.makespan_bound <= result.makespan
    assert_feasible(problem, result)


# --- every neighbourhood keeps the plan feasible ------------------------------------------------


@pytest.mark.parametrize("kind", NEIGHBOURHOODS)
def test_each_neighbourhood_gives_a_feasible_schedule_that_is_never_worse(kind):
    problem = plant(orders=25, seed=5)
    prep = problem_prepare(problem)
    start = schedule_compact(prep, heuristic_best(prep))
    search = _Search(prep, start, SolveOptions(**SEARCH_ONLY), horizon_for(prep, start))
    for _ in range(3):
        relaxed = search.neighbourhood(kind)
        if not relaxed:
            continue
        assert relaxed <= set(search.free)
        found, _ = search.solve(relaxed, 1.0, 1)
        assert found is not None
        assert lns_key(prep, found)[:2] <= search.key[:2]
        assert schedule_check(problem, _assignments(prep, found)) == []
        search.offer(found)


def test_critical_path_is_a_chain_without_slack_ending_at_the_makespan():
    problem = problem_from_jobshop_text(FT06)
    prep = problem_prepare(problem)
    sched = heuristic_best(prep)
    last = max(range(len(prep.ops)), key=lambda i: sched.end[i])
    path = critical_path(prep, sched, random.Random(0), last)
    assert path[0] == last
    for later, earlier in zip(path, path[1:], strict=False):
        assert sched.end[earlier] == sched.start[later]
    assert sched.start[path[-1]] == 0  # ft06 has no releases: the chain starts at time 0


# --- random problems: LNS and tabu results pass the checker; frozen operations stay put -----------


@st.composite
def plants(draw):
    n_machines = draw(st.integers(2, 4))
    machines = []
    for k in range(n_machines):
        if draw(st.booleans()):
            shift = draw(st.integers(40, 70))
            working = tuple(calendar_repeat([(0, shift)], period=80, start=0, end=8000))
            downtime = tuple(
                (s, s + draw(st.integers(1, 20)))
                for s in draw(st.lists(st.integers(0, 600), max_size=3))
            )
            machines.append(Machine(k, working=working, downtime=downtime))
        else:
            machines.append(Machine(k))
    jobs = []
    for j in range(draw(st.integers(3, 7))):
        ops = []
        for n in range(draw(st.integers(1, 4))):
            eligible = draw(
                st.lists(st.integers(0, n_machines - 1), min_size=1, max_size=2, unique=True)
            )
            modes = tuple(
                Mode(k, draw(st.integers(1, 30)), draw(st.integers(0, 5))) for k in eligible
            )
            ops.append(Operation(f"{j}/{n}", modes, release=draw(st.none() | st.integers(0, 50))))
        jobs.append(
            Job(
                j,
                tuple(ops),
                release=draw(st.none() | st.integers(0, 40)),
                due=draw(st.none() | st.integers(40, 300)),
                weight=draw(st.integers(1, 5)),
            )
        )
    return Problem(jobs=tuple(jobs), machines=tuple(machines))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=plants(), now=st.integers(0, 150), data=st.data())
def test_lns_on_random_plants_is_feasible_and_keeps_frozen_operations(problem, now, data):
    options = SolveOptions(time_limit=0.25, **SEARCH_ONLY)
    result = schedule_solve(problem, options)
    assert_feasible(problem, result)
    assert result.makespan_bound <= result.makespan
    assert result.tardiness_bound <= result.weighted_tardiness
    assert (result.weighted_tardiness, result.makespan) <= (
        result.heuristic_weighted_tardiness,
        result.heuristic_makespan,
    )
    ids = [a.op_id for a in result.assignments]
    frozen = data.draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    replan = problem_reschedule(problem, result.assignments, now=now, frozen=frozen)
    again = schedule_solve(replan, options)
    assert_feasible(replan, again)
    before, after = result.by_operation(), again.by_operation()
    for op_id in ids:
        if before[op_id].start < now or op_id in frozen:
            assert (after[op_id].machine, after[op_id].start) == (
                before[op_id].machine,
                before[op_id].start,
            )
        else:
            assert after[op_id].start >= now


@st.composite
def job_shops(draw):
    machines = draw(st.integers(2, 5))
    lines = [f"{draw(st.integers(2, 8))} {machines}"]
    for _ in range(int(lines[0].split()[0])):
        order = draw(st.permutations(range(machines)))
        lines.append(" ".join(f"{k} {draw(st.integers(1, 40))}" for k in order))
    return problem_from_jobshop_text("\n".join(lines) + "\n")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=job_shops(), seed=st.integers(0, 5))
def test_tabu_search_on_random_job_shops_is_feasible_and_never_worse(problem, seed):
    prep = problem_prepare(problem)
    assert tabu_applies(prep)
    start = schedule_compact(prep, heuristic_best(prep))
    best, moves = tabu_search(prep, start, time.monotonic() + 0.1, seed)
    assert best.makespan() <= start.makespan()
    assert schedule_check(problem, _assignments(prep, best)) == []


# --- the priority search: dispatching again with adjusted due dates ----------------------------


def test_priority_search_cuts_the_weighted_tardiness_of_a_loaded_plant():
    """A plant where the best dispatching rule leaves orders late: re-dispatching with the
    late orders made more urgent finds a plan with less weighted tardiness (a fixed number of
    passes, so the run does not depend on the machine's speed)."""
    problem = plant(orders=60, machines=4, seed=7)
    prep = problem_prepare(problem)
    assert priority_applies(prep)
    start = heuristic_best(prep)
    start_key = schedule_key(prep, start)
    assert start_key[0] > 0
    best, passes = priority_search(prep, start, time.monotonic() + 120, seed=0, max_passes=60)
    assert passes == 60
    assert schedule_key(prep, best) < start_key
    assert schedule_key(prep, best)[0] <= 0.9 * start_key[0]
    assert schedule_check(problem, _assignments(prep, best)) == []


def test_the_search_runs_the_priority_search_on_plants_and_not_on_job_shops():
    result = schedule_solve(plant(orders=40), SolveOptions(time_limit=1.0, **SEARCH_ONLY))
    assert any(note.startswith("priority search") for note in result.notes)
    shop = problem_from_jobshop_text(FT06)
    assert not priority_applies(problem_prepare(shop))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=plants(), now=st.integers(0, 150), seed=st.integers(0, 5), data=st.data())
def test_priority_search_on_random_plants_is_feasible_and_keeps_frozen_operations(
    problem, now, seed, data
):
    first = schedule_solve(problem, SolveOptions(use_cpsat=False))
    ids = [a.op_id for a in first.assignments]
    frozen = data.draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    replan = problem_reschedule(problem, first.assignments, now=now, frozen=frozen)
    prep = problem_prepare(replan)
    start = heuristic_best(prep)
    best, _ = priority_search(prep, start, time.monotonic() + 60, seed=seed, max_passes=15)
    assert schedule_key(prep, best) <= schedule_key(prep, start)
    assignments = _assignments(prep, best)
    assert schedule_check(replan, assignments) == []
    before = first.by_operation()
    placed = {a.op_id: a for a in assignments}
    for op_id in ids:
        if before[op_id].start < now or op_id in frozen:
            assert (placed[op_id].machine, placed[op_id].start) == (
                before[op_id].machine,
                before[op_id].start,
            )
        else:
            assert placed[op_id].start >= now


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=job_shops(), seed=st.integers(0, 50))
def test_a_swap_updates_heads_tails_and_order_as_a_full_evaluation_would(problem, seed):
    """The tabu search updates only what a swap changes; after every swap of adjacent
    operations on a critical block, heads, tails and machine links equal a full evaluation
    from scratch, and the order kept stays topological."""
    rng = random.Random(seed)
    prep = problem_prepare(problem)
    graph = _Graph(prep, heuristic_best(prep))
    graph.evaluate()
    for _ in range(30):
        head, p = graph.head, graph.p
        last = max(h + d for h, d in zip(head, p, strict=True))
        critical = [
            (u, graph.ms[u])
            for u in range(len(p))
            if graph.ms[u] >= 0
            and head[u] + p[u] == head[graph.ms[u]]
            and head[u] + p[u] + p[graph.ms[u]] + graph.tail[graph.ms[u]] == last
        ]
        if not critical:
            break
        graph.swap(*rng.choice(critical))
        kept = (list(graph.head), list(graph.tail), list(graph.mp), list(graph.ms))
        order = sorted(range(len(p)), key=graph.pos.__getitem__)
        assert sorted(graph.pos) == list(range(len(p)))
        for i in order:
            for q in (*graph.preds[i], graph.mp[i]):
                assert q < 0 or graph.pos[q] < graph.pos[i]
        assert graph.evaluate() == kept


def test_tabu_does_not_apply_to_plants():
    assert not tabu_applies(problem_prepare(plant(orders=3)))


# --- lower bound from the working time of interchangeable machines ------------------------------


def test_group_load_bound_counts_only_working_time():
    # Two interchangeable machines, each working [0, 60) and [100, 200); 200 minutes of work
    # need 100 machine-minutes each: 60 before the break and 40 after, so nothing can end
    # before minute 140.
    working = ((0, 60), (100, 200))
    problem = Problem(
        machines=(Machine("A", working=working), Machine("B", working=working)),
        jobs=tuple(
            Job(f"J{j}", (Operation(f"J{j}/1", (Mode("A", 40), Mode("B", 40))),)) for j in range(5)
        ),
    )
    prep = problem_prepare(problem)
    assert prep.lower_bounds()[1] == 140
    result = schedule_solve(problem, SolveOptions(time_limit=2))
    assert result.makespan_bound >= 140
    assert result.makespan >= result.makespan_bound
    assert_feasible(problem, result)


def test_the_bounds_see_that_work_cannot_straddle_a_break():
    # 100 minutes of work on machine A, working [0, 60) and [120, 240): it cannot start before
    # the break (an operation lies inside one working interval), so it ends at 220 at best,
    # and on B, working [0, 50) and [400, 600), at 500. Due at 150, the job is at least 70
    # minutes late (weight 2: 140). K, released at 300, can end on B at 410 at best.
    problem = Problem(
        machines=(
            Machine("A", working=((0, 60), (120, 240))),
            Machine("B", working=((0, 50), (400, 600))),
        ),
        jobs=(
            Job("J", (Operation("J/1", (Mode("A", 100), Mode("B", 100))),), due=150, weight=2),
            Job("K", (Operation("K/1", (Mode("B", 10),), release=300),)),
        ),
    )
    assert problem_prepare(problem).lower_bounds() == (140, 410)
    result = schedule_solve(problem, SolveOptions(time_limit=1))
    assert_feasible(problem, result)
    assert (result.weighted_tardiness, result.makespan) == (140, 410)
    assert result.status == Status.OPTIMAL


def test_a_schedule_that_meets_its_bounds_is_reported_optimal():
    # One machine, no calendar: the machine's load is both the bound and the makespan.
    problem = Problem(
        machines=(Machine("A"),),
        jobs=tuple(Job(f"J{j}", (Operation(f"J{j}/1", (Mode("A", 10 + j),)),)) for j in range(6)),
    )
    result = schedule_solve(problem, SolveOptions(time_limit=0.5, **SEARCH_ONLY))
    assert result.makespan == result.makespan_bound == sum(10 + j for j in range(6))
    assert result.status == Status.OPTIMAL
    assert_feasible(problem, result)


def test_schedule_command_runs_the_search_with_a_bound_run_on_request(tmp_path):
    path = tmp_path / "ta01.txt"
    path.write_text(_taillard().taillard_text("ta01"))
    out = StringIO()
    call_command("schedule", str(path), "--time-limit", "1", "--bound-workers", "1", stdout=out)
    text = out.getvalue()
    assert "status: FEASIBLE" in text or "status: OPTIMAL" in text
    with pytest.raises(CommandError, match="--bound-workers must not be negative"):
        call_command("schedule", str(path), "--bound-workers", "-1", stdout=StringIO())
