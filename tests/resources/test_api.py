"""Master-data and stock API: shapes, validation errors naming the field, no 500."""

import pytest
from rest_framework.test import APIClient

from core.roles import Role
from resources.models import Item, StockMove
from tests.errors import error_fields
from tests.factories import EquipmentFactory, ItemFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(
        UserFactory(
            username="integrator",
            roles=[Role.PLANNER, Role.MAINTENANCE, Role.SUPPLY_CHAIN_DIRECTOR],
        )
    )
    return client


def test_login_required():
    assert APIClient().get("/api/v1/items/").status_code in (401, 403)


def test_item_create_and_model_rules_answer_400(api):
    ok = api.post(
        "/api/v1/items/",
        {"code": "BRG-1", "name": "Bearing", "source": "buy", "uom": "pcs"},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    bad = api.post(
        "/api/v1/items/",
        {"code": "X", "name": "x", "lot_policy": "fixed", "lot_size": "0"},
        format="json",
    )
    assert bad.status_code == 400 and "lot_size" in error_fields(bad)
    negative = api.post(
        "/api/v1/items/", {"code": "Y", "name": "y", "standard_cost": "-3"}, format="json"
    )
    assert negative.status_code == 400
    duplicate = api.post("/api/v1/items/", {"code": "BRG-1", "name": "again"}, format="json")
    assert duplicate.status_code == 400 and "code" in error_fields(duplicate)
    assert Item.objects.count() == 1


def test_equipment_constraint_and_protected_delete(api):
    eq = EquipmentFactory(code="CNC-7")
    bad = api.patch(f"/api/v1/equipment/{eq.pk}/", {"rated_rate": "-1"}, format="json")
    assert bad.status_code == 400 and "rated_rate must not be negative" in str(bad.json())
    in_use = api.delete(f"/api/v1/work-centers/{eq.work_center_id}/")
    assert in_use.status_code == 409 and "CNC-7" in in_use.json()["detail"]


def test_stock_move_post_is_idempotent_and_refuses_overdraw(api):
    ItemFactory(code="STEEL")
    LocationFactory(code="RAW")
    body = {
        "item": "STEEL",
        "location": "RAW",
        "quantity": "100",
        "kind": "receipt",
        "external_id": "gr-1",
    }
    first = api.post("/api/v1/stock-moves/", body, format="json")
    again = api.post("/api/v1/stock-moves/", body, format="json")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    over = api.post(
        "/api/v1/stock-moves/",
        {"item": "STEEL", "location": "RAW", "quantity": "-150", "kind": "issue"},
        format="json",
    )
    assert over.status_code == 400 and "quantity" in error_fields(over)
    unknown = api.post(
        "/api/v1/stock-moves/",
        {"item": "NOPE", "location": "RAW", "quantity": "1", "kind": "receipt"},
        format="json",
    )
    assert unknown.status_code == 400 and "item" in error_fields(unknown)
    zero = api.post(
        "/api/v1/stock-moves/",
        {"item": "STEEL", "location": "RAW", "quantity": "0", "kind": "receipt"},
        format="json",
    )
    assert zero.status_code == 400
    assert StockMove.objects.count() == 1
    balances = api.get("/api/v1/stock-balances/?item=STEEL").json()["results"]
    assert balances == [{"item": "STEEL", "location": "RAW", "lot": None, "on_hand": "100.0000"}]


def test_stock_moves_cannot_be_changed(api):
    item, loc = ItemFactory(), LocationFactory()
    move = StockMove.objects.create(item=item, location=loc, quantity=1, kind="receipt")
    assert api.put(f"/api/v1/stock-moves/{move.pk}/", {}, format="json").status_code == 405
    assert api.delete(f"/api/v1/stock-moves/{move.pk}/").status_code == 405


def test_openapi_schema_renders(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/stock-moves/" in response.content
