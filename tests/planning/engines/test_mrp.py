"""The pure MRP engine: a textbook case worked by hand, the rules one by one, properties.

No database: plain dataclasses in, plain dataclasses out.
"""

import dataclasses
import random
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.engines.mrp import (
    BomEdge,
    Demand,
    LotPolicy,
    MessageKind,
    MrpInput,
    MrpInputError,
    MrpItem,
    PegKind,
    ScheduledReceipt,
    SupplyKind,
    WorkCalendar,
    mrp_run,
)


def mar(day: int) -> date:
    return date(2025, 3, day)


def orders(result, item=None):
    """(id, item, quantity, start, due) of the planned orders, in output order."""
    return [
        (o.id, o.item, o.quantity, o.start_date, o.due_date)
        for o in result.planned_orders
        if item is None or o.item == item
    ]


def pegs(order):
    return [(p.quantity, p.kind.value, p.reference, p.top_demand, p.via) for p in order.pegs]


def supplies(result, demand_id):
    return [
        (s.item, s.kind.value, s.reference, s.quantity, s.via) for s in result.supply_for(demand_id)
    ]


def rows(result, item):
    """(date, gross, scheduled receipts, planned receipts, projected on hand, net, releases)."""
    return [
        (
            r.date,
            r.gross_requirements,
            r.scheduled_receipts,
            r.planned_receipts,
            r.projected_on_hand,
            r.net_requirements,
            r.planned_releases,
        )
        for r in result.projections[item].rows
    ]


# --- the textbook case ------------------------------------------------------------------------
#
# Calendar: Monday–Friday, Friday 14 March 2025 is a holiday. Planning date Monday 3 March.
#
#   A  make, lead time 2, lot-for-lot, on hand 20        BOM A: 2 B per A, 20 % scrap
#   B  make, lead time 1, fixed lot 100, on hand 30      BOM B: 3 C per base quantity 2 of B
#      open production order WO-7: 50 due Thu 6 March
#   C  buy,  lead time 3, min 100 / multiple 50, safety stock 25, on hand 40
#
#   Demands: SO-1 A 50 due Mon 10 (priority 1); SO-2 A 40 due Sat 15 (priority 1) — a
#   Saturday, and Friday 14 is a holiday, so it is needed Thu 13; FC-1 A 30 due Mon 17
#   (forecast, priority 9); SP-1 C 20 due Mon 17 (spare part).
#
# A (level 0)       | 3-06 | 3-10 | 3-11 | 3-12 | 3-13 | 3-17
#   gross           |      |  50  |      |      |  40  |  30
#   projected OH 20 |  20  |   0  |   0  |   0  |   0  |   0      on hand 20 → SO-1
#   net             |      |  30  |      |      |  40  |  30
#   planned receipt |      |  30  |      |      |  40  |  30      PL1, PL2, PL3 (lot-for-lot)
#   planned release |  30  |      |  40  |  30  |      |
#   Release = due − 2 working days: Mon 10 → Thu 6 (across the weekend); Thu 13 → Tue 11;
#   Mon 17 → Wed 12 (across the weekend and the Friday 14 holiday).
#
# B (level 1): a need of q A is q × 2 / (1 − 0.20) = 2.5 q B, on the A order's release date:
#   PL1 30 → 75 on 3-06, PL2 40 → 100 on 3-11, PL3 30 → 75 on 3-12.
#                   | 3-06 | 3-10 | 3-11 | 3-12
#   gross           |  75  |      |  100 |  75
#   sched. receipt  |  50  |      |      |          WO-7 due 3-06: on time, no message
#   projected OH 30 |   5  |   5  |   5  |  30
#   net             |      |      |  95  |  70
#   planned receipt |      |      |  100 |  100     PL4, PL5: fixed lots of 100
#   planned release |      |  100 |  100 |          due − 1 working day
#   FIFO pegs: 3-06 75 ← on hand 30 + WO-7 45 (SO-1 via PL1); 3-11 100 ← WO-7 5 + PL4 95
#   (SO-2 via PL2); 3-12 75 ← PL4's 5 left + PL5 70 (FC-1 via PL3); PL5's last 30 is
#   lot-size excess.
#
# C (level 2): a need of q B is q × 3 / 2 = 1.5 q C on the B order's release date; its pegs
#   split in proportion: PL4 (95 SO-2, 5 FC-1) → 150 on 3-10 = 142.5 SO-2 + 7.5 FC-1;
#   PL5 (70 FC-1, 30 excess) → 150 on 3-11 = 105 FC-1 + 45 PL5's excess.
#                   | 3-05 | 3-06 | 3-10 | 3-11 | 3-17
#   gross           |      |      |  150 |  150 |  20
#   projected OH 40 |  40  |  40  |  40  |  40  |  120     never below safety stock 25
#   net             |      |      |  135 |  135 |   5      on hand 40 − 25 safety = 15 free
#   planned receipt |      |      |  150 |  150 |  100     PL6, PL7, PL8
#   planned release |  150 |  150 |      |  100 |          due − 3 working days
#   min/multiple: 135 → max(135, 100) = 135 → 150 (multiple of 50); 5 → 100 (the minimum).
#   PL8 due Mon 17 starts Tue 11: Thu 13, Wed 12, Tue 11 (Fri 14 is a holiday).
#   FIFO pegs: safety stock 25 ← on hand; 3-10 150 ← on hand 15 (SO-2) + PL6 127.5 (SO-2)
#   + 7.5 (FC-1); 3-11 150 ← PL6's 15 left (FC-1 via PL5) + PL7 90 (FC-1) + 45 (PL5's
#   excess); 3-17 SP-1 20 ← PL7's 15 left + PL8 5; PL8's last 95 is lot-size excess.


