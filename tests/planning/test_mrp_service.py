"""MRP runs on the demo plant: loading, planned orders with pegging, firming, API, page."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from core.roles import Role
from planning.models import MrpRun, PlannedOrder, ProductionOrder, PurchaseRequisition
from planning.selectors.mrp import mrp_input_load
from planning.services.mrp import mrp_run_execute, mrp_run_start, planned_order_firm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def planner_user():
    user = UserFactory(username="mrp-planner")
    user.groups.add(Group.objects.get_or_create(name=Role.PLANNER)[0])
    return user


def test_input_reflects_the_plant(demo_plant):
    from django.utils import timezone

    data = mrp_input_load(start=timezone.localdate())
    demand_ids = {d.id for d in data.demands}
    assert "SO:SO-2026-0001" in demand_ids
    receipts = {r.id: r.quantity for r in data.receipts}
    assert receipts["MO:MO-2026-00001"] == 50 and receipts["MO:MO-2026-00002"] == 450
    assert receipts["PO:PO-2026-0001/1"] == 200
    assert data.on_hand["BRG-6205"] == 30
    # The planned order for 500 blocks has not started: its 500 bearings are allocated.
    assert data.allocations["BRG-6205"] == 500
    assert {(e.parent, e.component) for e in data.bom} >= {
        ("EB-500", "BRG-6205"),
        ("HSG-100", "PP-GF30"),
    }


def test_run_plans_the_bearing_shortfall_with_pegs_and_firms(
    demo_plant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = mrp_run_start(by=planner_user())
    run.refresh_from_db()
    assert run.status == MrpRun.Status.DONE and run.progress == 100
    bearings = PlannedOrder.objects.get(run=run, item__code="BRG-6205")
    # 500 allocated − 30 on hand = 470 short; the 200 on order cover part of it: 270 to buy.
    assert bearings.kind == "purchase" and bearings.quantity == 270
    assert sum(p.quantity for p in bearings.pegs.all()) == bearings.quantity
    kinds = set(run.messages.values_list("kind", flat=True))
    assert {"shortage", "expedite"} <= kinds

    requisition = planned_order_firm(planned_order=bearings)
    assert isinstance(requisition, PurchaseRequisition) and requisition.quantity == 270
    assert planned_order_firm(planned_order=bearings) == requisition  # firming twice: same one
    housing = PlannedOrder.objects.get(run=run, item__code="HSG-100")
    order = planned_order_firm(planned_order=housing)
    assert isinstance(order, ProductionOrder) and order.operations.count() == 2

    again = mrp_run_execute(run_id=run.pk)  # a second delivery of the task
    assert again.planned_orders.count() == run.planned_orders.count()


def test_api_run_and_firm(demo_plant, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(planner_user())
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/mrp-runs/", {}, format="json")
    assert created.status_code == 201, created.content
    run_id = created.json()["id"]
    assert client.get(f"/api/v1/mrp-runs/{run_id}/").json()["status"] == "done"
    planned = client.get(f"/api/v1/planned-orders/?run={run_id}&item__code=BRG-6205").json()[
        "results"
    ]
    assert planned[0]["quantity"] == "270.0000" and planned[0]["pegs"]
    firmed = client.post(f"/api/v1/planned-orders/{planned[0]['id']}/firm/")
    assert firmed.status_code == 200 and firmed.json()["kind"] == "purchase_requisition"
    assert client.get(f"/api/v1/mrp-runs/{run_id}/messages/").status_code == 200
    operator = APIClient()
    operator.force_authenticate(UserFactory(username="op"))
    assert operator.post("/api/v1/mrp-runs/", {}, format="json").status_code == 403


def test_mrp_page_with_drill_down(demo_plant, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(planner_user())
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/planning/mrp/run/", HTTP_HX_REQUEST="true")
    assert started.status_code == 200 and b"MRP run" in started.content
    run = MrpRun.objects.get()
    progress = client.get(f"/planning/mrp/{run.pk}/progress/", HTTP_HX_REQUEST="true")
    assert progress["HX-Redirect"].endswith(f"?run={run.pk}")
    page = client.get(f"/planning/mrp/?run={run.pk}")
    assert b"BRG-6205" in page.content and b"Action messages" in page.content
    bearings = PlannedOrder.objects.get(run=run, item__code="BRG-6205")
    pegs = client.get(f"/planning/mrp/planned/{bearings.pk}/pegs/")
    # Labels, not the engine's codes: "Allocated stock", not "allocation"; 270, not 270.0000.
    assert pegs.status_code == 200 and b"Allocated stock" in pegs.content
    assert b"allocation" not in pegs.content and b"270 pcs" in pegs.content
    demand = client.get(f"/planning/mrp/{run.pk}/demand/SO:SO-2026-0001/")
    assert b"MO-2026-00001" in demand.content and b"MO:MO-2026-00001" not in demand.content
    table = client.get(f"/planning/mrp/?run={run.pk}&item=BRG-6205")
    assert b"Projected on hand" in table.content and b">270<" in table.content
    firm = client.post(f"/planning/mrp/planned/{bearings.pk}/firm/", HTTP_HX_REQUEST="true")
    assert b"Firmed" in firm.content


def test_a_production_order_predicted_late_arrives_when_the_floor_expects_it(demo_plant):
    """The shop floor predicts MO-2026-00001 ends four days after its due date: MRP takes
    its output on that day; on time or not on the floor, on its due date."""
    from datetime import datetime, time, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.utils import timezone

    order = ProductionOrder.objects.get(number="MO-2026-00001")
    late_day = order.due_date + timedelta(days=4)
    predicted = datetime.combine(late_day, time(15, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))
    ProductionOrder.objects.filter(pk=order.pk).update(
        status=ProductionOrder.Status.RELEASED,
        predicted_end=predicted,
        predicted_delay_hours=Decimal("30.5"),
        delay_predicted_at=timezone.now(),
    )

    def receipt_day():
        data = mrp_input_load(start=timezone.localdate())
        return {r.id: r.due for r in data.receipts}["MO:MO-2026-00001"]

    assert receipt_day() == late_day
    # Back on plan (the prediction was cleared): its due date again.
    ProductionOrder.objects.filter(pk=order.pk).update(predicted_delay_hours=None)
    assert receipt_day() == order.due_date
    # A prediction kept from before the order went back to planned does not count.
    ProductionOrder.objects.filter(pk=order.pk).update(
        status=ProductionOrder.Status.PLANNED, predicted_delay_hours=Decimal("30.5")
    )
    assert receipt_day() == order.due_date


def test_a_firmed_order_names_its_run_in_the_readers_language_and_keeps_its_note_free(
    demo_plant, client, django_capture_on_commit_callbacks
):
    user = planner_user()
    with django_capture_on_commit_callbacks(execute=True):
        run = mrp_run_start(by=user)
    housing = PlannedOrder.objects.get(run=run, item__code="HSG-100")
    order = planned_order_firm(planned_order=housing)
    assert order.note == ""  # the note is for what a person writes
    client.force_login(user)
    page = client.get(f"/planning/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    origin = re.search(r'<p class="muted" id="order-origin">([^<]*)</p>', page.content.decode())
    assert origin and f"MRP 运算 {run.pk}" in origin.group(1) and housing.ref in origin.group(1)
    api = APIClient()
    api.force_authenticate(user)
    data = api.get(f"/api/v1/production-orders/{order.pk}/").json()
    assert data["firmed_from"] == {"mrp_run": run.pk, "planned_order": housing.ref}
    assert data["note"] == ""
