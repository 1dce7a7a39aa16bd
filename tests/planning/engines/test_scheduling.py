"""The finite-capacity scheduling engine: textbook instances, random problems, the checker.

Pure tests (no database). CP-SAT runs with two workers and short limits so the file stays
fast on a two-core machine.
"""

from __future__ import annotations

import dataclasses
import json
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
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
    problem_reschedule,
    schedule_check,
    schedule_evaluate,
    schedule_solve,
)
from planning.engines.scheduling.calendar import calendar_normalise, calendar_repeat
from planning.engines.scheduling.io import (
    ProblemFormatError,
    problem_from_dict,
    problem_from_jobshop_text,
    problem_to_dict,
)
from planning.engines.scheduling.prepared import problem_prepare

DATA = Path(__file__).parent.parent / "data"

# Fisher and Thompson 6x6 (OR-Library jobshop1.txt "ft06"); optimal makespan 55.
FT06 = """\
# ft06, Fisher and Thompson (1963)
6 6
2  1  0  3  1  6  3  7  5  3  4  6
1  8  2  5  4 10  5 10  0 10  3  4
2  5  3  4  5  8  0  9  1  1  4  7
1  5  0  5  2  5  3  3  4  8  5  9

2  9  1  3  4  5  5  4  0  3  3  1
1  3  3  3  5  9  0 10  4  4  2  1
"""

# Lawrence 10x5 (OR-Library "la01"); optimal makespan 666.
LA01 = """\
10 5
1 21 0 53 4 95 3 55 2 34
0 21 3 52 4 16 2 26 1 71
3 39 4 98 1 42 2 31 0 12
1 77 0 55 4 79 2 66 3 77
0 83 3 34 2 64 1 19 4 37
1 54 2 43 4 79 0 92 3 62
3 69 4 77 1 87 2 87 0 93
2 38 0 60 1 41 3 24 4 83
3 17 1 49 4 25 0 44 2 98
4 77 3 79 2 43 1 75 0 96
"""

FAST = SolveOptions(time_limit=10, workers=2)


def op(op_id, *modes, **kwargs) -> Operation:
    return Operation(id=op_id, modes=tuple(Mode(*m) for m in modes), **kwargs)


def assert_feasible(problem: Problem, result) -> None:
    assert schedule_check(problem, result.assignments) == []
    assert schedule_evaluate(problem, result.assignments) == (
        result.weighted_tardiness,
        result.makespan,
    )
    assert result.tardiness_bound <= result.weighted_tardiness
    assert result.makespan_bound <= result.makespan


# --- textbook instances -------------------------------------------------------------------------


def test_ft06_is_solved_to_its_optimum_55_within_10_seconds():
    problem = problem_from_jobshop_text(FT06)
    began = time.monotonic()
    result = schedule_solve(problem, FAST)
    assert time.monotonic() - began < 10.5
    assert result.status == Status.OPTIMAL
    assert result.makespan == 55
    assert result.bound == 55 and result.objective == "makespan"
    assert result.heuristic_makespan >= 55
    assert_feasible(problem, result)


def test_la01_is_solved_to_its_optimum_666():
    problem = problem_from_jobshop_text(LA01)
    result = schedule_solve(problem, FAST)
    assert (result.status, result.makespan, result.bound) == (Status.OPTIMAL, 666, 666)
    assert_feasible(problem, result)


# --- objective ------------------------------------------------------------------------------------


def test_weighted_tardiness_comes_before_makespan():
    """Worked by hand.

    X: 30 min on B then 30 on A, no due date. Y: 10 min on B, due at 10.
    Y first: Y 0-10, X 10-40 on B, 40-70 on A -> tardiness 0, makespan 70.
    X first: X 0-30 on B, 30-60 on A, Y 30-40 -> tardiness 30, makespan 60.
    Tardiness first, so Y goes first and the makespan is 70, not 60.
    """
    problem = Problem(
        machines=(Machine("A"), Machine("B")),
        jobs=(
            Job("X", (op("X/1", ("B", 30)), op("X/2", ("A", 30)))),
            Job("Y", (op("Y/1", ("B", 10)),), due=10),
        ),
    )
    result = schedule_solve(problem, FAST)
    assert result.status == Status.OPTIMAL
    assert result.objective == "weighted_tardiness"
    assert (result.weighted_tardiness, result.makespan) == (0, 70)
    assert result.by_operation()["Y/1"].start == 0
    assert result.bound == 0 and result.makespan_bound == 70
    assert_feasible(problem, result)