def textbook_input(**overrides) -> MrpInput:
    fields = dict(
        items=[
            MrpItem("A", "make", 2),
            MrpItem("B", "make", 1, LotPolicy.FIXED, lot_size=Decimal(100)),
            MrpItem(
                "C", "buy", 3, "min_multiple", Decimal(100), Decimal(50), safety_stock=Decimal(25)
            ),
        ],
        bom=[
            BomEdge("A", "B", Decimal(2), scrap_pct=Decimal(20)),
            BomEdge("B", "C", Decimal(3), base_quantity=Decimal(2)),
        ],
        demands=[
            Demand("SO-1", "A", Decimal(50), mar(10), priority=1),
            Demand("SO-2", "A", Decimal(40), mar(15), priority=1),
            Demand("FC-1", "A", Decimal(30), mar(17), priority=9, kind="forecast"),
            Demand("SP-1", "C", Decimal(20), mar(17)),
        ],
        calendar=WorkCalendar(weekdays={1, 2, 3, 4, 5}, holidays=[mar(14)]),
        start=mar(3),
        receipts=[ScheduledReceipt("WO-7", "B", Decimal(50), mar(6), "production_order")],
        on_hand={"A": Decimal(20), "B": Decimal(30), "C": Decimal(40)},
    )
    fields.update(overrides)
    return MrpInput(**fields)


@pytest.fixture(scope="module")
def textbook():
    return mrp_run(textbook_input())


def test_textbook_planned_orders(textbook):
    assert orders(textbook) == [
        ("PL000001", "A", 30, mar(6), mar(10)),
        ("PL000002", "A", 40, mar(11), mar(13)),
        ("PL000003", "A", 30, mar(12), mar(17)),
        ("PL000004", "B", 100, mar(10), mar(11)),
        ("PL000005", "B", 100, mar(11), mar(12)),
        ("PL000006", "C", 150, mar(5), mar(10)),
        ("PL000007", "C", 150, mar(6), mar(11)),
        ("PL000008", "C", 100, mar(11), mar(17)),
    ]
    kinds = {o.item: o.kind.value for o in textbook.planned_orders}
    assert kinds == {"A": "production", "B": "production", "C": "purchase"}
    assert not any(o.past_due for o in textbook.planned_orders)
    assert textbook.messages == ()
    assert textbook.low_level_codes == {"A": 0, "B": 1, "C": 2}


def test_textbook_projection(textbook):
    assert rows(textbook, "A") == [
        (mar(6), 0, 0, 0, 20, 0, 30),
        (mar(10), 50, 0, 30, 0, 30, 0),
        (mar(11), 0, 0, 0, 0, 0, 40),
        (mar(12), 0, 0, 0, 0, 0, 30),
        (mar(13), 40, 0, 40, 0, 40, 0),
        (mar(17), 30, 0, 30, 0, 30, 0),
    ]
    assert rows(textbook, "B") == [
        (mar(6), 75, 50, 0, 5, 0, 0),
        (mar(10), 0, 0, 0, 5, 0, 100),
        (mar(11), 100, 0, 100, 5, 95, 100),
        (mar(12), 75, 0, 100, 30, 70, 0),
    ]
    assert rows(textbook, "C") == [
        (mar(5), 0, 0, 0, 40, 0, 150),
        (mar(6), 0, 0, 0, 40, 0, 150),
        (mar(10), 150, 0, 150, 40, 135, 0),
        (mar(11), 150, 0, 150, 40, 135, 100),
        (mar(17), 20, 0, 100, 120, 5, 0),
    ]
    c = textbook.projections["C"]
    assert (c.on_hand, c.allocated, c.safety_stock, c.low_level_code) == (40, 0, 25, 2)


