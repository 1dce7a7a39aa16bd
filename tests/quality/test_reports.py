"""Quality reports: Pareto, first-pass yield with corrections and rework (worked by hand),
trend buckets, CSV, the order quality trace, the API, and query counts.

Records are dated in March 2025 so that whatever the demo loads around today stays out of
the period; the order is the demo's MO-2026-00001 (EB-500: 10 casting at CAST/FOUNDRY,
20 machining at CNC/MACHINING, 30 inspection at CMM/MACHINING, 40 assembly at ASM/ASSEMBLY).
"""

import csv
import io
import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from rest_framework.test import APIClient

from execution.models import ProductionEvent, Task
from planning.models import ProductionOrder, RoutingStep
from quality.engines import report_figures as figures
from quality.models import (
    Characteristic,
    DefectCode,
    Disposition,
    InspectionPlan,
    InspectionRecord,
    Measurement,
    TraceCode,
)
from quality.selectors import reports
from quality.views.reports import PARETO_HEADER, line_chart, pareto_chart
from resources.models import Item, MaterialLot, SerialUnit, WorkCenter
from tests.errors import error_fields

TZ = ZoneInfo("Asia/Shanghai")
MON = date(2025, 3, 3)  # a Monday
PERIOD = {"from": "2025-03-03", "to": "2025-03-09"}
PASS, FAIL = "pass", "fail"
DEFECTS = {"QPOR": "Porosity", "QDIM": "Bore out of tolerance", "QSCR": "Scratch"}


# The project's URLs route every quality page and API endpoint.
urlpatterns = [path("", include("config.urls"))]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


# --- Pure arithmetic ------------------------------------------------------------------------


def test_pareto_sorts_descending_with_share_and_cumulative():
    bars = figures.pareto(
        [("SCR", "SCR Scratch", 3), ("", "(none)", 1), ("POR", "POR Porosity", 5)]
    )
    assert [(b.key, b.count, b.share_pct, b.cumulative_pct) for b in bars] == [
        ("POR", 5, Decimal("55.6"), Decimal("55.6")),
        ("SCR", 3, Decimal("33.3"), Decimal("88.9")),
        ("", 1, Decimal("11.1"), Decimal("100.0")),
    ]


def test_pareto_ties_by_label_uncoded_last_and_last_bar_is_100():
    bars = figures.pareto(
        [("B", "B b", 1), ("", "(no defect code)", 1), ("A", "A a", 1), ("Z", "Z", 0)]
    )
    assert [b.key for b in bars] == ["A", "B", ""]  # zero counts dropped
    # Shares are rounded (33.3 × 3 = 99.9) but the running total ends at exactly 100.
    assert [b.cumulative_pct for b in bars] == [Decimal("33.3"), Decimal("66.7"), Decimal("100.0")]
    assert figures.pareto([]) == []


OP30 = figures.OperationKey("EB-500", 30, "Inspection", "CMM", "MACHINING")
OP20 = figures.OperationKey("EB-500", 20, "Machining", "CNC", "MACHINING")


def row(id, unit, result, when, corrects=None, corrected=False, lot=None, op=OP30, op_id=30):
    return figures.InspectionRow(id, corrects, corrected, op_id, op, unit, lot, result, when)


def test_attempts_corrections_replace_and_rework_is_not_first_pass():
    t = at(MON, 9)
    rows = [
        row(1, 1, FAIL, t, corrected=True),  # unit 1: failed …
        row(2, 2, FAIL, t + timedelta(minutes=5)),  # unit 2: failed, reworked …
        row(3, 2, PASS, t + timedelta(hours=2)),  # … passed on re-inspection
        row(4, 1, PASS, t, corrects=1),  # … corrected to pass (same inspected_at)
    ]
    attempts = figures.attempts_resolve(rows)
    assert sorted(a.record_id for a in attempts) == [2, 3, 4]
    firsts = figures.first_attempts(attempts)
    assert firsts[(30, "unit", 1)].record_id == 4 and firsts[(30, "unit", 1)].passed
    assert firsts[(30, "unit", 1)].first_record_id == 1
    assert firsts[(30, "unit", 2)].record_id == 2 and not firsts[(30, "unit", 2)].passed
    [y] = figures.first_pass_yield(attempts, [], start=t, end=t + timedelta(days=1))
    assert (y.units, y.first_pass, y.fpy_pct, y.source) == (2, 1, Decimal("50.0"), "inspection")


