"""The OEE API: per machine by shift or day, the plant and work-center roll-up."""

from datetime import time

import pytest
from rest_framework.test import APIClient

from core.roles import Role
from devices.models import ProductionCount
from devices.services.count_hours import count_rows_write
from tests.devices.test_oee_selectors import TUE, at, day_of, machine
from tests.factories import UserFactory

# The figures are those of Tuesday 2026-12-08, read on the Wednesday morning after.
pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]


def api(role):
    client = APIClient()
    client.force_authenticate(UserFactory(roles=[role]))
    return client


def test_equipment_oee_by_shift_and_day():
    eq = machine(code="CNC-OEE")
    day_of(eq, TUE)
    count_rows_write([ProductionCount(equipment=eq, at=at(TUE, 23), total=15, good=15)])
    client = api(Role.PLANT_MANAGER)
    url = "/api/v1/devices/equipment/CNC-OEE/oee/"
    body = client.get(url, {"from": "2026-12-08", "to": "2026-12-08", "by": "shift"}).json()
    assert body["equipment"] == "CNC-OEE" and body["by"] == "shift"
    early, late, outside = body["rows"]
    assert early["shift"] == "early" and early["day"] == "2026-12-08"
    # Early: A = 410/450, P = 320/410, Q = 304/320, OEE = 304/450 (see the selector test).
    assert early["availability"] == "0.9111"
    assert early["performance"] == "0.7805"
    assert early["quality"] == "0.9500"
    assert early["oee"] == "0.6756"
    assert early["planned_busy_minutes"] == "450.0"
    assert early["losses"]["breakdown"] == "40.0"
    assert early["diagnosis"]["loss"] == "speed"
    assert late["availability"] == "1.0000" and late["diagnosis"]["cause"]
    assert outside["shift"] == "outside shifts" and outside["oee"] is None
    assert outside["outside_total_count"] == 15
    assert body["outside_total_count"] == 15 and body["total_count"] == 640

    by_day = client.get(url, {"from": "2026-12-08", "to": "2026-12-08"}).json()
    (row,) = by_day["rows"]
    assert "shift" not in row and row["planned_busy_minutes"] == "930.0"


def test_plant_roll_up_and_work_center_filter():
    a = machine(code="OEE-A")
    b = machine(code="OEE-B")
    day_of(a, TUE)
    day_of(b, TUE)
    client = api(Role.SUPERVISOR)
    body = client.get("/api/v1/devices/oee/", {"from": "2026-12-08", "to": "2026-12-08"}).json()
    assert [g["code"] for g in body["work_centers"]] == sorted(
        [a.work_center.code, b.work_center.code]
    )
    assert body["planned_busy_minutes"] == "1860.0"
    assert body["work_centers"][0]["equipment"][0]["oee"] is not None
    assert body["days"] == [{"day": "2026-12-08", "oee": body["oee"]}]
    one = client.get(
        "/api/v1/devices/oee/", {"from": "2026-12-08", "work_center": a.work_center.code}
    ).json()
    assert [g["code"] for g in one["work_centers"]] == [a.work_center.code]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-12-08", "to": "2026-12-01"}, "to"),
        ({"from": "2026-01-01", "to": "2026-12-08"}, "to"),
        ({"by": "week"}, "by"),
    ],
)
def test_bad_input_names_the_field(params, field):
    machine(code="CNC-OEE")
    response = api(Role.PLANNER).get("/api/v1/devices/equipment/CNC-OEE/oee/", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_unknown_equipment_and_work_center():
    client = api(Role.MAINTENANCE)
    assert client.get("/api/v1/devices/equipment/NOPE/oee/").status_code == 404
    response = client.get("/api/v1/devices/oee/", {"work_center": "NOPE"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "work_center"


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.PLANT_MANAGER, 200),
        (Role.SUPERVISOR, 200),
        (Role.PLANNER, 200),
        (Role.MAINTENANCE, 200),
        (Role.QUALITY_SUPERVISOR, 200),
        (Role.INTEGRATION, 200),
        (Role.OPERATOR, 403),
        (Role.INSPECTOR, 403),
        (Role.COST_ACCOUNTANT, 403),
    ],
)
def test_who_reads_oee(role, status):
    machine(code="CNC-OEE")
    client = api(role)
    assert client.get("/api/v1/devices/oee/").status_code == status
    assert client.get("/api/v1/devices/equipment/CNC-OEE/oee/").status_code == status


def test_today_by_default_runs_to_now():
    eq = machine(code="CNC-OEE")
    assert eq.work_center.shifts.get(name="early").start_time == time(6)
    body = api(Role.PLANT_MANAGER).get("/api/v1/devices/equipment/CNC-OEE/oee/").json()
    # Pinned at Wed 10:00: four hours of the early shift so far, no intervals yet (unknown).
    assert body["from"] == body["to"] == "2026-12-09"
    assert body["shift_minutes"] == "240.0"
    assert body["oee"] is None
