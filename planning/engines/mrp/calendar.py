"""Work calendar for MRP: which days are working days, and lead-time offsetting on them.

Two ways to build one:

* ``WorkCalendar(weekdays={1, 2, 3, 4, 5}, holidays=[...], extra_working_days=[...])`` — a
  weekly pattern (ISO weekdays, 1 = Monday … 7 = Sunday) minus holidays, plus make-up
  working days (a Saturday worked in exchange for a bridge day). It extends without end in
  both directions.
* ``WorkCalendar.from_working_days(days)`` — an explicit set of working days. Every other
  day is a non-working day, and there is no working day before the first one of the set or
  after the last one.

Offsetting counts working days only: ``subtract(d, n)`` is the working day *n* working days
before the last working day on or before *d* (``subtract(d, 0)`` is ``on_or_before(d)``).
With Monday–Friday and a holiday on Friday 14 March 2025, ``subtract(Mon 17 March, 2)`` is
Wednesday 12 March (Thursday 13 is one, Wednesday 12 is two).

Every query is O(1) after a one-off index over a date range: ``_cum[i]`` counts the working
days from the first indexed day up to and including day *i*, and ``_days[k]`` is the ordinal
of the *k*-th working day. A weekly calendar widens its index (doubling) when a query falls
outside it; an explicit calendar's index is its whole set.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

_MARGIN_DAYS = 400


class WorkCalendar:
    """Working days of a plant, for counting lead times."""

    __slots__ = ("_weekdays", "_holidays", "_extra", "_explicit", "_lo", "_hi", "_cum", "_days")

    def __init__(
        self,
        weekdays: Iterable[int] = (1, 2, 3, 4, 5),
        holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        self._weekdays = frozenset(int(w) for w in weekdays)
        if not self._weekdays or not self._weekdays <= set(range(1, 8)):
            raise ValueError("weekdays: give ISO weekday numbers 1–7, at least one.")
        self._holidays = frozenset(d.toordinal() for d in holidays)
        self._extra = frozenset(d.toordinal() for d in extra_working_days)
        self._explicit = False
        self._lo = self._hi = 0
        self._cum: list[int] = []
        self._days: list[int] = []

    @classmethod
    def from_working_days(cls, days: Iterable[date]) -> WorkCalendar:
        """A calendar whose working days are exactly `days` (and none outside their span)."""
        ordinals = sorted({d.toordinal() for d in days})
        if not ordinals:
            raise ValueError("working_days: give at least one working day.")
        cal = cls()
        cal._explicit = True
        cal._weekdays = frozenset()
        cal._holidays = frozenset()
        cal._extra = frozenset(ordinals)
        cal._build(ordinals[0], ordinals[-1])
        return cal

    def __repr__(self) -> str:
        if self._explicit:
            return f"WorkCalendar.from_working_days(<{len(self._days)} days>)"
        return (
            f"WorkCalendar(weekdays={sorted(self._weekdays)}, "
            f"holidays=<{len(self._holidays)}>, extra_working_days=<{len(self._extra)}>)"
        )

    # --- index ---------------------------------------------------------------------------

    def _working(self, ordinal: int) -> bool:
        if ordinal in self._extra:
            return True
        if self._explicit or ordinal in self._holidays:
            return False
        # date.fromordinal(1) is Monday 1 January 0001.
        return (ordinal - 1) % 7 + 1 in self._weekdays

    def _build(self, lo: int, hi: int) -> None:
        cum: list[int] = []
        days: list[int] = []
        count = 0
        working = self._working
        for o in range(lo, hi + 1):
            if working(o):
                count += 1
                days.append(o)
            cum.append(count)
        self._lo, self._hi, self._cum, self._days = lo, hi, cum, days

    def _cover(self, ordinal: int) -> None:
        """Widen a weekly calendar's index so that it holds `ordinal`."""
        if self._cum and self._lo <= ordinal <= self._hi:
            return
        if not self._cum:
            self._build(ordinal - _MARGIN_DAYS, ordinal + _MARGIN_DAYS)
            return
        span = max(self._hi - self._lo, _MARGIN_DAYS)
        lo = min(self._lo, ordinal - span)
        hi = max(self._hi, ordinal + span)
        self._build(lo, hi)

    def _position(self, ordinal: int) -> int:
        """Index in `_days` of the last working day on or before `ordinal`; -1 if none."""
        if self._explicit:
            if ordinal < self._lo:
                return -1
            if ordinal > self._hi:
                return len(self._days) - 1
            return self._cum[ordinal - self._lo] - 1
        self._cover(ordinal)
        k = self._cum[ordinal - self._lo] - 1
        while k < 0:  # no working day indexed before it yet: widen backwards
            self._cover(self._lo - 1)
            k = self._cum[ordinal - self._lo] - 1
        return k

    def _at_least(self, ordinal: int, k: int) -> int:
        """Widen a weekly calendar backwards until position `k` (relative to `ordinal`) exists.

        Returns the position of `ordinal` after any widening (positions shift when the index
        grows backwards).
        """
        pos = self._position(ordinal)
        while not self._explicit and pos - k < 0:
            self._cover(self._lo - 1)
            pos = self._position(ordinal)
        return pos

    def ensure(self, first: date, last: date) -> None:
        """Index [first, last] up front so that queries inside it never rebuild."""
        if self._explicit:
            return
        self._cover(first.toordinal())
        self._cover(last.toordinal())

    # --- queries -------------------------------------------------------------------------

    def is_working(self, day: date) -> bool:
        return self._working(day.toordinal())

    def on_or_before(self, day: date) -> date | None:
        """The last working day on or before `day` (None: an explicit calendar has none)."""
        o = day.toordinal()
        lo = self._lo
        if lo <= o <= self._hi:
            k = self._cum[o - lo] - 1
            if k >= 0:
                return day if self._days[k] == o else date.fromordinal(self._days[k])
        k = self._position(o)
        return date.fromordinal(self._days[k]) if k >= 0 else None

    def on_or_after(self, day: date) -> date | None:
        """The first working day on or after `day` (None: an explicit calendar has none)."""
        o = day.toordinal()
        if self._working(o):
            return day
        k = self._position(o) + 1
        if not self._explicit:
            self._cover(o + 14)
            k = self._position(o) + 1
            while k >= len(self._days):
                self._cover(self._hi + 1)
                k = self._position(o) + 1
        return date.fromordinal(self._days[k]) if k < len(self._days) else None

    def subtract(self, day: date, n: int) -> date | None:
        """The working day `n` working days before the last working day on or before `day`.

        None when an explicit calendar has no working day that early.
        """
        o = day.toordinal()
        lo = self._lo
        if lo <= o <= self._hi and n >= 0:  # the common case: inside the index
            k = self._cum[o - lo] - 1 - n
            if k >= 0:
                return date.fromordinal(self._days[k])
        if n < 0:
            raise ValueError("n must not be negative.")
        k = self._at_least(o, n) - n
        return date.fromordinal(self._days[k]) if k >= 0 else None

    def add(self, day: date, n: int) -> date | None:
        """The working day `n` working days after the first working day on or after `day`."""
        if n < 0:
            raise ValueError("n must not be negative.")
        first = self.on_or_after(day)
        if first is None:
            return None
        o = first.toordinal()
        k = self._position(o) + n
        if not self._explicit:
            while k >= len(self._days):
                self._cover(self._hi + 1)
                k = self._position(o) + n
        return date.fromordinal(self._days[k]) if k < len(self._days) else None

    def working_days_between(self, first: date, last: date) -> int:
        """Working days after `first` up to and including `last` (negative if last < first)."""
        a, b = first.toordinal(), last.toordinal()
        if not self._explicit:
            # Index both ends first: a rebuild between the two lookups would shift positions.
            self._cover(a)
            self._cover(b)
            self._position(min(a, b))
        return self._position(b) - self._position(a)
