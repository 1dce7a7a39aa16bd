"""Plain data for the finite-capacity scheduler: the problem in, the schedule out.

Time is an integer number of minutes from the horizon origin (the service picks the origin,
usually the start of the planning run, and converts aware datetimes to and from minutes).

Semantics the whole package (heuristic, CP-SAT model, checker) agrees on:

* A **job** (a production order) is a list of operations. With ``sequential=True`` (the
  default) each operation starts after the previous one in the list has ended (a routing);
  with ``sequential=False`` only the explicit ``predecessors`` order them. Explicit
  ``predecessors`` may name any operation of any job (general precedence, e.g. assembly
  waiting for a sub-assembly order).
* An operation runs on exactly one of its **modes**: an eligible machine with its own setup and
  run minutes. Setup and run are done back to back on the same machine; the operation
  occupies the machine for ``setup + run`` minutes (at least one minute).
* A machine with a calendar works only inside its **working intervals** (shifts minus
  downtime such as maintenance windows; touching intervals are merged, so a 06:00–14:00 and
  a 14:00–22:00 shift make one interval). An operation is **not split across a break**: it
  must lie entirely inside one working interval. A machine without a calendar is always
  available. After its last working interval a machine with a calendar is unavailable, so the
  service must give calendars that cover the whole horizon it plans for.
* An operation starts no earlier than ``max(problem.now, job.release, operation.release)``.
* A **fixed** operation (started, or frozen by a planner) keeps its machine and start. It is
  a fact, not a decision: it is exempt from calendars, release dates and ``now``, and the
  precedence between two fixed operations is not checked; but everything else must respect
  it (it occupies its machine, and a successor starts after it ends).
* **Sequence-dependent setups** (changeovers): an operation may name a setup ``family``
  (e.g. a material or a fixture). When the operation before it on its machine belongs to a
  different family (both named), the machine needs ``machine_changeover(machine, from, to)``
  minutes of changeover first: the operation's block on the machine then starts with the
  changeover, so it occupies ``changeover + setup + run`` minutes in one working interval.
  The first operation on a machine needs the changeover from the machine's
  ``initial_family`` (what it is set up for when the plan starts: the last operation it
  ran), if it names one; an operation following the same family or an operation without a
  family needs none. An operation's ``start`` is the start of its block (changeover
  included). Fixed operations keep this simple and known in advance: a fixed operation's
  block is its changeover from the **fixed** operation before it on its machine (the fixed
  one that starts last before it; the initial family when there is none) plus its setup and
  run; and a free operation placed
  directly before a fixed one must end ``machine_changeover(machine, its family, the fixed
  one's family)`` minutes before the fixed operation starts (the changeover into a fact is
  done in the idle time before it, which like the fixed operation is exempt from calendars).
  Nothing is checked between two fixed operations. So a schedule frozen as it stands
  (`problem_reschedule`) keeps the same blocks when the operations before the frozen ones
  are fixed too, and a free operation can never shorten or lengthen a fixed block.
* Objective, lexicographic: first the total weighted tardiness
  ``sum(job.weight * max(0, completion - job.due))`` over jobs with a due date, then the
  makespan (the latest end of any operation, in minutes from the origin).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Key = str | int
"""Identifier of a job, an operation or a machine: a business code or a database id."""

Interval = tuple[int, int]
"""Half-open ``[start, end)`` in minutes from the origin."""


class ProblemError(ValueError):
    """The problem is malformed (unknown machine, cycle in the precedences, ...)."""


class NoScheduleError(RuntimeError):
    """No feasible schedule could be found (e.g. calendars too short, frozen ops conflicting)."""


@dataclass(frozen=True)
class Mode:
    """One way to do an operation: on this machine, with this setup and run time (minutes)."""

    machine: Key
    run: int
    setup: int = 0

    @property
    def duration(self) -> int:
        return self.setup + self.run


@dataclass(frozen=True)
class Placement:
    """Where and when a fixed (started or frozen) operation runs."""

    machine: Key
    start: int


@dataclass(frozen=True)
class Operation:
    """One operation of a job (an order operation / routing step)."""

    id: Key
    modes: tuple[Mode, ...]
    predecessors: tuple[Key, ...] = ()
    release: int | None = None
    fixed: Placement | None = None
    family: str = ""


@dataclass(frozen=True)
class Job:
    """A production order: operations, release date, due date and tardiness weight."""

    id: Key
    operations: tuple[Operation, ...]
    release: int | None = None
    due: int | None = None
    weight: int = 1
    sequential: bool = True


@dataclass(frozen=True)
class Machine:
    """A schedulable unit of capacity (one piece of equipment) and its calendar.

    ``working`` lists the working intervals (shifts); ``None`` means always available.
    ``downtime`` (maintenance windows, holidays) is taken out of the working time.
    ``changeover`` is the minutes needed between operations of two different setup families;
    ``changeovers`` lists ``(from family, to family, minutes)`` pairs that differ from it.
    ``initial_family`` is the family the machine is set up for when the plan starts (the last
    operation it ran): the first operation on it needs the changeover from that family.
    """

    id: Key
    working: tuple[Interval, ...] | None = None
    downtime: tuple[Interval, ...] = ()
    changeover: int = 0
    changeovers: tuple[tuple[str, str, int], ...] = ()
    initial_family: str = ""


def machine_changeover(machine: Machine, before: str, after: str) -> int:
    """Minutes of changeover on ``machine`` between an operation of family ``before`` and the
    next one, of family ``after`` (0 when either has no family or both are the same)."""
    if not before or not after or before == after:
        return 0
    for source, target, minutes in machine.changeovers:
        if source == before and target == after:
            return minutes
    return machine.changeover


@dataclass(frozen=True)
class Problem:
    """Everything the scheduler needs; plain data, no ORM."""

    jobs: tuple[Job, ...]
    machines: tuple[Machine, ...]
    now: int = 0


@dataclass(frozen=True)
class SolveOptions:
    """Knobs of `schedule_solve`.

    ``time_limit`` is the CP-SAT wall time in seconds, shared by both phases (the heuristic
    runs before it and is not counted). ``workers`` is CP-SAT's number of search workers
    (0 = one per core, at least 4). Problems with more than ``max_cpsat_operations`` operations, or
    ``use_cpsat=False``, get the heuristic schedule only; problems with more than
    ``window_operations`` are improved by CP-SAT window by window instead of as a whole
    (see `cpsat`). ``tardiness_share`` is the part of
    the time limit given to the tardiness phase when there is something to minimise there;
    time it does not use goes to the makespan phase.

    ``lns`` (the default) runs the search of `lns` instead, on problems of at least
    ``lns_min_operations`` operations (10x10 and smaller: CP-SAT on the whole model with
    every worker proves the optimum within 10 s; from 15x15 up the search did better:
    bench/README.md). ``time_limit`` then counts
    from the call of `schedule_solve` (first plan and final checks included). On classic
    job shops a tabu search (`tabu`) takes the first ``tabu_share`` of the time; with due
    dates the priority search (`priority`) takes the first ``priority_share``;
    neighbourhoods are solved by ``lns_workers`` CP-SAT workers within ``lns_seconds`` each.
    ``lns_bound_workers`` CP-SAT workers run the full model beside the search for bounds
    (0, the default: none; never above ``lns_bound_max_operations``). Measured on 2 cores at
    10 s, the search alone reached better makespans on every instance tried from 20x20 up
    (ta51 0.3-0.4 % against 4.3 %, ta71 5.3-5.7 % against 8.0-8.3 %), while the full-model
    run's bound was equal except on ta21 (1,434 against 1,217): see bench/README.md.

    A classic job shop of ``lns_min_operations`` to ``hybrid_max_operations`` operations
    (15x15 and 20x20 take this path) goes the other way: the tabu search for the first ``hybrid_tabu_share``
    of the time, then CP-SAT on the whole model, hinted with the tabu search's schedule, for
    the rest. On these sizes CP-SAT's own portfolio (its LNS workers on the full model) beat
    our search on a quiet host (15x15 0.6 % against 2.5 %, 20x20 3.4 % against 5.0 %), and
    the hint gives it a head start; it also proves a makespan bound. That CP-SAT run has
    ``hybrid_workers`` workers (0: one per core, like a plain CP-SAT run): on 2 cores at
    10 s, 20x20 averaged 4.5-5.2 % with 2 workers against 5.8-6.6 % with 4 (bench/README.md).
    A better hint is worth more than CP-SAT's last seconds: on ta21-23 the tabu share 0.1
    averaged 5.1 %, 0.3 3.7 % (three runs each), 0.2 4.0 % and 0.5 4.2 % (two runs), plain
    CP-SAT 6.0 %; on 15x15 the path stays behind plain CP-SAT (1.4 % against 0.3 %).
    """

    time_limit: float = 10.0
    workers: int = 0
    max_cpsat_operations: int = 12_000
    window_operations: int = 1_500
    use_cpsat: bool = True
    tardiness_share: float = 0.5
    seed: int = 0
    log: bool = False
    lns: bool = True
    lns_min_operations: int = 200
    lns_bound_workers: int = 0
    lns_bound_max_operations: int = 3_000
    lns_workers: int = 1
    lns_seconds: float = 0.25
    tabu_share: float = 1.0
    hybrid_tabu_share: float = 0.3
    hybrid_max_operations: int = 500
    hybrid_workers: int = 0
    priority_share: float = 0.5


@dataclass(frozen=True)
class Assignment:
    """Where and when the schedule puts one operation (``end`` exclusive)."""

    op_id: Key
    job: Key
    op_index: int
    machine: Key
    start: int
    end: int


class Status:
    OPTIMAL = "OPTIMAL"  # CP-SAT proved every phase optimal
    FEASIBLE = "FEASIBLE"  # CP-SAT improved on or matched the heuristic, not proved optimal
    HEURISTIC = "HEURISTIC"  # the dispatching heuristic's schedule (fallback)


@dataclass(frozen=True)
class ScheduleResult:
    """A feasible schedule and what the solver knows about its quality.

    ``objective`` names the primary objective: ``"weighted_tardiness"`` when some job has a
    due date, else ``"makespan"``; ``bound`` is the lower bound on that objective (CP-SAT's
    best objective bound, or a simple critical-path/machine-load bound for heuristic
    results). ``makespan_bound`` is a lower bound on the makespan of any schedule whose
    weighted tardiness is at most the one returned.
    """

    status: str
    assignments: tuple[Assignment, ...]
    weighted_tardiness: int
    makespan: int
    objective: str
    bound: int
    tardiness_bound: int
    makespan_bound: int
    heuristic_weighted_tardiness: int | None
    heuristic_makespan: int | None
    heuristic_rule: str
    wall_time: float
    notes: tuple[str, ...] = field(default=())

    def by_operation(self) -> dict[Key, Assignment]:
        return {a.op_id: a for a in self.assignments}