def test_textbook_pegs_of_each_planned_order(textbook):
    by_id = {o.id: o for o in textbook.planned_orders}
    assert pegs(by_id["PL000001"]) == [(30, "demand", "SO-1", "SO-1", ())]
    assert pegs(by_id["PL000004"]) == [
        (95, "planned_order", "PL000002", "SO-2", ("PL000002",)),
        (5, "planned_order", "PL000003", "FC-1", ("PL000003",)),
    ]
    assert pegs(by_id["PL000005"]) == [
        (70, "planned_order", "PL000003", "FC-1", ("PL000003",)),
        (30, "lot_size_excess", "", None, ()),
    ]
    # Two levels down: the B order served and, beyond it, the A order and the demand.
    assert pegs(by_id["PL000006"]) == [
        (Decimal("127.5"), "planned_order", "PL000004", "SO-2", ("PL000004", "PL000002")),
        (Decimal("7.5"), "planned_order", "PL000004", "FC-1", ("PL000004", "PL000003")),
        (15, "planned_order", "PL000005", "FC-1", ("PL000005", "PL000003")),
    ]
    assert pegs(by_id["PL000007"]) == [
        (90, "planned_order", "PL000005", "FC-1", ("PL000005", "PL000003")),
        (45, "planned_order", "PL000005", None, ("PL000005",)),
        (15, "demand", "SP-1", "SP-1", ()),
    ]
    assert by_id["PL000007"].pegs[1].top_kind == PegKind.LOT_SIZE_EXCESS
    assert pegs(by_id["PL000008"]) == [
        (5, "demand", "SP-1", "SP-1", ()),
        (95, "lot_size_excess", "", None, ()),
    ]
    for order in textbook.planned_orders:
        assert sum(p.quantity for p in order.pegs) == order.quantity


def test_textbook_supplies_of_each_demand(textbook):
    assert supplies(textbook, "SO-1") == [
        ("A", "on_hand", "", 20, ()),
        ("A", "planned_order", "PL000001", 30, ()),
        ("B", "on_hand", "", 30, ("PL000001",)),
        ("B", "scheduled_receipt", "WO-7", 45, ("PL000001",)),
    ]
    assert supplies(textbook, "SO-2") == [
        ("A", "planned_order", "PL000002", 40, ()),
        ("B", "scheduled_receipt", "WO-7", 5, ("PL000002",)),
        ("B", "planned_order", "PL000004", 95, ("PL000002",)),
        ("C", "on_hand", "", 15, ("PL000004", "PL000002")),
        ("C", "planned_order", "PL000006", Decimal("127.5"), ("PL000004", "PL000002")),
    ]
    assert supplies(textbook, "FC-1") == [
        ("A", "planned_order", "PL000003", 30, ()),
        ("B", "planned_order", "PL000004", 5, ("PL000003",)),
        ("B", "planned_order", "PL000005", 70, ("PL000003",)),
        ("C", "planned_order", "PL000006", Decimal("7.5"), ("PL000004", "PL000003")),
        ("C", "planned_order", "PL000006", 15, ("PL000005", "PL000003")),
        ("C", "planned_order", "PL000007", 90, ("PL000005", "PL000003")),
    ]
    assert supplies(textbook, "SP-1") == [
        ("C", "planned_order", "PL000007", 15, ()),
        ("C", "planned_order", "PL000008", 5, ()),
    ]
    assert [s.date for s in textbook.supply_for("SO-1", item="B")] == [mar(3), mar(6)]
    assert [p.quantity for p in textbook.receipt_pegs["WO-7"]] == [45, 5]


# --- calendar ---------------------------------------------------------------------------------


def test_calendar_offsets_over_weekends_holidays_and_make_up_days():
    cal = WorkCalendar(holidays=[mar(14)], extra_working_days=[mar(22)])
    assert cal.subtract(mar(10), 2) == mar(6)  # Mon → Thu over the weekend
    assert cal.subtract(mar(17), 2) == mar(12)  # Mon → Wed over the weekend and holiday
    assert cal.subtract(mar(15), 0) == cal.on_or_before(mar(15)) == mar(13)
    assert cal.on_or_before(mar(23)) == mar(22)  # a Saturday worked
    assert cal.on_or_after(mar(14)) == mar(17)
    assert cal.add(mar(13), 1) == mar(17)
    assert cal.working_days_between(mar(10), mar(17)) == 4
    assert cal.working_days_between(mar(17), mar(10)) == -4
    assert not cal.is_working(mar(14)) and cal.is_working(mar(22))

    # Far from the first index (it widens) and against counting day by day.
    naive = mar(3)
    for _ in range(700):
        naive -= timedelta(days=1)
        while naive.isoweekday() > 5 and naive != mar(22) or naive == mar(14):
            naive -= timedelta(days=1)
    assert cal.subtract(mar(3), 700) == naive
    assert cal.add(date(2031, 1, 1), 10) == date(2031, 1, 15)