def test_correction_keeps_its_place_among_attempts_of_the_same_time():
    """Attempt order: effective inspected_at, then the first record of the chain — a late
    correction of the first attempt stays first even when its own id is larger."""
    t = at(MON, 9)
    rows = [
        row(10, 7, FAIL, t, corrected=True),
        row(11, 7, PASS, t),  # a second attempt entered with the same time
        row(12, 7, FAIL, t, corrects=10),
    ]
    firsts = figures.first_attempts(figures.attempts_resolve(rows))
    assert firsts[(30, "unit", 7)].record_id == 12


def test_fpy_falls_back_to_events_and_line_rty_multiplies():
    t = at(MON, 9)
    attempts = figures.attempts_resolve(
        [row(1, 1, PASS, t), row(2, 2, FAIL, t), row(3, 3, PASS, t), row(4, 4, PASS, t)]
    )
    events = [
        figures.EventYieldRow(OP20, Decimal("45"), Decimal("5")),
        # Events at an inspected operation do not replace its inspections.
        figures.EventYieldRow(OP30, Decimal("100"), Decimal("0")),
    ]
    yields = figures.first_pass_yield(attempts, events, start=t, end=t + timedelta(days=1))
    assert [(y.operation.sequence, y.source, y.fpy) for y in yields] == [
        (20, "events", Decimal("0.9")),
        (30, "inspection", Decimal("0.75")),
    ]
    [line] = figures.line_yields(yields)
    assert (line.area, line.item, line.steps) == ("MACHINING", "EB-500", "20 → 30")
    assert line.rty == Decimal("0.675") and line.rty_pct == Decimal("67.5")
    # Simple ratio: (45 + 3) / (50 + 4) = 88.89 %
    assert line.simple_pct == Decimal("88.9")


def test_trend_buckets_days_and_weeks():
    rows = [
        row(1, 1, PASS, at(MON, 9)),
        row(2, 2, FAIL, at(MON, 23, 30)),  # plant time: still Monday
        row(3, 2, PASS, at(MON + timedelta(days=1), 8)),  # re-inspection on Tuesday
        row(4, 3, FAIL, at(MON + timedelta(days=7), 8)),  # the next Monday
    ]
    attempts = figures.attempts_resolve(rows)
    days = figures.trend(
        attempts, first_day=MON, last_day=MON + timedelta(days=2), bucket="day", tz=TZ
    )
    assert [(p.start, p.inspected, p.failed, p.units, p.first_pass) for p in days] == [
        (MON, 2, 1, 2, 1),
        (MON + timedelta(days=1), 1, 0, 0, 0),
        (MON + timedelta(days=2), 0, 0, 0, 0),
    ]
    assert [p.defect_rate_pct for p in days] == [Decimal("50.0"), Decimal("0.0"), None]
    assert [p.fpy_pct for p in days] == [Decimal("50.0"), None, None]
    # Weeks start on Monday; a period starting on Wednesday still shows its whole first
    # week's bucket but counts only days inside the period.
    wed = MON + timedelta(days=2)
    weeks = figures.trend(
        attempts, first_day=wed, last_day=wed + timedelta(days=6), bucket="week", tz=TZ
    )
    assert [(p.start, p.inspected, p.units) for p in weeks] == [
        (MON, 0, 0),
        (MON + timedelta(days=7), 1, 1),
    ]
    weeks = figures.trend(
        attempts, first_day=MON, last_day=MON + timedelta(days=13), bucket="week", tz=TZ
    )
    assert [(p.inspected, p.failed, p.units, p.first_pass) for p in weeks] == [
        (3, 1, 2, 1),
        (1, 1, 1, 0),
    ]


