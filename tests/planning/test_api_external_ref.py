"""Create or update by the outside system's reference: items, sales orders and production
orders named by `external_ref` are created once and changed in place when resent."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from core.roles import Role
from planning.models import ProductionOrder, Routing, RoutingStep, SalesOrder
from resources.models import Item
from tests.factories import ItemFactory, UserFactory, WorkCenterFactory

pytestmark = pytest.mark.django_db


def client_as(*roles, username="erp"):
    client = APIClient()
    client.force_authenticate(UserFactory(username=username, roles=list(roles)))
    return client


def test_items_by_reference(db):
    erp = client_as(Role.INTEGRATION, Role.PLANNER)
    body = {"code": "BRG-6204", "name": "Bearing 6204", "source": "buy", "external_ref": "MAT-1"}
    assert erp.post("/api/v1/items/", body, format="json").status_code == 201
    again = erp.post("/api/v1/items/", body, format="json")
    assert again.status_code == 200 and Item.objects.count() == 1
    renamed = erp.post("/api/v1/items/", {**body, "name": "Deep groove bearing"}, format="json")
    assert renamed.status_code == 200 and Item.objects.get().name == "Deep groove bearing"
    # Without the right to change items, a known reference is refused, not duplicated.
    reader = client_as(Role.SUPERVISOR, username="sunqi")
    assert reader.post("/api/v1/items/", body, format="json").status_code == 403
    assert Item.objects.count() == 1


def test_sales_orders_by_reference(db):
    ItemFactory(code="EB-500", source="make")
    planner = client_as(Role.PLANNER, username="zhouba")
    body = {
        "number": "SO-1",
        "external_ref": "VBELN-100",
        "customer": "Ningbo Motors",
        "item": "EB-500",
        "quantity": "20",
        "due_date": "2026-12-20",
    }
    assert planner.post("/api/v1/sales-orders/", body, format="json").status_code == 201
    moved = planner.post("/api/v1/sales-orders/", {**body, "due_date": "2026-12-22"}, format="json")
    assert moved.status_code == 200, moved.content
    assert SalesOrder.objects.get().due_date == date(2026, 12, 22)
    assert moved.json()["external_ref"] == "VBELN-100" and SalesOrder.objects.count() == 1


def test_production_orders_by_reference(db):
    item = ItemFactory(code="EB-500", source="make")
    routing = Routing.objects.create(item=item, version="1")
    RoutingStep.objects.create(
        routing=routing, step_no=10, name="Milling", work_center=WorkCenterFactory()
    )
    erp = client_as(Role.INTEGRATION)
    body = {
        "item": "EB-500",
        "quantity": "50",
        "due_date": "2026-12-20",
        "external_ref": "AUFNR-7",
    }
    created = erp.post("/api/v1/production-orders/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["external_ref"] == "AUFNR-7"
    same = erp.post("/api/v1/production-orders/", body, format="json")
    assert same.status_code == 200 and ProductionOrder.objects.count() == 1
    more = erp.post("/api/v1/production-orders/", {**body, "quantity": "60"}, format="json")
    assert more.status_code == 200 and more.json()["quantity"] == "60.0000"
    other = ItemFactory(code="HSG-100", source="make")
    wrong = erp.post("/api/v1/production-orders/", {**body, "item": other.code}, format="json")
    assert wrong.status_code == 400 and "EB-500" in str(wrong.json())
    operator = client_as(Role.OPERATOR, username="lisi")
    assert operator.post("/api/v1/production-orders/", body, format="json").status_code == 403
    assert ProductionOrder.objects.count() == 1
