"""The inspection gate inside a batch: a batch that creates units (or lots) at the first
operation and reports them, and others, at later operations gets from the gate the answers
`event_record` gives the same events one at a time — whatever the plan's sampling.

The batch path writes a run's events only at the end of the run, while every-n-th sampling
counts units in the order they first appear in the order's production events; each test
runs its batch both ways (helpers of tests/execution/test_ingest.py: rolled-back
transactions, answers and resulting state compared)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from execution.models import Task
from execution.services.events import event_record
from planning.models import OrderOperation, ProductionOrder, Routing, RoutingStep
from planning.services.orders import production_order_create, production_order_release
from quality.models import DefectCode, InspectionPlan, InspectionRecord
from quality.selectors.sampling import shift_start
from quality.services.plans import inspection_plan_create, inspection_plan_new_version
from quality.services.records import inspection_record
from resources.models import Item, MaterialLot, SerialUnit
from tests.execution.test_ingest import Spy, assert_same, ev, statuses
from tests.factories import ItemFactory, WorkCenterFactory

from . import EB_ORDER, bore, client_as, eb_released, post_inspection, unit_through, user

pytestmark = pytest.mark.django_db

ORDER = "MO-GATED"
PLAN = "IP-GATED-10"
OK = ("accepted", 201)
REFUSED = ("rejected", 409)


# --- a product whose first operation has a gated inspection --------------------------------


def gated_line(
    *, tracking: str = Item.Tracking.SERIAL, sampling: str, sample_every: int = 1
) -> ProductionOrder:
    """An order of a product made at operations 10 → 20 → 30, with a gated visual check of
    operation 10; the unit (lot) S-0 made, inspected (passed) and reported at 20, so that
    all three tasks run. S-0 is the order's first unit."""
    item = ItemFactory(code="GATED-PART", source=Item.Source.MAKE, tracking=tracking)
    routing = Routing.objects.create(item=item, version="1")
    steps = {
        step_no: RoutingStep.objects.create(
            routing=routing,
            step_no=step_no,
            name=f"Step {step_no}",
            work_center=WorkCenterFactory(),
        )
        for step_no in (10, 20, 30)
    }
    inspection_plan_create(
        code=PLAN,
        routing_step=steps[10],
        characteristics=[{"name": "Visual", "kind": "attribute"}],
        sampling=sampling,
        sample_every=sample_every,
        gate=True,
    )
    order = production_order_create(
        item=item,
        quantity=Decimal(1000),
        due_date=date.today() + timedelta(days=10),
        number=ORDER,
        status=ProductionOrder.Status.PLANNED,
    )
    order = production_order_release(order=order)
    prepare = [
        ev("start10", "start", 10, order=ORDER),
        ev("s0-10", "report", 10, order=ORDER, quantity_good=1, trace_code="S-0", minute=1),
    ]
    for data in prepare:
        assert event_record(data=data).status == "accepted"
    inspect(order, "S-0", ok=True)
    for data in (
        ev("start20", "start", 20, order=ORDER, minute=2),
        ev("s0-20", "report", 20, order=ORDER, quantity_good=1, trace_code="S-0", minute=3),
        ev("start30", "start", 30, order=ORDER, minute=4),
    ):
        result = event_record(data=data)
        assert result.status == "accepted", result.as_dict()
    assert set(Task.objects.filter(order=order).values_list("status", flat=True)) == {"running"}
    return order


def inspect(order: ProductionOrder, code: str, *, ok: bool):
    operation = OrderOperation.objects.get(order=order, sequence=10)
    serial = order.item.tracking == Item.Tracking.SERIAL
    target = (
        {"unit": SerialUnit.objects.get(item=order.item, serial=code)}
        if serial
        else {"lot": MaterialLot.objects.get(item=order.item, code=code)}
    )
    defect = None if ok else DefectCode.objects.get_or_create(code="VIS", name="Visual")[0]
    record, created = inspection_record(
        external_id=f"insp-{code}-{ok}",
        operation=operation,
        values={"Visual": ok},
        defect_code=defect,
        **target,
    )
    assert created and record.result == ("pass" if ok else "fail")
    return record


def made(code: str, minute: int, quantity=1, sequence: int = 10) -> dict:
    """A report of `code` good at an operation of the gated order."""
    return ev(
        f"{code}-{sequence}",
        "report",
        sequence,
        order=ORDER,
        quantity_good=quantity,
        trace_code=code,
        minute=minute,
    )


# --- every n-th unit ---------------------------------------------------------------------


