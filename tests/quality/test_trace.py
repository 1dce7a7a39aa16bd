"""Trace codes, labels, genealogy, where-used and the trace lookup (page and API).

The multi-level product is built through the real services (orders, material issues,
production events, inspections): a PP-GF30 lot is issued to an HSG-100 order that produces
housing lot H1-T; H1-T is received and issued to the demo's EB-500 order together with a
steel lot and bearings; the EB-500 order produces units, the first one inspected at the CMM
(failed, then corrected to a pass).
"""

import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from core.events import outbox_dispatch_pending
from execution.models import MaterialRequirement
from execution.services.events import event_record
from execution.services.material import material_issue
from planning.models import ProductionOrder
from planning.services.orders import production_order_create, production_order_release
from quality.models import InspectionRecord, TraceCode
from quality.selectors.genealogy import (
    TraceAmbiguous,
    TraceNotFound,
    genealogy,
    genealogy_lots,
    trace_find,
    where_used,
)
from quality.selectors.inspections import inspection_status
from quality.services.records import disposition_record, inspection_correct, inspection_record
from quality.services.trace import (
    trace_code_issue,
    trace_codes_issue_for_order,
    trace_lookup,
)
from resources.models import Item, MaterialLot, SerialUnit, StockLocation
from resources.services.stock import stock_move_record
from tests.factories import machining_by_hand
from tests.quality import SIGNED

# The project's URLs route every quality page and API endpoint.
urlpatterns = [path("", include("config.urls"))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

EB = "MO-2026-00001"


def web(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def api_as():
    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username=username))
        return client

    return make


@dataclass
class Plant:
    eb_order: ProductionOrder
    hsg_order: ProductionOrder
    pp_lot: MaterialLot
    steel_lot: MaterialLot
    h1: MaterialLot
    unit1: SerialUnit
    unit2: SerialUnit
    t0: object
    by: object


def _event(by, **data):
    result = event_record(data=data, by=by)
    assert result.status == "accepted", result.errors
    return result.event


def _requirement(order, item_code) -> MaterialRequirement:
    return MaterialRequirement.objects.get(order=order, item__code=item_code)


_records = itertools.count(1)


def _inspect(*, order, sequence, unit, value, at, corrects=None):
    """A CMM inspection of the bore through quality's inspection service (or its correction)."""
    inspector = get_user_model().objects.get(username="zhaoliu")
    values = {"Bore diameter": value, "No scratches": True}
    external_id = f"test-insp-{next(_records)}"
    if corrects is not None:
        # Signed, and never by whoever recorded the record corrected (separation of duties).
        record, _ = inspection_correct(
            record=corrects,
            external_id=external_id,
            values=values,
            defect_code="BORE-OOT",  # named when the correction fails, dropped when it passes
            inspected_at=at,
            by=get_user_model().objects.get(
                username="zhaoliu" if corrects.inspector.username == "fengjie" else "fengjie"
            ),
            **SIGNED,
        )
        return record
    bore_ok = Decimal("49.9") <= Decimal(value) <= Decimal("50.1")
    record, _ = inspection_record(
        external_id=external_id,
        operation=order.operations.get(sequence=sequence),
        values=values,
        unit=unit,
        defect_code=None if bore_ok else "BORE-OOT",
        gauge="CMM-01",
        inspected_at=at,
        by=inspector,
    )
    return record


