"""The plant manager's first-pass yield tile (quality/selectors/kpis.py): units that passed
every inspection at the first attempt ÷ units inspected over the last 30 plant days, a lot
counting as one unit; worked by hand. And the quality roles' landing page."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from core.homes import home_url, kpis_declared
from quality.engines import report_figures as figures
from quality.models import InspectionRecord
from quality.selectors.kpis import fpy_kpi
from quality.selectors.reports import plant_fpy
from resources.models import MaterialLot

from .test_reports import FAIL, PASS, Floor

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2025, 3, 30)  # the window: 2025-03-01 … 2025-03-30, plant days


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@pytest.fixture
def worked(demo_plant):
    """Worked by hand, at operations 20 (machining) and 30 (CMM) of MO-2026-00001:

    P1 passes at 20 and at 30                          → first pass
    P2 passes at 20, fails at 30, reworked, passes     → not first pass
    P3 fails at 20 — the record corrected to pass —,
       passes at 30                                    → first pass (a correction is no attempt)
    P4 failed at 30 on 27 Feb, passes on 3 Mar         → not counted (first attempt before)
    P5 passes at 30 on 31 Mar                          → not counted (after today)
    P6 inspected on 1 Mar 00:30 plant time, passes     → first pass (the window's first day)
    lot L1 inspected as a whole at 30, passes          → first pass, one unit
    lot L2 inspected as a whole at 30, fails           → not first pass
    ⇒ 6 units (P1, P2, P3, P6, L1, L2), 4 first pass: FPY 66.7 %.
    """
    f = Floor()
    mar = date(2025, 3, 10)
    f.record("P1", PASS, at(mar, 9), seq=20)
    f.record("P1", PASS, at(mar, 11))
    f.record("P2", PASS, at(mar, 9), seq=20)
    f.record("P2", FAIL, at(mar, 11), defect="QDIM")
    f.record("P2", PASS, at(mar, 15))
    p3 = f.record("P3", FAIL, at(mar, 9), seq=20, defect="QPOR")
    f.record("P3", PASS, at(mar, 9), seq=20, corrects=p3)
    f.record("P3", PASS, at(mar, 12))
    f.record("P4", FAIL, at(date(2025, 2, 27), 16), defect="QDIM")
    f.record("P4", PASS, at(date(2025, 3, 3), 10))
    f.record("P5", PASS, at(date(2025, 3, 31), 10))
    f.record("P6", PASS, at(date(2025, 3, 1), 0, 30))
    for code, result in (("L1", PASS), ("L2", FAIL)):
        lot = MaterialLot.objects.create(item=f.order.item, code=f"FPY-{code}")
        f.record(lot, result, at(mar, 13), defect="QSCR" if result == FAIL else None)
    return f


def test_the_worked_example(worked):
    figure = plant_fpy(today=TODAY)
    assert (figure.units, figure.first_pass, figure.pct) == (6, 4, Decimal("66.7"))


def test_the_tile_reads_the_figure_with_its_colour_and_detail(worked):
    with translation.override("en"):
        tile = fpy_kpi(TODAY)
    assert (tile.value, tile.text, tile.status) == (Decimal("66.7"), "66.7 %", "bad")
    assert tile.detail == "4 of 6 units passed every inspection first time (30 days)"
    with translation.override("zh-hans"):
        assert fpy_kpi(TODAY).detail == "6 件中 4 件所有检验一次通过（30 天）"


def test_an_empty_period_says_so_instead_of_a_figure(db):
    tile = fpy_kpi(TODAY)
    assert tile.value is None and tile.empty == "No inspections in the last 30 days."
    assert not InspectionRecord.objects.exists()


def test_the_rule_is_per_unit_across_operations():
    """Pure: a unit failing its first attempt at any operation is not first pass; whole
    numbers, thresholds of the tile."""
    op20 = figures.OperationKey("EB-500", 20, "Machining", "CNC", "MACHINING")
    op30 = figures.OperationKey("EB-500", 30, "Inspection", "CMM", "MACHINING")
    t = at(TODAY, 9)

    def row(id, unit, result, op, op_id, when=t):
        return figures.InspectionRow(id, None, False, op_id, op, unit, None, result, when)

    attempts = figures.attempts_resolve(
        [
            row(1, 1, PASS, op20, 20),
            row(2, 1, FAIL, op30, 30),
            row(3, 1, PASS, op30, 30, t + timedelta(hours=1)),
            row(4, 2, PASS, op20, 20),
        ]
    )
    figure = figures.plant_first_pass(attempts, start=t, end=t + timedelta(days=1))
    assert (figure.units, figure.first_pass, figure.pct) == (2, 1, Decimal("50.0"))
    assert figures.PlantFirstPass(0, 0).pct is None


def test_the_tile_is_declared_for_the_plant_manager_linking_the_reports():
    [tile] = [k for k in kpis_declared() if k.key == "fpy"]
    assert tile.label == "First-pass yield (30 days)" and tile.url_name == "quality:reports"
    assert tile.compute is fpy_kpi


@pytest.mark.parametrize("username", ["zhaoliu", "fengjie"])  # inspector, quality supervisor
def test_the_quality_roles_land_on_inspections_due_and_holds(demo_plant, client, username):
    user = get_user_model().objects.get(username=username)
    assert home_url(user) == "/quality/inspect/"
    client.force_login(user)
    page = client.get("/quality/inspect/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="quality-home-holds"' in page and 'href="/quality/holds/"' in page
    assert "项未解除的质量冻结" in page and "个工序待检验" in page
    assert "待检验" in page and "Inspections due" not in page