def test_explicit_calendar_has_no_days_outside_its_set():
    cal = WorkCalendar.from_working_days([mar(3), mar(5), mar(7)])
    assert cal.subtract(mar(7), 1) == mar(5)
    assert cal.subtract(mar(7), 3) is None
    assert cal.on_or_before(mar(4)) == mar(3)
    assert cal.on_or_before(mar(2)) is None
    assert cal.on_or_after(mar(8)) is None
    assert not cal.is_working(mar(4))


def test_calendar_matches_day_by_day_counting():
    rng = random.Random(7)
    holidays = {date(2025, 1, 1) + timedelta(days=rng.randrange(365)) for _ in range(20)}
    cal = WorkCalendar(weekdays={1, 2, 3, 4, 5, 6}, holidays=holidays)

    def working(d):
        return d.isoweekday() <= 6 and d not in holidays

    for _ in range(300):
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
        n = rng.randrange(15)
        expect = day
        while not working(expect):
            expect -= timedelta(days=1)
        for _ in range(n):
            expect -= timedelta(days=1)
            while not working(expect):
                expect -= timedelta(days=1)
        assert cal.subtract(day, n) == expect


# --- rules one by one -------------------------------------------------------------------------


def single(item: MrpItem, demands=(), **kw) -> MrpInput:
    kw.setdefault("calendar", WorkCalendar())
    kw.setdefault("start", mar(3))
    return MrpInput(items=[item], bom=kw.pop("bom", []), demands=list(demands), **kw)


def test_past_due_orders_start_today_keep_their_due_date_and_are_reported():
    # Planning date Wed 5 March. X-1 due Thu 6 needs 3 working days: should have started
    # Mon 3. X-0 was due Fri 28 Feb, before the planning date: a shortage, planned anyway.
    data = single(
        MrpItem("X", "buy", 3),
        [
            Demand("X-1", "X", Decimal(10), mar(6)),
            Demand("X-0", "X", Decimal(5), date(2025, 2, 28)),
        ],
        start=mar(5),
    )
    result = mrp_run(data)
    assert orders(result) == [
        ("PL000001", "X", 5, mar(5), date(2025, 2, 28)),
        ("PL000002", "X", 10, mar(5), mar(6)),
    ]
    assert [o.required_start_date for o in result.planned_orders] == [date(2025, 2, 25), mar(3)]
    assert all(o.past_due for o in result.planned_orders)
    assert [(m.kind, m.reference, m.date, m.suggested_date) for m in result.messages] == [
        (MessageKind.SHORTAGE, "X-0", date(2025, 2, 28), mar(5)),
        (MessageKind.PAST_DUE, "PL000001", mar(5), date(2025, 2, 25)),
        (MessageKind.PAST_DUE, "PL000002", mar(5), mar(3)),
    ]
    # The late demand falls into the planning date's bucket.
    assert rows(result, "X") == [(mar(5), 5, 0, 5, 0, 5, 15), (mar(6), 10, 0, 10, 0, 10, 0)]


def test_explicit_calendar_too_short_for_the_lead_time_is_past_due():
    calendar = WorkCalendar.from_working_days([mar(3), mar(4), mar(5)])
    result = mrp_run(
        single(MrpItem("V", "buy", 5), [Demand("V-1", "V", Decimal(1), mar(5))], calendar=calendar)
    )
    (order,) = result.planned_orders
    assert (order.start_date, order.due_date, order.required_start_date) == (mar(3), mar(5), None)
    assert order.past_due and "cannot start in time" in result.messages[0].text


def test_past_due_parent_needs_its_components_today():
    data = MrpInput(
        items=[MrpItem("P", "make", 4), MrpItem("K", "buy", 0)],
        bom=[BomEdge("P", "K", Decimal(2))],
        demands=[Demand("P-1", "P", Decimal(3), mar(5))],
        calendar=WorkCalendar(),
        start=mar(3),
    )
    result = mrp_run(data)
    assert orders(result) == [
        ("PL000001", "P", 3, mar(3), mar(5)),
        ("PL000002", "K", 6, mar(3), mar(3)),
    ]
    assert [m.reference for m in result.messages] == ["PL000001"]