@pytest.fixture
def plant(demo_plant, settings) -> Plant:
    # The scenario replays the last ten hours of the floor: no event of it is held as
    # backdated (record plausibility is tested in tests/execution/test_plausibility_*.py).
    settings.EXECUTION_BACKDATE_FROM_SHIFT_START = False
    settings.EXECUTION_BACKDATE_MAX_HOURS = 24
    by = get_user_model().objects.get(username="sunqi")
    wh = StockLocation.objects.get(code="WH-RAW")
    bearings = MaterialLot.objects.get(code="B-2026-1015")
    # Enough bearings for the demo's first batch, so its assembly is not blocked by a shortage.
    stock_move_record(item=bearings.item, location=wh, lot=bearings, quantity=Decimal(20), kind="receipt")  # fmt: skip
    production_order_release(order=ProductionOrder.objects.get(number=EB))
    machining_by_hand(EB)  # the units are followed through machining by hand
    t0 = timezone.now() - timedelta(hours=10)
    at = lambda minutes: (t0 + timedelta(minutes=minutes)).isoformat()  # noqa: E731

    # Level 2 → 1: PP-GF30 resin lot into an HSG-100 order that makes housing lot H1-T.
    hsg = production_order_create(
        item=Item.objects.get(code="HSG-100"),
        quantity=Decimal(100),
        due_date=timezone.localdate() + timedelta(days=3),
        number="MO-T-HSG-1",
        status=ProductionOrder.Status.PLANNED,
    )
    hsg = production_order_release(order=hsg)
    pp_lot = MaterialLot.objects.get(code="P-2026-1105")
    material_issue(
        requirement=_requirement(hsg, "PP-GF30"),
        quantity=Decimal(20),
        location=wh,
        lot=pp_lot,
        external_id="t-pp",
        by=by,
    )
    h = {"order": hsg.number}
    _event(by, event_id="h-s10", kind="start", sequence=10, equipment="INJ-01", operator="OP-003", occurred_at=at(0), **h)  # fmt: skip
    _event(by, event_id="h-r10", kind="report", sequence=10, quantity_good=100, trace_code="H1-T", operator="OP-003", equipment="INJ-01", occurred_at=at(30), **h)  # fmt: skip
    _event(by, event_id="h-c10", kind="complete", sequence=10, occurred_at=at(31), **h)
    _event(by, event_id="h-s20", kind="start", sequence=20, operator="OP-003", occurred_at=at(40), **h)  # fmt: skip
    _event(by, event_id="h-r20", kind="report", sequence=20, quantity_good=100, trace_code="H1-T", occurred_at=at(50), **h)  # fmt: skip
    _event(by, event_id="h-c20", kind="complete", sequence=20, occurred_at=at(51), **h)
    h1 = MaterialLot.objects.get(item__code="HSG-100", code="H1-T")
    stock_move_record(
        item=h1.item, location=wh, lot=h1, quantity=Decimal(100), kind="production",
        external_id="t-h1-in",
    )  # fmt: skip

    # Level 1 → 0: steel, H1-T and bearings into the EB-500 order; units EB-T-0001/0002.
    eb = ProductionOrder.objects.get(number=EB)
    steel = MaterialLot.objects.get(code="S-2026-1101")
    for item_code, lot, qty in (("STEEL-42", steel, 100), ("HSG-100", h1, 50), ("BRG-6205", bearings, 50)):  # fmt: skip
        material_issue(
            requirement=_requirement(eb, item_code),
            quantity=Decimal(qty),
            location=wh,
            lot=lot,
            external_id=f"t-{item_code}",
            by=by,
        )
    e = {"order": EB}
    _event(by, event_id="e-s10", kind="start", sequence=10, equipment="CAST-01", operator="OP-003", occurred_at=at(60), **e)  # fmt: skip
    _event(by, event_id="e-u1-10", kind="report", sequence=10, quantity_good=1, trace_code="EB-T-0001", operator="OP-003", equipment="CAST-01", occurred_at=at(70), **e)  # fmt: skip
    _event(by, event_id="e-u2-10", kind="report", sequence=10, quantity_good=1, trace_code="EB-T-0002", operator="OP-003", equipment="CAST-01", occurred_at=at(75), **e)  # fmt: skip
    _event(by, event_id="e-s20", kind="start", sequence=20, equipment="CNC-01", operator="OP-001", occurred_at=at(80), **e)  # fmt: skip
    _event(by, event_id="e-u1-20", kind="report", sequence=20, quantity_good=1, trace_code="EB-T-0001", operator="OP-001", equipment="CNC-01", occurred_at=at(95), **e)  # fmt: skip
    _event(by, event_id="e-s30", kind="start", sequence=30, equipment="CMM-01", operator="QC-001", occurred_at=at(100), **e)  # fmt: skip
    _event(by, event_id="e-u1-30", kind="report", sequence=30, quantity_good=1, trace_code="EB-T-0001", operator="QC-001", equipment="CMM-01", occurred_at=at(105), **e)  # fmt: skip
    unit1 = SerialUnit.objects.get(item__code="EB-500", serial="EB-T-0001")
    unit2 = SerialUnit.objects.get(item__code="EB-500", serial="EB-T-0002")
    first = _inspect(order=eb, sequence=30, unit=unit1, value="50.12", at=t0 + timedelta(minutes=106))  # fmt: skip
    assert first.result == "fail"
    _inspect(order=eb, sequence=30, unit=unit1, value="50.04", at=t0 + timedelta(minutes=107), corrects=first)  # fmt: skip
    _event(by, event_id="e-s40", kind="start", sequence=40, equipment="ASM-01", operator="OP-002", occurred_at=at(110), **e)  # fmt: skip
    _event(by, event_id="e-u1-40", kind="report", sequence=40, quantity_good=1, trace_code="EB-T-0001", operator="OP-002", equipment="ASM-01", occurred_at=at(120), **e)  # fmt: skip
    return Plant(
        eb_order=eb,
        hsg_order=hsg,
        pp_lot=pp_lot,
        steel_lot=steel,
        h1=h1,
        unit1=unit1,
        unit2=unit2,
        t0=t0,
        by=by,
    )


