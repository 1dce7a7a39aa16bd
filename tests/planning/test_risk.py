"""The delivery risk of an order, case by case (planning/selectors/risk.py): the schedule's
planned end, the shop floor's predicted end and open exceptions' delay against the end of the
due date in the plant's time zone."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from planning.models import ProductionOrder
from planning.selectors.risk import delivery_risk, worst_risk

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=TZ)
DUE = date(2026, 12, 13)
DUE_END = datetime(2026, 12, 14, 0, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def english():
    """The reasons are read in English here, whatever language an earlier test left active
    in this thread (the locale middleware activates the request's language)."""
    with translation.override("en"):
        yield


def order(**fields) -> ProductionOrder:
    values = {"number": "MO-T", "quantity": 1, "due_date": DUE, "status": "planned"}
    values.update(fields)
    blocked = values.pop("blocked", False)
    o = ProductionOrder(**values)
    o.risk_blocked = blocked
    return o


def risk(**fields):
    return delivery_risk(order(**fields), now=NOW, tz=TZ)


def test_not_scheduled_yet():
    r = risk()
    assert (r.level, r.expected_end, r.at_risk) == ("not_scheduled", None, False)


def test_a_planned_end_on_the_due_day_is_on_time_and_one_minute_later_is_late():
    last_minute = DUE_END - timedelta(minutes=1)
    assert risk(planned_end=last_minute).level == "on_time"
    late = risk(planned_end=DUE_END + timedelta(minutes=1))
    assert (late.level, late.late_minutes, late.schedule_late) == ("late", 1, True)
    # The issue's order: planned to end 12-17, due 12-13.
    issue = risk(planned_end=datetime(2026, 12, 17, 18, 20, tzinfo=TZ))
    assert issue.level == "late" and issue.late_hours == "90.3" and issue.at_risk
    assert "after its due date 12-13" in issue.reasons[0]


def test_the_floor_prediction_counts_only_while_the_order_is_on_the_floor():
    predicted = {
        "planned_end": DUE_END - timedelta(days=1),
        "predicted_end": DUE_END + timedelta(hours=2),
        "delay_predicted_at": NOW,
    }
    on_floor = risk(status="released", **predicted)
    assert on_floor.level == "late" and on_floor.predicted_late and not on_floor.schedule_late
    assert on_floor.late_minutes == 120
    assert risk(status="planned", **predicted).level == "on_time"


def test_an_exception_delay_is_at_risk_until_it_pushes_past_the_due_date():
    planned = DUE_END - timedelta(hours=5)
    within = risk(planned_end=planned, exception_delay_minutes=240, exception_note="EX-1")
    assert within.level == "at_risk" and within.at_risk and "EX-1" in within.reasons[0]
    past = risk(planned_end=planned, exception_delay_minutes=480, exception_note="EX-1")
    assert past.level == "late" and past.late_minutes == 180 and not past.schedule_late


def test_a_blocked_operation_is_flagged_and_costs_nothing_by_itself():
    r = risk(planned_end=DUE_END - timedelta(days=2), blocked=True)
    assert r.level == "on_time" and r.blocked and "blocks" in r.reasons[-1]


@pytest.mark.parametrize("status", ["completed", "closed", "cancelled"])
def test_a_finished_order_is_no_delivery_question(status):
    assert risk(status=status, planned_end=DUE_END + timedelta(days=3)).level == "closed"


def test_a_sales_order_takes_its_worst_production_order():
    calm = risk(planned_end=DUE_END - timedelta(days=1))
    slightly = risk(planned_end=DUE_END + timedelta(hours=1))
    badly = risk(planned_end=DUE_END + timedelta(days=2))
    assert worst_risk([calm, slightly, badly]) is badly
    assert worst_risk([]) is None
