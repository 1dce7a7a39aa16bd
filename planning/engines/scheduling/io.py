"""Reading problems and writing schedules: the engine's JSON format and job-shop text files.

JSON problem format
===================

One object; times are integer minutes from the horizon origin; ids are strings or integers::

    {
      "now": 0,                                  // optional, default 0: nothing free starts earlier
      "machines": [                              // optional: when absent, every machine named in
        {"id": "CNC-01",                         //   a mode exists and is always available
         "working": [[360, 840], [840, 1320]],   // optional shifts; absent = always available
         "downtime": [[600, 660]],               // optional maintenance windows, taken out
         "changeover": 30,                       // optional minutes between two setup
                                                 //   families (default 0)
         "changeovers": [                        // optional pairs that differ from it
           {"from": "steel", "to": "alu", "minutes": 45}
         ],
         "initial_family": "steel"},             // optional: what it is set up for at the
                                                 //   start (the first operation's changeover)
        {"id": "CNC-02"}
      ],
      "jobs": [
        {"id": "MO-1",                           // optional, default: the job's 0-based index
         "release": 0,                           // optional earliest start of every operation
         "due": 2880,                            // optional due date (end of the last operation)
         "weight": 3,                            // optional tardiness weight, default 1
         "sequential": true,                     // optional, default true: operations in list
                                                 //   order form a chain
         "operations": [
           {"id": "MO-1/10",                     // optional, default "<job id>/<index>"
            "modes": [                           // eligible machines, each with its own times
              {"machine": "CNC-01", "setup": 30, "run": 240},
              {"machine": "CNC-02", "run": 300}  // setup defaults to 0
            ],
            "predecessors": ["MO-0/20"],         // optional extra precedences (any job's ops)
            "release": 120,                      // optional earliest start of this operation
            "family": "steel",                   // optional setup family (changeovers)
            "fixed": {"machine": "CNC-01", "start": 400}}  // optional: started or frozen
         ]}
      ]
    }

An operation lies inside one working interval of its machine (it is not split across
breaks); a fixed operation stays exactly where it is. A field the format does not know is an
error naming the object (a misspelt "changeovers" would otherwise be silently ignored). See `planning.engines.scheduling.model` for the
full semantics and ``docs/scheduling.md`` for examples.

Job-shop text format
====================

The OR-Library layout: first line ``jobs machines``, then one line per job of
``machine duration`` pairs in routing order, machines numbered from 0. Blank lines and lines
starting with ``#`` are ignored. Jobs get ids 0, 1, …; machines 0, 1, …; operations
``"<job>/<index>"``.

Schedule output
===============

`schedule_rows` gives a list of ``{"job", "op_index", "machine", "start", "end"}`` objects,
with the job and machine ids as in the problem (the 0-based indices for a text file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .model import Job, Machine, Mode, Operation, Placement, Problem, ProblemError, ScheduleResult


class ProblemFormatError(ProblemError):
    """The file is not a valid problem; the message names the line or the JSON field."""

    def __init__(self, message: str, *, line: int | None = None):
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


# --- JSON ------------------------------------------------------------------------------------


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemFormatError(f"{where}: expected an integer number of minutes, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ProblemFormatError(f"{where}: expected whole minutes, got {value!r}")
        value = int(value)
    return value


def _opt_int(data: dict, key: str, where: str) -> int | None:
    value = data.get(key)
    return None if value is None else _int(value, f"{where}.{key}")


def _key(value: Any, where: str):
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ProblemFormatError(f"{where}: expected a string or integer id, got {value!r}")
    return value


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ProblemFormatError(f"{where}: expected an object")
    return value


def _known(data: dict, fields: tuple[str, ...], where: str) -> None:
    unknown = [key for key in data if key not in fields]
    if unknown:
        raise ProblemFormatError(
            f"{where}: unknown field {unknown[0]!r} (expected {', '.join(fields)})"
        )


def _minutes(value: Any, where: str) -> int:
    minutes = _int(value, where)
    if minutes < 0:
        raise ProblemFormatError(f"{where}: must not be negative, got {minutes}")
    return minutes


def _family(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ProblemFormatError(f"{where}: expected a family name (text), got {value!r}")
    return value


def _changeovers(value: Any, where: str) -> tuple[tuple[str, str, int], ...]:
    out = []
    seen = set()
    for n, raw in enumerate(_list(value, where)):
        here = f"{where}[{n}]"
        raw = _object(raw, here)
        _known(raw, ("from", "to", "minutes"), here)
        if not all(key in raw for key in ("from", "to", "minutes")):
            raise ProblemFormatError(f"{here}: needs 'from', 'to' and 'minutes'")
        before, after = _family(raw["from"], f"{here}.from"), _family(raw["to"], f"{here}.to")
        if not before or not after:
            raise ProblemFormatError(f"{here}: 'from' and 'to' must name families")
        if (before, after) in seen:
            raise ProblemFormatError(f"{here}: {before!r} -> {after!r} is listed twice")
        seen.add((before, after))
        out.append((before, after, _minutes(raw["minutes"], f"{here}.minutes")))
    return tuple(out)


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise ProblemFormatError(f"{where}: expected a list")
    return value


def _intervals(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    out = []
    for n, pair in enumerate(_list(value, where)):
        here = f"{where}[{n}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise ProblemFormatError(f"{here}: expected [start, end]")
        start, end = _int(pair[0], here), _int(pair[1], here)
        if end < start:
            raise ProblemFormatError(f"{here}: end {end} is before start {start}")
        out.append((start, end))
    return tuple(out)


def problem_from_dict(data: Any) -> Problem:
    """Build a `Problem` from the JSON format above; errors name the offending field."""
    data = _object(data, "problem")
    _known(data, ("now", "machines", "jobs"), "problem")
    jobs = []
    used_machines: list = []
    for j, raw_job in enumerate(_list(data.get("jobs"), "jobs")):
        where = f"jobs[{j}]"
        raw_job = _object(raw_job, where)
        _known(raw_job, ("id", "release", "due", "weight", "sequential", "operations"), where)
        job_id = _key(raw_job.get("id", j), f"{where}.id")
        ops = []
        for n, raw_op in enumerate(_list(raw_job.get("operations"), f"{where}.operations")):
            here = f"{where}.operations[{n}]"
            raw_op = _object(raw_op, here)
            _known(raw_op, ("id", "modes", "predecessors", "release", "fixed", "family"), here)
            modes = []
            for m, raw_mode in enumerate(_list(raw_op.get("modes"), f"{here}.modes")):
                at = f"{here}.modes[{m}]"
                raw_mode = _object(raw_mode, at)
                _known(raw_mode, ("machine", "setup", "run"), at)
                if "machine" not in raw_mode or "run" not in raw_mode:
                    raise ProblemFormatError(f"{at}: needs 'machine' and 'run'")
                machine = _key(raw_mode["machine"], f"{at}.machine")
                used_machines.append(machine)
                modes.append(
                    Mode(
                        machine=machine,
                        run=_int(raw_mode["run"], f"{at}.run"),
                        setup=_int(raw_mode.get("setup", 0), f"{at}.setup"),
                    )
                )
            fixed = None
            if raw_op.get("fixed") is not None:
                raw_fixed = _object(raw_op["fixed"], f"{here}.fixed")
                _known(raw_fixed, ("machine", "start"), f"{here}.fixed")
                if "machine" not in raw_fixed or "start" not in raw_fixed:
                    raise ProblemFormatError(f"{here}.fixed: needs 'machine' and 'start'")
                fixed = Placement(
                    machine=_key(raw_fixed["machine"], f"{here}.fixed.machine"),
                    start=_int(raw_fixed["start"], f"{here}.fixed.start"),
                )
            ops.append(
                Operation(
                    id=_key(raw_op.get("id", f"{job_id}/{n}"), f"{here}.id"),
                    modes=tuple(modes),
                    predecessors=tuple(
                        _key(p, f"{here}.predecessors")
                        for p in _list(raw_op.get("predecessors", []), f"{here}.predecessors")
                    ),
                    release=_opt_int(raw_op, "release", here),
                    fixed=fixed,
                    family=_family(raw_op.get("family", ""), f"{here}.family"),
                )
            )
        sequential = raw_job.get("sequential", True)
        if not isinstance(sequential, bool):
            raise ProblemFormatError(f"{where}.sequential: expected true or false")
        jobs.append(
            Job(
                id=job_id,
                operations=tuple(ops),
                release=_opt_int(raw_job, "release", where),
                due=_opt_int(raw_job, "due", where),
                weight=_int(raw_job.get("weight", 1), f"{where}.weight"),
                sequential=sequential,
            )
        )
    if "machines" in data:
        machines = []
        for k, raw_machine in enumerate(_list(data["machines"], "machines")):
            where = f"machines[{k}]"
            raw_machine = _object(raw_machine, where)
            _known(
                raw_machine,
                ("id", "working", "downtime", "changeover", "changeovers", "initial_family"),
                where,
            )
            if "id" not in raw_machine:
                raise ProblemFormatError(f"{where}: needs 'id'")
            machines.append(
                Machine(
                    id=_key(raw_machine["id"], f"{where}.id"),
                    working=None
                    if raw_machine.get("working") is None
                    else _intervals(raw_machine["working"], f"{where}.working"),
                    downtime=_intervals(raw_machine.get("downtime", []), f"{where}.downtime"),
                    changeover=_minutes(raw_machine.get("changeover", 0), f"{where}.changeover"),
                    changeovers=_changeovers(
                        raw_machine.get("changeovers", []), f"{where}.changeovers"
                    ),
                    initial_family=_family(
                        raw_machine.get("initial_family", ""), f"{where}.initial_family"
                    ),
                )
            )
    else:
        machines = [Machine(id=m) for m in dict.fromkeys(used_machines)]
    return Problem(jobs=tuple(jobs), machines=tuple(machines), now=_int(data.get("now", 0), "now"))


def problem_to_dict(problem: Problem) -> dict:
    """The JSON form of a problem (round-trips through `problem_from_dict`)."""

    def op_dict(op: Operation) -> dict:
        out: dict[str, Any] = {
            "id": op.id,
            "modes": [{"machine": m.machine, "setup": m.setup, "run": m.run} for m in op.modes],
        }
        if op.predecessors:
            out["predecessors"] = list(op.predecessors)
        if op.release is not None:
            out["release"] = op.release
        if op.fixed is not None:
            out["fixed"] = {"machine": op.fixed.machine, "start": op.fixed.start}
        if op.family:
            out["family"] = op.family
        return out

    machines = []
    for machine in problem.machines:
        out: dict[str, Any] = {"id": machine.id}
        if machine.working is not None:
            out["working"] = [list(w) for w in machine.working]
        if machine.downtime:
            out["downtime"] = [list(w) for w in machine.downtime]
        if machine.changeover:
            out["changeover"] = machine.changeover
        if machine.changeovers:
            out["changeovers"] = [
                {"from": a, "to": b, "minutes": minutes} for a, b, minutes in machine.changeovers
            ]
        if machine.initial_family:
            out["initial_family"] = machine.initial_family
        machines.append(out)
    jobs = []
    for job in problem.jobs:
        out = {"id": job.id, "operations": [op_dict(op) for op in job.operations]}
        for key in ("release", "due"):
            if getattr(job, key) is not None:
                out[key] = getattr(job, key)
        if job.weight != 1:
            out["weight"] = job.weight
        if not job.sequential:
            out["sequential"] = False
        jobs.append(out)
    return {"now": problem.now, "machines": machines, "jobs": jobs}


# --- job-shop text -----------------------------------------------------------------------------


def problem_from_jobshop_text(text: str) -> Problem:
    """Parse the OR-Library job-shop layout; errors name the line (1-based)."""
    lines = [
        (number, line.split())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise ProblemFormatError("empty file: expected a first line 'jobs machines'")

    def ints(number: int, tokens: list[str]) -> list[int]:
        try:
            return [int(t) for t in tokens]
        except ValueError:
            bad = next(
                t for t in tokens if not (t.lstrip("-").isascii() and t.lstrip("-").isdigit())
            )
            raise ProblemFormatError(f"{bad!r} is not an integer", line=number) from None

    number, tokens = lines[0]
    header = ints(number, tokens)
    if len(header) != 2 or header[0] < 1 or header[1] < 1:
        raise ProblemFormatError("expected 'jobs machines' (two positive integers)", line=number)
    n_jobs, n_machines = header
    rows = lines[1:]
    jobs = []
    for j, (number, tokens) in enumerate(rows):
        if j >= n_jobs:
            raise ProblemFormatError(
                f"more job lines than the {n_jobs} announced in the header", line=number
            )
        values = ints(number, tokens)
        if not values or len(values) % 2:
            raise ProblemFormatError(
                "expected pairs of 'machine duration' (an even number of integers)", line=number
            )
        ops = []
        for n in range(0, len(values), 2):
            machine, duration = values[n], values[n + 1]
            if not 0 <= machine < n_machines:
                raise ProblemFormatError(
                    f"machine {machine} is outside 0..{n_machines - 1}", line=number
                )
            if duration < 1:
                raise ProblemFormatError(
                    f"duration {duration} of operation {n // 2} must be at least 1", line=number
                )
            ops.append(Operation(id=f"{j}/{n // 2}", modes=(Mode(machine=machine, run=duration),)))
        jobs.append(Job(id=j, operations=tuple(ops)))
    if len(jobs) < n_jobs:
        raise ProblemFormatError(
            f"the header announces {n_jobs} jobs but the file has only {len(jobs)} job lines",
            line=(rows[-1][0] if rows else number),
        )
    return Problem(jobs=tuple(jobs), machines=tuple(Machine(id=k) for k in range(n_machines)))


# --- files -------------------------------------------------------------------------------------


def problem_parse(text: str) -> Problem:
    """A problem from text: JSON when it starts with ``{``, the job-shop layout otherwise."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProblemFormatError(
                f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
            ) from None
        return problem_from_dict(data)
    return problem_from_jobshop_text(text)