# --- genealogy and where-used ----------------------------------------------------------


def test_genealogy_of_a_unit_goes_down_to_the_resin_lot(plant):
    g = genealogy(unit=plant.unit1)
    assert (g.kind, g.item, g.identity, g.orders) == ("unit", "EB-500", "EB-T-0001", [EB])
    ops = {op.sequence: op for op in g.operations}
    assert sorted(ops) == [10, 20, 30, 40]
    assert all(op.basis == "own" for op in ops.values())
    assert ops[10].operators == ["OP-003 王五"] and ops[10].equipment == ["CAST-01"]
    assert ops[20].equipment == ["CNC-01"] and ops[40].equipment == ["ASM-01"]
    # The unit's own report is its end; its start is the operation's task start.
    assert ops[10].ended_at == plant.t0 + timedelta(minutes=70)
    assert ops[10].started_at == plant.t0 + timedelta(minutes=60)
    assert ops[10].good == 1

    # Inspection: the latest record of the correction chain, with its measurement.
    [record] = ops[30].inspections
    assert record.result == "pass" and record.corrects == 1
    assert record.measurements[0].value == Decimal("50.04") and record.measurements[0].passed
    # The correction (to a pass) was signed by the quality supervisor, not the inspector.
    assert ops[30].inspections[0].inspector == "冯杰"

    # Materials per operation; the housing lot was made here and is followed down.
    assert [(m.item, m.lot, m.source) for m in ops[10].materials] == [
        ("STEEL-42", "S-2026-1101", "received")
    ]
    at_assembly = {m.item: m for m in ops[40].materials}
    assert at_assembly["BRG-6205"].source == "received"
    housing = at_assembly["HSG-100"]
    assert housing.lot == "H1-T" and housing.source == "produced"
    assert housing.quantity == 50
    h1 = housing.genealogy
    assert h1.orders == ["MO-T-HSG-1"]
    assert [(op.sequence, op.basis) for op in h1.operations] == [(10, "own"), (20, "own")]
    assert h1.operations[0].equipment == ["INJ-01"] and h1.operations[0].good == 100
    [resin] = h1.operations[0].materials
    assert (resin.item, resin.lot, resin.source) == ("PP-GF30", "P-2026-1105", "received")
    assert resin.genealogy is not None and not resin.genealogy.produced
    lots = {(n.item, n.identity) for n in genealogy_lots(g)}
    assert lots == {
        ("STEEL-42", "S-2026-1101"),
        ("HSG-100", "H1-T"),
        ("BRG-6205", "B-2026-1015"),
        ("PP-GF30", "P-2026-1105"),
    }


def test_genealogy_falls_back_to_the_task_where_no_event_names_the_unit(plant):
    g = genealogy(unit=plant.unit2)
    ops = {op.sequence: op for op in g.operations}
    assert ops[10].basis == "own"
    # Machining started (for unit 1) but no event names unit 2 there: the task says what is known.
    assert ops[20].basis == "task"
    assert ops[20].started_at == plant.t0 + timedelta(minutes=80)
    assert ops[20].operators and ops[20].equipment == ["CNC-01"]
    assert ops[20].inspections == []


