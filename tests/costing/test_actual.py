"""Actual cost posted from the floor's records through domain events (docs/costing.md,
"Actual cost"): the worked order of conftest.py, replayed events, corrections, frozen
orders and late postings.

The worked order, by hand (casting, operation 10 of MO-2026-00001, version STD-2026):
- material: 12 kg of steel issued from lot S-2026-1101 priced 11/kg → 12 × 11 = 132.00;
- labour: wangwu (CAST expert, 50/h) booked 07:00–07:40 and 07:50–08:10:
  40 min = 0.6666666667 h × 50 = 33.3333, 20 min = 0.3333333333 h × 50 = 16.6667; 50.00;
- machine: CAST-01 (20 + 7 + 3 = 30/h) ran the same two spans: 20.00 + 10.00 = 30.00;
- overhead: the casting work center has none;
- scrap (memo): 1 block scrapped at operation 10 × the standard up to and including
  operation 10 (steel 2 kg × 10 = 20.00, labour 0.12 h × 46 = 5.52, machine 0.12 h × 30 =
  3.60) = 29.12.
"""

from datetime import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.events import outbox_dispatch_pending
from core.models import OutboxEvent
from costing.models import OrderCostEntry
from costing.services.actual import order_cost_post_missing
from execution.models import LabourBooking
from execution.services.approvals import labour_booking_correct
from planning.models import ProductionOrder
from planning.services.orders import production_order_complete_manual
from resources.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def by_element(order) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for e in OrderCostEntry.objects.filter(order=order):
        out[e.element] = out.get(e.element, Decimal(0)) + e.amount
    return out


def test_the_worked_order_is_posted_as_it_happened(worked_order):
    entries = list(OrderCostEntry.objects.filter(order=worked_order).order_by("source_key"))
    assert by_element(worked_order) == {
        "material": Decimal("132.0000"),
        "labour": Decimal("50.0000"),
        "machine": Decimal("30.0000"),
        "scrap": Decimal("29.1200"),
    }
    material = next(e for e in entries if e.element == "material")
    assert (material.quantity, material.rate, material.lot.code) == (12, 11, "S-2026-1101")
    assert "lot price" in material.basis
    labour = sorted((e.quantity, e.amount) for e in entries if e.element == "labour")
    assert labour == [
        (Decimal("0.3333333333"), Decimal("16.6667")),
        (Decimal("0.6666666667"), Decimal("33.3333")),
    ]
    assert {e.operator.badge for e in entries if e.element == "labour"} == {"OP-003"}
    assert {e.rate for e in entries if e.element == "labour"} == {Decimal("50")}
    machine = [e for e in entries if e.element == "machine"]
    assert {e.equipment.code for e in machine} == {"CAST-01"}
    assert sorted(e.amount for e in machine) == [Decimal("10.0000"), Decimal("20.0000")]
    scrap = next(e for e in entries if e.element == "scrap")
    assert (scrap.quantity, scrap.rate, scrap.step_no) == (1, Decimal("29.1200"), 10)
    # Posted in the month it arrived, with the version used; the order is open: none late.
    assert {(e.period.isoformat(), e.version.code, e.late) for e in entries} == {
        ("2026-12-01", "STD-2026", False)
    }
    assert OutboxEvent.objects.filter(topic="costing.order_cost.posted").exists()