def test_heavier_job_goes_first_when_someone_must_be_late():
    """One machine, P and Q each 10 min due at 10; Q weighs 3: Q first, P late by 10."""
    problem = Problem(
        machines=(Machine("M"),),
        jobs=(
            Job("P", (op("P/1", ("M", 10)),), due=10, weight=1),
            Job("Q", (op("Q/1", ("M", 10)),), due=10, weight=3),
        ),
    )
    result = schedule_solve(problem, FAST)
    assert result.weighted_tardiness == 10
    assert result.by_operation()["Q/1"].start == 0
    assert result.status == Status.OPTIMAL and result.bound == 10


def test_alternative_machines_with_their_own_durations():
    """Two 60-min jobs; the fast machine does one in 60, the slow one in 90 (setup 10)."""
    problem = Problem(
        machines=(Machine("FAST"), Machine("SLOW")),
        jobs=tuple(Job(j, (op(f"{j}/1", ("FAST", 60), ("SLOW", 80, 10)),)) for j in ("J1", "J2")),
    )
    result = schedule_solve(problem, FAST)
    assert result.makespan == 90
    assert {a.machine for a in result.assignments} == {"FAST", "SLOW"}
    assert_feasible(problem, result)


# --- calendars ------------------------------------------------------------------------------------


def test_operation_is_not_split_across_a_break():
    problem = Problem(
        machines=(Machine("M", working=((0, 10), (20, 40))),),
        jobs=(Job("J", (op("J/1", ("M", 15)),)),),
    )
    result = schedule_solve(problem, FAST)
    assert (result.assignments[0].start, result.assignments[0].end) == (20, 35)
    assert_feasible(problem, result)


def test_back_to_back_shifts_count_as_one_stretch_and_downtime_is_taken_out():
    problem = Problem(
        machines=(Machine("M", working=((0, 10), (10, 30)), downtime=((25, 27),)),),
        jobs=(Job("J", (op("J/1", ("M", 15)),)), Job("K", (op("K/1", ("M", 3)),))),
    )
    result = schedule_solve(problem, FAST)
    placed = result.by_operation()
    # Either order is optimal (makespan 18); J/1 runs across the 10:00 shift change either
    # way, and nothing runs in the downtime.
    assert result.makespan == 18
    assert placed["J/1"].start < 10 < placed["J/1"].end <= 25
    assert placed["K/1"].end <= 25
    assert_feasible(problem, result)


def test_calendar_helpers():
    assert calendar_normalise([(10, 20), (0, 10), (30, 40)], [(15, 32)]) == [(0, 15), (32, 40)]
    shifts = calendar_repeat([(360, 840), (840, 1320)], period=1440, start=0, end=2 * 1440)
    assert shifts == [(360, 1320), (1800, 2760)]
    night = calendar_repeat([(1320, 1800)], period=1440, start=0, end=1440)
    assert night == [(0, 360), (1320, 1440)]


def test_too_little_working_time_is_reported_not_scheduled():
    problem = Problem(
        machines=(Machine("M", working=((0, 100),)),),
        jobs=(Job("J", (op("J/1", ("M", 60)), op("J/2", ("M", 60)))),),
    )
    with pytest.raises(NoScheduleError):
        schedule_solve(problem, SolveOptions(time_limit=1, workers=2))


def test_operation_longer_than_every_shift_is_a_problem_error():
    problem = Problem(
        machines=(Machine("M", working=((0, 100), (200, 300))),),
        jobs=(Job("J", (op("J/1", ("M", 150)),)),),
    )
    with pytest.raises(ProblemError, match="not split across breaks"):
        schedule_solve(problem, FAST)


# --- precedence, releases, validation ---------------------------------------------------------


def test_general_precedence_across_jobs_and_release_dates():
    problem = Problem(
        machines=(Machine("A"), Machine("B")),
        now=5,
        jobs=(
            Job("SUB", (op("SUB/1", ("A", 20)),), release=10),
            Job(
                "MAIN",
                (op("MAIN/1", ("B", 5)), op("MAIN/2", ("B", 5), predecessors=("SUB/1",))),
                sequential=False,
            ),
        ),
    )
    result = schedule_solve(problem, FAST)
    placed = result.by_operation()
    assert placed["SUB/1"].start == 10
    assert placed["MAIN/1"].start == 5
    assert placed["MAIN/2"].start >= 30
    assert_feasible(problem, result)


