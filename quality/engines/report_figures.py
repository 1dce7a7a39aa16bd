"""The arithmetic of the quality reports: defect Pareto, first-pass yield per operation and
per line, the trend, and the quality trace of one production order. Pure: plain rows in, plain
rows out (`pareto`, `attempts_resolve`, `first_pass_yield`, `line_yields`, `trend`,
`order_subjects`); quality/selectors/reports.py runs the queries that feed it.

Rules (what a plant engineer needs to read the figures):

* **Attempt.** Every inspection record that corrects nothing is one attempt: a unit (or a
  lot) inspected once at one operation of an order. A record that names another in
  `corrects` replaces it in every field — result, defect, values, even `inspected_at` — and
  is *not* a new attempt; only the last record of a correction chain (the one nobody
  corrects) counts. `inspected_at` is when the unit was inspected (`recorded_at` is when it
  was typed in, which for a correction is later). Attempts of one unit at one operation are
  taken in the order of their effective `inspected_at`; ties go to the attempt recorded
  first.
* **Defect Pareto.** Counts the failed attempts in the period (a re-inspection that fails
  again is another defect found), by defect code and by operation, sorted by count
  descending (ties by name); share = count / all failed attempts, cumulative % is the
  running sum. Scrap reported on production events has no defect code and is not in it.
* **First-pass yield of an operation** (an operation = a step of an item's routing, across
  orders) = units that passed on their first attempt / units first inspected in the period.
  A unit re-inspected after rework is not first pass, however the re-inspection ends; a
  unit whose first attempt lies before the period is not counted again in the period. A lot
  inspected as a whole counts once. Where an operation has no first inspection in the
  period, its yield comes from production events instead: good / (good + scrap) reported
  at the operation — events cannot tell a reworked unit from a first-pass one, so for
  those operations the figure is an upper bound.
* **Line FPY** (a line = a plant area, per item, since a line's operations are a part of
  that item's routing): the rolled throughput yield RTY = the product of the operations'
  FPYs along the routing, i.e. the chance that a unit goes through every step of the line
  without a defect; and, beside it, the simple ratio = Σ first-pass units / Σ units over
  the same operations (which hides a bad step behind a good one — that is why RTY leads).
* **Trend** (day or Monday-based week, plant time): defect rate = failed attempts / attempts
  in the bucket; FPY = first-pass units / units first inspected in the bucket. The trend
  follows inspections only; uninspected operations are in the FPY table.
* **Filters**: period [from, to] in plant days; work center = where the unit was inspected
  (for events: the operation's work center); item = the order's item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

# An inspection record's result, as InspectionRecord.Result stores it.
PASS = "pass"
FAIL = "fail"
SCRAP = "scrap"  # the scrap decision of a disposition (Disposition.Decision.SCRAP)
NO_DEFECT_CODE = "(no defect code)"
DAY, WEEK = "day", "week"


def _pct(part, whole) -> Decimal | None:
    """part / whole in percent, to one decimal (half up); None when there is nothing."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _as_pct(fraction: Decimal | None) -> Decimal | None:
    if fraction is None:
        return None
    return (fraction * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


# --- Pareto --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParetoBar:
    """One bar of a Pareto chart."""

    key: str
    label: str
    count: int
    share_pct: Decimal
    cumulative_pct: Decimal


def pareto(counts: Iterable[tuple[str, str, int]]) -> list[ParetoBar]:
    """(key, label, count) → bars sorted by count descending.

    The cumulative % is computed from the running count, not by adding rounded shares, so
    the last bar is exactly 100.0."""
    # Ties: by label, the uncoded ("no defect code", key "") after the coded ones.
    rows = sorted(
        ((k, lbl, int(n)) for k, lbl, n in counts if n),
        key=lambda r: (-r[2], r[0] == "", r[1], r[0]),
    )
    total = sum(n for _, _, n in rows)
    bars, running = [], 0
    for key, label, n in rows:
        running += n
        bars.append(ParetoBar(key, label, n, _pct(n, total), _pct(running, total)))
    return bars


# --- Attempts and first-pass yield ----------------------------------------------------------


@dataclass(frozen=True, order=True)
class OperationKey:
    """An operation of an item's routing, across orders (step 30 of EB-500 at CMM)."""

    item: str
    sequence: int
    name: str
    work_center: str
    area: str

    @property
    def code(self) -> str:
        return f"{self.item}/{self.sequence}"

    @property
    def label(self) -> str:
        return f"{self.item} {self.sequence} {self.name}"


@dataclass(frozen=True)
class InspectionRow:
    """One inspection record as the yield arithmetic sees it."""

    id: int
    corrects_id: int | None
    corrected: bool  # another record corrects this one: it no longer counts
    operation_id: int  # the order's operation: a unit passes it once per order
    operation: OperationKey
    unit_id: int | None
    lot_id: int | None
    result: str
    inspected_at: datetime

    @property
    def subject(self) -> tuple[int, str, int | None]:
        """What was inspected, at which order operation: a unit, or a lot as a whole."""
        if self.unit_id is not None:
            return (self.operation_id, "unit", self.unit_id)
        return (self.operation_id, "lot", self.lot_id)


@dataclass(frozen=True)
class Attempt:
    """One inspection of a unit at an operation, after corrections."""

    subject: tuple[int, str, int | None]
    operation: OperationKey
    passed: bool
    at: datetime
    record_id: int  # the effective record
    first_record_id: int  # the record the attempt was first recorded as (chain root)

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.at, self.first_record_id)