def test_scheduled_receipts_expedite_defer_cancel():
    # Y on hand 0. PO-3 4 due Tue 4, PO-1 10 due Wed 12, PO-2 10 due Mon 24.
    # Y-1 8 due Fri 7 ← PO-3 4 + PO-1 4 (PO-1 must come 5 days early: expedite);
    # Y-2 5 due Mon 24 ← PO-1 5; PO-2 is not needed (cancel); PO-3 is first needed on
    # Fri 7, three working days after it is due (defer, unless the tolerance is 3).
    receipts = [
        ScheduledReceipt("PO-1", "Y", Decimal(10), mar(12)),
        ScheduledReceipt("PO-2", "Y", Decimal(10), mar(24)),
        ScheduledReceipt("PO-3", "Y", Decimal(4), mar(4)),
    ]
    demands = [Demand("Y-1", "Y", Decimal(8), mar(7)), Demand("Y-2", "Y", Decimal(5), mar(24))]
    result = mrp_run(single(MrpItem("Y", "buy", 2), demands, receipts=receipts))
    assert result.planned_orders == ()
    assert [(m.kind, m.reference, m.date, m.suggested_date) for m in result.messages] == [
        (MessageKind.DEFER, "PO-3", mar(4), mar(7)),
        (MessageKind.EXPEDITE, "PO-1", mar(12), mar(7)),
        (MessageKind.CANCEL, "PO-2", mar(24), None),
    ]
    assert supplies(result, "Y-1") == [
        ("Y", "scheduled_receipt", "PO-3", 4, ()),
        ("Y", "scheduled_receipt", "PO-1", 4, ()),
    ]
    # Projected on hand dips below zero on Fri 7 — what the expedite message is about.
    assert [(r[0], r[4]) for r in rows(result, "Y")] == [
        (mar(4), 4),
        (mar(7), -4),
        (mar(12), 6),
        (mar(24), 11),
    ]
    quiet = mrp_run(
        single(MrpItem("Y", "buy", 2), demands, receipts=receipts, defer_tolerance_days=3)
    )
    assert [m.kind for m in quiet.messages] == [MessageKind.EXPEDITE, MessageKind.CANCEL]
    silent = mrp_run(
        single(MrpItem("Y", "buy", 2), demands, receipts=receipts, reschedule_out_messages=False)
    )
    assert [m.kind for m in silent.messages] == [MessageKind.EXPEDITE]


def test_overdue_receipt_is_reported_and_still_counts():
    receipts = [ScheduledReceipt("PO-9", "W", Decimal(10), date(2025, 2, 27))]
    result = mrp_run(
        single(MrpItem("W", "buy", 1), [Demand("W-1", "W", Decimal(4), mar(4))], receipts=receipts)
    )
    assert result.planned_orders == ()
    # Overdue, and not needed before W-1 on Tue 4: its date should say so.
    assert [(m.kind, m.reference, m.date, m.suggested_date) for m in result.messages] == [
        (MessageKind.PAST_DUE, "PO-9", date(2025, 2, 27), mar(3)),
        (MessageKind.DEFER, "PO-9", date(2025, 2, 27), mar(4)),
    ]
    assert rows(result, "W")[0] == (mar(3), 0, 10, 0, 10, 0, 0)


def test_initial_safety_stock_shortfall_is_replenished_at_the_planning_date():
    result = mrp_run(
        single(MrpItem("S", "buy", 0, safety_stock=Decimal(30)), on_hand={"S": Decimal(10)})
    )
    assert orders(result) == [("PL000001", "S", 20, mar(3), mar(3))]
    assert pegs(result.planned_orders[0]) == [(20, "safety_stock", "", None, ())]
    assert [m.kind for m in result.messages] == [MessageKind.SHORTAGE]
    assert rows(result, "S") == [(mar(3), 0, 0, 20, 30, 20, 20)]

    with_lead = mrp_run(
        single(MrpItem("S", "buy", 2, safety_stock=Decimal(30)), on_hand={"S": Decimal(10)})
    )
    assert [m.kind for m in with_lead.messages] == [MessageKind.PAST_DUE, MessageKind.SHORTAGE]


def test_allocations_beyond_on_hand_are_a_requirement_today():
    result = mrp_run(
        single(
            MrpItem("Q", "buy", 0),
            [Demand("Q-1", "Q", Decimal(10), mar(5))],
            on_hand={"Q": Decimal(30)},
            allocations={"Q": Decimal(50)},
        )
    )
    assert orders(result) == [
        ("PL000001", "Q", 20, mar(3), mar(3)),
        ("PL000002", "Q", 10, mar(5), mar(5)),
    ]
    assert pegs(result.planned_orders[0]) == [(20, "allocation", "", None, ())]
    assert rows(result, "Q") == [(mar(3), 0, 0, 20, 0, 20, 20), (mar(5), 10, 0, 10, 0, 10, 10)]
    assert "negative" in result.messages[0].text


