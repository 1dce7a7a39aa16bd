"""The audit page and API: administrators and the plant manager read them, nobody else;
filters by model, record, actor and days; paged."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from core.audit import audit_readable
from core.models import AuditEntry
from core.navigation import nav_entries
from core.roles import Role
from resources.models import Item

# The edits below are dated the 10th to the 12th: the demo is loaded before them, on the
# Wednesday morning, whatever instant the suite runs at.
pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]

READERS = ["admin", "qianyi"]  # administrator, plant manager
OTHERS = ["zhangsan", "zhaoliu", "sunqi", "zhouba", "wujiu", "zhengshi", "fengjie"]
PLANT = ZoneInfo("Asia/Shanghai")


def person(username: str):
    return get_user_model().objects.get(username=username)


def page_client(username: str) -> Client:
    client = Client()
    client.force_login(person(username))
    return client


def api_client(username: str) -> APIClient:
    client = APIClient()
    client.force_login(person(username))
    return client


@pytest.mark.parametrize("username", READERS)
def test_administrators_and_the_plant_manager_read_page_and_api(demo_plant, username):
    assert audit_readable(person(username))
    page = page_client(username).get("/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Audit trail" in html and 'class="topbar"' in html  # inside the layout
    assert ("Audit", "/audit/") in nav_entries(person(username))
    assert api_client(username).get("/api/v1/audit/").status_code == 200


@pytest.mark.parametrize("username", OTHERS)
def test_every_other_role_gets_403_and_no_menu_entry(demo_plant, username):
    assert not audit_readable(person(username))
    assert page_client(username).get("/audit/").status_code == 403
    response = api_client(username).get("/api/v1/audit/")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only administrators and the plant manager")
    assert ("Audit", "/audit/") not in nav_entries(person(username))


def test_anonymous_callers_are_sent_to_log_in_or_challenged(db):
    assert Client().get("/audit/").status_code == 302
    assert APIClient().get("/api/v1/audit/").status_code == 401


def test_the_api_view_names_its_policy_resource():
    from core.api_views import AuditEntryListView

    assert AuditEntryListView.policy_resource == "core.audit"


def test_the_audit_endpoint_is_in_the_openapi_schema(demo_plant):
    schema = api_client("admin").get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/audit/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"model", "object", "actor", "since", "until", "limit", "offset"} <= names


def _edits(clock):
    """Three changes of two items by two people on three days after the demo's load."""
    admin, planner = person("admin"), person("zhouba")
    eb, hsg = Item.objects.get(code="EB-500"), Item.objects.get(code="HSG-100")
    for item, who, cost, day in (
        (eb, admin, "81", 10),
        (hsg, planner, "12", 11),
        (eb, planner, "82", 12),
    ):
        clock.move_to(datetime(2026, 12, day, 9, 0, tzinfo=PLANT))
        item.standard_cost = cost
        item._history_user = who
        item.save()
    return eb, hsg


def test_filters_by_model_record_actor_and_days(demo_plant, pinned_now):
    eb, hsg = _edits(pinned_now)
    client = api_client("qianyi")

    def found(**params):
        response = client.get("/api/v1/audit/", {"action": "update", **params})
        assert response.status_code == 200, response.content
        return [
            (r["object"], r["actor"], r["changes"][0]["after"]) for r in response.json()["results"]
        ]

    assert found(model="resources.item", object=eb.pk) == [
        (str(eb.pk), "zhouba", "82.0000"),
        (str(eb.pk), "admin", "81.0000"),
    ]
    assert found(model="resources.item", actor="ZHOUBA") == [
        (str(eb.pk), "zhouba", "82.0000"),
        (str(hsg.pk), "zhouba", "12.0000"),
    ]
    assert found(model="resources.item", since="2026-12-11", until="2026-12-11") == [
        (str(hsg.pk), "zhouba", "12.0000")
    ]
    assert found(model="resources.site") == []
    bad = client.get("/api/v1/audit/", {"since": "2026-13-01"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "since"
    unknown = client.get("/api/v1/audit/", {"who": "x"})
    assert unknown.status_code == 400


def test_the_page_shows_before_and_after_filtered(demo_plant, pinned_now):
    eb, _ = _edits(pinned_now)
    html = (
        page_client("qianyi")
        .get("/audit/", {"model": "resources.item", "object": eb.pk, "action": "update"})
        .content.decode()
    )
    assert "Standard cost</span>: 81.0000 → 82.0000" in html
    assert "Standard cost</span>: 80.0000 → 81.0000" in html
    assert "12.0000" not in html  # the other item's change is filtered out
    bad = page_client("qianyi").get("/audit/", {"since": "yesterday"})
    assert bad.status_code == 200 and "Enter a valid date" in bad.content.decode()


def test_the_page_is_paged(demo_plant):
    item = Item.objects.get(code="EB-500")
    for n in range(55):
        item.safety_stock = n + 1
        item.save()
    client = page_client("admin")
    first = client.get("/audit/", {"model": "resources.item", "action": "update"})
    html = first.content.decode()
    assert "Page 1 of 2 (55 changes)" in html and "Safety stock</span>: 54.0000 → 55.0000" in html
    second = client.get("/audit/", {"model": "resources.item", "action": "update", "page": 2})
    html = second.content.decode()
    assert "Page 2 of 2" in html and "Safety stock</span>: 0.0000 → 1.0000" in html
    partial = client.get("/audit/", {"page": 2}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()


def test_service_actions_are_listed_too(demo_plant):
    assert AuditEntry.objects.filter(action="production_order.create").exists()
    response = api_client("admin").get("/api/v1/audit/", {"action": "production_order.create"})
    assert response.json()["count"] >= 1
    assert Role.PLANT_MANAGER in {g.name for g in person("qianyi").groups.all()}


def test_the_page_and_the_api_cost_the_same_queries_however_many_changes(demo_plant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    item = Item.objects.get(code="EB-500")
    page, api = page_client("qianyi"), api_client("qianyi")

    def counted() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as on_page:
            assert page.get("/audit/").status_code == 200
        with CaptureQueriesContext(connection) as on_api:
            assert api.get("/api/v1/audit/").status_code == 200
        return len(on_page), len(on_api)

    item.safety_stock = 1
    item.save()
    few = counted()
    for n in range(2, 60):
        item.safety_stock = n
        item.save()
    assert counted() == few
