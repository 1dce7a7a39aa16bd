"""B2MML imports: an ERP's schedule creates or updates orders through planning's services, an
MES's performance books events through execution's event service, master data through
resources' services; every import is idempotent, atomic, and acknowledged."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from core.models import AuditEntry
from execution.models import EventApproval, ProductionEvent, Task
from integration.engines.b2mml import child, children, text
from integration.selectors.b2mml_export import export_bytes
from planning.models import OrderOperation, ProductionOrder, Routing, RoutingStep
from planning.services.orders import production_order_create, production_order_release
from resources.models import Equipment, Item, Operator, WorkCenter

from .helpers import root_name, valid

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent / "examples"  # the shared V0701 examples
ORDER = "MO-2026-00001"
XML = "application/xml"


def client(username: str) -> APIClient:
    api = APIClient()
    api.force_authenticate(get_user_model().objects.get(username=username))
    return api


def post(username: str, endpoint: str, data: bytes):
    return client(username).post(f"/api/v1/b2mml/{endpoint}/", data, content_type=XML)


def snapshot() -> tuple:
    return (
        ProductionOrder.objects.count(),
        OrderOperation.objects.count(),
        Task.objects.count(),
        ProductionEvent.objects.count(),
        AuditEntry.objects.count(),
        sorted(ProductionOrder.objects.values_list("number", "quantity", "status", "due_date")),
    )


@pytest.fixture
def released(demo_plant):
    return production_order_release(order=ProductionOrder.objects.get(number=ORDER))


def as_erp(document: bytes, **renames: str) -> bytes:
    """Our export as another system would send it: its own order ids."""
    for ours, theirs in renames.items():
        document = document.replace(ours.encode(), theirs.encode())
    return document


# --- schedule -----------------------------------------------------------------------------


def test_schedule_round_trip_recreates_orders(released):
    exported = export_bytes("schedule", numbers=[ORDER])
    before = ProductionOrder.objects.count()
    response = post("zhouba", "schedule", as_erp(exported, **{ORDER: "ERP-4711"}))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(XML)
    ack = valid(response.content)
    assert root_name(response.content) == "AcknowledgeOperationsSchedule"
    original = child(ack, "DataArea", "Acknowledge", "OriginalApplicationArea")
    assert text(original, "BODID") == text(valid(exported), "ApplicationArea", "BODID")
    assert ProductionOrder.objects.count() == before + 1
    copy = ProductionOrder.objects.get(external_ref="ERP-4711")
    source = ProductionOrder.objects.get(number=ORDER)
    assert (copy.item, copy.quantity, copy.due_date, copy.priority, copy.routing) == (
        source.item,
        source.quantity,
        source.due_date,
        source.priority,
        source.routing,
    )
    assert copy.status == ProductionOrder.Status.RELEASED
    assert list(copy.operations.values_list("sequence", "work_center__code")) == list(
        source.operations.values_list("sequence", "work_center__code")
    )
    assert Task.objects.filter(order=copy).count() == 4
    notes = [
        text(d)
        for d in children(
            child(ack, "DataArea", "Acknowledge", "ResponseCriteria", "ChangeStatus"), "Description"
        )
    ]
    assert any(f"order {copy.number} created (released)" in n for n in notes)


def test_same_schedule_twice_changes_nothing(released):
    document = as_erp(export_bytes("schedule", numbers=[ORDER]), **{ORDER: "ERP-1"})
    assert post("zhouba", "schedule", document).status_code == 200
    before = snapshot()
    again = post("zhouba", "schedule", document)
    assert again.status_code == 200
    assert snapshot() == before
    assert b"unchanged" in again.content


def test_our_own_export_coming_back_changes_nothing(released):
    before = snapshot()
    response = post("zhouba", "schedule", export_bytes("schedule"))
    assert response.status_code == 200, response.content
    assert snapshot() == before


def test_update_before_release_and_conflict_after(demo_plant):
    document = as_erp(export_bytes("schedule", numbers=[ORDER]), **{ORDER: "ERP-9"}).replace(
        b"<RequestState>Forecast</RequestState>", b"<RequestState>Waiting</RequestState>"
    )
    assert post("zhouba", "schedule", document).status_code == 200
    order = ProductionOrder.objects.get(external_ref="ERP-9")
    assert order.status == ProductionOrder.Status.PLANNED
    bigger = re.sub(
        rb"(<MaterialUse>Produced</MaterialUse>\s*<Quantity>\s*<QuantityString>)50<",
        rb"\g<1>60<",
        document,
    )
    assert post("zhouba", "schedule", bigger).status_code == 200
    order.refresh_from_db()
    assert order.quantity == 60
    production_order_release(order=order)
    before = snapshot()
    conflict = post("zhouba", "schedule", document)
    assert conflict.status_code == 409
    valid(conflict.content)
    assert b"quantity can change only while it is draft or planned" in conflict.content
    assert snapshot() == before


def test_shared_schedule_example_imports(demo_plant):
    item = Item.objects.create(code="EB-4CYL-16", name="Engine block 4 cyl.", source="make")
    routing = Routing.objects.create(item=item, version="1")
    for step, center in ((10, "CNC"), (20, "CMM")):
        RoutingStep.objects.create(
            routing=routing,
            step_no=step,
            name=f"Step {step}",
            work_center=WorkCenter.objects.get(code=center),
        )
    data = (EXAMPLES / "schedule-example.xml").read_bytes()
    response = post("zhouba", "schedule", data)
    assert response.status_code == 200, response.content
    order = ProductionOrder.objects.get(external_ref="PO-2025-000123")
    # Unknown OperationsDefinitionID: the item's own routing.
    assert (order.item, order.quantity, order.routing, order.priority) == (item, 500, routing, 2)
    assert order.status == ProductionOrder.Status.RELEASED
    assert post("zhouba", "schedule", data).status_code == 200
    assert ProductionOrder.objects.filter(item=item).count() == 1


def test_invalid_document_answers_400_with_paths_and_writes_nothing(demo_plant):
    before = snapshot()
    response = post("zhouba", "schedule", (EXAMPLES / "invalid-schedule-example.xml").read_bytes())
    assert response.status_code == 400
    confirm = valid(response.content)
    assert root_name(response.content) == "ConfirmBOD"
    notes = [text(n) for n in children(child(confirm, "DataArea", "BOD"), "Note")]
    assert any(
        n.startswith(
            "/ProcessOperationsSchedule/DataArea/OperationsSchedule/OperationsRequest/RequestState:"
        )
        for n in notes
    )
    assert any("SegmentRequirement[2]/EarliestStartTime" in n for n in notes)
    assert snapshot() == before


def test_second_request_failing_rolls_back_the_first(released):
    exported = export_bytes("schedule", numbers=[ORDER])
    first = as_erp(exported, **{ORDER: "ERP-A"})
    start = first.index(b"<OperationsRequest>")
    end = first.index(b"</OperationsRequest>") + len(b"</OperationsRequest>")
    second = (
        first[start:end]
        .replace(b"ERP-A", b"ERP-B")
        .replace(
            b"<MaterialDefinitionID>EB-500</MaterialDefinitionID>",
            b"<MaterialDefinitionID>NO-SUCH-ITEM</MaterialDefinitionID>",
        )
    )
    document = first[:end] + second + first[end:]
    before = snapshot()
    response = post("zhouba", "schedule", document)
    assert response.status_code == 400
    assert b"OperationsRequest[2]" in response.content and b"NO-SUCH-ITEM" in response.content
    assert snapshot() == before


def test_version_06_document_is_refused(demo_plant):
    data = b"""<?xml version="1.0"?>
<ProcessProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600" releaseID="0600">
  <ApplicationArea><CreationDateTime>2026-12-09T10:00:00+08:00</CreationDateTime></ApplicationArea>
  <DataArea><Process/></DataArea>
</ProcessProductionSchedule>"""
    response = post("zhouba", "schedule", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "B2MML V0600" in body and "http://www.mesa.org/xml/B2MML-V0600" in body
    assert "namespace http://www.mesa.org/xml/B2MML." in body


def test_wrong_document_for_endpoint_and_not_xml(demo_plant):
    data = (EXAMPLES / "performance-example.xml").read_bytes()
    response = post("zhouba", "schedule", data)
    assert response.status_code == 400 and b"SyncOperationsPerformance" in response.content
    broken = post("zhouba", "schedule", b"<not-closed>")
    assert broken.status_code == 400 and b"well-formed" in broken.content
    bomb = post("zhouba", "schedule", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    assert bomb.status_code == 400
    as_json = client("zhouba").post("/api/v1/b2mml/schedule/", {"a": 1}, format="json")
    assert as_json.status_code == 415


def test_operator_gets_403(released):
    zhangsan = client("zhangsan")
    data = export_bytes("schedule", numbers=[ORDER])
    assert zhangsan.get("/api/v1/b2mml/schedule/").status_code == 403
    assert zhangsan.post("/api/v1/b2mml/schedule/", data, content_type=XML).status_code == 403
    assert zhangsan.post("/api/v1/b2mml/performance/", data, content_type=XML).status_code == 403
    assert zhangsan.post("/api/v1/b2mml/equipment/", data, content_type=XML).status_code == 403
    assert client("zhouba").get("/api/v1/b2mml/schedule/").status_code == 200


# --- performance --------------------------------------------------------------------------


def performance(order: str, step: int, *, good=(), scrap=(), state="Running") -> bytes:
    def actual(use_xml: str, units, name: str) -> str:
        if not units:
            return ""
        subs = "".join(f"<MaterialSubLotID>{u}</MaterialSubLotID>" for u in units)
        return (
            f"<MaterialActual><ID>{name}</ID><MaterialDefinitionID>EB-500</MaterialDefinitionID>{subs}"
            f"{use_xml}<Quantity><QuantityString>{len(units)}</QuantityString></Quantity></MaterialActual>"
        )

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<SyncOperationsPerformance xmlns="http://www.mesa.org/xml/B2MML" releaseID="0701">
  <ApplicationArea><Sender><LogicalID>MES-1</LogicalID></Sender>
    <CreationDateTime>2026-12-09T10:00:00+08:00</CreationDateTime><BODID>perf-{len(good)}-{len(scrap)}</BODID>
  </ApplicationArea>
  <DataArea><Sync/>
    <OperationsPerformance><ID>PERF-1</ID>
      <OperationsResponse><ID>RESP-1</ID><OperationsRequestID>{order}</OperationsRequestID>
        <SegmentResponse><ID>SR-{step}</ID><OperationsSegmentID>OPSEG-{step:03d}</OperationsSegmentID>
          <SegmentState>{state}</SegmentState>
          <EquipmentActual><ID>EQ</ID><EquipmentID>CAST-01</EquipmentID></EquipmentActual>
          {actual("<MaterialUse>Produced</MaterialUse>", good, "GOOD")}
          {actual('<MaterialUse OtherValue="Scrap">Other</MaterialUse>', scrap, "SCRAP")}
        </SegmentResponse>
      </OperationsResponse>
    </OperationsPerformance>
  </DataArea>
</SyncOperationsPerformance>""".encode()


