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
from datetime import date, datetime, timedelta

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
    for p in parts:
        for name in (
            "shift_minutes",
            "break_minutes",
            "maintenance_minutes",
            "planned_stop_minutes",
            "planned_busy_minutes",
            "unknown_minutes",
            "run_minutes",
            "ideal_minutes",
            "total",
            "good",
            "unrated",
            "startup_rejects",
            "production_rejects",
            "outside_total",
            "outside_good",
        ):
            setattr(out, name, getattr(out, name) + getattr(p, name))
        for k, v in p.losses.items():
            out.losses[k] = out.losses.get(k, 0.0) + v
        for k, v in p.state_minutes.items():
            out.state_minutes[k] = out.state_minutes.get(k, 0.0) + v
        for k, r in p.reasons.items():
            mine = out.reasons.setdefault(k, Reason(r.loss, r.reason))
            mine.minutes += r.minutes
            mine.stops += r.stops
    return out


# --- computing one machine ---------------------------------------------------------------------


def _minutes(a: datetime, b: datetime) -> float:
    return max((b - a).total_seconds() / 60.0, 0.0)


def _subtract(
    segment: tuple[datetime, datetime], holes: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
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


def _overlap(a: tuple[datetime, datetime], segments: list[tuple[datetime, datetime]]) -> float:
    return sum(_minutes(max(a[0], s), min(a[1], e)) for s, e in segments if e > a[0] and s < a[1])


def _category(span: Span, end: datetime, settings: OeeSettings) -> str:
    if span.state == RUNNING:
        return RUN
    if span.state == DISCONNECTED:
        return UNKNOWN
    if span.state in (FAULT, MAINTENANCE):
        return BREAKDOWN  # maintenance in a planned window is not planned time at all
    if span.loss == PLANNED:
        return PLANNED
    if span.loss in (BREAKDOWN, SETUP, SMALL_STOP):
        return span.loss
    short = (end - span.start).total_seconds() < settings.small_stop_seconds
    if span.small_stop or short:
        return SMALL_STOP
    return IDLE_LOSS if span.state == IDLE else OTHER_STOP


def _within(windows: list[tuple[datetime, datetime]], at: datetime) -> bool:
    """Whether `at` lies in (start, end] of one of the start-up windows (sorted by start, all
    of one length: the one starting last before `at` ends last)."""
    i = bisect_left(windows, (at,)) - 1
    return i >= 0 and windows[i][0] < at <= windows[i][1]


def _ideal(count: Count, rated_cycle_seconds: float | None) -> float | None:
    cycle = count.ideal_cycle_seconds or rated_cycle_seconds
    return cycle if cycle and cycle > 0 else None


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
    the machine's planned maintenance windows; nothing after `now` is planned time yet."""
    settings = settings or OeeSettings()
    maintenance_merged = intervals_merge(maintenance)
    spans = sorted(spans, key=lambda s: s.start)
    ends = [s.end if s.end is not None else max(now, s.start) for s in spans]
    # Intervals do not overlap (one open interval per machine, each closed when the next
    # opens), so their ends are sorted too; bisect finds a window's first interval.
    latest_end: list[datetime] = []
    for e in ends:
        latest_end.append(max(e, latest_end[-1]) if latest_end else e)
    counts = sorted(counts, key=lambda c: c.at)
    count_ats = [c.at for c in counts]

    # Start-up windows: each run that begins after a stop (any state that is not running).
    startups: list[tuple[datetime, datetime]] = []
    for i, span in enumerate(spans):
        if span.state == RUNNING and i > 0 and spans[i - 1].state != RUNNING:
            startups.append((span.start, span.start + timedelta(seconds=settings.startup_seconds)))

    results: list[tuple[Window, OeeFigures]] = []
    taken: set[int] = set()
    for window in windows:
        fig = OeeFigures()
        end = min(window.end, now)
        if end <= window.start:
            results.append((window, fig))
            continue
        whole = (window.start, end)
        fig.shift_minutes = _minutes(*whole)
        holes = intervals_merge([*maintenance_merged, *window.breaks])
        fig.maintenance_minutes = _overlap(whole, maintenance_merged)
        placed_breaks = _overlap(whole, holes) - fig.maintenance_minutes
        busy = _subtract(whole, holes)

        minutes: dict[str, float] = {}
        reasons: dict[tuple[str, str], Reason] = {}
        for i in range(bisect_right(latest_end, window.start), len(spans)):
            span, span_end = spans[i], ends[i]
            if span.start >= end:
                break
            if span_end <= window.start:
                continue
            m = _overlap((span.start, span_end), busy)
            if m <= 0:
                continue
            cat = _category(span, span_end, settings)
            minutes[cat] = minutes.get(cat, 0.0) + m
            fig.state_minutes[span.state] = fig.state_minutes.get(span.state, 0.0) + m
            if cat in LOSSES:
                key = (cat, span.reason or NO_REASON)
                r = reasons.setdefault(key, Reason(cat, key[1]))
                r.minutes += m
                r.stops += 1

        # Planned time no interval covers (before the first one, or none at all) is unknown.
        busy_minutes = sum(_minutes(s, e) for s, e in busy)
        minutes[UNKNOWN] = minutes.get(UNKNOWN, 0.0) + max(busy_minutes - sum(minutes.values()), 0)

        # The unplaced break comes out of idle, other-stop, then unknown time.
        to_take = window.break_minutes
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
            good = count.total if count.good is None else min(count.good, count.total)
            ideal = _ideal(count, rated_cycle_seconds)
            fig.total += count.total
            fig.good += good
            if ideal is None:
                fig.unrated += count.total
            else:
                fig.ideal_minutes += count.total * ideal / 60.0
            rejects = count.total - good
            if rejects:
                startup = _within(startups, count.at)
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
        results.append((window, fig))

    outside = [
        c
        for idx, c in enumerate(counts)
        if idx not in taken and (period is None or period[0] < c.at <= period[1])
    ]
    return results, outside


def outside_add(fig: OeeFigures, counts: Iterable[Count]) -> OeeFigures:
    """Add counts read outside planned time to a figure's outside totals (not to OEE)."""
    for c in counts:
        fig.outside_total += c.total
        fig.outside_good += c.total if c.good is None else min(c.good, c.total)
    return fig