@pytest.mark.parametrize(
    ("jobs", "message"),
    [
        ((Job("J", (op("J/1", ("NOPE", 5)),)),), "unknown machine"),
        ((Job("J", (op("J/1", ("M", 5), predecessors=("J/2",)), op("J/2", ("M", 5)))),), "cycle"),
        ((Job("J", (op("J/1", ("M", 0)),)),), "at least 1 minute"),
        ((Job("J", (op("J/1", ("M", 5), predecessors=("X",)),)),), "unknown predecessor"),
        ((Job("J", (op("J/1", ("M", 5)),)), Job("J", (op("J/2", ("M", 5)),))), "twice"),
        ((Job("J", (op("J/1", ("M", 5), fixed=Placement("Q", 0)),)),), "not one of its machines"),
    ],
)
def test_malformed_problems_are_rejected_with_a_clear_message(jobs, message):
    problem = Problem(machines=(Machine("M"), Machine("Q")), jobs=jobs)
    with pytest.raises(ProblemError, match=message):
        schedule_solve(problem, FAST)


# --- the checker can fail -------------------------------------------------------------------------


@pytest.fixture
def small_solved():
    problem = Problem(
        machines=(Machine("A", working=((0, 100), (200, 300))), Machine("B")),
        jobs=(
            Job("J1", (op("J1/1", ("A", 30)), op("J1/2", ("B", 20), ("A", 25))), release=0),
            Job("J2", (op("J2/1", ("A", 40)), op("J2/2", ("B", 10))), release=5),
        ),
    )
    result = schedule_solve(problem, FAST)
    assert schedule_check(problem, result.assignments) == []
    return problem, list(result.assignments)


def _replace(assignments, op_id, **changes):
    return [dataclasses.replace(a, **changes) if a.op_id == op_id else a for a in assignments]


def test_checker_rejects_overlap(small_solved):
    problem, good = small_solved
    placed = {a.op_id: a for a in good}
    other = placed["J2/1"]
    bad = _replace(good, "J1/1", start=other.start, end=other.start + 30)
    assert any("overlap" in e for e in schedule_check(problem, bad))


def test_checker_rejects_broken_precedence(small_solved):
    problem, good = small_solved
    first = {a.op_id: a for a in good}["J1/1"]
    bad = _replace(good, "J1/2", machine="B", start=first.start, end=first.start + 20)
    assert any("before its predecessor" in e for e in schedule_check(problem, bad))


def test_checker_rejects_calendar_violation(small_solved):
    problem, good = small_solved
    bad = _replace(good, "J2/1", start=150, end=190)  # machine A is off from 100 to 200
    bad = _replace(bad, "J2/2", machine="B", start=190, end=200)
    assert any("working interval" in e for e in schedule_check(problem, bad))
    across = _replace(good, "J2/1", start=80, end=120)  # runs through the break
    assert any("working interval" in e for e in schedule_check(problem, across))


def test_checker_rejects_wrong_duration_ineligible_machine_and_missing_ops(small_solved):
    problem, good = small_solved
    placed = {a.op_id: a for a in good}
    short = _replace(good, "J1/1", end=placed["J1/1"].start + 29)
    assert any("should be 30" in e for e in schedule_check(problem, short))
    wrong = _replace(good, "J2/2", machine="A")
    assert any("not eligible" in e for e in schedule_check(problem, wrong))
    assert any("not scheduled" in e for e in schedule_check(problem, good[1:]))
    assert any("twice" in e for e in schedule_check(problem, good + good[:1]))


def test_checker_rejects_start_before_release_and_moved_fixed_operation():
    problem = Problem(
        machines=(Machine("M"),),
        jobs=(
            Job("J", (op("J/1", ("M", 10)),), release=50),
            Job("F", (op("F/1", ("M", 10), fixed=Placement("M", 0)),)),
        ),
    )
    early = [Assignment("J/1", "J", 0, "M", 20, 30), Assignment("F/1", "F", 0, "M", 0, 10)]
    assert any("release" in e for e in schedule_check(problem, early))
    moved = [Assignment("J/1", "J", 0, "M", 50, 60), Assignment("F/1", "F", 0, "M", 10, 20)]
    assert any("fixed at 0" in e for e in schedule_check(problem, moved))


# --- rescheduling -----------------------------------------------------------------------------


