"""OEE per ISO 22400, pure: a machine's state intervals, part counts and planned shifts in,
availability, performance, quality, OEE and the six big losses (in minutes) out.

Definitions (ISO 22400-2):

- planned busy time (PBT) = shift time − planned breaks − planned maintenance − stops with a
  "planned" reason;
- availability A = run time ÷ planned busy time (of the time the machine's state is known);
- performance P = ideal cycle time × total count ÷ run time (the ideal cycle per count
  record: the routing step's, else the machine's rated rate);
- quality Q = good ÷ total;
- OEE = A × P × Q.

Only what lies inside planned busy time counts: the part of each interval inside it, the
counts read inside it. Counts read outside it (a machine running through a weekend) are
kept and reported as `outside_total` / `outside_good`, never dropped and never in OEE.

How each minute of planned time counts:

- running → run time;
- fault, and maintenance that no planned window covers → breakdowns;
- a stop with a setup reason → setup and adjustment;
- a stop marked small_stop, or a stop (stopped or idle) shorter than the small-stop
  threshold → small stops;
- idle (no work for the machine) → idle time: an availability loss of its own, outside the
  six (ISO counts it as down time; the board names it "long idle time");
- any other stop → other stops (an availability loss outside the six, until a reason says
  which);
- disconnected, or no interval at all → unknown: shown, and left out of both run time and
  planned busy time, so A is run ÷ known planned time; it is neither a loss nor run;
- a stop with a planned reason → not planned busy time.

Breaks: a shift's break minutes say how long, not when. The break is taken from the
shift's idle, other-stop and unknown time (in that order), up to its length; a machine that ran through
its break worked that time, so it stays planned busy time (A never exceeds 1). A break
whose place is known (`Window.breaks`) is removed like maintenance.

Performance losses: reduced speed = run time − ideal cycle × total. Quality losses:
start-up rejects = rejects read within `startup_seconds` after a stop ended × their ideal
cycle; production rejects = other rejects × ideal cycle. A count without a good counter
(`good` None) counts as good.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from operator import itemgetter

from resources.engines.calendar import intervals_merge

RUNNING = "running"
IDLE = "idle"
STOPPED = "stopped"
FAULT = "fault"
MAINTENANCE = "maintenance"
DISCONNECTED = "disconnected"

# The six big losses, then the other availability losses the board shows next to them.
BREAKDOWN = "breakdown"
SETUP = "setup"
SMALL_STOP = "small_stop"
SPEED = "speed"
STARTUP_REJECTS = "startup_rejects"
PRODUCTION_REJECTS = "production_rejects"
IDLE_LOSS = "idle"
OTHER_STOP = "other_stop"
SIX_LOSSES = (BREAKDOWN, SETUP, SMALL_STOP, SPEED, STARTUP_REJECTS, PRODUCTION_REJECTS)
LOSSES = (*SIX_LOSSES, IDLE_LOSS, OTHER_STOP)
LOSS_LABELS = {
    BREAKDOWN: "Breakdowns",
    SETUP: "Setup and adjustment",
    SMALL_STOP: "Small stops",
    SPEED: "Reduced speed",
    STARTUP_REJECTS: "Start-up rejects",
    PRODUCTION_REJECTS: "Production rejects",
    IDLE_LOSS: "Idle (no work)",
    OTHER_STOP: "Other stops",
}
# What the board says is wrong when a loss dominates (the seed's "frequent faults, long idle
# time").
LOSS_CAUSES = {
    BREAKDOWN: "frequent faults",
    SETUP: "long setups and adjustments",
    SMALL_STOP: "frequent small stops",
    SPEED: "running below the ideal rate",
    STARTUP_REJECTS: "rejects after restarts",
    PRODUCTION_REJECTS: "rejects in steady production",
    IDLE_LOSS: "long idle time",
    OTHER_STOP: "stops without a reason",
}
# Internal time categories besides the losses.
RUN = "run"
UNKNOWN = "unknown"
PLANNED = "planned"
NO_REASON = "no reason given"


@dataclass(frozen=True)
class Span:
    """A state interval: `end` None is the open one (it runs until `now`). `loss` is its
    downtime reason's loss (breakdown, setup, small_stop, speed, planned, other) or ""."""

    state: str
    start: datetime
    end: datetime | None = None
    small_stop: bool = False
    reason: str = ""
    loss: str = ""


