"""A B2MML import that succeeds, and an export, read in the reader's language (Accept-Language):
the acknowledgement's one Description per thing done, and the descriptions an export writes,
with order numbers, codes and quantities as they are and the Chinese full-width colon after a
reference. English stays English."""

from decimal import Decimal

import pytest

from integration.engines.b2mml import child, children, text
from integration.selectors.b2mml_export import export_bytes
from planning.models import ProductionOrder, Routing, RoutingStep
from planning.services.orders import production_order_create, production_order_release
from resources.models import Item, WorkCenter

from .helpers import root_name, valid
from .test_error_texts import EN, EXAMPLES, XML, ZH, client
from .test_import import ORDER, as_erp, lot_performance, masterdata, performance, prop, snapshot

pytestmark = pytest.mark.django_db


def post(username: str, endpoint: str, data: bytes, headers: dict):
    return client(username).post(f"/api/v1/b2mml/{endpoint}/", data, content_type=XML, **headers)


def notes(response) -> list[str]:
    """The acknowledgement's Description lines, after the schemas accepted it."""
    assert response.status_code == 200, response.content
    assert root_name(response.content).startswith("Acknowledge")
    ack = valid(response.content)
    status = child(ack, "DataArea", "Acknowledge", "ResponseCriteria", "ChangeStatus")
    return [text(d) for d in children(status, "Description")]


@pytest.fixture
def released(demo_plant):
    return production_order_release(order=ProductionOrder.objects.get(number=ORDER))


def test_a_schedule_import_is_acknowledged_in_chinese_and_in_english(released):
    document = as_erp(export_bytes("schedule", numbers=[ORDER]), **{ORDER: "ERP-4711"})
    created = notes(post("zhouba", "schedule", document, ZH))
    order = ProductionOrder.objects.get(external_ref="ERP-4711")
    assert created == [f"ERP-4711：已创建生产工单 {order.number}（已下达）。"]
    assert notes(post("zhouba", "schedule", document, ZH)) == [
        f"ERP-4711：生产工单 {order.number} 未变更。"
    ]
    assert notes(post("zhouba", "schedule", document, EN)) == [
        f"ERP-4711: order {order.number} unchanged."
    ]
    other = as_erp(export_bytes("schedule", numbers=[ORDER]), **{ORDER: "ERP-4712"})
    assert notes(post("zhouba", "schedule", other, EN)) == [
        f"ERP-4712: order {ProductionOrder.objects.get(external_ref='ERP-4712').number} "
        "created (released)."
    ]


def test_an_order_changed_and_planned_is_acknowledged_with_its_fields_in_chinese(demo_plant):
    # The demo order is planned (Waiting); sent as Forecast, it comes back as a new draft.
    draft = as_erp(export_bytes("schedule", numbers=[ORDER]), **{ORDER: "ERP-9"}).replace(
        b"<RequestState>Waiting</RequestState>", b"<RequestState>Forecast</RequestState>"
    )
    assert b"<RequestState>Forecast</RequestState>" in draft
    created = notes(post("zhouba", "schedule", draft, ZH))
    order = ProductionOrder.objects.get(external_ref="ERP-9")
    assert created == [f"ERP-9：已创建生产工单 {order.number}（草稿）。"]
    waiting = draft.replace(
        b"<RequestState>Forecast</RequestState>", b"<RequestState>Waiting</RequestState>"
    ).replace(b"<Priority>", b"<Priority>1", 1)
    assert notes(post("zhouba", "schedule", waiting, ZH)) == [
        f"ERP-9：生产工单 {order.number}：优先级已更改；现为已计划。"
    ]
    cancelled = waiting.replace(
        b"<RequestState>Waiting</RequestState>", b"<RequestState>Cancelled</RequestState>"
    ).replace(b"ERP-9", b"ERP-10")
    assert notes(post("zhouba", "schedule", cancelled, ZH)) == [
        "ERP-10：RequestState 为 Cancelled，且本系统中没有该工单；无需处理。"
    ]


def test_actuals_are_acknowledged_in_chinese(released):
    document = performance(ORDER, 10, good=["EB-0001", "EB-0002"], scrap=["EB-0003"])
    assert notes(post("sunqi", "performance", document, ZH)) == [f"{ORDER}/10：已记入 4 个事件。"]
    before = snapshot()
    assert notes(post("sunqi", "performance", document, ZH)) == [f"{ORDER}/10：没有新内容。"]
    assert notes(post("sunqi", "performance", document, EN)) == [f"{ORDER}/10: nothing new."]
    assert snapshot() == before