def test_every_nth_counts_the_units_first_seen_earlier_in_the_same_batch(monkeypatch):
    """Every 2nd unit of the order: S-0 (1st, inspected), A (2nd, not sampled), B (3rd,
    sampled), C (4th, not), D (5th, sampled), E (6th, not). A unit created in the batch
    and reported at operation 20 later in that batch is judged by its place in the order."""
    gated_line(sampling=InspectionPlan.Sampling.EVERY_NTH, sample_every=2)
    items = [
        made("A", 10),
        made("B", 11),
        made("C", 12),
        made("A", 13, sequence=20),  # not sampled: goes on uninspected
        made("B", 14, sequence=20),  # sampled, not inspected: refused
        made("C", 15, sequence=30),  # not sampled (operation 30 is gated by 10 too)
        made("S-0", 16, sequence=30),  # sampled and passed
        made("D", 17),
        made("D", 18, sequence=20),  # sampled: refused
        made("E", 19),
        made("E", 20, sequence=20),  # not sampled
        made("E", 21, sequence=30),
    ]
    spy = Spy(monkeypatch)
    answers = assert_same(items, None)
    got = statuses(answers)
    assert got == {
        "A-10": OK,
        "B-10": OK,
        "C-10": OK,
        "A-20": OK,
        "B-20": REFUSED,
        "C-30": OK,
        "S-0-30": OK,
        "D-10": OK,
        "D-20": REFUSED,
        "E-10": OK,
        "E-20": OK,
        "E-30": OK,
    }
    by_id = {a["event_id"]: a for a in answers}
    assert by_id["B-20"]["errors"]["detail"] == (
        f"B has no passing inspection at operation 10 ({PLAN}); inspect it first."
    )
    # The batch path took the rest: a refusal about a unit with events earlier in the run
    # (A-20, D-20, E-20) ends the run, and that event is asked again alone; B-20's unit was
    # written with the run before, so its refusal is final where it stands.
    assert spy.events == 8 and spy.runs == 4


def test_every_nth_with_lots():
    """Every 3rd lot: S-0 (1st), L-1 and L-2 not sampled, L-3 sampled; a lot reported twice
    at operation 10 in the batch keeps its first place."""
    gated_line(
        tracking=Item.Tracking.LOT, sampling=InspectionPlan.Sampling.EVERY_NTH, sample_every=3
    )
    items = [
        made("L-1", 10, quantity=5),
        made("L-2", 11, quantity=5),
        ev("L-1-10b", "report", 10, order=ORDER, quantity_good=2, trace_code="L-1", minute=12),
        made("L-3", 13, quantity=5),
        made("L-2", 14, quantity=4, sequence=20),
        made("L-3", 15, quantity=4, sequence=20),
        made("L-1", 16, quantity=7, sequence=20),
        made("S-0", 17, sequence=20),
    ]
    answers = assert_same(items, None)
    got = statuses(answers)
    assert got["L-2-20"] == OK and got["L-1-20"] == OK and got["S-0-20"] == OK
    assert got["L-3-20"] == REFUSED
    assert all(got[k] == OK for k in ("L-1-10", "L-2-10", "L-1-10b", "L-3-10"))


def test_every_nth_a_sampled_unit_inspected_before_the_batch():
    """Units made before the batch keep their places; only the gate's answer for units first
    seen inside the batch depended on the run being written."""
    order = gated_line(sampling=InspectionPlan.Sampling.EVERY_NTH, sample_every=2)
    for data in (made("P", 5), made("Q", 6)):  # P 2nd (not sampled), Q 3rd (sampled)
        assert event_record(data=data).status == "accepted"
    inspect(order, "Q", ok=False)
    items = [
        made("R", 10),  # 4th: not sampled
        made("Q", 11, sequence=20),  # inspected and failed: refused whatever the sampling
        made("P", 12, sequence=20),
        made("R", 13, sequence=20),
        made("T", 14),  # 5th: sampled
        made("T", 15, sequence=20),
    ]
    got = statuses(assert_same(items, None))
    assert got["Q-20"] == REFUSED and got["T-20"] == REFUSED
    assert got["P-20"] == OK and got["R-20"] == OK


# --- every unit and first article: the gate reads no production events ----------------------


def test_every_unit_refuses_uninspected_units_first_seen_in_the_batch(monkeypatch):
    order = gated_line(sampling=InspectionPlan.Sampling.EVERY_UNIT)
    assert event_record(data=made("F", 5)).status == "accepted"
    inspect(order, "F", ok=False)
    items = [
        made("A", 10),
        made("A", 11, sequence=20),
        made("S-0", 12, sequence=30),
        made("F", 13, sequence=20),
        made("B", 14),
        made("B", 15, sequence=30),
    ]
    spy = Spy(monkeypatch)
    answers = assert_same(items, None)
    assert spy.events == 3  # A-10, S-0-30, B-10: each refusal asked again alone
    got = statuses(answers)
    assert got == {
        "A-10": OK,
        "A-20": REFUSED,
        "S-0-30": OK,
        "F-20": REFUSED,
        "B-10": OK,
        "B-30": REFUSED,
    }
    assert "F failed the inspection at operation 10" in answers[3]["errors"]["detail"]


