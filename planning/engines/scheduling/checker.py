"""Independent feasibility checker for a schedule.

Written apart from the solver on purpose: it reads the `Problem` dataclasses directly and
re-derives every rule from the semantics in `model` (it shares no code with `prepared`,
`heuristic` or `cpsat`), so a bug in the model is caught rather than repeated. Tests call it
on every schedule; the service can call it before saving one.

It reports every violation it finds, each as a sentence naming the operations involved:
unknown, missing or doubly scheduled operations; a machine that is not eligible; a duration
that is not setup + run for the chosen machine; a fixed operation moved; a start before
``now`` or a release date; a precedence broken; two operations overlapping on a machine; an
operation not inside one working interval of its machine's calendar (fixed operations are
exempt from calendars, releases and ``now``, and precedences between two fixed operations
are not checked, as the model says).
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import Assignment, Key, Machine, Problem


def _covered_by_working_time(machine: Machine, start: int, end: int) -> bool:
    """True when [start, end) is inside the working time and meets no downtime.

    Working intervals may touch or overlap (two shifts back to back): walk them from
    ``start`` and require them to cover up to ``end`` without a gap.
    """
    for d_start, d_end in machine.downtime:
        if d_start < end and start < d_end and d_end > d_start:
            return False
    if machine.working is None:
        return True
    reached = start
    progressed = True
    while reached < end and progressed:
        progressed = False
        for w_start, w_end in machine.working:
            if w_start <= reached < w_end:
                reached = w_end
                progressed = True
    return reached >= end


def schedule_check(problem: Problem, assignments: Iterable[Assignment]) -> list[str]:
    """Every rule the schedule breaks; an empty list means the schedule is feasible."""
    errors: list[str] = []
    machines = {m.id: m for m in problem.machines}
    ops = {}
    for job in problem.jobs:
        for position, op in enumerate(job.operations):
            ops[op.id] = (job, position, op)

    placed: dict[Key, Assignment] = {}
    for a in assignments:
        if a.op_id not in ops:
            errors.append(f"operation {a.op_id!r} is not in the problem")
            continue
        if a.op_id in placed:
            errors.append(f"operation {a.op_id!r} is scheduled twice")
            continue
        placed[a.op_id] = a
    for op_id in ops:
        if op_id not in placed:
            errors.append(f"operation {op_id!r} is not scheduled")

    for op_id, a in placed.items():
        job, position, op = ops[op_id]
        if not (isinstance(a.start, int) and isinstance(a.end, int)):
            errors.append(f"operation {op_id!r}: start and end must be whole minutes")
            continue
        if a.job != job.id or a.op_index != position:
            errors.append(
                f"operation {op_id!r}: labelled job {a.job!r} #{a.op_index}, "
                f"is job {job.id!r} #{position}"
            )
        mode = next((m for m in op.modes if m.machine == a.machine), None)
        if mode is None:
            errors.append(f"operation {op_id!r}: machine {a.machine!r} is not eligible")
        elif a.end - a.start != mode.setup + mode.run:
            errors.append(
                f"operation {op_id!r}: lasts {a.end - a.start} min on {a.machine!r}, "
                f"should be {mode.setup + mode.run}"
            )
        if op.fixed is not None:
            if a.machine != op.fixed.machine or a.start != op.fixed.start:
                errors.append(
                    f"operation {op_id!r}: fixed at {op.fixed.start} on {op.fixed.machine!r}, "
                    f"moved to {a.start} on {a.machine!r}"
                )
            continue
        for what, floor in (
            ("now", problem.now),
            ("its job's release", job.release),
            ("its release", op.release),
        ):
            if floor is not None and a.start < floor:
                errors.append(f"operation {op_id!r}: starts at {a.start}, before {what} {floor}")
        machine = machines.get(a.machine)
        if machine is None:
            errors.append(f"operation {op_id!r}: machine {a.machine!r} is not in the problem")
        elif not _covered_by_working_time(machine, a.start, a.end):
            errors.append(
                f"operation {op_id!r}: [{a.start}, {a.end}) on {a.machine!r} is not inside "
                "one working interval"
            )

    for op_id, (job, position, op) in ops.items():
        predecessors = list(op.predecessors)
        if job.sequential and position > 0:
            predecessors.append(job.operations[position - 1].id)
        after = placed.get(op_id)
        for pred_id in predecessors:
            before = placed.get(pred_id)
            if after is None or before is None:
                continue
            if op.fixed is not None and ops[pred_id][2].fixed is not None:
                continue
            if before.end > after.start:
                errors.append(
                    f"operation {op_id!r} starts at {after.start}, before its predecessor "
                    f"{pred_id!r} ends at {before.end}"
                )

    by_machine: dict[Key, list[Assignment]] = {}
    for a in placed.values():
        by_machine.setdefault(a.machine, []).append(a)
    for machine_id, booked in by_machine.items():
        booked.sort(key=lambda a: (a.start, a.end))
        latest: Assignment | None = None
        for a in booked:
            if latest is not None and a.start < latest.end:
                errors.append(
                    f"operations {latest.op_id!r} and {a.op_id!r} overlap on {machine_id!r}"
                )
            if latest is None or a.end > latest.end:
                latest = a
    return errors


def schedule_evaluate(problem: Problem, assignments: Iterable[Assignment]) -> tuple[int, int]:
    """(weighted tardiness, makespan) of a schedule, computed from the problem directly."""
    ends: dict[Key, int] = {a.op_id: a.end for a in assignments}
    tardiness = 0
    for job in problem.jobs:
        if job.due is None or not job.operations:
            continue
        completion = max(ends[op.id] for op in job.operations)
        tardiness += job.weight * max(0, completion - job.due)
    return tardiness, max(ends.values(), default=0)