def test_fixed_lots_are_exactly_the_lot_size_and_excess_serves_later_needs():
    item = MrpItem("F", "buy", 0, "fixed", lot_size=Decimal(25))
    result = mrp_run(
        single(
            item, [Demand("F-1", "F", Decimal(60), mar(4)), Demand("F-2", "F", Decimal(5), mar(6))]
        )
    )
    assert [(o.quantity, o.due_date) for o in result.planned_orders] == [(25, mar(4))] * 3
    assert [pegs(o) for o in result.planned_orders] == [
        [(25, "demand", "F-1", "F-1", ())],
        [(25, "demand", "F-1", "F-1", ())],
        [(10, "demand", "F-1", "F-1", ()), (5, "demand", "F-2", "F-2", ()),
         (10, "lot_size_excess", "", None, ())],
    ]  # fmt: skip


def test_min_multiple_rounds_the_minimum_up_to_the_multiple():
    item = MrpItem("M", "buy", 0, "min_multiple", lot_size=Decimal(30), lot_multiple=Decimal(20))
    result = mrp_run(single(item, [Demand("M-1", "M", Decimal(5), mar(4))]))
    assert [o.quantity for o in result.planned_orders] == [40]
    only_multiple = MrpItem("M", "buy", 0, "min_multiple", lot_multiple=Decimal("0.5"))
    result = mrp_run(single(only_multiple, [Demand("M-1", "M", Decimal("5.2"), mar(4))]))
    assert [o.quantity for o in result.planned_orders] == [Decimal("5.5")]


def test_scrap_rounds_up_and_split_pegs_still_add_up():
    # Three demands of 1 P on the same day: one order of 3; K per P is 1 / (1 − 3 %).
    data = MrpInput(
        items=[MrpItem("P", "make", 0), MrpItem("K", "buy", 0)],
        bom=[BomEdge("P", "K", Decimal(1), scrap_pct=Decimal(3))],
        demands=[Demand(f"P-{n}", "P", Decimal(1), mar(4)) for n in (1, 2, 3)],
        calendar=WorkCalendar(),
        start=mar(3),
    )
    result = mrp_run(data)
    k = result.orders_for("K")[0]
    assert k.quantity == Decimal("3.0928")  # 3 / 0.97 = 3.09278… rounded up to 0.0001
    # Running totals 1.0310, 2.0619, 3.0928 → parts 1.0310, 1.0309, 1.0309.
    assert [(p.quantity, p.top_demand) for p in k.pegs] == [
        (Decimal("1.0310"), "P-1"),
        (Decimal("1.0309"), "P-2"),
        (Decimal("1.0309"), "P-3"),
    ]
    exact = mrp_run(dataclasses.replace(data, quantum=None))
    assert exact.orders_for("K")[0].quantity == Decimal(3) / Decimal("0.97")


def test_priority_decides_who_gets_stock_on_the_same_day():
    result = mrp_run(
        single(
            MrpItem("R", "buy", 0),
            [
                Demand("LOW", "R", Decimal(8), mar(5), priority=9),
                Demand("HIGH", "R", Decimal(8), mar(5), 1),
            ],
            on_hand={"R": Decimal(10)},
        )
    )
    assert supplies(result, "HIGH") == [("R", "on_hand", "", 8, ())]
    assert supplies(result, "LOW") == [
        ("R", "on_hand", "", 2, ()),
        ("R", "planned_order", "PL000001", 6, ()),
    ]


def test_component_used_at_two_levels_is_netted_once_at_its_lowest_level():
    # A → B → C and A → C: C is level 2. Its on hand (25) is used once, first by the earlier
    # need (B's order, Thu 6), and both needs appear in one C record.
    data = MrpInput(
        items=[
            MrpItem("A", "make", 1, low_level_code=0),
            MrpItem("B", "make", 1, low_level_code=0),  # stale: recomputed
            MrpItem("C", "buy", 0, low_level_code=0),
        ],
        bom=[
            BomEdge("A", "B", Decimal(1)),
            BomEdge("A", "C", Decimal(2)),
            BomEdge("B", "C", Decimal(3)),
        ],
        demands=[Demand("A-1", "A", Decimal(10), mar(10))],
        calendar=WorkCalendar(),
        start=mar(3),
        on_hand={"C": Decimal(25)},
    )
    result = mrp_run(data)
    assert result.low_level_codes == {"A": 0, "B": 1, "C": 2}
    assert orders(result) == [
        ("PL000001", "A", 10, mar(7), mar(10)),
        ("PL000002", "B", 10, mar(6), mar(7)),
        ("PL000003", "C", 5, mar(6), mar(6)),
        ("PL000004", "C", 20, mar(7), mar(7)),
    ]
    assert rows(result, "C") == [(mar(6), 30, 0, 5, 0, 5, 5), (mar(7), 20, 0, 20, 0, 20, 20)]
    assert supplies(result, "A-1")[-3:] == [
        ("C", "on_hand", "", 25, ("PL000002", "PL000001")),
        ("C", "planned_order", "PL000003", 5, ("PL000002", "PL000001")),
        ("C", "planned_order", "PL000004", 20, ("PL000001",)),
    ]