def test_first_article_of_the_shift_lets_units_of_the_batch_go_on(monkeypatch):
    """S-0 passed in this shift: units first seen in the batch go on uninspected, a unit
    that was inspected and failed does not."""
    order = gated_line(sampling=InspectionPlan.Sampling.FIRST_ARTICLE)
    assert event_record(data=made("F", 5)).status == "accepted"
    inspect(order, "F", ok=False)
    items = [
        made("A", 10),
        made("A", 11, sequence=20),
        made("F", 12, sequence=20),
        made("B", 13),
        made("B", 14, sequence=30),
    ]
    spy = Spy(monkeypatch)
    got = statuses(assert_same(items, None))
    assert got == {"A-10": OK, "A-20": OK, "F-20": REFUSED, "B-10": OK, "B-30": OK}
    # Nothing refused about a unit with events in the run: one run, not interrupted.
    assert spy.runs == 1 and spy.events == 4


def test_first_article_of_an_earlier_shift_does_not_count():
    """S-0's passing record is from before this shift: a unit without its own record is
    refused; S-0 itself is judged by its own (passing) record."""
    order = gated_line(sampling=InspectionPlan.Sampling.FIRST_ARTICLE)
    operation = OrderOperation.objects.get(order=order, sequence=10)
    before = shift_start(operation.work_center, timezone.now()) - timedelta(hours=1)
    InspectionRecord.objects.filter(operation=operation).update(inspected_at=before)
    items = [made("A", 10), made("A", 11, sequence=20), made("S-0", 12, sequence=20)]
    got = statuses(assert_same(items, None))
    assert got == {"A-10": OK, "A-20": REFUSED, "S-0-20": OK}


# --- the demo plant: engine blocks, gated inspection at operation 30 ------------------------


@pytest.fixture
def engine_line(demo_plant):
    """EB-0001 made through operation 30 and inspected (passed); assembly (40) running."""
    eb_released()
    supervisor = client_as("sunqi")
    unit_through(supervisor, "EB-0001")
    assert post_inspection(client_as("zhaoliu"), "EB-0001", bore("50.00")).status_code == 201
    for sequence in (10, 20, 30, 40):
        task = Task.objects.get(order__number=EB_ORDER, operation__sequence=sequence)
        if task.status != Task.Status.RUNNING:
            started = event_record(
                data=ev(f"start-{sequence}", "start", sequence, order=EB_ORDER), by=user("sunqi")
            )
            assert started.status == "accepted", started.as_dict()


@pytest.mark.parametrize(
    ("sampling", "sample_every", "expected"),
    [
        # EB-0001 is the 1st unit; the batch's units are the 2nd, 3rd and 4th.
        ("every_nth", 2, {"EB-0101": OK, "EB-0102": REFUSED, "EB-0103": OK}),
        ("every_nth", 3, {"EB-0101": OK, "EB-0102": OK, "EB-0103": REFUSED}),
        ("every_unit", 1, {"EB-0101": REFUSED, "EB-0102": REFUSED, "EB-0103": REFUSED}),
        ("first_article", 1, {"EB-0101": OK, "EB-0102": OK, "EB-0103": OK}),
    ],
)
def test_engine_blocks_through_the_whole_routing_in_one_batch(
    engine_line, sampling, sample_every, expected
):
    plan = InspectionPlan.objects.get(code="IP-EB500-30", active=True)
    if sampling != plan.sampling:
        inspection_plan_new_version(
            plan=plan, sampling=sampling, sample_every=sample_every, by=user("fengjie")
        )
    items = []
    for n, serial in enumerate(expected):
        for sequence in (10, 20, 30, 40):
            items.append(
                ev(
                    f"{serial}-{sequence}",
                    "report",
                    sequence,
                    order=EB_ORDER,
                    quantity_good=1,
                    trace_code=serial,
                    minute=10 * n + sequence // 10,
                )
            )
    items.append(
        ev("EB-0001-40", "report", 40, order=EB_ORDER, quantity_good=1, trace_code="EB-0001")
    )
    got = statuses(assert_same(items, user("sunqi")))
    assert got.pop("EB-0001-40") == OK
    for serial, answer in expected.items():
        for sequence in (10, 20, 30):
            assert got[f"{serial}-{sequence}"] == OK
        assert got[f"{serial}-40"] == answer, serial
