"""Costing in the admin: the cost accountant keeps versions, rates and prices (with history
in the audit trail) and reads the roll-up's results; planners read; operators stay out."""

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.models import AuditEntry
from costing.models import (
    CostRollupRun,
    CostVersion,
    ItemCost,
    LabourRate,
    MachineRate,
    OverheadRate,
    PurchasePrice,
)

pytestmark = pytest.mark.django_db
MODELS = [
    CostVersion,
    LabourRate,
    MachineRate,
    OverheadRate,
    PurchasePrice,
    CostRollupRun,
    ItemCost,
]


def _client(username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _url(model, suffix=""):
    return f"/admin/costing/{model._meta.model_name}/{suffix}"


def test_admin_pages_load_for_the_cost_accountant(demo_plant):
    client = _client("wujiu")
    for model in MODELS:
        assert client.get(_url(model)).status_code == 200, model
        first = model.objects.first()
        assert client.get(_url(model, f"{first.pk}/change/")).status_code == 200, model
        editable = model not in (CostRollupRun, ItemCost)
        assert (client.get(_url(model, "add/")).status_code == 200) is editable, model
    page = client.get(_url(ItemCost, f"{ItemCost.objects.get(item__code='EB-500').pk}/change/"))
    assert b"skill CNC level 2" in page.content


def test_price_changed_in_the_admin_is_in_the_audit_trail(demo_plant):
    client = _client("wujiu")
    price = PurchasePrice.objects.get(item__code="BRG-6205")
    answer = client.post(
        _url(PurchasePrice, f"{price.pk}/change/"),
        {"version": price.version_id, "item": price.item_id, "price": "26"},
    )
    assert answer.status_code == 302, answer.content[:2000]
    price.refresh_from_db()
    assert price.price == D("26")
    entry = AuditEntry.objects.filter(object_type="costing.purchaseprice").latest("pk")
    assert entry.actor_username == "wujiu" and entry.origin == "admin"


def test_planner_reads_and_operator_is_kept_out(demo_plant):
    planner = _client("zhouba")
    # The admin's door opens to whoever keeps some master data (a planner keeps items).
    assert planner.get(_url(ItemCost)).status_code == 200
    assert planner.get(_url(PurchasePrice, "add/")).status_code == 403
    operator = _client("zhangsan")
    assert operator.get(_url(ItemCost)).status_code in (302, 403)
    assert operator.get(_url(CostVersion)).status_code in (302, 403)
