"""Independent feasibility checker for a schedule.

Written apart from the solver on purpose: it reads the `Problem` dataclasses directly and
re-derives every rule from the semantics in `model` (it shares no code with `prepared`,
`heuristic` or `cpsat`), so a bug in the model is caught rather than repeated. Tests call it
on every schedule; the service can call it before saving one.

It reports every violation it finds, each as a sentence naming the operations involved:
unknown, missing or doubly scheduled operations; a machine that is not eligible; a block
that is not changeover + setup + run for the chosen machine (the changeover from the
operation before it on the machine, from the fixed one before it for a fixed operation, from
the machine's initial family for the first); a
free operation that leaves too little time for the changeover into the fixed operation
after it; a fixed operation moved; a start before
``now`` or a release date; a precedence broken; two operations overlapping on a machine; an
operation not inside one working interval of its machine's calendar (fixed operations are
exempt from calendars, releases and ``now``, and precedences between two fixed operations
are not checked, as the model says).
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import Assignment, Key, Machine, Operation, Problem, machine_changeover


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
        machine = machines.get(machine_id)
        latest: Assignment | None = None
        last_fixed: Operation | None = None
        for a in booked:
            op = ops[a.op_id][2]
            if latest is not None and a.start < latest.end:
                errors.append(
                    f"operations {latest.op_id!r} and {a.op_id!r} overlap on {machine_id!r}"
                )
            errors.extend(_block_errors(machine, op, a, latest, last_fixed, ops))
            if latest is None or a.end > latest.end:
                latest = a
            if op.fixed is not None:
                last_fixed = op
    return errors


def _block_errors(
    machine: Machine | None,
    op: Operation,
    a: Assignment,
    before: Assignment | None,
    last_fixed: Operation | None,
    ops: dict,
) -> list[str]:
    """The length of ``a``'s block, and the changeover into it when it is fixed."""
    mode = next((m for m in op.modes if m.machine == a.machine), None)
    if mode is None:
        return []  # reported already
    before_op = ops[before.op_id][2] if before is not None else None
    source = last_fixed if op.fixed is not None else before_op
    changeover = 0
    if machine is not None:
        # The first on its machine: the changeover from the machine's initial family.
        family = source.family if source is not None else machine.initial_family
        changeover = machine_changeover(machine, family, op.family)
    errors = []
    expected = mode.setup + mode.run + changeover
    if a.end - a.start != expected:
        after = repr(source.id) if source is not None else "the initial family"
        detail = f" (with a changeover of {changeover} after {after})" if changeover else ""
        errors.append(
            f"operation {op.id!r}: lasts {a.end - a.start} min on {a.machine!r}, "
            f"should be {expected}{detail}"
        )
    if machine is None:
        return errors
    if op.fixed is not None and before_op is not None and before_op.fixed is None:
        needed = machine_changeover(machine, before_op.family, op.family)
        if needed and a.start - before.end < needed:
            errors.append(
                f"operation {before.op_id!r} ends at {before.end} on {a.machine!r}, less than "
                f"the changeover of {needed} min before the fixed operation {op.id!r} "
                f"at {a.start}"
            )
    return errors


def schedule_changeover_minutes(problem: Problem, assignments: Iterable[Assignment]) -> int:
    """Minutes the schedule spends in changeovers inside blocks (model.py's semantics)."""
    machines = {m.id: m for m in problem.machines}
    ops = {op.id: op for job in problem.jobs for op in job.operations}
    by_machine: dict[Key, list[Assignment]] = {}
    for a in assignments:
        by_machine.setdefault(a.machine, []).append(a)
    total = 0
    for machine_id, booked in by_machine.items():
        machine = machines.get(machine_id)
        if machine is None:
            continue
        booked.sort(key=lambda a: (a.start, a.end))
        before: Operation | None = None
        last_fixed: Operation | None = None
        for a in booked:
            op = ops[a.op_id]
            source = last_fixed if op.fixed is not None else before
            family = source.family if source is not None else machine.initial_family
            total += machine_changeover(machine, family, op.family)
            before = op
            if op.fixed is not None:
                last_fixed = op
    return total


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