@dataclass(frozen=True)
class Count:
    """Parts counted at a read: `good` None when the machine has no good counter;
    `ideal_cycle_seconds` None when the routing step gave none (the rated rate then does)."""

    at: datetime
    total: int
    good: int | None = None
    ideal_cycle_seconds: float | None = None


@dataclass(frozen=True)
class Window:
    """One planned shift of the machine: from start to end, with `break_minutes` of breaks
    whose place is not known and `breaks` whose place is."""

    day: date
    shift: str
    start: datetime
    end: datetime
    break_minutes: float = 0.0
    breaks: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class OeeSettings:
    small_stop_seconds: float = 120.0
    startup_seconds: float = 600.0
    threshold: float = 0.80
    top_reasons: int = 3


@dataclass
class Reason:
    loss: str
    reason: str
    minutes: float = 0.0
    stops: int = 0


@dataclass
class Diagnosis:
    """Why OEE is below the threshold: the dominant loss, what it means, its top reasons."""

    loss: str
    label: str
    cause: str
    minutes: float
    reasons: list[Reason]


@dataclass
class OeeFigures:
    """Additive OEE figures of one machine in one window, or of many summed (`oee_combine`):
    sums of minutes and counts, from which the ratios follow. Minutes are floats."""

    shift_minutes: float = 0.0
    break_minutes: float = 0.0
    maintenance_minutes: float = 0.0
    planned_stop_minutes: float = 0.0
    planned_busy_minutes: float = 0.0
    unknown_minutes: float = 0.0
    run_minutes: float = 0.0
    ideal_minutes: float = 0.0
    total: int = 0
    good: int = 0
    unrated: int = 0  # parts counted without any ideal cycle: performance is then unknown
    startup_rejects: int = 0
    production_rejects: int = 0
    outside_total: int = 0
    outside_good: int = 0
    losses: dict[str, float] = field(default_factory=lambda: dict.fromkeys(LOSSES, 0.0))
    reasons: dict[tuple[str, str], Reason] = field(default_factory=dict)
    state_minutes: dict[str, float] = field(default_factory=dict)

    @property
    def known_busy_minutes(self) -> float:
        return max(self.planned_busy_minutes - self.unknown_minutes, 0.0)

    @property
    def availability(self) -> float | None:
        known = self.known_busy_minutes
        return self.run_minutes / known if known > 1e-9 else None

    @property
    def performance(self) -> float | None:
        if self.run_minutes <= 1e-9 or self.unrated:
            return None
        return self.ideal_minutes / self.run_minutes

    @property
    def quality(self) -> float | None:
        return self.good / self.total if self.total else None

    @property
    def oee(self) -> float | None:
        a = self.availability
        if a is None:
            return None
        if a == 0 or (self.run_minutes > 1e-9 and self.total == 0):
            return 0.0  # planned time without running, or running without a part
        p, q = self.performance, self.quality
        return None if p is None or q is None else a * p * q

    def diagnosis(self, settings: OeeSettings | None = None) -> Diagnosis | None:
        """Below the threshold: the dominant loss and its top reasons; None otherwise."""
        settings = settings or OeeSettings()
        oee = self.oee
        if oee is None or oee >= settings.threshold:
            return None
        loss, minutes = max(self.losses.items(), key=lambda kv: (kv[1], -LOSSES.index(kv[0])))
        if minutes <= 1e-9:
            return None
        reasons = sorted(
            (r for r in self.reasons.values() if r.loss == loss),
            key=lambda r: (-r.minutes, r.reason),
        )[: settings.top_reasons]
        return Diagnosis(loss, LOSS_LABELS[loss], LOSS_CAUSES[loss], minutes, reasons)

    def pareto(self) -> list[tuple[str, float, float]]:
        """(loss, minutes, cumulative share in %) of the losses with minutes, largest first."""
        items = sorted(((k, v) for k, v in self.losses.items() if v > 1e-9), key=lambda kv: -kv[1])
        whole = sum(v for _, v in items)
        out, running = [], 0.0
        for loss, minutes in items:
            running += minutes
            out.append((loss, minutes, 100.0 * running / whole))
        return out


