"""The audit trail keeps field-level history (before and after, actor, time, origin) of master
data, rules, stock and quality records, whether changed through the API, the admin or a
service."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.history import audit_origin
from core.models import AuditEntry
from core.roles import Role
from core.tokens import api_token_issue, service_account_create
from quality.models import Characteristic, InspectionPlan
from resources.models import Item, Site, StockMove

pytestmark = pytest.mark.django_db


def person(username: str):
    return get_user_model().objects.get(username=username)


def api_as(username: str) -> APIClient:
    client = APIClient()
    client.force_login(person(username))
    return client


def entries(obj, action: str | None = None):
    found = AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return found.filter(action=action) if action else found


def change_of(entry: AuditEntry, field: str) -> dict:
    matching = [c for c in entry.changes if c["field"] == field]
    assert matching, f"{field} not among {[c['field'] for c in entry.changes]}"
    return matching[0]


def admin_form_data(response) -> dict:
    """The admin change form's current values, as the browser would post them back."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


def test_must_show_standard_cost_changed_through_the_api_and_the_admin(demo_plant):
    """MUST-SHOW: EB-500's standard cost PATCHed through the API, then edited in the admin;
    both appear with before, after and who."""
    item = Item.objects.get(code="EB-500")
    assert item.standard_cost == Decimal("80")

    response = api_as("admin").patch(
        f"/api/v1/items/{item.pk}/", {"standard_cost": "95.5"}, format="json"
    )
    assert response.status_code == 200, response.content

    client = Client()
    client.force_login(person("admin"))
    url = f"/admin/resources/item/{item.pk}/change/"
    data = admin_form_data(client.get(url))
    data["standard_cost"] = "101.25"
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors

    api_edit, admin_edit = entries(item, "update").order_by("id")
    assert api_edit.changes == [{"field": "standard_cost", "before": "80.0000", "after": "95.5000"}]
    assert (api_edit.actor_username, api_edit.origin) == ("admin", "api")
    assert admin_edit.changes == [
        {"field": "standard_cost", "before": "95.5000", "after": "101.2500"}
    ]
    assert (admin_edit.actor_username, admin_edit.origin) == ("admin", "admin")
    assert admin_edit.object_label == "EB-500"
    # The snapshot of each version stays in the item's own history table.
    costs = list(item.history.order_by("history_id").values_list("standard_cost", flat=True))
    assert costs[-2:] == [Decimal("95.5"), Decimal("101.25")]

    # The audit API shows the same, field by field.
    listed = api_as("admin").get(
        "/api/v1/audit/", {"model": "resources.item", "object": item.pk, "action": "update"}
    )
    assert listed.status_code == 200
    shown = listed.json()["results"]
    assert [r["changes"][0]["after"] for r in shown] == ["101.2500", "95.5000"]
    assert shown[1]["changes"][0]["before"] == "80.0000" and shown[1]["actor"] == "admin"