def test_performance_moves_quantities_exactly_once(released):
    operation = OrderOperation.objects.get(order__number=ORDER, sequence=10)
    document = performance(ORDER, 10, good=["EB-0001", "EB-0002"], scrap=["EB-0003"])
    response = post("sunqi", "performance", document)
    assert response.status_code == 200, response.content
    assert root_name(response.content) == "AcknowledgeOperationsPerformance"
    valid(response.content)
    operation.refresh_from_db()
    assert (operation.quantity_done, operation.quantity_scrap) == (2, 1)
    assert operation.status == OrderOperation.Status.IN_PROGRESS
    events = ProductionEvent.objects.count()
    before = snapshot()
    again = post("sunqi", "performance", document)
    assert again.status_code == 200 and b"nothing new" in again.content
    assert snapshot() == before and ProductionEvent.objects.count() == events
    more = performance(
        ORDER, 10, good=["EB-0001", "EB-0002", "EB-0004"], scrap=["EB-0003"], state="Completed"
    )
    assert post("sunqi", "performance", more).status_code == 200
    operation.refresh_from_db()
    assert (operation.quantity_done, operation.quantity_scrap) == (3, 1)
    assert operation.status == OrderOperation.Status.DONE
    assert ProductionEvent.objects.filter(event_id__startswith="b2mml:").count() == 6


