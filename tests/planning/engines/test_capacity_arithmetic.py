"""Pure capacity arithmetic: rate caps and spreading load over days."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from planning.engines.capacity_arithmetic import LoadCell, rate_plan, spread_minutes_by_day

MON = date(2026, 11, 30)


def week(capacity: str, days: int = 14, weekdays=(0, 1, 2, 3, 4, 5)):
    return {
        MON + timedelta(days=i): Decimal(capacity)
        if (MON + timedelta(days=i)).weekday() in weekdays
        else Decimal(0)
        for i in range(days)
    }


def test_rate_capped_at_machine_capacity_and_finish_moves_out():
    plan = rate_plan(
        quantity=Decimal(500), requested_per_day=Decimal(100), capacity_by_day=week("95")
    )
    assert plan.capped and plan.capped_per_day == 95
    assert plan.requested_finish == MON + timedelta(days=4)  # 5 days × 100 (Mon–Fri)
    assert plan.capped_finish == MON + timedelta(days=5)  # 5 × 95 = 475, Saturday the last 25
    assert [d.planned for d in plan.days] == [95, 95, 95, 95, 95, 25]
    assert plan.delay_days == 1


def test_no_cap_when_capacity_suffices_and_sundays_skipped():
    plan = rate_plan(
        quantity=Decimal(700), requested_per_day=Decimal(100), capacity_by_day=week("120")
    )
    assert not plan.capped and plan.capped_per_day == 100
    assert plan.capped_finish == plan.requested_finish == MON + timedelta(days=7)  # Sunday skipped
    assert plan.delay_days == 0


def test_fractional_capacity_rounds_down_to_whole_units():
    plan = rate_plan(
        quantity=Decimal(20), requested_per_day=Decimal(10), capacity_by_day=week("9.9")
    )
    assert [d.planned for d in plan.days] == [9, 9, 2]


def test_requested_rate_must_be_positive():
    with pytest.raises(ValueError):
        rate_plan(quantity=Decimal(1), requested_per_day=Decimal(0), capacity_by_day=week("1"))


def test_spread_across_midnight_in_plant_time():
    tz = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 11, 30, 22, 0, tzinfo=tz)
    got = spread_minutes_by_day(start, start + timedelta(hours=4), 240.0, tz)
    assert got == {date(2026, 11, 30): 120.0, date(2026, 12, 1): 120.0}


def test_load_cell_overload_and_percent():
    cell = LoadCell("CNC", MON, available=960.0, load=1056.0)
    assert cell.overload == 96.0 and round(cell.percent) == 110
    assert LoadCell("CNC", MON, 0.0, 0.0).percent == 0.0
