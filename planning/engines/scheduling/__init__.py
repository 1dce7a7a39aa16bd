"""Finite-capacity scheduling engine: plain data in, a feasible schedule out (no ORM).

Call `schedule_solve(problem, options)` with a `Problem` (jobs of operations with eligible
machines, machines with calendars) and get a `ScheduleResult`: the assignments, the solver
status (OPTIMAL / FEASIBLE / HEURISTIC), weighted tardiness and makespan, and lower bounds.
`problem_reschedule` freezes what has started before re-solving; `schedule_check` is the
independent feasibility checker and `schedule_changeover_minutes` counts the minutes a
schedule spends in changeovers; `io` reads the JSON and job-shop text formats. The semantics
(calendars, fixed operations, changeovers, the lexicographic objective) are in `model`.
"""

from .checker import schedule_changeover_minutes, schedule_check, schedule_evaluate
from .model import (
    Assignment,
    Job,
    Machine,
    Mode,
    NoScheduleError,
    Operation,
    Placement,
    Problem,
    ProblemError,
    ScheduleResult,
    SolveOptions,
    Status,
    machine_changeover,
)
from .solve import problem_reschedule, schedule_solve

__all__ = [
    "Assignment",
    "Job",
    "Machine",
    "Mode",
    "NoScheduleError",
    "Operation",
    "Placement",
    "Problem",
    "ProblemError",
    "ScheduleResult",
    "SolveOptions",
    "Status",
    "machine_changeover",
    "problem_reschedule",
    "schedule_changeover_minutes",
    "schedule_check",
    "schedule_evaluate",
    "schedule_solve",
]
