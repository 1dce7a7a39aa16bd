"""The permission policy against what was found possible before it: each reproduction
refused, nothing changed, and the roles the policy names still let through."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from execution.models import MaterialIssue, MaterialRequirement, ProductionEvent, Task
from execution.services.tasks import task_assign
from planning.models import ProductionOrder
from planning.services.orders import production_order_release
from quality.models import InspectionPlan
from resources.models import Equipment, Item, Operator, Site, StockBalance, WorkCenter

pytestmark = pytest.mark.django_db


def user(username: str):
    return get_user_model().objects.get(username=username)


def api(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(user(username))
    return client


def page(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


def on_hand(code: str) -> Decimal:
    return sum((b.on_hand for b in StockBalance.objects.filter(item__code=code)), Decimal(0))


@pytest.fixture
def floor(demo_plant):
    """The first batch released; zhangsan runs casting (10) and machining (20) on it."""
    order = production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    zhangsan = Operator.objects.get(user__username="zhangsan")
    tasks = {t.operation.sequence: t for t in Task.objects.filter(order=order)}
    for sequence in (10, 20):
        task_assign(task=tasks[sequence], operator=zhangsan, by=user("sunqi"))
    return {s: Task.objects.get(pk=t.pk) for s, t in tasks.items()}


# --- 1: master data and the stock ledger ----------------------------------------------------


def test_an_operator_writes_no_master_data_and_no_stock(demo_plant):
    lisi = api("lisi")
    block = Item.objects.get(code="EB-500")
    asm = WorkCenter.objects.get(code="ASM")
    cast = Equipment.objects.get(code="CAST-01")
    before = (block.standard_cost, asm.labour_rate_per_hour, cast.rated_rate, on_hand("BRG-6205"))
    site = Site.objects.get(code="SH-01")

    answers = [
        lisi.patch(f"/api/v1/items/{block.pk}/", {"standard_cost": "0.01"}, format="json"),
        lisi.patch(
            f"/api/v1/work-centers/{asm.pk}/", {"labour_rate_per_hour": "999"}, format="json"
        ),
        lisi.patch(f"/api/v1/equipment/{cast.pk}/", {"rated_rate": "0.0001"}, format="json"),
        lisi.post(
            "/api/v1/sites/", {"code": "X-1", "name": "X", "time_zone": "UTC"}, format="json"
        ),
        lisi.delete(f"/api/v1/sites/{site.pk}/"),
        lisi.post(
            "/api/v1/stock-moves/",
            {"item": "BRG-6205", "location": "WH-RAW", "quantity": "100000", "kind": "adjustment"},
            format="json",
        ),
        lisi.post(
            "/api/v1/stock-moves/",
            {"item": "BRG-6205", "location": "WH-RAW", "quantity": "-100030", "kind": "adjustment"},
            format="json",
        ),
    ]

    assert [a.status_code for a in answers] == [403] * len(answers)
    assert all(a.json()["detail"].startswith("Only") for a in answers)
    block.refresh_from_db(), asm.refresh_from_db(), cast.refresh_from_db()
    after = (block.standard_cost, asm.labour_rate_per_hour, cast.rated_rate, on_hand("BRG-6205"))
    assert after == before
    assert not Site.objects.filter(code="X-1").exists() and Site.objects.filter(pk=site.pk).exists()


def test_each_master_data_role_maintains_its_own_data(demo_plant):
    block = Item.objects.get(code="EB-500")
    cast = Equipment.objects.get(code="CAST-01")
    set_cost = {"standard_cost": "81"}
    assert (
        api("zhouba").patch(f"/api/v1/items/{block.pk}/", set_cost, format="json").status_code
        == 200
    )
    assert (
        api("chenmo").patch(f"/api/v1/items/{block.pk}/", set_cost, format="json").status_code
        == 403
    )
    rate = {"rated_rate": "96"}
    assert (
        api("chenmo").patch(f"/api/v1/equipment/{cast.pk}/", rate, format="json").status_code == 200
    )
    assert (
        api("zhouba").patch(f"/api/v1/equipment/{cast.pk}/", rate, format="json").status_code == 403
    )
    adjust = {
        "item": "BRG-6205",
        "location": "WH-RAW",
        "lot": "B-2026-1015",
        "quantity": "5",
        "kind": "adjustment",
        # Adjustments are signed (docs/signatures.md): the demo password and a reason.
        "password": "closedloop",
        "reason": "Cycle count",
    }
    adjusted = api("zhengshi").post("/api/v1/stock-moves/", adjust, format="json")
    assert adjusted.status_code == 201, adjusted.json()
    assert api("zhaoliu").post("/api/v1/stock-moves/", adjust, format="json").status_code == 403
    rule = {"name": "x"}
    assert (
        api("zhaoliu").post("/api/v1/quality/defect-rules/", rule, format="json").status_code == 403
    )
    assert (
        api("fengjie").post("/api/v1/quality/defect-rules/", rule, format="json").status_code == 400
    )


# --- 4: events on someone else's task ------------------------------------------------------


def _event(task, kind: str, event_id: str, **extra) -> dict:
    return {"event_id": event_id, "kind": kind, "task": task.pk, **extra}


def test_the_supply_chain_director_cannot_start_or_report_an_operators_task(floor):
    task = floor[10]
    director = api("zhengshi")
    start = director.post(
        "/api/v1/execution/events/", _event(task, "start", "scd-1"), format="json"
    )
    report = director.post(
        "/api/v1/execution/events/",
        _event(task, "report", "scd-2", quantity_good="40"),
        format="json",
    )
    assert start.status_code == 403 and report.status_code == 403
    task.refresh_from_db()
    assert task.status == Task.Status.READY and task.quantity_good == 0
    assert not ProductionEvent.objects.filter(task=task).exists()


def test_an_operator_cannot_report_under_another_operators_badge(floor):
    lisi = Operator.objects.get(user__username="lisi")
    task = floor[40]  # assembly: lisi's skill
    Task.objects.filter(pk=task.pk).update(operator=lisi)
    answer = api("lisi").post(
        "/api/v1/execution/events/",
        _event(task, "start", "badge-1", operator="OP-001"),
        format="json",
    )
    assert answer.status_code == 403
    assert "own badge" in answer.json()["detail"]
    assert not ProductionEvent.objects.filter(task=task).exists()


def test_the_operator_the_supervisor_and_the_linked_gateway_record_events(floor):
    events = "/api/v1/execution/events/"
    casting, machining = floor[10], floor[20]  # zhangsan's both
    start = api("zhangsan").post(events, _event(casting, "start", "own-1"), format="json")
    assert start.status_code == 201, start.json()
    pause = _event(casting, "pause", "sup-1", operator="OP-001", reason="tool change")
    assert api("sunqi").post(events, pause, format="json").status_code == 201
    # The gateway belongs to CNC: casting's task is not its business ...
    refused = api("cnc-gateway").post(events, _event(casting, "resume", "gw-1"), format="json")
    assert refused.status_code == 403
    # ... machining's is (which has not started: the state machine answers, not the policy).
    machine = api("cnc-gateway").post(events, _event(machining, "complete", "gw-2"), format="json")
    assert machine.status_code == 409


# --- 5b: material against someone else's order ---------------------------------------------


def test_an_operator_issues_material_only_against_their_own_tasks(floor):
    steel = MaterialRequirement.objects.get(order=floor[10].order, item__code="STEEL-42")
    body = {
        "requirement": steel.pk,
        "quantity": "10",
        "location": "WH-RAW",
        "lot": "S-2026-1101",
        "external_id": "m-1",
    }
    refused = api("lisi").post("/api/v1/execution/issues/", body, format="json")
    assert refused.status_code == 403
    assert not MaterialIssue.objects.exists()
    steel.refresh_from_db()
    assert steel.quantity_issued == 0
    own = api("zhangsan").post(
        "/api/v1/execution/issues/", {**body, "external_id": "m-2"}, format="json"
    )
    assert own.status_code in (201, 202), own.json()


# --- 6: reads the pages restrict ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/sales-orders/",
        "/api/v1/mrp-runs/",
        "/api/v1/planned-orders/",
        "/api/v1/schedule-runs/",
        "/api/v1/capacity/load/",
        "/api/v1/forecasts/",
        "/api/v1/mps/",
    ],
)
def test_an_operator_reads_no_customers_plans_or_schedules(demo_plant, url):
    assert api("zhangsan").get(url).status_code == 403
    assert api("zhouba").get(url).status_code == 200


def test_costs_and_rates_are_left_out_for_roles_that_may_not_read_them(demo_plant):
    items = api("zhangsan").get("/api/v1/items/").json()["results"]
    centers = api("zhangsan").get("/api/v1/work-centers/").json()["results"]
    assert items and "standard_cost" not in items[0]
    assert centers and "labour_rate_per_hour" not in centers[0]
    assert "machine_rate_per_hour" not in centers[0]
    assert "standard_cost" in api("wujiu").get("/api/v1/items/").json()["results"][0]
    assert "labour_rate_per_hour" in api("wujiu").get("/api/v1/work-centers/").json()["results"][0]


# --- 7: what pages show ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "username", ["zhangsan", "zhaoliu", "sunqi", "zhouba", "wujiu", "zhengshi", "fengjie", "chenmo"]
)
def test_the_admin_link_shows_only_where_the_admin_has_something(demo_plant, username):
    client = page(username)
    shows_link = 'href="/admin/"' in client.get("/", follow=True).content.decode()
    admin = client.get("/admin/")
    if shows_link:
        assert admin.status_code == 200
        assert "have permission to view or edit anything" not in admin.content.decode()
    else:
        assert admin.status_code == 302 and "/admin/login/" in admin["Location"]
        assert username in ("zhangsan", "zhaoliu", "wujiu")  # who keeps no master data


def test_the_planner_keeps_items_boms_and_routings_in_the_admin(demo_plant):
    planner = page("zhouba")
    index = planner.get("/admin/").content.decode()
    for url in ("/admin/resources/item/", "/admin/planning/bom/", "/admin/planning/routing/"):
        assert url in index
        assert planner.get(url).status_code == 200
    block = Item.objects.get(code="EB-500")
    change = planner.get(f"/admin/resources/item/{block.pk}/change/").content.decode()
    assert 'name="_save"' in change  # editable, not read-only
    # Inspection plans are the quality supervisor's: the planner reads them, edits nothing.
    plan = InspectionPlan.objects.first()
    read_only = planner.get(f"/admin/quality/inspectionplan/{plan.pk}/change/").content.decode()
    assert 'name="_save"' not in read_only


def test_the_planner_signs_in_on_the_admins_own_login_page(demo_plant):
    from resources.demo import DEMO_PASSWORD

    client = Client()
    answer = client.post(
        "/admin/login/?next=/admin/", {"username": "zhouba", "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 302 and answer["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_quality_supervisor_edits_inspection_plans_in_the_admin(demo_plant):
    plan = InspectionPlan.objects.first()
    quality = page("fengjie")
    change = quality.get(f"/admin/quality/inspectionplan/{plan.pk}/change/")
    assert change.status_code == 200 and 'name="_save"' in change.content.decode()
    # The inspector keeps no master data: the admin is closed to him.
    inspector = page("zhaoliu").get(f"/admin/quality/inspectionplan/{plan.pk}/change/")
    assert inspector.status_code == 302 and "/admin/login/" in inspector["Location"]


def test_maintenance_keeps_equipment_and_calendars_in_the_admin(demo_plant):
    maintenance = page("chenmo")
    for url in (
        "/admin/resources/equipment/add/",
        "/admin/resources/shiftpattern/add/",
        "/admin/resources/holiday/add/",
        "/admin/resources/maintenancewindow/add/",
    ):
        assert maintenance.get(url).status_code == 200, url
    assert maintenance.get("/admin/resources/item/add/").status_code == 403


def test_a_refused_htmx_action_answers_a_message_in_place(demo_plant):
    answer = page("zhangsan").post("/planning/mrp/run/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 403
    assert answer["HX-Retarget"] == "#messages" and answer["HX-Reswap"] == "innerHTML"
    body = answer.content.decode()
    assert "Only a planner may do this." in body and "<html" not in body


def test_a_refused_page_renders_inside_the_layout(demo_plant):
    answer = page("zhangsan").get("/planning/mrp/")
    assert answer.status_code == 403
    body = answer.content.decode()
    assert 'class="topbar"' in body and "Not allowed" in body and "may do this." in body
    missing = page("zhangsan").get("/planning/orders/999999/")
    assert missing.status_code == 404 and 'class="topbar"' in missing.content.decode()


def test_buttons_follow_the_policy(floor):
    order = floor[10].order
    supervisor = page("sunqi").get(f"/planning/orders/{order.pk}/").content.decode()
    director = page("zhengshi").get(f"/planning/orders/{order.pk}/").content.decode()
    assert f"/planning/orders/{order.pk}/cancel/" in supervisor
    assert f"/planning/orders/{order.pk}/cancel/" not in director
    assert "/planning/mrp/run/" in page("zhouba").get("/planning/mrp/").content.decode()
    assert "/planning/mrp/run/" not in page("qianyi").get("/planning/mrp/").content.decode()
