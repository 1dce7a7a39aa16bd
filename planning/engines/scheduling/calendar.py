"""Machine calendars as sorted lists of working intervals (minutes from the origin).

A calendar is working time (shifts) minus downtime (maintenance windows, holidays). The
scheduler needs it in one normal form: disjoint, sorted, non-touching ``[start, end)``
intervals, so that "an operation lies inside one working interval" is a simple test and two
back-to-back shifts count as one stretch of working time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

# The working-time module's merge: it leaves empty intervals out, as a calendar must.
from resources.engines.calendar import intervals_merge

from .model import Interval

# Stands for "no end" on either side of a machine without a calendar; far beyond any horizon
# in minutes (2 * 10**12 minutes is millions of years) and still a plain int for CP-SAT.
UNBOUNDED = 10**12


def intervals_subtract(base: Sequence[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """``base`` (normalised) minus the union of ``holes``."""
    holes = intervals_merge(holes)
    out: list[Interval] = []
    j = 0
    for start, end in base:
        cur = start
        while j < len(holes) and holes[j][1] <= cur:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] < end:
            h_start, h_end = holes[k]
            if h_start > cur:
                out.append((cur, h_start))
            cur = max(cur, h_end)
            if h_end > end:
                break
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def calendar_normalise(
    working: Iterable[Interval] | None, downtime: Iterable[Interval] = ()
) -> list[Interval]:
    """Working intervals minus downtime, normalised. ``working=None`` means always working."""
    base = [(-UNBOUNDED, UNBOUNDED)] if working is None else intervals_merge(working)
    return intervals_subtract(base, downtime)


def calendar_repeat(
    windows: Sequence[Interval], *, period: int, start: int, end: int
) -> list[Interval]:
    """A weekly/daily pattern unrolled over ``[start, end)``.

    ``windows`` are offsets within one period, e.g. two shifts a day:
    ``calendar_repeat([(360, 840), (840, 1320)], period=1440, start=0, end=7 * 1440)``.
    A window may run past the period end (a night shift); the result is clipped to
    ``[start, end)`` and normalised.
    """
    if period <= 0:
        raise ValueError("period must be positive")
    out: list[Interval] = []
    first = (start // period - 1) * period
    base = first
    while base < end:
        for w_start, w_end in windows:
            s, e = max(base + w_start, start), min(base + w_end, end)
            if e > s:
                out.append((s, e))
        base += period
    return intervals_merge(out)


class MachineTimeline:
    """A machine's working intervals and the busy intervals already booked on it.

    Used by the dispatching heuristic to find the earliest start at or after a time where an
    operation of a given duration fits in one working interval and in a gap between bookings.
    """

    __slots__ = ("_work_starts", "_work", "_busy_starts", "_busy_ends")

    def __init__(self, working: Sequence[Interval]):
        self._work = list(working)
        self._work_starts = [s for s, _ in self._work]
        self._busy_starts: list[int] = []
        self._busy_ends: list[int] = []

    def earliest_fit(
        self, earliest: int, duration: int, latest_end: int | None = None
    ) -> int | None:
        """Earliest start ``t >= earliest`` with ``[t, t + duration)`` free, or None."""
        t = earliest
        work, work_starts = self._work, self._work_starts
        busy_starts, busy_ends = self._busy_starts, self._busy_ends
        i = max(bisect.bisect_right(work_starts, t) - 1, 0)
        while True:
            # Move t into a working interval long enough for the operation.
            while i < len(work) and (work[i][1] <= t or max(t, work[i][0]) + duration > work[i][1]):
                i += 1
            if i == len(work):
                return None
            t = max(t, work[i][0])
            if latest_end is not None and t + duration > latest_end:
                return None
            # The first booking that ends after t: if it starts before our end, jump past it.
            j = bisect.bisect_right(busy_ends, t)
            if j < len(busy_starts) and busy_starts[j] < t + duration:
                t = busy_ends[j]
                continue
            return t

    def book(self, start: int, end: int) -> None:
        """Mark ``[start, end)`` busy (the caller guarantees it does not overlap a booking)."""
        j = bisect.bisect_right(self._busy_ends, start)
        self._busy_starts.insert(j, start)
        self._busy_ends.insert(j, end)