def test_charts_geometry():
    bars = figures.pareto([("A", "A", 4), ("B", "B", 1)])
    chart = pareto_chart(bars)
    first, second = chart["items"]
    assert first["h"] == chart["base"] - chart["top"]  # the tallest bar fills the plot
    assert second["h"] == pytest.approx(first["h"] / 4, abs=0.1)
    assert second["cy"] == chart["top"]  # cumulative 100 % at the top
    line = line_chart([("a", Decimal("50")), ("b", None), ("c", Decimal("100"))], y_max=100)
    assert len(line["segments"]) == 2 and len(line["dots"]) == 2  # a gap, not a zero


def test_filter_parse_defaults_and_errors(db):
    f = reports.report_filter_parse({}, today=date(2026, 3, 31))
    assert (f.first_day, f.last_day, f.bucket) == (date(2026, 3, 2), date(2026, 3, 31), "day")
    f = reports.report_filter_parse({"from": "2026-01-01", "to": "2026-03-31"})
    assert f.bucket == "week"
    start, end = f.bounds()
    assert start == datetime(2026, 1, 1, tzinfo=f.tz) and end == datetime(2026, 4, 1, tzinfo=f.tz)
    with pytest.raises(ValidationError) as exc:
        reports.report_filter_parse({"from": "tomorrow", "work_center": "NOPE", "bucket": "hour"})
    assert set(exc.value.message_dict) == {"from", "work_center", "bucket"}
    with pytest.raises(ValidationError):
        reports.report_filter_parse({"from": "2024-01-01", "to": "2026-01-01"})


# --- With the database ----------------------------------------------------------------------

_ids = itertools.count(1)


class Floor:
    """The demo order MO-2026-00001 and what a test records on it."""

    def __init__(self):
        self.order = ProductionOrder.objects.select_related("item").get(number="MO-2026-00001")
        self.ops = {op.sequence: op for op in self.order.operations.select_related("work_center")}
        self.plans = {seq: self._plan(seq) for seq in (20, 30)}
        self.bore = Characteristic.objects.get_or_create(
            plan=self.plans[30],
            name="Bore diameter",
            defaults={
                "kind": "variable",
                "nominal": Decimal("50"),
                "lower_tolerance": Decimal("0.1"),
                "upper_tolerance": Decimal("0.1"),
                "unit": "mm",
            },
        )[0]
        self.inspector = get_user_model().objects.get(username="zhaoliu")
        self.units: dict[str, SerialUnit] = {}

    def _plan(self, seq: int) -> InspectionPlan:
        step = RoutingStep.objects.get(routing=self.order.routing, step_no=seq)
        plan = InspectionPlan.objects.filter(routing_step=step, active=True).first()
        return plan or InspectionPlan.objects.create(
            code=f"IP-TEST-{seq}", version=1, routing_step=step
        )

    def unit(self, serial: str) -> SerialUnit:
        if serial not in self.units:
            self.units[serial] = SerialUnit.objects.create(item=self.order.item, serial=serial)
        return self.units[serial]

    def defect(self, code: str) -> DefectCode:
        return DefectCode.objects.get_or_create(
            code=code, defaults={"name": DEFECTS.get(code, code)}
        )[0]

    def record(self, subject, result, when, *, seq=30, defect=None, corrects=None, value=None):
        op = self.ops[seq]
        unit = self.unit(subject) if isinstance(subject, str) else None
        lot = subject if isinstance(subject, MaterialLot) else None
        rec = InspectionRecord.objects.create(
            external_id=f"test-{next(_ids)}",
            plan=self.plans[seq],
            order=self.order,
            operation=op,
            work_center=op.work_center,
            unit=unit,
            lot=lot,
            result=result,
            defect_code=self.defect(defect) if defect else None,
            inspector=self.inspector,
            inspected_at=when,
            corrects=corrects,
        )
        if value is not None and seq == 30:
            Measurement.objects.create(
                record=rec,
                characteristic=self.bore,
                value=Decimal(value),
                passed=abs(Decimal(value) - 50) <= Decimal("0.1"),
            )
        return rec

    def dispose(self, record, decision):
        Disposition.objects.create(record=record, decision=decision, decided_by=self.inspector)

    def event(self, seq, good, scrap, when):
        op = self.ops[seq]
        task = Task.objects.get_or_create(operation=op, defaults={"order": self.order})[0]
        ProductionEvent.objects.create(
            event_id=f"test-ev-{next(_ids)}",
            kind="report",
            task=task,
            order=self.order,
            operation=op,
            quantity_good=Decimal(good),
            quantity_scrap=Decimal(scrap),
            occurred_at=when,
        )