def oee_combine(parts: Iterable[OeeFigures]) -> OeeFigures:
    """Figures summed (a machine's shifts into its day, machines into a work center or the
    plant): the ratios of the sum, never an average of ratios."""
    out = OeeFigures()
    losses, state_minutes, reasons = out.losses, out.state_minutes, out.reasons
    # Field by field rather than by getattr over the names: a month's report combines
    # thousands of figures.
    for p in parts:
        out.shift_minutes += p.shift_minutes
        out.break_minutes += p.break_minutes
        out.maintenance_minutes += p.maintenance_minutes
        out.planned_stop_minutes += p.planned_stop_minutes
        out.planned_busy_minutes += p.planned_busy_minutes
        out.unknown_minutes += p.unknown_minutes
        out.run_minutes += p.run_minutes
        out.ideal_minutes += p.ideal_minutes
        out.total += p.total
        out.good += p.good
        out.unrated += p.unrated
        out.startup_rejects += p.startup_rejects
        out.production_rejects += p.production_rejects
        out.outside_total += p.outside_total
        out.outside_good += p.outside_good
        for k, v in p.losses.items():
            losses[k] = losses.get(k, 0.0) + v
        for k, v in p.state_minutes.items():
            state_minutes[k] = state_minutes.get(k, 0.0) + v
        for k, r in p.reasons.items():
            mine = reasons.get(k)
            if mine is None:
                mine = reasons[k] = Reason(r.loss, r.reason)
            mine.minutes += r.minutes
            mine.stops += r.stops
    return out


# --- computing one machine ---------------------------------------------------------------------
#
# The engine counts in integer microseconds since 1970 (UTC): a month of a plant is hundreds
# of thousands of instants, and int arithmetic costs a fraction of aware datetimes' (the
# selector reads the instants from the database as such ints and never builds datetimes).
# Every minute is computed as the datetime arithmetic computes it — whole microseconds, ÷ 10⁶
# (timedelta.total_seconds()), ÷ 60 — and summed in the same order, so the figures are the
# same floats to the last bit (tests/devices/test_oee_engine.py checks this against the
# datetime arithmetic, tests/devices/oee_reference.py).

US = 1_000_000  # microseconds in a second
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)

# What oee_compute_us takes (instants in microseconds since 1970, UTC):
# a window (start, end, break minutes, placed breaks),
WindowUs = tuple[int, int, float, tuple[tuple[int, int], ...]]
# an interval (state, start, end or None when open, small_stop, reason, loss: as Span's,
# None for ""),
SpanUs = tuple[str, int, int | None, bool, str | None, str | None]
# a count read (at, total, good, ideal cycle seconds, ...: more fields ride along untouched).
CountUs = tuple


def instant_us(at: datetime) -> int:
    """An aware datetime as integer microseconds since 1970 (UTC)."""
    return (at - _EPOCH) // _TICK


def _minutes(a: int, b: int) -> float:
    return max((b - a) / US / 60.0, 0.0)