def problem_load(path: str | Path) -> Problem:
    """Read a problem file (JSON or job-shop text)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ProblemFormatError(f"{path}: not a UTF-8 text file") from None
    return problem_parse(text)


def schedule_rows_json(result: ScheduleResult) -> str:
    """`schedule_rows` as a JSON list, one row per line."""
    rows = ",\n".join(" " + json.dumps(row) for row in schedule_rows(result))
    return f"[\n{rows}\n]\n" if rows else "[]\n"


def schedule_rows(result: ScheduleResult) -> list[dict]:
    """The schedule as ``{"job", "op_index", "machine", "start", "end"}`` rows, by job."""
    return [
        {"job": a.job, "op_index": a.op_index, "machine": a.machine, "start": a.start, "end": a.end}
        for a in result.assignments
    ]


def result_summary(result: ScheduleResult) -> dict:
    """The figures of a result, JSON-ready (for logs, ScheduleRun.summary, the CLI)."""
    return {
        "status": result.status,
        "objective": result.objective,
        "weighted_tardiness": result.weighted_tardiness,
        "makespan": result.makespan,
        "bound": result.bound,
        "tardiness_bound": result.tardiness_bound,
        "makespan_bound": result.makespan_bound,
        "heuristic_weighted_tardiness": result.heuristic_weighted_tardiness,
        "heuristic_makespan": result.heuristic_makespan,
        "heuristic_rule": result.heuristic_rule,
        "operations": len(result.assignments),
        "wall_time": round(result.wall_time, 3),
        "notes": list(result.notes),
    }