def test_buy_items_are_not_exploded_and_the_horizon_limits_demand():
    data = MrpInput(
        items=[MrpItem("T", "buy", 0), MrpItem("U", "buy", 0)],
        bom=[BomEdge("T", "U", Decimal(1))],
        demands=[Demand("T-1", "T", Decimal(4), mar(4)), Demand("T-2", "T", Decimal(4), mar(28))],
        calendar=WorkCalendar(),
        start=mar(3),
        horizon_end=mar(14),
        receipts=[ScheduledReceipt("PO-T", "T", Decimal(1), mar(20))],
    )
    result = mrp_run(data)
    assert orders(result) == [("PL000001", "T", 3, mar(4), mar(4))]
    assert "T-2" not in result.demand_supply
    # PO-T is pulled in for T-1 (expedite); nothing is said about receipts past the horizon.
    assert [m.kind for m in result.messages] == [MessageKind.EXPEDITE]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bom": [BomEdge("A", "B", Decimal(1)), BomEdge("B", "A", Decimal(1))]}, "bom: cycle"),
        ({"bom": [BomEdge("A", "Z", Decimal(1))]}, "bom[0] (A → Z).component: unknown item"),
        (
            {"bom": [BomEdge("A", "B", Decimal(1), scrap_pct=Decimal(100))]},
            "scrap_pct: must be below 100",
        ),
        ({"demands": [Demand("D", "A", 1.5, mar(4))]}, "demands[0] (D).quantity: give a Decimal"),
        ({"demands": [Demand("D", "A", Decimal(1), mar(4))] * 2}, "duplicate demand id"),
        ({"items": [MrpItem("A", "make", lot_policy="fixed")]}, "items[0] (A).lot_size"),
        ({"on_hand": {"Z": Decimal(1)}}, "on_hand['Z']: unknown item"),
    ],
)
def test_bad_input_names_the_row_and_field(change, message):
    base = dict(
        items=[MrpItem("A", "make"), MrpItem("B", "buy")],
        bom=[],
        demands=[],
        calendar=WorkCalendar(),
        start=mar(3),
    )
    with pytest.raises(MrpInputError, match=re.escape(message)):
        mrp_run(MrpInput(**{**base, **change}))


def test_same_input_in_any_order_gives_the_same_plan():
    data = textbook_input()
    first = mrp_run(data)
    rng = random.Random(3)
    for _ in range(3):
        shuffled = textbook_input(
            items=rng.sample(list(data.items), len(data.items)),
            bom=rng.sample(list(data.bom), len(data.bom)),
            demands=rng.sample(list(data.demands), len(data.demands)),
            on_hand=dict(rng.sample(list(data.on_hand.items()), len(data.on_hand))),
        )
        again = mrp_run(shuffled)
        assert again == first
        assert repr(again) == repr(first)


# --- properties ---------------------------------------------------------------------------