def chain_roots(corrects: Mapping[int, int | None]) -> dict[int, int]:
    """record id → the first record of its correction chain (as far as the rows go)."""
    roots = {}
    for record_id in corrects:
        root, seen = record_id, {record_id}
        while corrects.get(root) in corrects and corrects[root] not in seen:
            root = corrects[root]
            seen.add(root)
        roots[record_id] = root
    return roots


def attempts_resolve(rows: Iterable[InspectionRow]) -> list[Attempt]:
    """The attempts behind the records: one per correction chain, as its last record says."""
    by_id = {r.id: r for r in rows}
    roots = chain_roots({r.id: r.corrects_id for r in by_id.values()})
    attempts = []
    for row in by_id.values():
        if row.corrected:
            continue
        attempts.append(
            Attempt(
                subject=row.subject,
                operation=row.operation,
                passed=row.result == PASS,
                at=row.inspected_at,
                record_id=row.id,
                first_record_id=roots[row.id],
            )
        )
    attempts.sort(key=lambda a: a.sort_key)
    return attempts


def first_attempts(attempts: Iterable[Attempt]) -> dict[tuple, Attempt]:
    """Each unit's (or lot's) first attempt at each order operation."""
    firsts: dict[tuple, Attempt] = {}
    for a in attempts:
        if a.subject not in firsts or a.sort_key < firsts[a.subject].sort_key:
            firsts[a.subject] = a
    return firsts


@dataclass(frozen=True)
class PlantFirstPass:
    """The plant's first-pass yield over a period: `units` units (or lots, for items not
    tracked by serial) first inspected in it, `first_pass` of them passing every inspection
    at the first attempt."""

    units: int
    first_pass: int

    @property
    def pct(self) -> Decimal | None:
        return _pct(self.first_pass, self.units)


def plant_first_pass(
    attempts: Iterable[Attempt], *, start: datetime, end: datetime
) -> PlantFirstPass:
    """First-pass yield of the whole plant over [start, end), per unit rather than per
    operation:

        FPY = units that passed every inspection at the first attempt
              ÷ units inspected

    - A unit is a serial unit; for an item tracked by lot, a lot inspected as a whole is one
      "unit".
    - A unit is counted when it has a first attempt in the period at any operation (its
      first attempt at an operation, after corrections: a corrected record is replaced by
      its correction, which is no new attempt). A first attempt before the period was
      counted in its own period, and is not counted again.
    - It is first pass when each of its first attempts in the period passed: a fail, even
      one reworked and passed on re-inspection, makes it not first pass.
    """
    passed: dict[tuple[str, int | None], bool] = {}
    for (_operation, kind, identity), first in first_attempts(attempts).items():
        if start <= first.at < end:
            key = (kind, identity)
            passed[key] = passed.get(key, True) and first.passed
    return PlantFirstPass(units=len(passed), first_pass=sum(passed.values()))


@dataclass(frozen=True)
class EventYieldRow:
    """Good and scrap reported by production events at an operation over the period."""

    operation: OperationKey
    good: Decimal
    scrap: Decimal


@dataclass(frozen=True)
class OperationYield:
    """First-pass yield of one operation; `fpy` is a fraction (0.9), `fpy_pct` for people."""

    operation: OperationKey
    source: str  # "inspection" or "events"
    units: Decimal
    first_pass: Decimal

    @property
    def fpy(self) -> Decimal | None:
        return self.first_pass / self.units if self.units else None

    @property
    def fpy_pct(self) -> Decimal | None:
        return _as_pct(self.fpy)

    @property
    def failed(self) -> Decimal:
        return self.units - self.first_pass