def test_where_used_of_the_resin_lot_reaches_the_engine_blocks(plant):
    used = where_used(lot=plant.pp_lot)
    assert [(u.order, u.order_item, u.sequence) for u in used.uses] == [
        ("MO-T-HSG-1", "HSG-100", 10)
    ]
    [h1] = used.uses[0].produced
    assert (h1.kind, h1.item, h1.identity) == ("lot", "HSG-100", "H1-T")
    assert [(u.order, u.sequence, u.quantity) for u in h1.uses] == [(EB, 40, Decimal(50))]
    assert {(p.item, p.identity) for p in used.end_units} == {
        ("EB-500", "EB-T-0001"),
        ("EB-500", "EB-T-0002"),
    }
    assert {p.kind for p in used.end_items} == {"unit"}  # H1-T went on: not an end item
    assert used.levels == 2

    steel = where_used(lot=plant.steel_lot)
    assert {p.identity for p in steel.end_units} == {"EB-T-0001", "EB-T-0002"}
    assert where_used(lot=MaterialLot.objects.get(code="H-2026-1120")).uses == []


def test_queries_do_not_grow_with_the_history(plant):
    def fresh():
        return SerialUnit.objects.get(pk=plant.unit1.pk), MaterialLot.objects.get(
            pk=plant.pp_lot.pk
        )

    unit, lot = fresh()
    with CaptureQueriesContext(connection) as before:
        genealogy(unit=unit)
        where_used(lot=lot)
    # More history: five more inspections (one chain), more reports and another unit.
    last = None
    for _ in range(5):
        last = _inspect(order=plant.eb_order, sequence=30, unit=plant.unit1, value="50.01", at=timezone.now(), corrects=last)  # fmt: skip
    for n in range(3):
        _event(plant.by, event_id=f"more-{n}", kind="report", order=EB, sequence=40, quantity_good=1, trace_code="EB-T-0001", equipment="ASM-01")  # fmt: skip
    _event(plant.by, event_id="more-u3", kind="report", order=EB, sequence=10, quantity_good=1, trace_code="EB-T-0003")  # fmt: skip
    unit, lot = fresh()
    with CaptureQueriesContext(connection) as after:
        g = genealogy(unit=unit)
        used = where_used(lot=lot)
    assert len(after) == len(before), [q["sql"] for q in after]
    assert len(before) <= 24  # about 5 per level down and 4 per level up
    assert len([r for op in g.operations for r in op.inspections]) == 2  # the two chains
    assert len(used.end_units) == 3


# --- scrapped, up and down --------------------------------------------------------------
# A unit or lot is scrapped where the gate holds it scrapped: a current inspection record
# (nobody corrected it) with a scrap disposition; a correction ends that scrap. Production
# events that report scrap and no good scrap it too.


def _current_record(*, unit=None, lot=None) -> InspectionRecord:
    return InspectionRecord.objects.get(unit=unit, lot=lot, corrected_by__isnull=True)


def _scrap(record: InspectionRecord) -> None:
    inspector = get_user_model().objects.get(username="zhaoliu")
    disposition, created = disposition_record(
        record=record, decision="scrap", by=inspector, **SIGNED
    )
    assert created and disposition.decision == "scrap"


def _scrapped(lot) -> dict[str, bool]:
    return {p.identity: p.scrapped for p in where_used(lot=lot).end_units}


def _end_units(lot) -> dict[str, tuple[bool, str]]:
    return {p.identity: (p.scrapped, p.scrapped_by) for p in where_used(lot=lot).end_units}