def test_a_replayed_event_or_rebuild_changes_nothing(worked_order):
    before = sorted(OrderCostEntry.objects.values_list("source_key", "amount"))
    # Every domain event delivered again, as after a worker died before marking it done.
    OutboxEvent.objects.update(dispatched_at=None)
    outbox_dispatch_pending()
    assert order_cost_post_missing().posted == 0
    call_command("cost_actual_post", "--order", worked_order.number, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert sorted(OrderCostEntry.objects.values_list("source_key", "amount")) == before


def test_the_rebuild_posts_what_no_handler_did(worked_order):
    mine = OrderCostEntry.objects.filter(order=worked_order)
    before = sorted(mine.values_list("source_key", "amount"))
    mine.delete()
    result = order_cost_post_missing(orders=[worked_order])
    assert result.posted == len(before) and not result.problems
    assert sorted(mine.values_list("source_key", "amount")) == before


def test_a_corrected_booking_posts_the_difference(worked_order):
    booking = LabourBooking.objects.get(task__order=worked_order, ended_at__minute=40)
    labour_booking_correct(
        booking=booking,
        minutes=Decimal("30"),  # 40 booked, 30 worked: −10 min
        by=get_user_model().objects.get(username="sunqi"),
        password=DEMO_PASSWORD,
        reason="Left for a meeting at 07:30.",
    )
    outbox_dispatch_pending()
    posted = OrderCostEntry.objects.filter(labour_booking=booking, element="labour")
    assert sorted(e.quantity for e in posted) == [Decimal("-0.1666666667"), Decimal("0.6666666667")]
    assert by_element(worked_order)["labour"] == Decimal("50.0000") - Decimal("8.3333")
    OutboxEvent.objects.update(dispatched_at=None)
    outbox_dispatch_pending()
    assert posted.count() == 2


def test_a_completed_order_is_frozen_and_late_postings_go_to_their_month(worked_order):
    production_order_complete_manual(
        order=worked_order,
        by=get_user_model().objects.get(username="zhouba"),
        reason="Casting only: the rest goes to another order.",
    )
    frozen = by_element(worked_order)
    booking = LabourBooking.objects.get(task__order=worked_order, ended_at__minute=10)
    # A correction signed in the new year, weeks after the order was completed.
    with time_machine.travel(datetime(2027, 1, 6, 9, 0, tzinfo=SHANGHAI), tick=False):
        labour_booking_correct(
            booking=booking,
            minutes=Decimal("32"),  # 20 booked: +12 min
            by=get_user_model().objects.get(username="sunqi"),
            password=DEMO_PASSWORD,
            reason="Clocked off late.",
        )
        outbox_dispatch_pending()
    late = OrderCostEntry.objects.get(labour_booking=booking, late=True)
    assert (late.period.isoformat(), late.quantity, late.amount) == (
        "2027-01-01",
        Decimal("0.2000000000"),
        Decimal("10.0000"),
    )
    # December is not touched: every other entry stays in 2026-12 and not late.
    assert set(OrderCostEntry.objects.exclude(pk=late.pk).values_list("period", "late")) == {
        (datetime(2026, 12, 1).date(), False)
    }
    on_time = {k: v for k, v in by_element(worked_order).items() if k != "labour"}
    assert on_time == {k: v for k, v in frozen.items() if k != "labour"}
    assert frozen["labour"] + Decimal("10.0000") == by_element(worked_order)["labour"]


def test_the_demo_floor_run_again_changes_nothing(worked_order):
    before = sorted(OrderCostEntry.objects.values_list("source_key", "amount"))
    out = StringIO()
    call_command("cost_demo_floor", stdout=out)
    assert out.getvalue().strip() == "MO-2026-00001: actual cost 212.00 posted (casting)"
    assert sorted(OrderCostEntry.objects.values_list("source_key", "amount")) == before


@pytest.mark.clock("2026-12-09T02:00:00+08:00")
def test_the_demo_floor_run_at_night_posts_the_whole_casting(demo_plant):
    """Outside any shift the events (in casting's last past shift) are approved by the
    supervisor and booked: the same cost as by day."""
    out = StringIO()
    call_command("cost_demo_floor", stdout=out)
    assert out.getvalue().strip() == "MO-2026-00001: actual cost 212.00 posted (casting)"
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    assert OrderCostEntry.objects.filter(order=order, element="material").count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("basis,rate", [("percent", "12.5"), ("per_hour", "7")])
def test_the_set_based_rebuild_posts_what_the_handlers_post(worked_order, basis, rate):
    """PostgreSQL's rebuild (costing/services/actual_sql.py) and the handlers' code write the
    same entries, overhead included."""
    from costing.models import CostVersion, OverheadRate
    from costing.services.actual import events_post, labour_bookings_post, material_issues_post
    from execution.models import MaterialIssue, ProductionEvent
    from resources.models import WorkCenter

    OverheadRate.objects.create(
        version=CostVersion.objects.get(code="STD-2026"),
        work_center=WorkCenter.objects.get(code="CAST"),
        basis=basis,
        rate=Decimal(rate),
    )
    fields = (
        "source_key",
        "order_id",
        "operation_id",
        "step_no",
        "element",
        "item_id",
        "lot_id",
        "work_center_id",
        "equipment_id",
        "operator_id",
        "quantity",
        "rate",
        "amount",
        "version_id",
        "period",
        "late",
        "material_issue_id",
        "labour_booking_id",
        "production_event_id",
        # The basis in English, and as message id and parameters (core/texts.py).
        "basis",
        "basis_id",
        "basis_params",
    )
    OrderCostEntry.objects.all().delete()
    material_issues_post(issue_ids=MaterialIssue.objects.values_list("pk", flat=True))
    labour_bookings_post(booking_ids=LabourBooking.objects.values_list("pk", flat=True))
    events_post(event_ids=ProductionEvent.objects.values_list("pk", flat=True))
    by_python = sorted(OrderCostEntry.objects.values_list(*fields))
    assert {row[4] for row in by_python} >= {"overhead", "machine", "labour", "scrap"}
    assert all(row[-2] for row in by_python)  # every entry has its message id
    OrderCostEntry.objects.all().delete()
    result = order_cost_post_missing()
    # The worked order and the demo's costed history (costing/demo.py `history_load`).
    assert result.posted == len(by_python) and worked_order.pk in result.orders
    assert result.orders == {row[1] for row in by_python}
    assert sorted(OrderCostEntry.objects.values_list(*fields)) == by_python
    assert order_cost_post_missing().posted == 0


def test_the_rebuild_reports_what_it_could_not_cost(worked_order):
    """What the rebuild leaves out is named, never a silent zero — on SQLite (the handlers'
    code) and on PostgreSQL (the set-based statements, costing/services/actual_sql.py) alike:
    each machine span on a machine without a rate, each scrap report of a product without a
    complete standard cost."""
    from costing.models import CostVersion, ItemCost, MachineRate
    from execution.models import ProductionEvent
    from resources.models import Equipment

    version = CostVersion.objects.get(code="STD-2026")
    cast01 = Equipment.objects.get(code="CAST-01")
    MachineRate.objects.filter(version=version, equipment=cast01).delete()
    ItemCost.objects.filter(version=version, item__code="EB-500").update(complete=False)
    OrderCostEntry.objects.filter(order=worked_order).delete()

    result = order_cost_post_missing(orders=[worked_order])

    events = {e.event_id: e.pk for e in ProductionEvent.objects.filter(order=worked_order)}
    spans = [
        f"Event {events[e]} on MO-2026-00001/10: no machine rate for equipment {cast01.pk} in "
        f"cost version {version}; not posted."
        for e in ("w-pause", "w-complete")
    ]
    scrap = (
        f"Event {events['w-u4']} on MO-2026-00001/10: the product has no complete standard "
        f"cost in cost version {version}; scrap not valued."
    )
    assert sorted(map(str, result.problems)) == sorted([*spans, scrap])
    # The rest is posted: material, labour (and no overhead at CAST).
    assert set(
        OrderCostEntry.objects.filter(order=worked_order).values_list("element", flat=True)
    ) == {"material", "labour"}
    # Asked again: posts nothing, says the same.
    again = order_cost_post_missing(orders=[worked_order])
    assert again.posted == 0 and sorted(map(str, again.problems)) == sorted(
        map(str, result.problems)
    )