@pytest.fixture
def floor(demo_plant):
    return Floor()


@pytest.fixture
def worked_example(floor):
    """The hand-worked example of the FPY rules, at operation 30 (CMM, MACHINING):

    U1 passes                                  → first pass
    U2 fails, rework, passes                   → not first pass (re-inspection)
    U3 fails, the record is corrected to pass  → first pass (a correction is no attempt)
    U4 passes, corrected to fail, rework, pass → not first pass
    U5 fails, fails again, scrapped            → not first pass
    U6 failed on 28 Feb, passes on 3 Mar       → not in the period (first attempt before)
    lot L1 inspected as a whole, passes        → first pass, counts once
    ⇒ 6 units, 3 first pass: FPY 50.0 %.

    Events: operation 10 reports 48 good + 2 scrap (96 %), operation 20 reports 45 + 5
    (90 %) in the period and 10 scrap the week after (outside). Lines: FOUNDRY = 96.0 %;
    MACHINING RTY = 0.90 × 0.50 = 45.0 %, simple ratio (45 + 3) / (50 + 6) = 85.7 %.
    """
    f = floor
    tue = MON + timedelta(days=1)
    f.record("QR-U1", PASS, at(MON, 9), value="50.02")
    u2 = f.record("QR-U2", FAIL, at(MON, 9, 10), defect="QDIM", value="50.30")
    f.dispose(u2, "rework")
    f.record("QR-U2", PASS, at(MON, 11), value="50.05")
    u3 = f.record("QR-U3", FAIL, at(MON, 9, 20), defect="QPOR")
    f.record("QR-U3", PASS, at(MON, 9, 20), corrects=u3)
    u4 = f.record("QR-U4", PASS, at(tue, 9))
    u4c = f.record("QR-U4", FAIL, at(tue, 9), corrects=u4, defect="QSCR")
    f.dispose(u4c, "rework")
    f.record("QR-U4", PASS, at(tue, 14))
    f.record("QR-U5", FAIL, at(tue, 9, 30), defect="QPOR")
    u5 = f.record("QR-U5", FAIL, at(tue, 15), defect="QPOR")
    f.dispose(u5, "scrap")
    f.record("QR-U6", FAIL, at(MON - timedelta(days=3), 16), defect="QDIM")
    f.record("QR-U6", PASS, at(MON, 10))
    lot = MaterialLot.objects.create(item=f.order.item, code="QR-L1")
    f.record(lot, PASS, at(MON, 12))
    f.event(10, 48, 2, at(MON, 8))
    f.event(20, 30, 3, at(MON, 10))
    f.event(20, 15, 2, at(tue, 10))
    f.event(20, 0, 10, at(MON + timedelta(days=8), 10))
    return f


def _filter(**kw) -> reports.ReportFilter:
    return reports.ReportFilter(MON, MON + timedelta(days=6), **kw)