def test_a_unit_scrapped_by_its_inspection_is_scrapped_up_and_down_until_corrected(plant):
    assert _scrapped(plant.steel_lot) == {"EB-T-0001": False, "EB-T-0002": False}

    # Re-measured at the CMM: the pass is corrected to a fail, and the unit is scrapped.
    cmm = plant.eb_order.operations.get(sequence=30)
    passed = _current_record(unit=plant.unit1)
    failed = _inspect(order=plant.eb_order, sequence=30, unit=plant.unit1, value="50.15", at=timezone.now(), corrects=passed)  # fmt: skip
    assert failed.result == "fail"
    _scrap(failed)
    assert inspection_status(operation=cmm, unit=plant.unit1)[0] == "scrapped"  # the gate's view
    assert _scrapped(plant.steel_lot) == {"EB-T-0001": True, "EB-T-0002": False}
    assert _scrapped(plant.pp_lot) == {"EB-T-0001": True, "EB-T-0002": False}  # two levels up
    why = f"inspection record {failed.pk} at operation 30"
    assert _end_units(plant.steel_lot) == {"EB-T-0001": (True, why), "EB-T-0002": (False, "")}
    assert _end_units(plant.pp_lot)["EB-T-0001"] == (True, why)
    g = genealogy(unit=plant.unit1)
    assert (g.scrapped, g.scrapped_by) == (True, why)
    assert not genealogy(unit=plant.unit2).scrapped

    # A correction that passes ends the scrap, for the gate and here alike.
    _inspect(order=plant.eb_order, sequence=30, unit=plant.unit1, value="50.02", at=timezone.now(), corrects=failed)  # fmt: skip
    assert inspection_status(operation=cmm, unit=plant.unit1)[0] == "passed"
    assert _end_units(plant.steel_lot) == {"EB-T-0001": (False, ""), "EB-T-0002": (False, "")}
    g = genealogy(unit=plant.unit1)
    assert (g.scrapped, g.scrapped_by) == (False, "")


def test_a_lot_scrapped_by_its_inspection_is_scrapped_where_used_and_in_the_genealogy(plant):
    inspector = get_user_model().objects.get(username="zhaoliu")
    record, _ = inspection_record(
        external_id="h1-visual",
        operation=plant.hsg_order.operations.get(sequence=20),
        values={"No short shots": False},
        defect_code="SHORT-SHOT",
        lot=plant.h1,
        inspected_at=plant.t0 + timedelta(minutes=52),
        by=inspector,
    )
    assert record.result == "fail"
    _scrap(record)
    why = f"inspection record {record.pk} at operation 20"
    [h1] = where_used(lot=plant.pp_lot).uses[0].produced
    assert (h1.identity, h1.scrapped) == ("H1-T", True)
    assert h1.scrapped_by == why
    # Down from the engine block, the housing lot it consumed says the same.
    ops = {op.sequence: op for op in genealogy(unit=plant.unit1).operations}
    housing = next(m for m in ops[40].materials if m.item == "HSG-100").genealogy
    assert (housing.scrapped, housing.scrapped_by) == (True, why)


def test_a_unit_reported_as_scrap_is_scrapped_by_the_production_report(plant):
    _event(plant.by, event_id="u3-scrap", kind="report", order=EB, sequence=10, quantity_scrap=1, trace_code="EB-T-0003", reason="porosity")  # fmt: skip
    assert _end_units(plant.steel_lot)["EB-T-0003"] == (True, "production report")
    unit3 = SerialUnit.objects.get(item__code="EB-500", serial="EB-T-0003")
    g = genealogy(unit=unit3)
    assert (g.scrapped, g.scrapped_by) == (True, "production report")


def test_scrapped_costs_no_query_per_unit(plant):
    """Where-used reads the scraps of a whole level in one query; the genealogy reads them
    with the inspection records (no query of its own): the counts stay as they are however
    many units are scrapped."""

    def counted() -> tuple[int, int]:
        unit = SerialUnit.objects.get(pk=plant.unit1.pk)
        lot = MaterialLot.objects.get(pk=plant.pp_lot.pk)
        with CaptureQueriesContext(connection) as down:
            genealogy(unit=unit)
        with CaptureQueriesContext(connection) as up:
            where_used(lot=lot)
        return len(down), len(up)

    before = counted()
    _scrap(_inspect(order=plant.eb_order, sequence=30, unit=plant.unit1, value="50.2", at=timezone.now()))  # fmt: skip
    for n in range(3, 8):
        serial = f"EB-T-{n:04d}"
        for sequence in (10, 20, 30):
            _event(plant.by, event_id=f"scrap-{n}-{sequence}", kind="report", order=EB, sequence=sequence, quantity_good=1, trace_code=serial)  # fmt: skip
        unit = SerialUnit.objects.get(item__code="EB-500", serial=serial)
        _scrap(_inspect(order=plant.eb_order, sequence=30, unit=unit, value="50.2", at=timezone.now()))  # fmt: skip
    assert counted() == before
    assert sum(s for s, _ in _end_units(plant.pp_lot).values()) == 6
    # 1 + 5 per level down over two levels made here (the trace lookup's 11 with the code);
    # up: per level the issues, what was made, units and their codes or lots, the scraps.
    assert before == (10, 11)