def test_a_total_below_what_is_booked_is_acknowledged_in_chinese(demo_plant):
    order = production_order_release(
        order=production_order_create(
            item=Item.objects.get(code="CH-300"),
            quantity=Decimal(40),
            due_date=ProductionOrder.objects.get(number=ORDER).due_date,
            status="planned",
        )
    )
    first = lot_performance(order.number, 10, {"L-1": 15}, scrap=2)
    assert notes(post("sunqi", "performance", first, EN)) == [
        f"{order.number}/10: 2 events booked."
    ]
    lower = lot_performance(order.number, 10, {"L-1": 12})
    assert notes(post("sunqi", "performance", lower, ZH)) == [
        f"{order.number}/10：报告 L-1 良品 12、报废 0；此处已记入良品 15、报废 2，"
        "未增加任何数量（数量更正请在现场进行）。",
        f"{order.number}/10：没有新内容。",
    ]


def test_an_event_held_for_approval_is_acknowledged_in_chinese(demo_plant):
    """The shared MES example reports actuals days old: backdated, held for a supervisor."""
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
    created = notes(post("zhouba", "schedule", schedule, ZH))
    number = ProductionOrder.objects.get(external_ref="PO-2025-000123").number
    assert created == [f"PO-2025-000123：已创建生产工单 {number}（已下达）。"]
    data = (EXAMPLES / "performance-example.xml").read_bytes()
    held = notes(post("sunqi", "performance", data, ZH))
    assert held[0] == f"{number}/10：开工事件待班组长审批，原因：补录（时间早于当前班次）。"
    assert held[-1] == (
        f"{number}：工序 10 之后的工序在等待待审批的事件；审批决定后请重新发送该文档。"
    )
    english = notes(post("sunqi", "performance", data, EN))
    assert english[0] == f"{number}/10: start held for a supervisor's approval (backdated)."


def test_master_data_is_acknowledged_in_chinese(demo_plant):
    def equipment(model: str) -> bytes:
        return masterdata(
            "SyncEquipment",
            "<ID>CNC-03</ID><Description>Third CNC</Description>"
            + prop("EquipmentProperty", "Model", model)
            + "<EquipmentClassID>CNC</EquipmentClassID>",
        )

    assert notes(post("chenmo", "equipment", equipment("DMG 1"), ZH)) == ["已创建设备 CNC-03。"]
    assert notes(post("chenmo", "equipment", equipment("DMG 2"), ZH)) == [
        "设备 CNC-03：型号已更改。"
    ]
    assert notes(post("chenmo", "equipment", equipment("DMG 2"), ZH)) == ["设备 CNC-03 未变更。"]
    assert notes(post("chenmo", "equipment", equipment("DMG 3"), EN)) == [
        "equipment CNC-03: model changed."
    ]
    item = masterdata(
        "SyncMaterialDefinition",
        "<ID>BOLT-M8</ID><Description>Bolt M8</Description>"
        + prop("MaterialDefinitionProperty", "UnitOfMeasure", "pcs"),
    )
    assert notes(post("zhouba", "materials", item, ZH)) == ["已创建物料 BOLT-M8。"]
    person = masterdata("SyncPerson", "<ID>OP-077</ID><PersonName>Wei Liu</PersonName>")
    assert notes(post("sunqi", "personnel", person, ZH)) == ["已创建操作工 OP-077。"]
    assert notes(post("sunqi", "personnel", person, EN)) == ["operator OP-077 unchanged."]


def test_an_export_describes_in_the_readers_language(released):
    schedule = valid(client("zhouba").get("/api/v1/b2mml/schedule/", **ZH).content)
    plan = child(schedule, "DataArea", "OperationsSchedule")
    request = child(plan, "OperationsRequest")
    assert text(plan, "Description") == "已下达的生产工单"
    assert text(request, "Description").startswith(f"{ORDER}：50 pcs EB-500 ")
    skills = [
        text(segment, "PersonnelRequirement", "Description")
        for segment in children(request, "SegmentRequirement")
        if child(segment, "PersonnelRequirement") is not None
    ]
    assert skills and all(s.endswith("及以上等级") and "，" in s for s in skills), skills
    performance_zh = valid(client("zhouba").get("/api/v1/b2mml/performance/", **ZH).content)
    actuals = child(performance_zh, "DataArea", "OperationsPerformance")
    assert text(actuals, "Description") == "生产工单的进度与实绩"
    assert text(child(actuals, "OperationsResponse"), "Description") == (
        f"{ORDER}：共 50，良品 0，报废 0"
    )
    performance_en = valid(client("zhouba").get("/api/v1/b2mml/performance/", **EN).content)
    actuals = child(performance_en, "DataArea", "OperationsPerformance")
    assert text(actuals, "Description") == "Progress and actuals of production orders"
    assert text(child(actuals, "OperationsResponse"), "Description") == (
        f"{ORDER}: 0 good, 0 scrap of 50"
    )