def test_started_and_frozen_operations_stay_put_on_reschedule():
    problem = problem_from_jobshop_text(FT06)
    first = schedule_solve(problem, FAST)
    now = 20
    placed = first.by_operation()
    frozen = next(a.op_id for a in first.assignments if a.start > now + 5)
    # Machine 0 breaks down from 25 to 45 after the plan was made.
    broken = dataclasses.replace(
        problem,
        machines=tuple(
            dataclasses.replace(m, downtime=((25, 45),)) if m.id == 0 else m
            for m in problem.machines
        ),
    )
    replan = problem_reschedule(broken, first.assignments, now=now, frozen=[frozen])
    started = {a.op_id for a in first.assignments if a.start < now}
    assert started and all(
        o.fixed is not None for j in replan.jobs for o in j.operations if o.id in started
    )
    second = schedule_solve(replan, FAST)
    assert_feasible(replan, second)
    after = second.by_operation()
    for op_id in started | {frozen}:
        assert (after[op_id].machine, after[op_id].start) == (
            placed[op_id].machine,
            placed[op_id].start,
        )
    for a in second.assignments:
        if a.op_id not in started | {frozen}:
            assert a.start >= now
            if a.machine == 0:
                assert a.end <= 25 or a.start >= 45


def test_fixed_operation_may_sit_outside_the_calendar():
    """A started operation ran into the break: a fact, kept; the others respect the calendar."""
    problem = Problem(
        machines=(Machine("M", working=((0, 100), (200, 400))),),
        now=110,
        jobs=(
            Job("J", (op("J/1", ("M", 30), fixed=Placement("M", 90)), op("J/2", ("M", 20)))),
            Job("K", (op("K/1", ("M", 50)),)),
        ),
    )
    result = schedule_solve(problem, FAST)
    placed = result.by_operation()
    assert placed["J/1"].start == 90
    assert placed["J/2"].start >= 200 and placed["K/1"].start >= 200
    assert_feasible(problem, result)


# --- heuristic fallback -----------------------------------------------------------------------


def test_heuristic_fallback_above_the_threshold_gives_a_valid_schedule():
    problem = problem_from_jobshop_text(LA01)
    result = schedule_solve(problem, SolveOptions(time_limit=5, workers=2, max_cpsat_operations=10))
    assert result.status == Status.HEURISTIC
    assert any("threshold" in note for note in result.notes)
    assert result.makespan == result.heuristic_makespan
    assert result.bound == result.makespan_bound
    assert 0 < result.bound <= 666 <= result.makespan
    assert_feasible(problem, result)


# --- random problems always yield a checked schedule --------------------------------------------


@st.composite
def random_problems(draw):
    n_machines = draw(st.integers(1, 4))
    machines = []
    for k in range(n_machines):
        if draw(st.booleans()):
            shift = draw(st.integers(25, 60))
            working = tuple(calendar_repeat([(0, shift)], period=80, start=0, end=4000))
            downtime = tuple(
                (s, s + draw(st.integers(1, 30)))
                for s in draw(st.lists(st.integers(0, 400), max_size=3))
            )
            machines.append(Machine(k, working=working, downtime=downtime))
        else:
            machines.append(Machine(k))
    jobs = []
    for j in range(draw(st.integers(1, 4))):
        ops = []
        for n in range(draw(st.integers(1, 4))):
            eligible = draw(
                st.lists(st.integers(0, n_machines - 1), min_size=1, max_size=3, unique=True)
            )
            modes = tuple(
                Mode(k, draw(st.integers(1, 20)), draw(st.integers(0, 4))) for k in eligible
            )
            ops.append(Operation(f"{j}/{n}", modes, release=draw(st.none() | st.integers(0, 60))))
        jobs.append(
            Job(
                j,
                tuple(ops),
                release=draw(st.none() | st.integers(0, 40)),
                due=draw(st.none() | st.integers(50, 400)),
                weight=draw(st.integers(1, 5)),
            )
        )
    if len(jobs) > 1 and draw(st.booleans()):  # a cross-job precedence, no cycle: later on earlier
        last = jobs[-1]
        first_op = dataclasses.replace(
            last.operations[0], predecessors=(jobs[0].operations[-1].id,)
        )
        jobs[-1] = dataclasses.replace(last, operations=(first_op, *last.operations[1:]))
    return Problem(jobs=tuple(jobs), machines=tuple(machines))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    problem=random_problems(),
    solver=st.sampled_from(["heuristic", "cp-sat", "windows", "lns"]),
    now=st.integers(0, 200),
    data=st.data(),
)
def test_random_problems_and_their_reschedules_pass_the_checker(problem, solver, now, data):
    options = SolveOptions(
        time_limit=0.5,
        workers=2,
        use_cpsat=solver != "heuristic",
        window_operations=2 if solver == "windows" else 1500,
        lns=solver == "lns",
        lns_min_operations=0,
    )
    result = schedule_solve(problem, options)
    assert_feasible(problem, result)
    # The simple bounds hold below every plan, those of the replan (fixed work, a later
    # start) as well.
    tardiness_bound, makespan_bound = problem_prepare(problem).lower_bounds()
    assert tardiness_bound <= result.weighted_tardiness
    assert makespan_bound <= result.makespan
    assert result.tardiness_bound <= result.weighted_tardiness
    if result.status == Status.OPTIMAL:
        assert result.bound == (
            result.weighted_tardiness
            if result.objective == "weighted_tardiness"
            else result.makespan
        )

    ids = [a.op_id for a in result.assignments]
    frozen = data.draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
    replan = problem_reschedule(problem, result.assignments, now=now, frozen=frozen)
    again = schedule_solve(replan, SolveOptions(time_limit=0.5, workers=2))
    assert_feasible(replan, again)
    assert problem_prepare(replan).lower_bounds()[0] <= again.weighted_tardiness
    assert again.tardiness_bound <= again.weighted_tardiness
    before, after = result.by_operation(), again.by_operation()
    for op_id in ids:
        if before[op_id].start < now or op_id in frozen:
            assert (after[op_id].machine, after[op_id].start) == (
                before[op_id].machine,
                before[op_id].start,
            )
        else:
            assert after[op_id].start >= now