def test_a_token_authenticated_api_change_records_the_service_account(demo_plant):
    account = service_account_create(
        username="erp-sync", roles=[Role.PLANNER], created_by=person("admin")
    )
    from core.models import ApiToken

    token = ApiToken(user=account, name="ERP", expiry_date=timezone.now() + timezone.timedelta(30))
    key = api_token_issue(token=token, issued_by=person("admin"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    item = Item.objects.get(code="EB-500")
    response = client.patch(f"/api/v1/items/{item.pk}/", {"lead_time_days": 9}, format="json")
    assert response.status_code == 200, response.content
    entry = entries(item, "update").get()
    assert entry.actor == account and entry.actor_username == "erp-sync"
    assert change_of(entry, "lead_time_days")["after"] == 9
    assert item.history.latest().history_username == "erp-sync"


def test_a_stock_adjustment_appears_with_its_quantity_and_the_new_balance(demo_plant):
    response = api_as("admin").post(
        "/api/v1/stock-moves/",
        {
            "item": "BRG-6205",
            "location": "WH-RAW",
            "lot": "B-2026-1015",
            "quantity": "-5",
            "kind": "adjustment",
            # Signed (docs/signatures.md): the demo password and a reason.
            "password": "closedloop",
            "reason": "Cycle count",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 201, response.content
    move = StockMove.objects.get(pk=response.json()["id"])
    created = entries(move, "create").get()
    assert change_of(created, "quantity") == {
        "field": "quantity",
        "before": None,
        "after": "-5.0000",
    }
    assert created.actor_username == "admin" and created.origin == "api"
    balance = AuditEntry.objects.filter(
        object_type="resources.stockbalance", action="update"
    ).latest("id")
    on_hand = change_of(balance, "on_hand")
    assert Decimal(on_hand["before"]) - Decimal(on_hand["after"]) == 5
    assert entries(move, "stock.move").get().actor_username == "admin"  # the service's action


def test_a_delete_appears_with_the_values_it_had(demo_plant):
    client = api_as("admin")
    made = client.post(
        "/api/v1/sites/", {"code": "TMP-1", "name": "Temporary", "time_zone": "UTC"}, format="json"
    )
    assert made.status_code == 201, made.content
    site_id = made.json()["id"]
    assert client.delete(f"/api/v1/sites/{site_id}/").status_code == 204
    assert not Site.objects.filter(pk=site_id).exists()
    deleted = AuditEntry.objects.get(
        object_type="resources.site", object_id=str(site_id), action="delete"
    )
    assert change_of(deleted, "code") == {"field": "code", "before": "TMP-1", "after": None}
    assert deleted.actor_username == "admin" and deleted.object_label == "TMP-1"


def test_an_inspection_plan_edit_appears(demo_plant):
    plan = InspectionPlan.objects.get(code="IP-EB500-30", active=True)
    tighter = [
        {"name": "Bore diameter", "kind": "variable", "nominal": "50.00",
         "lower_tolerance": "0.05", "upper_tolerance": "0.05", "unit": "mm"},
    ]  # fmt: skip
    made = api_as("fengjie").post(
        f"/api/v1/quality/plans/{plan.pk}/new-version/", {"characteristics": tighter}, format="json"
    )
    assert made.status_code == 201, made.content
    retired = entries(plan, "update").get()
    assert retired.changes == [{"field": "active", "before": True, "after": False}]
    assert retired.actor_username == "fengjie"
    new = InspectionPlan.objects.get(pk=made.json()["id"])
    assert change_of(entries(new, "create").get(), "version")["after"] == 2
    char = Characteristic.objects.get(plan=new)
    created = entries(char, "create").get()  # written in bulk, audited all the same
    assert change_of(created, "upper_tolerance")["after"] == "0.0500"
    assert created.actor_username == "fengjie"


def test_writes_outside_a_request_name_their_origin_and_no_actor(demo_plant):
    item = Item.objects.get(code="EB-500")
    item.safety_stock = Decimal("7")
    with audit_origin("task:planning.nightly"):
        item.save()
    entry = entries(item, "update").get()
    assert (entry.actor, entry.actor_username, entry.origin) == (None, "", "task:planning.nightly")
    item.name = "Engine block 500"
    item.save()
    assert entries(item, "update").latest("id").origin == "system"


def test_a_save_without_a_change_adds_no_snapshot_and_no_entry(demo_plant):
    item = Item.objects.get(code="EB-500")
    before = AuditEntry.objects.count(), item.history.count()
    item.standard_cost = "80.0"  # the same value, written differently
    item.save()
    assert (AuditEntry.objects.count(), item.history.count()) == before


def test_a_celery_task_s_changes_name_the_task(demo_plant, pinned_now):
    from execution.models import WorkAlert
    from execution.services.alerts import alert_raise
    from execution.tasks import alerts_escalate_due
    from resources.models import Equipment

    alert = alert_raise(
        alert_type="equipment_fault",
        severity="urgent",
        equipment=Equipment.objects.get(code="CAST-01"),
        description="Hydraulic leak",
    )
    pinned_now.move_to(alert.ack_deadline + timezone.timedelta(minutes=1))
    assert alerts_escalate_due.delay().get() == 1
    escalated = entries(WorkAlert.objects.get(pk=alert.pk), "update").latest("id")
    assert escalated.origin == "task:execution.alert_tasks.alerts_escalate_due"
    assert escalated.actor is None and escalated.actor_username == ""
    assert change_of(escalated, "escalation_level") == {
        "field": "escalation_level",
        "before": 0,
        "after": 1,
    }
    item = Item.objects.get(code="EB-500")
    item.name = "after the task"
    item.save()
    assert entries(item, "update").get().origin == "system"  # the task's name is not kept
