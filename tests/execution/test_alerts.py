"""The exception loop: the three reference scenarios, escalation, roles, idempotent raise."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from core.models import Notification
from execution.models import Task, WorkAlert
from execution.services.alerts import alerts_escalate
from planning.models import (
    OrderOperation,
    ProductionOrder,
    Routing,
    RoutingStep,
    SalesOrder,
    ScheduleRun,
)
from planning.services.orders import production_order_create, production_order_release
from planning.services.schedule import schedule_run_execute
from resources.models import Equipment, Item, StockLocation
from resources.services.stock import stock_move_record
from tests.errors import error_fields

pytestmark = pytest.mark.django_db


def post(client, body):
    return client.post("/api/v1/execution/events/", body, format="json")


@pytest.fixture
def machining_on_cnc01(demo_plant, api_as):
    """MO-2026-00001 with its bearings in stock (no shortage): one block cast, machining
    running on CNC-01 (zhangsan)."""
    bearing = Item.objects.get(code="BRG-6205")
    stock_move_record(
        item=bearing,
        location=StockLocation.objects.get(code="WH-RAW"),
        lot=bearing.lots.get(),
        quantity=Decimal(20),
        kind="receipt",
    )
    released = production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    assert not WorkAlert.objects.exists()
    wangwu, zhangsan = api_as("wangwu"), api_as("zhangsan")
    base = {"order": "MO-2026-00001"}
    assert (
        post(wangwu, {**base, "event_id": "c1", "kind": "start", "sequence": 10}).status_code == 201
    )
    assert (
        post(
            wangwu,
            {
                **base,
                "event_id": "c2",
                "kind": "report",
                "sequence": 10,
                "quantity_good": 1,
                "trace_code": "EB-0001",
            },
        ).status_code
        == 201
    )
    started = post(
        zhangsan, {**base, "event_id": "m1", "kind": "start", "sequence": 20, "equipment": "CNC-01"}
    )
    assert started.status_code == 201, started.content
    return released


# A backup's free minutes are counted over the next seven days: the reference scenario is an
# ordinary working week (a holiday in it leaves CNC-02 too full to take the blocks).
@pytest.mark.clock("2026-12-09T10:00:00+08:00")
def test_scenario_1_cnc_fault_backup_and_delay_drops_to_one_hour(
    machining_on_cnc01, api_as, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        raised = api_as("zhangsan").post(
            "/api/v1/execution/exceptions/",
            {
                "alert_type": "equipment_fault",
                "severity": "urgent",
                "equipment": "CNC-01",
                "order": "MO-2026-00001",
                "sequence": 20,
                "external_id": "fault-1",
                "description": "Spindle overload alarm",
                "expected_downtime_minutes": 240,
            },
            format="json",
        )
    assert raised.status_code == 201, raised.content
    alert = raised.json()
    assert alert["handler"] == "sunqi" and alert["handler_role"] == "supervisor"
    deadline = timezone.datetime.fromisoformat(alert["ack_deadline"])
    assert abs((deadline - timezone.now()).total_seconds() - 3600) < 60
    assert Equipment.objects.get(code="CNC-01").status == "fault"
    machining = Task.objects.get(order=machining_on_cnc01, operation__sequence=20)
    assert machining.status == "blocked"
    backups = alert["impact"]["backups"]
    assert (
        backups[0]["equipment"] == "CNC-02"
        and backups[0]["free_minutes"] > 0
        and backups[0]["enough"]
    )
    mine = next(r for r in alert["impact"]["orders"] if r["order"] == "MO-2026-00001")
    assert mine["delay_minutes"] == 240 and mine["sales_order"] == "SO-2026-0001"
    assert SalesOrder.objects.get(number="SO-2026-0001").expected_delay_minutes == 240
    assert Notification.objects.filter(
        user__username="sunqi",
        url=f"/execution/exceptions/{alert['id']}/",
        link_text=alert["number"],
    ).exists()
    assert any("EX-" in m.subject for m in mail.outbox)

    sunqi = api_as("sunqi")
    assert (
        api_as("lisi").post(f"/api/v1/execution/exceptions/{alert['id']}/acknowledge/").status_code
        == 403
    )
    acked = sunqi.post(f"/api/v1/execution/exceptions/{alert['id']}/acknowledge/")
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert acked.json()["steps"][-1]["text"] == "in time"

    moved = sunqi.post(
        f"/api/v1/execution/exceptions/{alert['id']}/move-to-backup/",
        {"backup": "CNC-02"},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    mine = next(r for r in moved.json()["impact"]["orders"] if r["order"] == "MO-2026-00001")
    assert mine["delay_minutes"] == 60  # setup 30 + transfer 30 on a free backup
    assert SalesOrder.objects.get(number="SO-2026-0001").expected_delay_minutes == 60
    machining.refresh_from_db()
    assert machining.equipment.code == "CNC-02" and machining.status == "paused"
    assert ScheduleRun.objects.exists()  # rescheduling queued

    resolved = sunqi.post(
        f"/api/v1/execution/exceptions/{alert['id']}/resolve/",
        {"cause": "Worn spindle bearing", "action": "Bearing replaced, spindle run-in"},
        format="json",
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    # Back in service, with nothing running on it (machining moved to CNC-02): idle.
    assert Equipment.objects.get(code="CNC-01").status == "idle"
    assert SalesOrder.objects.get(number="SO-2026-0001").expected_delay_minutes == 0
    kinds = [s["kind"] for s in resolved.json()["steps"]]
    assert (
        kinds[:2] == ["raised", "notified"] and "acknowledged" in kinds and kinds[-1] == "resolved"
    )
    verified = api_as("qianyi").post(f"/api/v1/execution/exceptions/{alert['id']}/verify/")
    assert verified.status_code == 200 and verified.json()["status"] == "verified"


def test_scenario_2_bearing_shortage_severe_requisition_and_complete_orders_first(demo_plant):
    # Another order for the same assembly station whose material is complete, due later.
    gearbox = Item.objects.create(code="GB-10", name="Gearbox cover", source="make")
    routing = Routing.objects.create(item=gearbox, version="1")
    step = RoutingStep.objects.create(
        routing=routing,
        step_no=10,
        name="Assembly",
        work_center=Equipment.objects.get(code="ASM-01").work_center,
        setup_minutes=10,
        run_minutes_per_unit=Decimal(5),
    )
    step.eligible_equipment.add(Equipment.objects.get(code="ASM-01"))
    other = production_order_create(
        item=gearbox,
        quantity=Decimal(40),
        due_date=timezone.localdate() + timedelta(days=20),
        priority=8,
        status="planned",
    )
    production_order_release(order=other)

    blocks = production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    alert = WorkAlert.objects.get(alert_type="material_shortage")
    assert alert.severity == "severe" and alert.handler_role == "supply_chain_director"
    assert alert.raised_via == "rule" and alert.rule_name == "shortage detection"
    assert alert.requisition.urgent and alert.requisition.quantity == 20
    assembly = Task.objects.get(order=blocks, operation__sequence=40)
    assert assembly.status == "blocked"
    blocked_until = OrderOperation.objects.get(pk=assembly.operation_id).blocked_until
    assert blocked_until > timezone.now() + timedelta(days=2)
    assert SalesOrder.objects.get(number="SO-2026-0001").expected_delay_minutes > 0

    run = schedule_run_execute(
        run_id=ScheduleRun.objects.create(time_limit_seconds=2).pk, workers=2
    )
    assert run.status == "done", run.error
    eb_assembly = OrderOperation.objects.get(order=blocks, sequence=40)
    gb_assembly = OrderOperation.objects.get(order=other, sequence=10)
    assert eb_assembly.planned_start >= blocked_until
    assert gb_assembly.planned_start < eb_assembly.planned_start  # complete material goes first


def test_scenario_3_quality_exception_routed_to_plant_manager(demo_plant, api_as):
    raised = api_as("wangwu").post(
        "/api/v1/execution/exceptions/",
        {
            "alert_type": "quality",
            "severity": "severe",
            "equipment": "INJ-01",
            "description": "Short shots: defect rate 7.5 % over the last 40 housings",
            "external_id": "q-1",
        },
        format="json",
    )
    assert raised.status_code == 201
    body = raised.json()
    assert body["handler_role"] == "plant_manager" and body["status"] == "open"
    assert Notification.objects.filter(user__username="qianyi").exists()
    assert (
        Equipment.objects.get(code="INJ-01").status != "fault"
    )  # a quality problem stops no machine


def test_repeated_raise_with_same_external_id_creates_nothing(demo_plant, api_as):
    client = api_as("sunqi")
    body = {
        "alert_type": "other",
        "severity": "general",
        "description": "Forklift blocking aisle 3",
        "external_id": "ext-7",
    }
    first = client.post("/api/v1/execution/exceptions/", body, format="json")
    again = client.post("/api/v1/execution/exceptions/", body, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and WorkAlert.objects.count() == 1
    bad = client.post(
        "/api/v1/execution/exceptions/",
        {"alert_type": "equipment_fault", "severity": "urgent", "description": "x"},
        format="json",
    )
    assert bad.status_code == 400 and "equipment" in error_fields(bad)


def test_escalation_when_the_deadline_passes(demo_plant, api_as):
    raised = (
        api_as("zhangsan")
        .post(
            "/api/v1/execution/exceptions/",
            {
                "alert_type": "equipment_fault",
                "severity": "urgent",
                "equipment": "CAST-01",
                "description": "Hydraulic leak",
            },
            format="json",
        )
        .json()
    )
    alert = WorkAlert.objects.get(pk=raised["id"])
    assert alerts_escalate(now=alert.ack_deadline - timedelta(minutes=1)) == 0
    later = alert.ack_deadline + timedelta(minutes=1)
    assert alerts_escalate(now=later) == 1
    alert.refresh_from_db()
    assert alert.handler_role == "plant_manager" and alert.escalation_level == 1
    assert alert.ack_deadline == later + timedelta(minutes=60)
    assert Notification.objects.filter(
        user__username="qianyi", url=f"/execution/exceptions/{alert.pk}/", link_text=alert.number
    ).exists()
    assert alerts_escalate(now=later) == 0  # running it twice changes nothing
    assert (
        api_as("sunqi").post(f"/api/v1/execution/exceptions/{alert.pk}/acknowledge/").status_code
        == 403
    )
    assert (
        api_as("qianyi").post(f"/api/v1/execution/exceptions/{alert.pk}/acknowledge/").status_code
        == 200
    )
    assert (
        get_user_model().objects.get(username="qianyi").groups.filter(name="plant_manager").exists()
    )


def test_open_exceptions_are_lag_reasons_on_the_board(released):
    from execution.selectors.progress import lag_reason_providers

    alert = WorkAlert.objects.get(alert_type="material_shortage")  # the bearing shortage
    reasons = {}
    for provider in lag_reason_providers():
        for order_id, rows in provider(order_ids=[released.pk]).items():
            reasons.setdefault(order_id, []).extend(rows)
    texts = [r["text"] if isinstance(r, dict) else r.text for r in reasons[released.pk]]
    assert any(alert.number in t for t in texts)


@pytest.mark.clock("2026-12-09T10:00:00+08:00")
@pytest.mark.parametrize("reported", [None, "idle"])
def test_a_resolved_fault_leaves_the_machine_running_its_work_or_as_it_reported(
    machining_on_cnc01, api_as, reported
):
    """Machining was running on CNC-01 when it faulted (blocked, fixed in place, not moved):
    resolved, the task waits paused for its operator and the machine is idle, not "running".
    Where the machine has reported a state of its own since the fault (its controller,
    through devices), resolving leaves that state alone."""
    from execution.services.alerts import alert_raise

    cnc01 = Equipment.objects.get(code="CNC-01")
    alert = alert_raise(
        alert_type="equipment_fault", severity="urgent", description="Coolant", equipment=cnc01
    )
    assert Equipment.objects.get(code="CNC-01").status == "fault"
    if reported:
        Equipment.objects.filter(pk=cnc01.pk).update(status=reported)
    resolved = api_as("sunqi").post(
        f"/api/v1/execution/exceptions/{alert.pk}/resolve/",
        {"cause": "Coolant low", "action": "Topped up"},
        format="json",
    )
    assert resolved.status_code == 200, resolved.content
    assert Equipment.objects.get(code="CNC-01").status == (reported or "idle")
    machining = Task.objects.get(order__number="MO-2026-00001", operation__sequence=20)
    assert machining.status == "paused"