def test_our_performance_export_coming_back_books_nothing(released):
    assert post("sunqi", "performance", performance(ORDER, 10, good=["EB-0001"])).status_code == 200
    events = ProductionEvent.objects.count()
    exported = export_bytes("performance", numbers=[ORDER])
    response = post("sunqi", "performance", exported)
    assert response.status_code == 200, response.content
    assert ProductionEvent.objects.count() == events


def test_performance_refused_event_writes_nothing(released):
    before = snapshot()
    response = post("sunqi", "performance", performance(ORDER, 20, good=["EB-0009"]))
    assert response.status_code in (400, 409)
    valid(response.content)
    assert b"SegmentResponse[1]" in response.content
    assert snapshot() == before


def test_shared_performance_example_names_unknown_order(demo_plant):
    response = post("sunqi", "performance", (EXAMPLES / "performance-example.xml").read_bytes())
    assert response.status_code == 400
    assert b"OperationsResponse[1]/OperationsRequestID" in response.content
    assert b"PO-2025-000123" in response.content


# --- master data --------------------------------------------------------------------------


def masterdata(verb_noun: str, body: str) -> bytes:
    noun = verb_noun.removeprefix("Sync")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{verb_noun} xmlns="http://www.mesa.org/xml/B2MML" releaseID="0701">
  <ApplicationArea><CreationDateTime>2026-12-09T10:00:00+08:00</CreationDateTime><BODID>md-1</BODID></ApplicationArea>
  <DataArea><Sync/><{noun}>{body}</{noun}></DataArea>