# --- io -----------------------------------------------------------------------------------------


def test_json_problem_round_trips():
    data = json.loads((DATA / "small_problem.json").read_text())
    problem = problem_from_dict(data)
    assert problem_from_dict(json.loads(json.dumps(problem_to_dict(problem)))) == problem
    assert [j.id for j in problem.jobs] == ["MO-1", "MO-2", "ASSY-1"]
    assert problem.jobs[0].operations[1].modes[0] == Mode("CNC-01", run=200, setup=15)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("2 2\n0 5 1 6\n", "line 2: the header announces 2 jobs"),
        ("1 2\n0 5 1\n", "line 2: expected pairs"),
        ("1 2\n# comment\n0 5 7 6\n", "line 3: machine 7 is outside 0..1"),
        ("1 2\n0 5 1 x\n", "line 2: 'x' is not an integer"),
        ("1 2\n0 5 1 ²\n", "line 2: '²' is not an integer"),
        ("1 2\n0 5 1 0\n", "line 2: duration 0"),
        ("1 1\n0 5\n0 5\n", "line 3: more job lines"),
        ("x 2\n", "line 1"),
    ],
)
def test_jobshop_text_errors_name_the_line(text, message):
    with pytest.raises(ProblemFormatError, match=message):
        problem_from_jobshop_text(text)


def test_json_errors_name_the_field():
    with pytest.raises(ProblemFormatError, match=r"jobs\[0\]\.operations\[0\]\.modes\[0\]\.run"):
        problem_from_dict({"jobs": [{"operations": [{"modes": [{"machine": "M", "run": "x"}]}]}]})


# --- the command ----------------------------------------------------------------------------------


def test_command_solves_ft06_text(tmp_path):
    path = tmp_path / "ft06.txt"
    path.write_text(FT06)
    out = StringIO()
    call_command("schedule", str(path), "--time-limit", "10", "--workers", "2", stdout=out)
    text = out.getvalue()
    assert "status: OPTIMAL" in text
    assert "makespan: 55" in text and "makespan bound: 55" in text


def test_command_solves_json_and_writes_the_schedule(tmp_path):
    output = tmp_path / "schedule.json"
    out = StringIO()
    call_command(
        "schedule",
        str(DATA / "small_problem.json"),
        "--time-limit",
        "5",
        "--workers",
        "2",
        "--output",
        str(output),
        stdout=out,
    )
    rows = json.loads(output.read_text())
    assert len(rows) == 7
    assert all(set(row) == {"job", "op_index", "machine", "start", "end"} for row in rows)
    problem = problem_from_dict(json.loads((DATA / "small_problem.json").read_text()))
    ops = {(j.id, n): o.id for j in problem.jobs for n, o in enumerate(j.operations)}
    assignments = [
        Assignment(
            ops[(r["job"], r["op_index"])],
            r["job"],
            r["op_index"],
            r["machine"],
            r["start"],
            r["end"],
        )
        for r in rows
    ]
    assert schedule_check(problem, assignments) == []
    assert "weighted tardiness: 0" in out.getvalue()


def test_command_reports_malformed_files_without_a_traceback(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("2 2\n0 5 1 6\n1 x 0 3\n")
    with pytest.raises(CommandError, match="line 3"):
        call_command("schedule", str(path), stdout=StringIO())
    with pytest.raises(CommandError, match="cannot read"):
        call_command("schedule", str(tmp_path / "missing.txt"), stdout=StringIO())