def _subtract(segment: tuple[int, int], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of `segment` outside the merged, sorted `holes`."""
    out, cursor = [], segment[0]
    for s, e in holes:
        if e <= cursor or s >= segment[1]:
            continue
        if s > cursor:
            out.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < segment[1]:
        out.append((cursor, segment[1]))
    return out


def _overlap(a: tuple[int, int], segments: list[tuple[int, int]]) -> float:
    return sum(_minutes(max(a[0], s), min(a[1], e)) for s, e in segments if e > a[0] and s < a[1])


def _category(
    state: str, start: int, end: int, small_stop: bool, loss: str | None, settings: OeeSettings
) -> str:
    if state == RUNNING:
        return RUN
    if state == DISCONNECTED:
        return UNKNOWN
    if state in (FAULT, MAINTENANCE):
        return BREAKDOWN  # maintenance in a planned window is not planned time at all
    if loss == PLANNED:
        return PLANNED
    if loss in (BREAKDOWN, SETUP, SMALL_STOP):
        return loss
    short = (end - start) / US < settings.small_stop_seconds
    if small_stop or short:
        return SMALL_STOP
    return IDLE_LOSS if state == IDLE else OTHER_STOP


def _within(windows: list[tuple[int, int]], at: int) -> bool:
    """Whether `at` lies in (start, end] of one of the start-up windows (sorted by start, all
    of one length: the one starting last before `at` ends last)."""
    i = bisect_left(windows, (at,)) - 1
    return i >= 0 and windows[i][0] < at <= windows[i][1]


def oee_compute(
    *,
    windows: list[Window],
    spans: list[Span],
    counts: list[Count],
    maintenance: list[tuple[datetime, datetime]],
    now: datetime,
    rated_cycle_seconds: float | None = None,
    period: tuple[datetime, datetime] | None = None,
    settings: OeeSettings | None = None,
) -> tuple[list[tuple[Window, OeeFigures]], list[Count]]:
    """One machine's figures per planned window, and the counts read outside every window's
    planned busy time (within `period` when given, else all of them).

    `spans` may overlap windows partly and may be open (clipped at `now`); `maintenance` are
    the machine's planned maintenance windows; nothing after `now` is planned time yet.
    The instants go to `oee_compute_us` as microseconds."""
    us = instant_us
    figures, outside = oee_compute_us(
        windows=[
            (us(w.start), us(w.end), w.break_minutes, tuple((us(s), us(e)) for s, e in w.breaks))
            for w in windows
        ],
        spans=[
            (s.state, us(s.start), None if s.end is None else us(s.end), s.small_stop)
            + (s.reason, s.loss)
            for s in spans
        ],
        counts=[(us(c.at), c.total, c.good, c.ideal_cycle_seconds, c) for c in counts],
        maintenance=[(us(s), us(e)) for s, e in maintenance],
        now=us(now),
        rated_cycle_seconds=rated_cycle_seconds,
        period=None if period is None else (us(period[0]), us(period[1])),
        settings=settings,
    )
    return list(zip(windows, figures, strict=True)), [c[4] for c in outside]


def oee_compute_us(
    *,
    windows: list[WindowUs],
    spans: list[SpanUs],
    counts: list[CountUs],
    maintenance: list[tuple[int, int]],
    now: int,
    rated_cycle_seconds: float | None = None,
    period: tuple[int, int] | None = None,
    settings: OeeSettings | None = None,
) -> tuple[list[OeeFigures], list[CountUs]]:
    """`oee_compute` on instants in microseconds since 1970 (UTC): the figures of each window
    in the order given, and the count tuples read outside every window's planned busy time
    (within `period` when given)."""
    settings = settings or OeeSettings()
    startup_us = timedelta(seconds=settings.startup_seconds) // _TICK
    maintenance_merged = intervals_merge(maintenance)
    spans = sorted(spans, key=itemgetter(1))
    n = len(spans)
    states = [s[0] for s in spans]
    starts = [s[1] for s in spans]
    ends = [s[2] if s[2] is not None else max(now, s[1]) for s in spans]
    # Intervals do not overlap (one open interval per machine, each closed when the next
    # opens), so their ends are sorted too; bisect finds a window's first interval.
    latest_end = list(accumulate(ends, max))
    # What an interval counts as, and the reason its loss minutes go to, do not depend on
    # the window: once per interval.
    cats: list[str] = []
    keys: list[tuple[str, str] | None] = []
    for (state, start, _, small_stop, reason, loss), end in zip(spans, ends, strict=True):
        cat = _category(state, start, end, small_stop, loss, settings)
        cats.append(cat)
        keys.append((cat, reason or NO_REASON) if cat in LOSSES else None)
    counts = sorted(counts, key=itemgetter(0))
    count_ats = [c[0] for c in counts]

    # Start-up windows: each run that begins after a stop (any state that is not running).
    startups = [
        (starts[i], starts[i] + startup_us)
        for i in range(1, n)
        if states[i] == RUNNING and states[i - 1] != RUNNING
    ]

    results: list[OeeFigures] = []
    taken: set[int] = set()
    for window_start, window_end, break_minutes, placed in windows:
        fig = OeeFigures()
        results.append(fig)
        end = min(window_end, now)
        if end <= window_start:
            continue
        whole = (window_start, end)
        fig.shift_minutes = _minutes(*whole)
        holes = intervals_merge([*maintenance_merged, *placed])
        fig.maintenance_minutes = _overlap(whole, maintenance_merged)
        placed_breaks = _overlap(whole, holes) - fig.maintenance_minutes
        busy = _subtract(whole, holes)

        minutes: dict[str, float] = {}
        state_minutes = fig.state_minutes
        reasons: dict[tuple[str, str], Reason] = {}
        for i in range(bisect_right(latest_end, window_start), n):
            s = starts[i]
            if s >= end:
                break
            e = ends[i]
            if e <= window_start:
                continue
            # _overlap((s, e), busy), inline: this runs once per interval and window.
            m = 0
            for busy_start, busy_end in busy:
                if busy_end > s and busy_start < e:
                    d = (busy_end if busy_end < e else e) - (busy_start if busy_start > s else s)
                    m += d / US / 60.0 if d > 0 else 0.0
            if m <= 0:
                continue
            cat = cats[i]
            minutes[cat] = minutes.get(cat, 0.0) + m
            state = states[i]
            state_minutes[state] = state_minutes.get(state, 0.0) + m
            key = keys[i]
            if key is not None:
                r = reasons.get(key)
                if r is None:
                    r = reasons[key] = Reason(cat, key[1])
                r.minutes += m
                r.stops += 1

        # Planned time no interval covers (before the first one, or none at all) is unknown.
        busy_minutes = sum(_minutes(s, e) for s, e in busy)
        minutes[UNKNOWN] = minutes.get(UNKNOWN, 0.0) + max(busy_minutes - sum(minutes.values()), 0)

        # The unplaced break comes out of idle, other-stop, then unknown time.
        to_take = break_minutes
        taken_break = 0.0
        for cat in (IDLE_LOSS, OTHER_STOP, UNKNOWN):
            have = minutes.get(cat, 0.0)
            take = min(have, to_take - taken_break)
            if take > 0:
                scale = (have - take) / have
                minutes[cat] = have - take
                for key, r in reasons.items():
                    if key[0] == cat:
                        r.minutes *= scale
                taken_break += take
        fig.break_minutes = placed_breaks + taken_break
        fig.planned_stop_minutes = minutes.get(PLANNED, 0.0)
        fig.planned_busy_minutes = busy_minutes - taken_break - fig.planned_stop_minutes
        fig.unknown_minutes = minutes.get(UNKNOWN, 0.0)
        fig.run_minutes = minutes.get(RUN, 0.0)
        for cat in (BREAKDOWN, SETUP, SMALL_STOP, IDLE_LOSS, OTHER_STOP):
            fig.losses[cat] = minutes.get(cat, 0.0)
        fig.reasons = {k: r for k, r in reasons.items() if r.minutes > 1e-9}

        # Counts read inside this window's planned busy time (a read covers the parts made
        # just before it, so a read at the window's end is the window's).
        reject_minutes = {STARTUP_REJECTS: 0.0, PRODUCTION_REJECTS: 0.0}
        inside = [
            idx
            for s, e in busy
            for idx in range(bisect_right(count_ats, s), bisect_right(count_ats, e))
            if idx not in taken
        ]
        for idx in inside:
            count = counts[idx]
            taken.add(idx)
            total, good = count[1], count[2]
            good = total if good is None else min(good, total)
            cycle = count[3] or rated_cycle_seconds
            ideal = cycle if cycle and cycle > 0 else None
            fig.total += total
            fig.good += good
            if ideal is None:
                fig.unrated += total
            else:
                fig.ideal_minutes += total * ideal / 60.0
            rejects = total - good
            if rejects:
                startup = _within(startups, count[0])
                kind = STARTUP_REJECTS if startup else PRODUCTION_REJECTS
                if startup:
                    fig.startup_rejects += rejects
                else:
                    fig.production_rejects += rejects
                if ideal is not None:
                    reject_minutes[kind] += rejects * ideal / 60.0
        fig.losses.update(reject_minutes)
        if not fig.unrated:
            fig.losses[SPEED] = max(fig.run_minutes - fig.ideal_minutes, 0.0)

    outside = [
        c
        for idx, c in enumerate(counts)
        if idx not in taken and (period is None or period[0] < c[0] <= period[1])
    ]
    return results, outside


def outside_add(fig: OeeFigures, counts: Iterable[Count]) -> OeeFigures:
    """Add counts read outside planned time to a figure's outside totals (not to OEE)."""
    for c in counts:
        fig.outside_total += c.total
        fig.outside_good += c.total if c.good is None else min(c.good, c.total)
    return fig
