"""Planning API: demand, MPS, production orders with actions, capacity load and check."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from core.roles import Role
from planning.models import ProductionOrder, Routing, RoutingStep
from planning.services.orders import production_order_create
from resources.models import Item
from tests.errors import error_fields
from tests.factories import EquipmentFactory, ItemFactory, ShiftFactory, UserFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 30)


def client_for(role: str | None) -> APIClient:
    user = UserFactory(username=f"u-{role}")
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def planner():
    return client_for(Role.PLANNER)


@pytest.fixture
def block():
    """A product machined on one machine rated 95 units/day (5.9375/h over 2 × 8 h)."""
    item = ItemFactory(code="BLOCK", source=Item.Source.MAKE)
    machine = EquipmentFactory(code="MILL-1", rated_rate=Decimal("5.9375"))
    for name, start, end in (("Early", 6, 14), ("Late", 14, 22)):
        ShiftFactory(
            work_center=machine.work_center,
            name=name,
            weekdays="1,2,3,4,5,6",
            start_time=time(start),
            end_time=time(end),
        )
    routing = Routing.objects.create(item=item, version="1")
    step = RoutingStep.objects.create(
        routing=routing,
        step_no=10,
        name="Milling",
        work_center=machine.work_center,
        setup_minutes=0,
        run_minutes_per_unit=Decimal("10.1053"),
    )
    step.eligible_equipment.add(machine)
    return item


def test_order_create_and_actions(planner, block):
    response = planner.post(
        "/api/v1/production-orders/",
        {"item": "BLOCK", "quantity": "500", "due_date": "2026-12-07", "priority": 2},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["operations"][0]["eligible_equipment"] == ["MILL-1"]
    order_id = body["id"]
    assert planner.post(f"/api/v1/production-orders/{order_id}/plan/").json()["status"] == "planned"
    assert (
        planner.post(f"/api/v1/production-orders/{order_id}/release/").json()["status"]
        == "released"
    )
    conflict = planner.post(f"/api/v1/production-orders/{order_id}/close/")
    assert conflict.status_code == 409
    assert "is released; it cannot become closed" in conflict.json()["detail"]
    listing = planner.get("/api/v1/production-orders/?status=released&item=BLOCK").json()
    assert [o["number"] for o in listing["results"]] == [body["number"]]


def test_order_bad_input_names_the_field(planner, block):
    cases = [
        ({"item": "NOPE", "quantity": "1", "due_date": "2026-12-07"}, "item"),
        ({"item": "BLOCK", "quantity": "-1", "due_date": "2026-12-07"}, "quantity"),
        ({"item": "BLOCK", "quantity": "abc", "due_date": "2026-12-07"}, "quantity"),
        ({"item": "BLOCK", "quantity": "1", "due_date": "tomorrow"}, "due_date"),
        ({"item": "BLOCK", "quantity": "1", "due_date": "2026-12-07", "priority": 12}, "priority"),
    ]
    for body, field in cases:
        response = planner.post("/api/v1/production-orders/", body, format="json")
        assert response.status_code == 400 and field in error_fields(response), response.content
    assert not ProductionOrder.objects.exists()


def test_roles_that_may_not_plan_get_403(block):
    operator = client_for(Role.OPERATOR)
    response = operator.post(
        "/api/v1/production-orders/",
        {"item": "BLOCK", "quantity": "5", "due_date": "2026-12-07"},
        format="json",
    )
    assert response.status_code == 403
    assert operator.get("/api/v1/production-orders/").status_code == 200


def test_plan_check_caps_100_per_day_to_95_and_lists_overloads(planner, block):
    # The machine is already 90 % loaded every working day of the first week.
    other = production_order_create(
        item=block, quantity=Decimal(86 * 6), due_date=MON + timedelta(days=7)
    )
    op = other.operations.get()
    op.planned_start = datetime.combine(MON, time(6), tzinfo=TZ)
    op.planned_end = datetime.combine(MON + timedelta(days=5), time(22), tzinfo=TZ)
    op.save()
    response = planner.post(
        "/api/v1/capacity/check/",
        {"item": "BLOCK", "quantity": "500", "requested_per_day": "100", "start_day": str(MON)},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["capped"] is True
    assert Decimal(body["capped_per_day"]) == 95
    assert body["requested_finish"] == "2026-12-04"  # 5 working days at 100
    assert body["capped_finish"] == "2026-12-05"  # 6 working days at 95
    assert body["bottleneck"]["equipment"] == "MILL-1"
    overloaded_days = {o["day"] for o in body["overloads"]}
    assert overloaded_days == {str(MON + timedelta(days=i)) for i in range(6)}
    monday = next(o for o in body["overloads"] if o["day"] == str(MON))
    assert monday["work_center"] == block.routings.get().steps.get().work_center.code
    assert monday["available_minutes"] == "960.0"


def test_capacity_load_endpoint(planner, block):
    response = planner.get(f"/api/v1/capacity/load/?start={MON}&days=7")
    assert response.status_code == 200
    cells = response.json()["cells"]
    assert len(cells) == 7 and cells[-1]["available_minutes"] == "0.0"  # Sunday
    assert planner.get("/api/v1/capacity/load/?days=0").status_code == 400


def test_plan_check_bad_input(planner, block):
    response = planner.post(
        "/api/v1/capacity/check/",
        {"item": "BLOCK", "quantity": "500", "requested_per_day": "0"},
        format="json",
    )
    assert response.status_code == 400 and "requested_per_day" in error_fields(response)


def test_demand_and_mps_endpoints(planner, block):
    so = planner.post(
        "/api/v1/sales-orders/",
        {
            "number": "SO-1",
            "customer": "Acme",
            "item": "BLOCK",
            "quantity": "500",
            "due_date": "2026-12-07",
            "priority": 1,
        },
        format="json",
    )
    assert so.status_code == 201, so.content
    mps = planner.post(
        "/api/v1/mps/",
        {"item": "BLOCK", "period_start": "2026-11-30", "bucket": "week", "quantity": "300"},
        format="json",
    )
    assert mps.status_code == 201
    edited = planner.patch(f"/api/v1/mps/{mps.json()['id']}/", {"quantity": "350"}, format="json")
    assert edited.json()["quantity"] == "350.0000"
    bad = planner.patch(f"/api/v1/mps/{mps.json()['id']}/", {"quantity": "-1"}, format="json")
    assert bad.status_code == 400


def test_routing_steps_carry_their_ids(planner, block):
    """Quality's defect rules name a routing step by id: the routing API shows it."""
    routing = block.routings.get()
    body = planner.get(f"/api/v1/routings/{routing.pk}/").json()
    assert [step["id"] for step in body["steps"]] == list(
        routing.steps.order_by("step_no").values_list("id", flat=True)
    )
