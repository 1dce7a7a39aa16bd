"""Priority search: better weighted tardiness at plant scale by re-running the dispatching
heuristic with adjusted priorities.

The serial schedule generation of `heuristic` places a thousand orders in about a tenth of
a second, and on a loaded plant its order of dispatching decides most of the tardiness.
This search takes the better of the two rules with a due date in their key (``edd``,
``wslack``), keeps one number per job, an *offset* subtracted from its due date in that
key, and repeats:

1. from the best schedule so far, pick one to five late jobs, at random in proportion to
   their weighted tardiness, and make each more urgent by 20-100 % of its lateness (plus an
   hour);
2. pick up to five jobs that finish more than ten hours before their due date and make
   each less urgent by one to 24 hours (they have room to give);
3. generate the schedule with these offsets and keep it if it is better by (weighted
   tardiness, makespan); otherwise go back to the offsets of the best.

Every schedule is built by the same generation as the first plan, so frozen operations,
releases, calendars, maintenance and deadlines set by frozen successors hold by
construction. The search is the plant-scale counterpart of `tabu` on classic job shops:
`lns` runs it first, for ``SolveOptions.priority_share`` of the time, then improves its result
neighbourhood by neighbourhood with CP-SAT. Measured on bench (a) in bench/README.md.
"""

from __future__ import annotations

import random
import time

from .heuristic import Schedule, _deadlines, _tails, heuristic_schedule, schedule_key
from .prepared import Prepared

RULES = ("edd", "wslack")  # the rules with a due date in their key (`heuristic`)
EARLY_MARGIN = 600  # minutes before the due date: a job this early may give way


def priority_applies(prep: Prepared) -> bool:
    """Due dates to meet and nothing but the dispatching order to change it by."""
    return prep.has_due_dates and len(prep.jobs) > 1


def priority_search(
    prep: Prepared, start: Schedule, deadline: float, seed: int = 0, max_passes: int | None = None
) -> tuple[Schedule, int]:
    """The best schedule found by ``deadline`` (``start`` if none is better) and the number
    of schedules generated; at most ``max_passes`` of them when given (reproducible runs)."""
    rng = random.Random(seed)
    tail, latest = _tails(prep), _deadlines(prep)
    offsets = [0] * len(prep.jobs)
    best, best_key = start, schedule_key(prep, start)
    best_offsets = offsets
    # The due-date rule that did better without offsets is the one adjusted.
    passes, rule, rule_key = 0, "edd", None
    for name in RULES:
        sched = heuristic_schedule(prep, name, offsets, tail=tail, latest=latest)
        passes += 1
        if sched is not None and (rule_key is None or schedule_key(prep, sched) < rule_key):
            rule, rule_key = name, schedule_key(prep, sched)
            if rule_key < best_key:
                best, best_key = sched, rule_key
    while time.monotonic() < deadline and (max_passes is None or passes < max_passes):
        completion = [max(best.end[i] for i in job.ops) if job.ops else 0 for job in prep.jobs]
        late = [
            (job.weight * (completion[job.index] - job.due), job.index)
            for job in prep.jobs
            if job.due is not None and job.weight > 0 and completion[job.index] > job.due
        ]
        if not late:
            break
        candidate = list(best_offsets)
        costs, jobs = [cost for cost, _ in late], [j for _, j in late]
        for j in rng.choices(jobs, weights=costs, k=rng.randint(1, 5)):
            lateness = completion[j] - prep.jobs[j].due
            candidate[j] += int(rng.uniform(0.2, 1.0) * lateness) + 60
        early = [
            job.index
            for job in prep.jobs
            if job.due is not None and completion[job.index] < job.due - EARLY_MARGIN
        ]
        for _ in range(rng.randint(0, 5) if early else 0):
            candidate[rng.choice(early)] -= rng.randint(60, 1440)
        sched = heuristic_schedule(prep, rule, candidate, tail=tail, latest=latest)
        passes += 1
        if sched is None:
            continue
        key = schedule_key(prep, sched)
        if key < best_key:
            best, best_key, best_offsets = sched, key, candidate
    return best, passes