@st.composite
def problems(draw):
    n = draw(st.integers(1, 7))
    codes = [f"I{i}" for i in range(n)]
    items = []
    for code in codes:
        policy = draw(st.sampled_from(list(LotPolicy)))
        items.append(
            MrpItem(
                code,
                draw(st.sampled_from(["make", "buy"])),
                draw(st.integers(0, 6)),
                policy,
                lot_size=Decimal(draw(st.integers(1 if policy == "fixed" else 0, 40))),
                lot_multiple=Decimal(draw(st.integers(0, 15)))
                if policy == "min_multiple"
                else Decimal(0),
                safety_stock=Decimal(draw(st.sampled_from([0, 0, 5, 12]))),
            )
        )
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))
    bom = [
        BomEdge(
            codes[a],
            codes[b],
            Decimal(draw(st.sampled_from(["1", "2", "0.5", "3"]))),
            base_quantity=Decimal(draw(st.sampled_from([1, 1, 2, 10]))),
            scrap_pct=Decimal(draw(st.sampled_from(["0", "0", "5", "12.5"]))),
        )
        for a, b in pairs
        if a < b  # parents before components: a DAG
    ]
    start = mar(3) + timedelta(days=draw(st.integers(0, 6)))
    offsets = st.integers(-6, 30)
    demands = [
        Demand(
            f"D{k}",
            draw(st.sampled_from(codes)),
            Decimal(draw(st.integers(1, 80))) / draw(st.sampled_from([1, 1, 4])),
            start + timedelta(days=draw(offsets)),
            priority=draw(st.integers(1, 9)),
        )
        for k in range(draw(st.integers(0, 6)))
    ]
    receipts = [
        ScheduledReceipt(
            f"R{k}",
            draw(st.sampled_from(codes)),
            Decimal(draw(st.integers(1, 50))),
            start + timedelta(days=draw(offsets)),
        )
        for k in range(draw(st.integers(0, 3)))
    ]
    on_hand = {c: Decimal(draw(st.integers(0, 40))) for c in codes if draw(st.booleans())}
    allocations = {c: Decimal(draw(st.integers(0, 30))) for c in codes if draw(st.booleans())}
    holidays = [start + timedelta(days=d) for d in draw(st.sets(st.integers(-10, 30), max_size=4))]
    weekdays = draw(st.sampled_from([{1, 2, 3, 4, 5}, {1, 2, 3, 4, 5, 6}, set(range(1, 8))]))
    calendar = WorkCalendar(weekdays=weekdays, holidays=holidays)
    if draw(st.integers(0, 4)) == 0:  # an explicit set: offsets can run off its start
        days = draw(st.sets(st.integers(-8, 40), min_size=1, max_size=30))
        calendar = WorkCalendar.from_working_days(start + timedelta(days=d) for d in days)
    return MrpInput(
        items=items,
        bom=bom,
        demands=demands,
        calendar=calendar,
        start=start,
        receipts=receipts,
        on_hand=on_hand,
        allocations=allocations,
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_properties_of_any_plan(data):
    result = mrp_run(data)
    start = data.start
    items = {i.code: i for i in data.items}
    order_item = {o.id: o.item for o in result.planned_orders}
    parents = {(e.parent, e.component) for e in data.bom if items[e.parent].source == "make"}
    messages = {(m.kind, m.reference) for m in result.messages}

    # Every demand is fully covered by supply of its own item pegged to it.
    for demand in data.demands:
        own = result.supply_for(demand.id, item=demand.item)
        assert sum(s.quantity for s in own if not s.via) == demand.quantity

    for order in result.planned_orders:
        assert order.quantity > 0
        assert sum(p.quantity for p in order.pegs) == order.quantity  # pegs add up
        assert order.start_date >= start  # nothing starts before the planning date
        if order.past_due:
            assert (MessageKind.PAST_DUE, order.id) in messages
        else:
            assert order.start_date == order.required_start_date <= order.due_date
        for peg in order.pegs:
            if peg.via:  # a component need of a parent order of a parent item
                assert (order_item[peg.via[0]], order.item) in parents
            assert (peg.top_demand is None) == (peg.top_kind != PegKind.DEMAND)

    expedited = {m.item for m in result.messages if m.kind == MessageKind.EXPEDITE}
    for code, projection in result.projections.items():
        item = items[code]
        available = data.on_hand.get(code, Decimal(0)) - data.allocations.get(code, Decimal(0))
        if projection.rows:
            # Projected on hand stays at or above safety stock, except where an expedite
            # message says a scheduled receipt is late; at the end it always is.
            assert projection.rows[-1].projected_on_hand >= item.safety_stock
            if code not in expedited:
                assert all(r.projected_on_hand >= item.safety_stock for r in projection.rows)
        else:
            assert available >= item.safety_stock

        # Gross requirements: independent demand plus every parent order exploded.
        gross = sum((r.gross_requirements for r in projection.rows), Decimal(0))
        expected = sum((d.quantity for d in data.demands if d.item == code), Decimal(0))
        for edge in data.bom:
            if edge.component == code and items[edge.parent].source == "make":
                for o in result.orders_for(edge.parent):
                    per = o.quantity * edge.quantity * 100
                    expected += (per / (edge.base_quantity * (100 - edge.scrap_pct))).quantize(
                        Decimal("0.0001"), rounding="ROUND_CEILING"
                    )
        assert gross == expected

        # Planned quantity: exactly the shortfall for lot-for-lot, within one lot otherwise.
        planned = sum((o.quantity for o in result.orders_for(code)), Decimal(0))
        receipts = sum((r.quantity for r in data.receipts if r.item == code), Decimal(0))
        shortfall = max(
            Decimal(0),
            gross
            + item.safety_stock
            + max(-available, Decimal(0))
            - max(available, Decimal(0))
            - receipts,
        )
        if item.lot_policy == LotPolicy.LOT_FOR_LOT:
            assert planned == shortfall
        else:  # only the last lot can have excess left
            assert planned == shortfall or (
                shortfall <= planned < shortfall + item.lot_size + item.lot_multiple
            )

    # Supplies pegged to demands point at real orders and receipts.
    receipt_ids = {r.id for r in data.receipts}
    for found in result.demand_supply.values():
        for s in found:
            if s.kind == SupplyKind.PLANNED_ORDER:
                assert order_item[s.reference] == s.item
            elif s.kind == SupplyKind.SCHEDULED_RECEIPT:
                assert s.reference in receipt_ids
