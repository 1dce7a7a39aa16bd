"""The demo's costed floor history (costing/demo.py `history_load`, docs/costing.md "The
demo's history"): after `load_demo` the order cost and variance pages show a completed and an
in-progress order with the same figures whatever the instant the demo is loaded at. The
figures are worked out by hand from the demo's rates (docs/costing.md, "The demo")."""

from datetime import date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import OutboxEvent
from costing.demo import history_days
from costing.models import OrderCostEntry
from costing.selectors.actual import order_cost_summary
from costing.selectors.variance import VarianceFilter, variances_list
from execution.models import EventApproval, LabourBooking, WorkAlert
from planning.models import ProductionOrder
from resources.models import StockBalance, WorkCenter

pytestmark = pytest.mark.django_db
E = OrderCostEntry.Element

# A Wednesday morning in a shift, and three instants outside any: Sunday night, New Year's
# Day (a holiday) and New Year's Eve's last minute.
INSTANTS = {
    "wednesday morning": ("2026-12-09T10:00:00+08:00", [date(2026, 12, 7), date(2026, 12, 8)]),
    "sunday night": ("2026-12-13T23:30:00+08:00", [date(2026, 12, 11), date(2026, 12, 12)]),
    "new year's day": ("2027-01-01T10:00:00+08:00", [date(2026, 12, 30), date(2026, 12, 31)]),
    "new year's eve": ("2026-12-31T23:59:00+08:00", [date(2026, 12, 29), date(2026, 12, 30)]),
}


def _by_element(order) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for element, amount in OrderCostEntry.objects.filter(order=order).values_list(
        "element", "amount"
    ):
        out[element] = out.get(element, Decimal(0)) + amount
    return out


@pytest.mark.parametrize("instant,days", INSTANTS.values(), ids=INSTANTS.keys())
def test_the_demo_shows_actual_cost_at_any_instant(pinned_now, instant, days):
    pinned_now.move_to(datetime.fromisoformat(instant))
    call_command("load_demo", "--quiet-logins", "--history", stdout=StringIO())
    tz = timezone.get_current_timezone()
    moulding = WorkCenter.objects.get(code="INJ")
    assert history_days(moulding, 2) == days

    done = ProductionOrder.objects.get(number="MO-HIST-0001")
    running = ProductionOrder.objects.get(number="MO-HIST-0002")
    assert done.status == ProductionOrder.Status.COMPLETED
    assert running.status == ProductionOrder.Status.IN_PROGRESS
    # The floor's records lie in the late shift of those days, booked by wangwu.
    spans = [
        (b.task.order.number, b.task.operation.sequence, b.started_at.astimezone(tz))
        for b in LabourBooking.objects.select_related("task__order", "task__operation").order_by(
            "started_at"
        )
    ]
    assert [(n, s, at.date(), at.hour, at.minute) for n, s, at in spans] == [
        ("MO-HIST-0001", 10, days[0], 14, 30),
        ("MO-HIST-0001", 20, days[0], 18, 50),
        ("MO-HIST-0002", 10, days[1], 14, 15),
    ]
    assert {b.operator.badge for b in LabourBooking.objects.all()} == {"OP-003"}
    # Each backdated event was approved, signed, by the supervisor; nothing is left pending,
    # no exception was raised and every handler ran.
    assert not EventApproval.objects.filter(status=EventApproval.Status.PENDING).exists()
    assert not WorkAlert.objects.exists()
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()

    # Completed: 83 kg resin × 2.60; labour 4.25 h + 0.6667 h at 36/h; INJ-01 4.25 h × 396;
    # overhead 48/h on the labour hours; scrap (memo) 10 × 4.86 up to moulding.
    assert _by_element(done) == {
        E.MATERIAL: Decimal("215.8000"),
        E.LABOUR: Decimal("177.0000"),
        E.MACHINE: Decimal("1683.0000"),
        E.OVERHEAD: Decimal("236.0000"),
        E.SCRAP: Decimal("48.6000"),
    }
    summary = order_cost_summary(done)
    assert summary.good_quantity == 390 and summary.actual_total == Decimal("2311.80")
    assert summary.frozen and not summary.late
    # In progress: 40 kg × 2.45; 1 h 50 min at 36/h and × 396; overhead 48/h; 5 scrapped.
    assert _by_element(running) == {
        E.MATERIAL: Decimal("98.0000"),
        E.LABOUR: Decimal("66.0000"),
        E.MACHINE: Decimal("726.0000"),
        E.OVERHEAD: Decimal("88.0000"),
        E.SCRAP: Decimal("24.3000"),
    }
    assert order_cost_summary(running).good_quantity == 0

    # The flag: labour efficiency on operation 10 of the completed order, operator wangwu:
    # (4.25 − 400 × 0.545 / 60) h × 36 = 22.20, 16.97 % of 130.80.
    flagged = variances_list(VarianceFilter(flagged=True, kind="labour_efficiency"))
    assert [(v.order, v.step_no, v.amount, v.operators) for v in flagged] == [
        ("MO-HIST-0001", 10, Decimal("22.2000"), ("wangwu",))
    ]
    assert "operators wangwu" in flagged[0].cause
    # The visual check (0.6667 h against 390 × 0.1 min = 0.65 h) is within the threshold.
    check = [
        v
        for v in variances_list(VarianceFilter(order="MO-HIST-0001", kind="labour_efficiency"))
        if v.step_no == 20
    ]
    assert len(check) == 1 and not check[0].flagged

    # The opening stock is as the other scenarios need it: the resin lots received for these
    # orders are used up or issued.
    assert StockBalance.objects.filter(lot__code="P-2026-1020").get().on_hand == 0
    assert StockBalance.objects.filter(lot__code="P-2026-1105").get().on_hand == 500

    # Loading again adds nothing.
    entries = OrderCostEntry.objects.count()
    call_command("load_demo", "--quiet-logins", "--history", stdout=StringIO())
    assert OrderCostEntry.objects.count() == entries


@pytest.mark.parametrize(
    "instant", ["2026-12-13T23:30:00+08:00", "2026-12-31T23:59:00+08:00"], ids=["sunday", "nye"]
)
def test_cost_demo_floor_runs_outside_any_shift(pinned_now, instant):
    """`manage.py cost_demo_floor` casts the worked order at any hour: its events lie in the
    late shift of casting's last working day, each approved by the supervisor."""
    pinned_now.move_to(datetime.fromisoformat(instant))
    call_command("load_demo", "--quiet-logins", "--history", stdout=StringIO())
    out = StringIO()
    call_command("cost_demo_floor", stdout=out)
    assert out.getvalue().strip() == "MO-2026-00001: actual cost 212.00 posted (casting)"
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    assert _by_element(order) == {
        E.MATERIAL: Decimal("132.0000"),
        E.LABOUR: Decimal("50.0000"),
        E.MACHINE: Decimal("30.0000"),
        E.SCRAP: Decimal("29.1200"),
    }
    approved = EventApproval.objects.filter(task__order=order)
    assert approved.count() == 9
    assert set(approved.values_list("status", flat=True)) == {EventApproval.Status.APPROVED}
    # Run again: nothing more.
    call_command("cost_demo_floor", stdout=StringIO())
    assert OrderCostEntry.objects.filter(order=order).count() == 6  # 1 + 2 + 2 + 1
