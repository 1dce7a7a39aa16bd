"""B2MML exports of the demo plant validate against the official V0701 schemas and carry
what the mapping says (docs/b2mml.md)."""

import pytest

from execution.services.alerts import alert_raise
from execution.services.events import events_record
from integration.engines.b2mml import child, children, material_use, q, text, texts
from integration.schemas import B2mmlError
from integration.selectors.b2mml_export import export_bytes
from planning.models import ProductionOrder
from planning.services.orders import production_order_release

from .helpers import valid

pytestmark = pytest.mark.django_db

ORDER = "MO-2026-00001"


@pytest.fixture
def released(demo_plant):
    return production_order_release(order=ProductionOrder.objects.get(number=ORDER))


def test_schedule_of_released_orders_validates(released):
    root = valid(export_bytes("schedule"))
    assert root.tag == q("ProcessOperationsSchedule") and root.get("releaseID") == "0701"
    requests = children(child(root, "DataArea", "OperationsSchedule"), "OperationsRequest")
    numbers = [text(r, "ID") for r in requests]
    assert ORDER in numbers
    assert set(numbers) == set(
        ProductionOrder.objects.filter(status__in=["released", "in_progress"]).values_list(
            "number", flat=True
        )
    )
    request = requests[numbers.index(ORDER)]
    assert text(request, "RequestState") == "Released"
    assert text(request, "OperationsDefinitionID") == "EB-500/1"
    segments = children(request, "SegmentRequirement")
    assert [text(s, "OperationsSegmentID") for s in segments] == ["10", "20", "30", "40"]
    machining = segments[1]
    assert texts(child(machining, "EquipmentRequirement"), "EquipmentID") == ["CNC-01", "CNC-02"]
    assert text(machining, "EquipmentRequirement", "EquipmentClassID") == "CNC"
    assert text(machining, "PersonnelRequirement", "PersonnelClassID") == "CNC"
    casting = {
        text(m, "MaterialDefinitionID"): (material_use(m), text(m, "Quantity", "QuantityString"))
        for m in children(segments[0], "MaterialRequirement")
    }
    assert casting == {"STEEL-42": ("Consumed", "100")} or all(
        use == "Consumed" for use, _ in casting.values()
    )
    produced = [
        m for m in children(segments[-1], "MaterialRequirement") if material_use(m) == "Produced"
    ]
    assert [
        (text(m, "MaterialDefinitionID"), text(m, "Quantity", "QuantityString")) for m in produced
    ] == [("EB-500", "50")]


def test_performance_reports_good_scrap_and_units(released):
    events_record(
        items=[
            {"event_id": "x1", "kind": "start", "order": ORDER, "sequence": 10},
            {
                "event_id": "x2",
                "kind": "report",
                "order": ORDER,
                "sequence": 10,
                "quantity_good": 1,
                "trace_code": "EB-0001",
            },
            {
                "event_id": "x3",
                "kind": "report",
                "order": ORDER,
                "sequence": 10,
                "quantity_scrap": 1,
                "trace_code": "EB-0002",
            },
        ]
    )
    root = valid(export_bytes("performance", numbers=[ORDER]))
    assert root.tag == q("SyncOperationsPerformance")
    (response,) = children(child(root, "DataArea", "OperationsPerformance"), "OperationsResponse")
    assert text(response, "ID") == ORDER and text(response, "OperationsRequestID") == ORDER
    assert text(response, "ResponseState") == "Running"
    casting = children(response, "SegmentResponse")[0]
    assert text(casting, "SegmentState") == "Running"
    assert text(casting, "ActualStartTime")
    actuals = {
        material_use(m): (texts(m, "MaterialSubLotID"), text(m, "Quantity", "QuantityString"))
        for m in children(casting, "MaterialActual")
    }
    assert actuals == {"Produced": (["EB-0001"], "1"), "Scrap": (["EB-0002"], "1")}
    scrap = [m for m in children(casting, "MaterialActual") if material_use(m) == "Scrap"][0]
    assert (
        text(scrap, "MaterialUse") == "Other"
        and child(scrap, "MaterialUse").get("OtherValue") == "Scrap"
    )


def test_alerts_as_work_alerts_validate(released):
    order = ProductionOrder.objects.get(number=ORDER)
    raised = alert_raise(
        alert_type="other",
        severity="urgent",
        description="Spindle overheating",
        order=order,
        operation=order.operations.get(sequence=20),
    )
    root = valid(export_bytes("alerts"))
    assert root.tag == q("SyncWorkAlert")
    alerts = children(child(root, "DataArea"), "WorkAlert")
    assert alerts and all(text(a, "ID") for a in alerts)
    mine = [a for a in alerts if text(a, "ID") == raised.number][0]
    assert text(mine, "Category") == "other" and text(mine, "Priority") == "2"
    props = {
        text(p, "ID"): text(p, "Value", "ValueString") for p in children(mine, "WorkAlertProperty")
    }
    assert props["OperationsRequestID"] == ORDER and props["OperationsSegmentID"] == "20"
    assert props["Status"] == "open" and props["Severity"] == "urgent"


def test_unknown_order_and_nothing_to_export(demo_plant):
    with pytest.raises(B2mmlError) as missing:
        export_bytes("schedule", numbers=["MO-NOPE"])
    assert missing.value.status == 404 and "MO-NOPE" in missing.value.message