def test_the_trace_page_and_api_say_why_a_unit_is_scrapped(plant, api_as):
    record = _inspect(order=plant.eb_order, sequence=30, unit=plant.unit1, value="50.2", at=timezone.now())  # fmt: skip
    _scrap(record)
    why = f"inspection record {record.pk} at operation 30"
    client = web("fengjie")
    html = client.get(reverse("quality:trace"), {"code": "S-2026-1101"}).content.decode()
    assert f'<span class="fail">scrapped</span> <span class="muted">by {why}</span>' in html
    html = client.get(reverse("quality:trace"), {"code": "EB-T-0001"}).content.decode()
    assert f'<span class="fail">scrapped</span> by {why}' in html

    api = api_as("zhouba")
    unit = api.get("/api/v1/quality/trace/EB-T-0001/").json()["genealogy"]
    assert (unit["scrapped"], unit["scrapped_by"]) == (True, why)
    used = api.get("/api/v1/quality/where-used/S-2026-1101/").json()
    ends = {e["identity"]: (e["scrapped"], e["scrapped_by"]) for e in used["end_items"]}
    assert ends == {"EB-T-0001": (True, why), "EB-T-0002": (False, "")}


# --- trace codes -----------------------------------------------------------------------


def test_codes_are_issued_when_the_event_is_dispatched_and_issuing_is_idempotent(plant):
    assert not TraceCode.objects.filter(unit=plant.unit1).exists()
    outbox_dispatch_pending()
    code = TraceCode.objects.get(unit=plant.unit1)
    assert (code.code, code.item.code, code.order.number) == ("EB-T-0001", "EB-500", EB)
    assert TraceCode.objects.get(lot=plant.h1).code == "H1-T"
    assert trace_code_issue(unit=plant.unit1).pk == code.pk
    outbox_dispatch_pending()
    assert TraceCode.objects.filter(unit=plant.unit1).count() == 1
    # Received lots got none: they keep their supplier's code.
    assert not TraceCode.objects.filter(lot=plant.pp_lot).exists()
    # The same string for another item's lot: prefixed with the item.
    twin = MaterialLot.objects.create(item=Item.objects.get(code="STEEL-42"), code="EB-T-0001")
    assert trace_code_issue(lot=twin).code == "STEEL-42-EB-T-0001"


def test_codes_issued_for_an_order_name_the_units_the_floor_scans(plant):
    order = plant.eb_order
    prefix = f"EB-500-{timezone.localdate():%y%m}-"  # the item, the plant-local year and month
    codes, created = trace_codes_issue_for_order(order=order, count=3, request_id="r1", by=plant.by)
    assert created and [c.code for c in codes] == [f"{prefix}0000{n}" for n in (1, 2, 3)]
    again, created = trace_codes_issue_for_order(order=order, count=3, request_id="r1")
    assert not created and [c.pk for c in again] == [c.pk for c in codes]
    more, _ = trace_codes_issue_for_order(order=order, count=2, request_id="r2")
    assert [c.code for c in more] == [f"{prefix}00004", f"{prefix}00005"]
    assert TraceCode.objects.filter(order=order).count() == 5
    # A unit scanned on the floor under the next code before it was issued: skipped.
    _event(plant.by, event_id="floor-6", kind="report", order=EB, sequence=10, quantity_good=1, trace_code=f"{prefix}00006")  # fmt: skip
    later, _ = trace_codes_issue_for_order(order=order, count=2, request_id="r5")
    assert [c.code for c in later] == [f"{prefix}00007", f"{prefix}00008"]

    # The operator scans the first label at casting: the unit made for it is the one reported.
    units = SerialUnit.objects.count()
    _event(plant.by, event_id="scan-1", kind="report", order=EB, sequence=10, quantity_good=1, trace_code=codes[0].code)  # fmt: skip
    assert SerialUnit.objects.count() == units
    target = trace_lookup(code=codes[0].code)
    assert target.unit == codes[0].unit and target.trace_code == codes[0]
    assert genealogy(unit=target.unit).operations[0].basis == "own"

    with pytest.raises(Exception, match="between 1 and"):
        trace_codes_issue_for_order(order=order, count=0, request_id="r3")
    untracked = Item.objects.get(code="CH-300")
    untracked.tracking = Item.Tracking.NONE
    untracked.save()
    with pytest.raises(Exception, match="not tracked"):
        trace_codes_issue_for_order(
            order=ProductionOrder.objects.filter(item=untracked).first(), count=1, request_id="r4"
        )