</{verb_noun}>""".encode()


def prop(element: str, key: str, value: str) -> str:
    return f"<{element}><ID>{key}</ID><Value><ValueString>{value}</ValueString><DataType>string</DataType></Value></{element}>"


def test_master_data_equipment_material_personnel(demo_plant):
    equipment = masterdata(
        "SyncEquipment",
        "<ID>CNC-03</ID><Description>Third CNC</Description><EquipmentLevel>WorkUnit</EquipmentLevel>"
        + prop("EquipmentProperty", "RatedRate", "12.5")
        + "<EquipmentClassID>CNC</EquipmentClassID>",
    )
    assert post("chenmo", "equipment", equipment).status_code == 200
    machine = Equipment.objects.get(code="CNC-03")
    assert (machine.work_center.code, machine.rated_rate, machine.name) == (
        "CNC",
        Decimal("12.5"),
        "Third CNC",
    )
    material = masterdata(
        "SyncMaterialDefinition",
        "<ID>BOLT-M8</ID><Description>Bolt M8</Description>"
        + prop("MaterialDefinitionProperty", "Tracking", "lot")
        + prop("MaterialDefinitionProperty", "UnitOfMeasure", "pcs"),
    )
    response = post("zhouba", "materials", material)
    assert (
        response.status_code == 200
        and root_name(response.content) == "AcknowledgeMaterialDefinition"
    )
    assert Item.objects.get(code="BOLT-M8").tracking == "lot"
    person = masterdata(
        "SyncPerson",
        "<ID>OP-077</ID><PersonName>Wei Liu</PersonName>"
        + prop("PersonProperty", "HomeWorkCenter", "CNC"),
    )
    response = post("sunqi", "personnel", person)
    assert response.status_code == 200 and root_name(response.content) == "AcknowledgePerson"
    valid(response.content)
    operator = Operator.objects.get(badge="OP-077")
    assert (operator.name, operator.home_work_center.code, operator.user.has_usable_password()) == (
        "Wei Liu",
        "CNC",
        False,
    )
    before = snapshot()
    for endpoint, data, user in (
        ("equipment", equipment, "chenmo"),
        ("materials", material, "zhouba"),
        ("personnel", person, "sunqi"),
    ):
        again = post(user, endpoint, data)
        assert again.status_code == 200 and b"unchanged" in again.content
    assert snapshot() == before


def test_master_data_refusal_names_the_path(demo_plant):
    data = masterdata("SyncEquipment", "<ID>X-1</ID><EquipmentClassID>NOPE</EquipmentClassID>")
    response = post("chenmo", "equipment", data)
    assert response.status_code == 400
    assert (
        b"/SyncEquipment/DataArea/Equipment[1]" in response.content and b"NOPE" in response.content
    )
    assert not Equipment.objects.filter(code="X-1").exists()
    assert post("zhouba", "equipment", data).status_code == 403


def test_document_too_large_is_413(demo_plant, settings):
    settings.B2MML_MAX_BYTES = 100
    response = post("zhouba", "schedule", b"<x>" + b"a" * 200 + b"</x>")
    assert response.status_code == 413


def test_round_trip_into_a_database_without_the_order(demo_plant):
    """Export an order, take it away, import the export: the order is back as it was."""
    source = ProductionOrder.objects.get(number=ORDER)
    exported = export_bytes("schedule", numbers=[ORDER])
    facts = (source.item_id, source.quantity, source.due_date, source.priority, source.routing_id)
    steps = list(source.operations.values_list("sequence", "name", "work_center__code"))
    source.delete()  # a planned order: nothing on the floor holds it yet
    response = post("zhouba", "schedule", exported)
    assert response.status_code == 200, response.content
    again = ProductionOrder.objects.get(external_ref=ORDER)
    assert (
        again.item_id,
        again.quantity,
        again.due_date,
        again.priority,
        again.routing_id,
    ) == facts
    assert list(again.operations.values_list("sequence", "name", "work_center__code")) == steps
    assert again.status == source.status


def test_shared_examples_schedule_then_performance(demo_plant):
    """The shared ERP schedule and MES performance examples: the order is created and
    released; the MES's actuals, days old, are held for a supervisor's approval (backdated),
    and sending them again holds nothing twice."""
    item = Item.objects.create(code="EB-4CYL-16", name="Engine block 4 cyl.", source="make")
    routing = Routing.objects.create(item=item, version="1")
    for step, center in ((10, "CNC"), (20, "CMM")):
        RoutingStep.objects.create(
            routing=routing,
            step_no=step,
            name=f"Step {step}",
            work_center=WorkCenter.objects.get(code=center),
        )
    schedule = (EXAMPLES / "schedule-example.xml").read_bytes()
    assert post("zhouba", "schedule", schedule).status_code == 200
    data = (EXAMPLES / "performance-example.xml").read_bytes()
    response = post("sunqi", "performance", data)
    assert response.status_code == 200, response.content
    valid(response.content)
    assert b"held for a supervisor" in response.content
    held = EventApproval.objects.count()
    assert held >= 1
    before = snapshot()
    assert post("sunqi", "performance", data).status_code == 200
    assert snapshot() == before and EventApproval.objects.count() == held


def lot_performance(order: str, step: int, lots: dict[str, int], scrap: int = 0) -> bytes:
    actuals = "".join(
        f"<MaterialActual><ID>G-{lot}</ID><MaterialDefinitionID>CH-300</MaterialDefinitionID>"
        f"<MaterialLotID>{lot}</MaterialLotID><MaterialUse>Produced</MaterialUse>"
        f"<Quantity><QuantityString>{qty}</QuantityString><UnitOfMeasure>pcs</UnitOfMeasure></Quantity>"
        "</MaterialActual>"
        for lot, qty in lots.items()
    )
    if scrap:
        first = next(iter(lots))
        actuals += (
            f"<MaterialActual><ID>S</ID><MaterialLotID>{first}</MaterialLotID>"
            '<MaterialUse OtherValue="Scrap">Other</MaterialUse>'
            f"<Quantity><QuantityString>{scrap}</QuantityString></Quantity></MaterialActual>"
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ProcessOperationsPerformance xmlns="http://www.mesa.org/xml/B2MML" releaseID="0701">
  <ApplicationArea><CreationDateTime>2026-12-09T10:00:00+08:00</CreationDateTime></ApplicationArea>
  <DataArea><Process/>
    <OperationsPerformance><ID>P</ID>
      <OperationsResponse><ID>{order}</ID>
        <SegmentResponse><ID>S</ID><OperationsSegmentID>{step}</OperationsSegmentID>{actuals}</SegmentResponse>
      </OperationsResponse>
    </OperationsPerformance>
  </DataArea>
</ProcessOperationsPerformance>""".encode()