def test_fpy_worked_example(worked_example):
    report = reports.yield_report(_filter())
    by_seq = {y.operation.sequence: y for y in report.operations}
    assert set(by_seq) == {10, 20, 30}  # nothing at assembly
    assert (by_seq[30].source, by_seq[30].units, by_seq[30].first_pass) == ("inspection", 6, 3)
    assert by_seq[30].fpy_pct == Decimal("50.0")
    assert (by_seq[20].source, by_seq[20].units, by_seq[20].first_pass) == ("events", 50, 45)
    assert by_seq[20].fpy_pct == Decimal("90.0")
    assert by_seq[10].fpy_pct == Decimal("96.0")
    lines = {line.area: line for line in report.lines}
    assert set(lines) == {"FOUNDRY", "MACHINING"}
    assert lines["FOUNDRY"].rty_pct == Decimal("96.0")
    assert lines["MACHINING"].rty == Decimal("0.45")
    assert lines["MACHINING"].rty_pct == Decimal("45.0")
    assert lines["MACHINING"].simple_pct == Decimal("85.7")


def test_fpy_filters(worked_example):
    cmm = WorkCenter.objects.get(code="CMM")
    [only] = reports.yield_report(_filter(work_center=cmm)).operations
    assert only.operation.sequence == 30 and only.units == 6
    # The day U6 was first inspected: it is counted there, as a failure.
    feb28 = MON - timedelta(days=3)
    [y] = reports.yield_report(reports.ReportFilter(feb28, feb28)).operations
    assert (y.units, y.first_pass) == (1, 0)


def test_trend_worked_example(worked_example):
    days = reports.trend_report(_filter())
    assert len(days) == 7
    mon, tue = days[0], days[1]
    # Monday: U1 ✓, U2 ✗ then ✓, U3 ✓ (corrected), U6 ✓ (re-inspection), L1 ✓.
    assert (mon.inspected, mon.failed, mon.defect_rate_pct) == (6, 1, Decimal("16.7"))
    assert (mon.units, mon.first_pass, mon.fpy_pct) == (4, 3, Decimal("75.0"))
    # Tuesday: U4 ✗ (corrected) then ✓, U5 ✗ ✗.
    assert (tue.inspected, tue.failed, tue.defect_rate_pct) == (4, 3, Decimal("75.0"))
    assert (tue.units, tue.first_pass, tue.fpy_pct) == (2, 0, Decimal("0.0"))
    assert all(p.inspected == 0 and p.fpy_pct is None for p in days[2:])
    [week] = reports.trend_report(_filter(bucket="week"))
    assert (week.inspected, week.failed, week.units, week.first_pass) == (10, 4, 6, 3)


def test_pareto_from_records(worked_example):
    # Failed attempts in the period: U2 DIM, U4 SCR (the correction), U5 POR × 2. U3's POR
    # was corrected away; U6's DIM lies before the period.
    bars = reports.defect_pareto(_filter())
    assert [(b.key, b.count, b.share_pct, b.cumulative_pct) for b in bars] == [
        ("QPOR", 2, Decimal("50.0"), Decimal("50.0")),
        ("QDIM", 1, Decimal("25.0"), Decimal("75.0")),
        ("QSCR", 1, Decimal("25.0"), Decimal("100.0")),
    ]
    assert bars[0].label == "QPOR Porosity"
    f = worked_example
    f.record("QR-U7", FAIL, at(MON, 13), seq=20)  # no defect code, at machining
    bars = reports.operation_pareto(_filter())
    assert [(b.key, b.label, b.count, b.cumulative_pct) for b in bars] == [
        ("EB-500/30", "EB-500 30 Inspection", 4, Decimal("80.0")),
        ("EB-500/20", "EB-500 20 Machining", 1, Decimal("100.0")),
    ]
    assert reports.defect_pareto(_filter())[-1].label == figures.NO_DEFECT_CODE
    cnc = WorkCenter.objects.get(code="CNC")
    assert [b.count for b in reports.defect_pareto(_filter(work_center=cnc))] == [1]
    other = Item.objects.exclude(pk=f.order.item_id).first()
    assert reports.defect_pareto(_filter(item=other)) == []