def first_pass_yield(
    attempts: Iterable[Attempt],
    events: Iterable[EventYieldRow],
    *,
    start: datetime,
    end: datetime,
) -> list[OperationYield]:
    """FPY per operation over [start, end): inspections where there are, events elsewhere."""
    counted: dict[OperationKey, list[int]] = defaultdict(lambda: [0, 0])
    for first in first_attempts(attempts).values():
        if start <= first.at < end:
            cell = counted[first.operation]
            cell[0] += 1
            cell[1] += int(first.passed)
    yields = [
        OperationYield(op, "inspection", Decimal(units), Decimal(passed))
        for op, (units, passed) in counted.items()
    ]
    reported: dict[OperationKey, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for ev in events:
        reported[ev.operation][0] += ev.good
        reported[ev.operation][1] += ev.scrap
    for op, (good, scrap) in reported.items():
        if op not in counted and good + scrap > 0:
            yields.append(OperationYield(op, "events", good + scrap, good))
    yields.sort(key=lambda y: (y.operation.item, y.operation.sequence, y.operation))
    return yields


@dataclass(frozen=True)
class LineYield:
    """A line (plant area) making one item: RTY along its operations and the simple ratio."""

    area: str
    item: str
    operations: tuple[OperationYield, ...]

    @property
    def rty(self) -> Decimal | None:
        result = Decimal(1)
        for op in self.operations:
            if op.fpy is None:
                return None
            result *= op.fpy
        return result if self.operations else None

    @property
    def rty_pct(self) -> Decimal | None:
        return _as_pct(self.rty)

    @property
    def units(self) -> Decimal:
        return sum((op.units for op in self.operations), Decimal(0))

    @property
    def first_pass(self) -> Decimal:
        return sum((op.first_pass for op in self.operations), Decimal(0))

    @property
    def simple_pct(self) -> Decimal | None:
        return _pct(self.first_pass, self.units)

    @property
    def steps(self) -> str:
        return " → ".join(str(op.operation.sequence) for op in self.operations)


def line_yields(yields: Iterable[OperationYield]) -> list[LineYield]:
    """Group operation yields by (area, item), operations in routing order."""
    grouped: dict[tuple[str, str], list[OperationYield]] = defaultdict(list)
    for y in yields:
        grouped[(y.operation.area, y.operation.item)].append(y)
    return [
        LineYield(area, item, tuple(sorted(ops, key=lambda y: y.operation.sequence)))
        for (area, item), ops in sorted(grouped.items())
    ]


# --- Trend -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    """One day or week of the trend."""

    start: date
    bucket: str
    inspected: int  # attempts
    failed: int
    units: int  # units first inspected
    first_pass: int

    @property
    def defect_rate_pct(self) -> Decimal | None:
        return _pct(self.failed, self.inspected)

    @property
    def fpy_pct(self) -> Decimal | None:
        return _pct(self.first_pass, self.units)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=7 if self.bucket == WEEK else 1)


def bucket_start(day: date, bucket: str) -> date:
    return day - timedelta(days=day.weekday()) if bucket == WEEK else day


def trend(
    attempts: Iterable[Attempt],
    *,
    first_day: date,
    last_day: date,
    bucket: str,
    tz,
) -> list[TrendPoint]:
    """Defect rate and FPY per bucket from `first_day` to `last_day` (plant days), every
    bucket present even when empty (a gap in the chart, not a zero)."""
    attempts = list(attempts)
    step = timedelta(days=7 if bucket == WEEK else 1)
    starts, cursor = [], bucket_start(first_day, bucket)
    while cursor <= last_day:
        starts.append(cursor)
        cursor += step
    cells = {s: [0, 0, 0, 0] for s in starts}  # inspected, failed, units, first pass

    def cell_of(at: datetime):
        day = at.astimezone(tz).date()
        return cells[bucket_start(day, bucket)] if first_day <= day <= last_day else None

    for a in attempts:
        cell = cell_of(a.at)
        if cell is not None:
            cell[0] += 1
            cell[1] += int(not a.passed)
    for first in first_attempts(attempts).values():
        cell = cell_of(first.at)
        if cell is not None:
            cell[2] += 1
            cell[3] += int(first.passed)
    return [TrendPoint(s, bucket, *cells[s]) for s in starts]