def test_lot_totals_book_only_what_they_add(demo_plant):
    order = production_order_release(
        order=production_order_create(
            item=Item.objects.get(code="CH-300"),
            quantity=Decimal(40),
            due_date=ProductionOrder.objects.get(number=ORDER).due_date,
            status="planned",
        )
    )
    operation = order.operations.get(sequence=10)
    first = post("sunqi", "performance", lot_performance(order.number, 10, {"L-1": 10}))
    assert first.status_code == 200, first.content
    operation.refresh_from_db()
    assert operation.quantity_done == 10
    second = lot_performance(order.number, 10, {"L-1": 15, "L-2": 5}, scrap=2)
    assert post("sunqi", "performance", second).status_code == 200
    assert post("sunqi", "performance", second).status_code == 200
    operation.refresh_from_db()
    assert (operation.quantity_done, operation.quantity_scrap) == (20, 2)
    lower = post("sunqi", "performance", lot_performance(order.number, 10, {"L-1": 12}))
    assert lower.status_code == 200 and b"booked here already, nothing added" in lower.content
    operation.refresh_from_db()
    assert operation.quantity_done == 20


def test_service_account_of_another_work_center_is_refused(released):
    from core.tokens import service_account_create

    account = service_account_create(username="mes-elsewhere", created_by=None)
    api = APIClient()
    api.force_authenticate(account)
    before = snapshot()
    response = api.post(
        "/api/v1/b2mml/performance/", performance(ORDER, 10, good=["EB-0001"]), content_type=XML
    )
    assert response.status_code == 403
    valid(response.content)
    assert snapshot() == before


def test_schemas_missing_answers_503(demo_plant, settings, tmp_path):
    settings.B2MML_SCHEMA_DIR = tmp_path
    response = post("zhouba", "schedule", (EXAMPLES / "schedule-example.xml").read_bytes())
    assert response.status_code == 503 and b"B2MML_SCHEMA_DIR" in response.content
    assert client("zhouba").get("/api/v1/b2mml/schedule/").status_code == 503


def _schedule_with(old: bytes, new: bytes) -> bytes:
    data = (EXAMPLES / "schedule-example.xml").read_bytes()
    assert old in data
    return data.replace(old, new, 1)


BROKEN = {
    "empty body": b"",
    "not well-formed": b"<ProcessOperationsSchedule><unclosed>",
    "a DTD with entities": b'<!DOCTYPE x [<!ENTITY a "a">]><x>&a;</x>',
    "V0600 namespace": _schedule_with(
        b'xmlns="http://www.mesa.org/xml/B2MML"', b'xmlns="http://www.mesa.org/xml/B2MML-V0600"'
    ),
    "no namespace": _schedule_with(b' xmlns="http://www.mesa.org/xml/B2MML"', b""),
    "another document": (EXAMPLES / "performance-example.xml").read_bytes(),
    "schema-invalid": (EXAMPLES / "invalid-schedule-example.xml").read_bytes(),
    "a bad quantity": _schedule_with(
        b"<QuantityString>500</QuantityString>\n              <DataType>decimal</DataType>\n              <UnitOfMeasure>EA</UnitOfMeasure>\n            </Quantity>\n          </MaterialRequirement>\n        </SegmentRequirement>\n      </OperationsRequest>",
        b"<QuantityString>lots</QuantityString>\n              <DataType>decimal</DataType>\n              <UnitOfMeasure>EA</UnitOfMeasure>\n            </Quantity>\n          </MaterialRequirement>\n        </SegmentRequirement>\n      </OperationsRequest>",
    ),
    "an unknown item": (EXAMPLES / "schedule-example.xml").read_bytes(),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_class_of_broken_document_is_400_and_writes_nothing(demo_plant, case):
    before = snapshot()
    response = post("zhouba", "schedule", BROKEN[case])
    assert response.status_code == 400, response.content
    confirm = valid(response.content)
    assert (
        text(confirm, "DataArea", "Confirm", "ResponseCriteria", "ChangeStatus", "Code")
        == "Rejected"
    )
    assert children(child(confirm, "DataArea", "BOD"), "Note"), "names where"
    assert snapshot() == before


def test_schemas_are_built_once_per_process(demo_plant):
    from integration.schemas import schema

    assert schema() is schema()