def test_lookup_issues_a_missing_code_and_tells_unknown_and_ambiguous_codes(plant):
    # The event handler has not run: the lookup finds the unit by its scanned code, issues it.
    target = trace_lookup(code="EB-T-0002")
    assert target.unit == plant.unit2 and target.trace_code.code == "EB-T-0002"
    # A received lot has no trace code and gets none; its own code finds it.
    steel = trace_lookup(code="S-2026-1101")
    assert steel.lot == plant.steel_lot and steel.trace_code is None
    with pytest.raises(TraceNotFound):
        trace_find(code="NO-SUCH-CODE")
    MaterialLot.objects.create(item=Item.objects.get(code="BRG-6205"), code="S-2026-1101")
    with pytest.raises(TraceAmbiguous) as exc:
        trace_find(code="S-2026-1101")
    assert exc.value.candidates == ["BRG-6205 lot S-2026-1101", "STEEL-42 lot S-2026-1101"]
    assert trace_find(code="S-2026-1101", item="STEEL-42").lot == plant.steel_lot


# --- pages and API ---------------------------------------------------------------------


def test_trace_page_shows_the_whole_history_and_404_for_an_unknown_code(plant):
    client = web("fengjie")
    page = client.get(reverse("quality:trace"), {"code": "EB-T-0001"})
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("EB-T-0001", "Casting", "CNC-01", "OP-002 李四", "50.04", "PASS", "H1-T", "P-2026-1105", "INJ-01"):  # fmt: skip
        assert text in html, text
    assert "<html" in html

    partial = client.get(reverse("quality:trace"), {"code": "EB-T-0001"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()

    missing = client.get(reverse("quality:trace"), {"code": "NOPE-42"})
    assert missing.status_code == 404 and "No such code" in missing.content.decode()
    assert client.get(reverse("quality:trace")).status_code == 200  # the empty form

    with CaptureQueriesContext(connection) as ctx:
        lot_page = client.get(reverse("quality:trace"), {"code": "P-2026-1105"})
    html = lot_page.content.decode()
    assert lot_page.status_code == 200 and "Where used" in html
    assert "EB-T-0001" in html and "EB-T-0002" in html and "MO-T-HSG-1" in html
    assert len(ctx) < 40


def test_label_renders_a_qr_svg_and_the_sheet_lists_the_order(plant):
    outbox_dispatch_pending()
    trace_codes_issue_for_order(order=plant.eb_order, count=2, request_id="sheet")
    client = web("zhaoliu")
    page = client.get(reverse("quality:label", kwargs={"code": "EB-T-0001"}))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'class="label-code">EB-T-0001<' in html
    assert EB in html and "Engine block" in html
    assert client.get("/quality/labels/NO-SUCH/").status_code == 404

    sheet = client.get(reverse("quality:label_sheet", kwargs={"number": EB}))
    assert sheet.status_code == 200 and sheet.content.decode().count("<svg") == 4
    assert client.get(reverse("quality:label_sheet", kwargs={"number": "NOPE"})).status_code == 404

    printed = client.post(reverse("quality:labels_printed"), {"code": ["EB-T-0001"]})
    assert printed.status_code == 200
    assert TraceCode.objects.get(code="EB-T-0001").printed_at is not None

    # Issuing from the sheet: planners and supervisors only.
    url = reverse("quality:label_sheet_issue", kwargs={"number": EB})
    assert client.post(url, {"count": 2, "request_id": "x"}).status_code == 403
    supervisor = web("sunqi")
    assert supervisor.post(url, {"count": 2, "request_id": "x"}).status_code == 302
    assert supervisor.post(url, {"count": 2, "request_id": "x"}).status_code == 302  # a retry
    assert TraceCode.objects.filter(order=plant.eb_order).count() == 6  # 2 + 2 + 2
    bad = supervisor.post(url, {"count": 0, "request_id": "y"})
    assert bad.status_code == 400 and "between 1 and" in bad.content.decode()

    # Sheets of 100 labels.
    trace_codes_issue_for_order(order=plant.eb_order, count=100, request_id="many")
    sheet_url = reverse("quality:label_sheet", kwargs={"number": EB})
    first_page = client.get(sheet_url).content.decode()
    assert first_page.count("<svg") == 100 and "page 1 of 2" in first_page
    assert client.get(sheet_url, {"page": 2}).content.decode().count("<svg") == 6


def test_trace_api(plant, api_as):
    client = api_as("zhouba")
    body = client.get("/api/v1/quality/trace/EB-T-0001/").json()
    assert body["code"] == "EB-T-0001" and body["kind"] == "unit" and body["where_used"] is None
    ops = body["genealogy"]["operations"]
    assert [op["sequence"] for op in ops] == [10, 20, 30, 40]
    housing = next(m for m in ops[3]["materials"] if m["item"] == "HSG-100")
    assert housing["quantity"] == "50.0000"
    resin = housing["genealogy"]["operations"][0]["materials"][0]
    assert resin["lot"] == "P-2026-1105"

    missing = client.get("/api/v1/quality/trace/NOPE-1/")
    assert missing.status_code == 404 and "No such code" in missing.json()["detail"]

    used = client.get("/api/v1/quality/where-used/P-2026-1105/", {"item": "PP-GF30"}).json()
    assert used["end_units"] == 2
    assert {e["identity"] for e in used["end_items"]} == {"EB-T-0001", "EB-T-0002"}
    assert client.get("/api/v1/quality/where-used/NOPE/").status_code == 404
    lot_body = client.get("/api/v1/quality/trace/H1-T/").json()
    assert lot_body["kind"] == "lot" and lot_body["where_used"]["end_units"] == 2


def test_trace_code_api_is_idempotent_and_for_issuers_only(plant, api_as):
    url = "/api/v1/quality/trace-codes/"
    payload = {"order": EB, "count": 3, "request_id": "api-1"}
    assert api_as("wangwu").post(url, payload, format="json").status_code == 403
    planner = api_as("zhouba")
    first = planner.post(url, payload, format="json")
    again = planner.post(url, payload, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert [c["code"] for c in first.json()] == [c["code"] for c in again.json()]
    assert first.json()[0]["unit"] == first.json()[0]["code"]
    assert first.json()[0]["label_url"].startswith("/quality/labels/")
    assert planner.post(url, {**payload, "order": "NOPE"}, format="json").status_code == 400
    assert planner.post(url, {**payload, "count": 0}, format="json").status_code == 400
    listed = api_as("wangwu").get(url, {"order": EB}).json()
    assert len(listed) == 3


def test_the_trace_table_lists_operators_and_machines_in_the_readers_language():
    op = SimpleNamespace(
        order="MO-2026-00001",
        sequence=10,
        name="Turn",
        status="done",
        status_label="",
        work_center="WC-CNC",
        started_at=None,
        ended_at=None,
        operators=["OP-003 王五", "OP-001 张三"],
        equipment=["CNC-01", "CNC-02"],
        basis="task",
        inspections=[],
        materials=[],
    )
    node = SimpleNamespace(produced=True, operations=[op], kind="unit")
    with translation.override("zh-hans"):
        html = render_to_string("quality/partials/trace_node.html", {"node": node})
    assert "<td>OP-003 王五、OP-001 张三</td>" in html and "<td>CNC-01、CNC-02</td>" in html
    with translation.override("en"):
        html = render_to_string("quality/partials/trace_node.html", {"node": node})
    assert "<td>OP-003 王五, OP-001 张三</td>" in html and "<td>CNC-01, CNC-02</td>" in html