# --- Order quality trace -----------------------------------------------------------------


@dataclass(frozen=True)
class MeasurementLine:
    characteristic: str
    value: str
    unit: str
    passed: bool


@dataclass(frozen=True)
class TraceLine:
    """One inspection record of an order, flattened for the page, the CSV and the API."""

    record_id: int
    subject_kind: str
    subject: str
    sequence: int
    operation: str
    work_center: str
    plan: str
    result: str
    defect_code: str
    defect_name: str
    reason: str
    measurements: tuple[MeasurementLine, ...]
    inspector: str
    gauge: str
    inspected_at: datetime
    corrects_id: int | None
    corrected_by_id: int | None
    disposition: str
    disposition_note: str
    decided_by: str
    approved_by: str
    decided_at: datetime | None
    disposition_label: str = ""  # the decision as people read it ("Use as is")
    attempt_no: int | None = None  # 1 = the first attempt at the operation; None if replaced

    @property
    def superseded(self) -> bool:
        return self.corrected_by_id is not None

    @property
    def values_text(self) -> str:
        return "; ".join(
            f"{m.characteristic}={m.value}{(' ' + m.unit) if m.unit else ''}"
            f" ({'ok' if m.passed else 'NOK'})"
            for m in self.measurements
        )


@dataclass
class SubjectTrace:
    """A unit or lot of the order, with every inspection record and what became of it."""

    kind: str  # "unit" or "lot"
    label: str
    trace_code: str = ""
    lines: list[TraceLine] = field(default_factory=list)
    inspected: bool = False
    first_pass: bool | None = None  # passed the first attempt at every inspected operation
    failed: bool = False  # at least one attempt failed
    scrapped: bool = False
    last_result: str = ""


@dataclass(frozen=True)
class OrderSummary:
    subjects: int
    inspected: int
    passed_first_time: int
    failed: int
    scrapped: int

    @property
    def first_pass_pct(self) -> Decimal | None:
        return _pct(self.passed_first_time, self.inspected)


def order_subjects(
    lines: Iterable[TraceLine],
    known: Iterable[tuple[str, str, str]] = (),
) -> tuple[list[SubjectTrace], OrderSummary]:
    """Per unit/lot of an order: its trace lines (with attempt numbers) and its verdict.

    `known` lists (kind, label, trace code) of units and lots the order made or labelled that
    may have no inspection. A unit passed first time when its first attempt at every operation
    where it was inspected passed; failed when any attempt failed; scrapped when an effective
    record carries a scrap disposition."""
    subjects: dict[tuple[str, str], SubjectTrace] = {}
    for kind, label, code in known:
        subject = subjects.setdefault((kind, label), SubjectTrace(kind, label))
        subject.trace_code = subject.trace_code or code
    lines = list(lines)
    roots = chain_roots({ln.record_id: ln.corrects_id for ln in lines})
    # Attempts in the same order as for the yield: effective inspected_at, then chain root.
    per_operation: dict[tuple, int] = defaultdict(int)
    numbered = []
    for ln in sorted(lines, key=lambda ln: (ln.inspected_at, roots[ln.record_id])):
        attempt_no = None
        if not ln.superseded:
            per_operation[(ln.subject_kind, ln.subject, ln.sequence)] += 1
            attempt_no = per_operation[(ln.subject_kind, ln.subject, ln.sequence)]
        numbered.append(replace(ln, attempt_no=attempt_no))
    for ln in sorted(numbered, key=lambda ln: (ln.sequence, ln.inspected_at, ln.record_id)):
        subject = subjects.setdefault(
            (ln.subject_kind, ln.subject), SubjectTrace(ln.subject_kind, ln.subject)
        )
        subject.lines.append(ln)
        if ln.superseded:
            continue
        subject.inspected = True
        subject.last_result = ln.result
        if ln.result == FAIL:
            subject.failed = True
        if ln.disposition == SCRAP:
            subject.scrapped = True
        if ln.attempt_no == 1:
            ok = ln.result == PASS
            subject.first_pass = ok if subject.first_pass is None else subject.first_pass and ok
    ordered = sorted(subjects.values(), key=lambda s: (s.kind != "unit", s.label))
    summary = OrderSummary(
        subjects=len(ordered),
        inspected=sum(s.inspected for s in ordered),
        passed_first_time=sum(bool(s.first_pass) for s in ordered),
        failed=sum(s.failed for s in ordered),
        scrapped=sum(s.scrapped for s in ordered),
    )
    return ordered, summary
