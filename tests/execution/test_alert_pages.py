"""Exceptions board and detail pages: severity order, countdown, overdue, actions by role."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from execution.models import WorkAlert
from execution.services.alerts import alert_raise
from resources.models import Equipment

pytestmark = pytest.mark.django_db


def client_for(username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_board_orders_by_severity_with_countdown_and_overdue(demo_plant):
    general = alert_raise(alert_type="other", severity="general", description="Aisle blocked")
    urgent = alert_raise(
        alert_type="equipment_fault",
        severity="urgent",
        description="Coolant pump",
        equipment=Equipment.objects.get(code="CNC-02"),
    )
    severe = alert_raise(
        alert_type="quality",
        severity="severe",
        description="Cracks in castings",
        equipment=Equipment.objects.get(code="CAST-01"),
    )
    WorkAlert.objects.filter(pk=urgent.pk).update(
        ack_deadline=urgent.raised_at - timedelta(minutes=5)
    )
    page = client_for("sunqi").get("/execution/exceptions/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index(severe.number) < html.index(urgent.number) < html.index(general.number)
    assert "overdue by" in html and 'class="alert-row sev-urgent overdue"' in html
    partial = client_for("sunqi").get("/execution/exceptions/?type=quality", HTTP_HX_REQUEST="true")
    assert (
        severe.number in partial.content.decode() and urgent.number not in partial.content.decode()
    )
    assert "<html" not in partial.content.decode()


def test_acknowledge_and_resolve_by_role_on_the_page(demo_plant):
    alert = alert_raise(
        alert_type="equipment_fault",
        severity="urgent",
        description="Spindle alarm",
        equipment=Equipment.objects.get(code="CNC-01"),
    )
    operator = client_for("lisi")
    denied = operator.post(f"/execution/exceptions/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert denied.status_code == 403 and b"supervisor" in denied.content
    sunqi = client_for("sunqi")
    ok = sunqi.post(f"/execution/exceptions/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and b"Acknowledged" in ok.content
    again = sunqi.post(f"/execution/exceptions/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    empty = sunqi.post(
        f"/execution/exceptions/{alert.pk}/resolve/", {"cause": "", "action": "x", "confirm": "1"}
    )
    assert empty.status_code == 400 and b"cause" in empty.content.lower()
    ask = sunqi.post(
        f"/execution/exceptions/{alert.pk}/resolve/", {"cause": "Sensor", "action": "Replaced"}
    )
    assert ask.status_code == 200 and f"Resolve {alert.number}?".encode() in ask.content
    alert.refresh_from_db()
    assert alert.status == "acknowledged"  # asking wrote nothing
    done = sunqi.post(
        f"/execution/exceptions/{alert.pk}/resolve/",
        {"cause": "Sensor", "action": "Replaced", "confirm": "1"},
    )
    assert done.status_code == 200 and b"Resolved" in done.content
    detail = sunqi.get(f"/execution/exceptions/{alert.pk}/")
    assert b"Timeline" in detail.content and b"Cause: Sensor" in detail.content
    assert Equipment.objects.get(code="CNC-01").status == "idle"  # back, with no work running


def test_in_app_inbox_shows_and_clears_notifications(demo_plant):
    alert = alert_raise(
        alert_type="equipment_fault",
        severity="urgent",
        description="Chiller down",
        equipment=Equipment.objects.get(code="CNC-02"),
    )
    sunqi = client_for("sunqi")
    page = sunqi.get("/planning/orders/")
    assert b'class="badge">1<' in page.content
    inbox = sunqi.get("/execution/inbox/")
    assert alert.number.encode() in inbox.content and b'class="unread"' in inbox.content
    sunqi.post("/execution/inbox/read/")
    assert b'class="badge"' not in sunqi.get("/planning/orders/").content
    assert alert.number.encode() not in client_for("lisi").get("/execution/inbox/").content


def test_raise_from_the_page_once_and_refusals_name_the_field(demo_plant):
    sunqi = client_for("sunqi")
    page = sunqi.get("/execution/exceptions/").content.decode()
    assert 'action="/execution/exceptions/raise/"' in page and 'name="raise_id"' in page
    url = "/execution/exceptions/raise/"
    data = {
        "raise_id": "form-1",
        "alert_type": "equipment_fault",
        "severity": "urgent",
        "equipment": "CNC-02",
        "description": "Spindle vibration",
    }
    answer = sunqi.post(url, data, HTTP_HX_REQUEST="true")
    alert = WorkAlert.objects.get(external_id="web-form-1")
    assert answer.status_code == 204
    assert answer["HX-Redirect"] == f"/execution/exceptions/{alert.pk}/"
    assert alert.equipment.code == "CNC-02" and alert.severity == "urgent"
    assert sunqi.post(url, data, HTTP_HX_REQUEST="true").status_code == 204  # same form again
    assert WorkAlert.objects.filter(external_id="web-form-1").count() == 1
    before = WorkAlert.objects.count()
    refusals = [
        ({**data, "raise_id": "f2", "equipment": ""}, "names the machine"),
        ({**data, "raise_id": "f3", "equipment": "NOPE"}, "No machine NOPE"),
        (
            {**data, "raise_id": "f4", "alert_type": "material_shortage", "equipment": ""},
            "operation",
        ),
        ({**data, "raise_id": "f5", "order": "MO-2026-00001", "sequence": "99"}, "no operation 99"),
        ({**data, "raise_id": "f6", "description": " "}, "Say what happened"),
        ({**data, "raise_id": "f7", "severity": "extreme"}, "Unknown severity"),
    ]
    for body, message in refusals:
        refused = sunqi.post(url, body, HTTP_HX_REQUEST="true")
        assert refused.status_code == 400 and message in refused.content.decode(), message
    assert WorkAlert.objects.count() == before
    shortage = {
        **data,
        "raise_id": "f8",
        "alert_type": "material_shortage",
        "equipment": "",
        "order": "MO-2026-00001",
        "sequence": "40",
    }
    assert sunqi.post(url, shortage).status_code == 302  # without htmx: a redirect
    assert WorkAlert.objects.get(external_id="web-f8").operation.sequence == 40