def test_pareto_query_count_does_not_grow(floor):
    f = _filter()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            reports.defect_pareto(f)
            reports.operation_pareto(f)
        return len(ctx.captured_queries)

    for i in range(3):
        floor.record(f"QC-{i}", FAIL, at(MON, 9, i), defect=f"D{i}")
    few = queries()
    for i in range(3, 40):
        floor.record(f"QC-{i}", FAIL, at(MON, 9, i), defect=f"D{i % 7}", seq=20 if i % 2 else 30)
    assert queries() == few == 2  # one aggregate query per Pareto
    assert sum(b.count for b in reports.defect_pareto(f)) == 40


def test_yield_and_trend_query_count_does_not_grow(floor):
    f = _filter()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            reports.quality_reports(f)
        return len(ctx.captured_queries)

    floor.record("QY-0", PASS, at(MON, 9))
    few = queries()
    for i in range(1, 30):
        floor.record(f"QY-{i}", FAIL if i % 3 else PASS, at(MON, 9, i))
        floor.event(20, 1, 0, at(MON, 10, i))
    assert queries() == few


# --- Pages and CSV --------------------------------------------------------------------------


@pytest.fixture
def browser(client):
    client.force_login(get_user_model().objects.get(username="sunqi"))
    return client


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.urls(__name__)
def test_reports_page(worked_example, browser, client):
    response = browser.get("/quality/reports/", PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "QPOR Porosity" in html and "45.0" in html  # Pareto, RTY
    assert 'href="/quality/reports/defects/?from=2025-03-03' in html  # CSV and page links
    partial = browser.get("/quality/reports/", PERIOD, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content
    single = browser.get("/quality/reports/trend/", PERIOD)
    assert single.status_code == 200 and b"First-pass yield %" in single.content
    assert browser.get("/quality/reports/nothing/").status_code == 404
    bad = browser.get("/quality/reports/", {"from": "2025-13-01"})
    assert bad.status_code == 400 and b"is not a date" in bad.content
    client.logout()
    assert client.get("/quality/reports/").status_code == 302  # to the login page


@pytest.mark.urls(__name__)
def test_reports_csv(worked_example, browser):
    rows = _csv(browser.get("/quality/reports/defects/", {**PERIOD, "format": "csv"}))
    assert rows[0] == PARETO_HEADER
    assert rows[1:] == [
        ["1", "QPOR", "QPOR Porosity", "2", "50.0", "50.0"],
        ["2", "QDIM", "QDIM Bore out of tolerance", "1", "25.0", "75.0"],
        ["3", "QSCR", "QSCR Scratch", "1", "25.0", "100.0"],
    ]
    rows = _csv(browser.get("/quality/reports/operations/", {**PERIOD, "format": "csv"}))
    assert rows[1] == ["1", "EB-500/30", "EB-500 30 Inspection", "4", "100.0", "100.0"]
    rows = _csv(browser.get("/quality/reports/fpy/", {**PERIOD, "format": "csv"}))
    assert rows[0][:3] == ["item", "sequence", "operation"]
    assert rows[1:] == [
        ["EB-500", "10", "Casting", "CAST", "FOUNDRY", "events", "50", "48", "2", "96.0"],
        ["EB-500", "20", "Machining", "CNC", "MACHINING", "events", "50", "45", "5", "90.0"],
        ["EB-500", "30", "Inspection", "CMM", "MACHINING", "inspection", "6", "3", "3", "50.0"],
    ]
    rows = _csv(browser.get("/quality/reports/lines/", {**PERIOD, "format": "csv"}))
    assert rows[0] == ["area", "item", "operations", "units", "first_pass", "rty_pct", "simple_pct"]
    assert rows[1:] == [
        ["FOUNDRY", "EB-500", "10: 96.0", "50", "48", "96.0", "96.0"],
        ["MACHINING", "EB-500", "20: 90.0; 30: 50.0", "56", "48", "45.0", "85.7"],
    ]
    rows = _csv(browser.get("/quality/reports/trend/", {**PERIOD, "format": "csv"}))
    assert rows[0][:3] == ["bucket", "start", "end"]
    assert rows[1] == ["day", "2025-03-03", "2025-03-03", "6", "1", "16.7", "4", "3", "75.0"]
    assert rows[3] == ["day", "2025-03-05", "2025-03-05", "0", "0", "", "0", "0", ""]
    assert len(rows) == 8
    bad = browser.get("/quality/reports/trend/", {"to": "x", "format": "csv"})
    assert bad.status_code == 400 and b"to:" in bad.content
    assert browser.get("/quality/reports/", {"format": "csv"}).status_code == 400


# --- Order quality trace --------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_order_report(worked_example, browser):
    f = worked_example
    TraceCode.objects.create(code="QR-TC-9", item=f.order.item, unit=f.unit("QR-U9"), order=f.order)
    report = reports.order_quality_report(f.order)
    mine = {s.label: s for s in report.subjects if s.label.startswith("QR-")}
    assert set(mine) == {f"QR-U{i}" for i in (1, 2, 3, 4, 5, 6, 9)} | {"QR-L1"}
    verdict = {k: (s.inspected, s.first_pass, s.failed, s.scrapped) for k, s in mine.items()}
    assert verdict == {
        "QR-U1": (True, True, False, False),
        "QR-U2": (True, False, True, False),
        "QR-U3": (True, True, False, False),  # the failure was corrected away
        "QR-U4": (True, False, True, False),
        "QR-U5": (True, False, True, True),
        "QR-U6": (True, False, True, False),
        "QR-U9": (False, None, False, False),  # labelled, never inspected
        "QR-L1": (True, True, False, False),
    }
    assert mine["QR-U9"].trace_code == "QR-TC-9" and mine["QR-U9"].lines == []
    assert mine["QR-L1"].kind == "lot"
    u3 = mine["QR-U3"].lines
    assert [(ln.result, ln.superseded, ln.attempt_no) for ln in u3] == [
        (FAIL, True, None),
        (PASS, False, 1),
    ]
    assert u3[1].corrects_id == u3[0].record_id and u3[0].corrected_by_id == u3[1].record_id
    u4 = mine["QR-U4"].lines
    assert [(ln.result, ln.attempt_no) for ln in u4] == [(PASS, None), (FAIL, 1), (PASS, 2)]
    u2 = mine["QR-U2"].lines
    assert [(ln.attempt_no, ln.disposition) for ln in u2] == [(1, "rework"), (2, "")]
    assert u2[0].values_text == "Bore diameter=50.3 mm (NOK)"
    assert u2[0].inspector == "赵六" and u2[0].plan.startswith(f.plans[30].code)
    # Summary: eight subjects of ours, seven inspected; first time U1, U3, L1; failed U2,
    # U4, U5, U6; scrapped U5 (plus whatever else the demo put on the order).
    others = [s for s in report.subjects if not s.label.startswith("QR-")]
    s = report.summary
    assert s.subjects == len(others) + 8
    assert s.inspected == sum(o.inspected for o in others) + 7
    assert s.passed_first_time == sum(bool(o.first_pass) for o in others) + 3
    assert s.failed == sum(o.failed for o in others) + 4
    assert s.scrapped == sum(o.scrapped for o in others) + 1

    response = browser.get(f"/quality/reports/orders/{f.order.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "QR-U3" in html and "QR-TC-9" in html and "scrapped" in html
    rows = _csv(browser.get(f"/quality/reports/orders/{f.order.number}/", {"format": "csv"}))
    header = rows[0]
    assert header[:4] == ["order", "subject_kind", "subject", "trace_code"]
    by_subject = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    u5 = [x for x in by_subject if x["subject"] == "QR-U5"]
    assert [(x["attempt"], x["result"], x["defect_code"], x["disposition"]) for x in u5] == [
        ("1", "fail", "QPOR", ""),
        ("2", "fail", "QPOR", "scrap"),
    ]
    assert u5[0]["inspected_at"] == "2025-03-04T09:30:00+08:00"
    [u9] = [x for x in by_subject if x["subject"] == "QR-U9"]
    assert u9["trace_code"] == "QR-TC-9" and u9["record_id"] == ""
    find = browser.get("/quality/reports/orders/", {"order": f.order.number})
    assert find.status_code == 302 and find["Location"].endswith(f"/orders/{f.order.number}/")
    assert browser.get("/quality/reports/orders/", {"order": "MO-NOPE"}).status_code == 404
    assert browser.get("/quality/reports/orders/MO-NOPE/").status_code == 404


def test_order_report_query_count_does_not_grow(worked_example):
    f = worked_example

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            reports.order_quality_report(f.order)
        return len(ctx.captured_queries)

    few = queries()
    for i in range(20):
        rec = f.record(f"QO-{i}", FAIL, at(MON, 14, i), defect="QPOR", value="50.5")
        f.dispose(rec, "scrap")
    assert queries() == few


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def api(db):
    def make(username: str | None = "sunqi") -> APIClient:
        client = APIClient()
        if username:
            client.force_authenticate(get_user_model().objects.get(username=username))
        return client

    return make


@pytest.mark.urls(__name__)
def test_api_reports(worked_example, api):
    client = api()
    pareto = client.get("/api/v1/quality/reports/pareto/", PERIOD)
    assert pareto.status_code == 200
    assert [(b["key"], b["count"], b["cumulative_pct"]) for b in pareto.json()] == [
        ("QPOR", 2, "50.0"),
        ("QDIM", 1, "75.0"),
        ("QSCR", 1, "100.0"),
    ]
    by_op = client.get("/api/v1/quality/reports/pareto/", {**PERIOD, "by": "operation"}).json()
    assert by_op[0]["key"] == "EB-500/30"
    fpy = client.get("/api/v1/quality/reports/fpy/", PERIOD).json()
    assert [(y["operation"]["sequence"], y["fpy_pct"]) for y in fpy["operations"]] == [
        (10, "96.0"),
        (20, "90.0"),
        (30, "50.0"),
    ]
    assert [(ln["area"], ln["rty_pct"], ln["simple_pct"]) for ln in fpy["lines"]] == [
        ("FOUNDRY", "96.0", "96.0"),
        ("MACHINING", "45.0", "85.7"),
    ]
    trend = client.get("/api/v1/quality/reports/trend/", {**PERIOD, "bucket": "week"}).json()
    assert trend == [
        {
            "bucket": "week",
            "start": "2025-03-03",
            "inspected": 10,
            "failed": 4,
            "defect_rate_pct": "40.0",
            "units": 6,
            "first_pass": 3,
            "fpy_pct": "50.0",
        }
    ]
    order = client.get(f"/api/v1/quality/reports/orders/{worked_example.order.number}/").json()
    assert order["order"] == "MO-2026-00001" and order["item"] == "EB-500"
    u5 = next(s for s in order["subjects"] if s["label"] == "QR-U5")
    assert u5["scrapped"] and [i["attempt_no"] for i in u5["inspections"]] == [1, 2]
    assert client.get("/api/v1/quality/reports/orders/MO-NOPE/").status_code == 404
    bad = client.get("/api/v1/quality/reports/fpy/", {"item": "NOPE"})
    assert bad.status_code == 400 and "item" in error_fields(bad)
    assert client.get("/api/v1/quality/reports/pareto/", {"by": "x"}).status_code == 400
    assert api(None).get("/api/v1/quality/reports/fpy/").status_code == 401  # no credentials
