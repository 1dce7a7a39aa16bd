"""The devices API: the map and its endpoints (errors naming paths, nothing written), downtime
reasons, and per equipment its intervals, telemetry and counted totals; refusals by role."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from core import policy
from core.roles import Role
from devices.models import (
    Counter,
    DowntimeReason,
    Endpoint,
    EquipmentLink,
    Signal,
    StateInterval,
    Telemetry,
)
from devices.services.devicemap import device_map_export, device_map_load
from tests.devices.test_devicemap_load import ISSUE_MAP
from tests.factories import EquipmentFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 9, 0, 0, tzinfo=UTC)


def client_for(*roles: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(username="_".join(roles) or "nobody", roles=list(roles)))
    return client


@pytest.fixture
def machines():
    return {code: EquipmentFactory(code=code) for code in ("CNC-01", "CNC-02", "CMM-01")}


@pytest.fixture
def maint():
    return client_for(Role.MAINTENANCE)


@pytest.fixture
def loaded(machines):
    device_map_load(data=ISSUE_MAP)
    return machines


def endpoint_id(name: str) -> int:
    return Endpoint.objects.get(name=name).pk


def paths(response) -> list[str]:
    return [e["path"] for e in response.json()["errors"]]


# --- the whole map -------------------------------------------------------------------------


def test_post_map_loads_and_get_exports(machines, maint):
    answer = maint.post("/api/v1/devices/map/", ISSUE_MAP, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["added"]["endpoints"] == ["line1-opc", "line1-modbus"]
    assert Signal.objects.count() == 12
    again = maint.post("/api/v1/devices/map/", ISSUE_MAP, format="json")
    assert again.status_code == 200 and again.json()["unchanged"] is True
    exported = maint.get("/api/v1/devices/map/")
    assert exported.status_code == 200 and exported.json() == device_map_export()


def test_post_a_bad_map_names_paths_and_writes_nothing(machines, maint):
    bad = copy.deepcopy(ISSUE_MAP)
    bad["endpoints"][1]["equipment"]["CNC-02"]["part_count"]["address"] = "one"
    bad["endpoints"][0]["equipment"]["GHOST-1"] = {"fault": {"node": "ns=2;s=G.Fault"}}
    answer = maint.post("/api/v1/devices/map/", bad, format="json")
    assert answer.status_code == 400
    assert paths(answer) == ["endpoints[1].equipment.CNC-02.part_count.address"]
    assert Endpoint.objects.count() == 0
    # With the syntax right, the unknown machine is named next.
    bad["endpoints"][1]["equipment"]["CNC-02"]["part_count"]["address"] = 1
    answer = maint.post("/api/v1/devices/map/", bad, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["errors"] == [
        {
            "field": "endpoints[0].equipment.GHOST-1",
            "path": "endpoints[0].equipment.GHOST-1",
            "code": "invalid",
            "message": "no equipment GHOST-1 in the plant's equipment list",
        }
    ]
    assert "GHOST-1" in body["detail"]
    assert Endpoint.objects.count() == 0


@pytest.mark.parametrize("body", [[], "text", 7, None])
def test_post_map_that_is_not_an_object(machines, maint, body):
    answer = maint.post("/api/v1/devices/map/", body, format="json")
    assert answer.status_code == 400
    assert Endpoint.objects.count() == 0


# --- endpoints -------------------------------------------------------------------------------


def test_endpoint_read_nests_machines_and_signals(loaded, maint):
    listed = maint.get("/api/v1/devices/endpoints/")
    assert listed.status_code == 200
    names = [row["name"] for row in listed.json()["results"]]
    assert names == ["line1-modbus", "line1-opc"]
    one = maint.get(f"/api/v1/devices/endpoints/{endpoint_id('line1-modbus')}/").json()
    assert one["equipment"]["CNC-02"]["unit"] == 2
    assert one["equipment"]["CNC-02"]["temperature"] == {
        "table": "holding",
        "address": 4,
        "type": "int16",
        "scale": 0.1,
    }
    assert one["links"][0]["equipment"] == "CNC-02" and one["links"][0]["connected"] is False
    assert one["loaded_at"]


def test_endpoint_create_update_delete_through_the_service(loaded, maint):
    entry = {
        "name": "cmm-modbus",
        "protocol": "modbus",
        "host": "10.0.0.9",
        "equipment": {"CMM-01": {"unit": 4, "fault": {"table": "coil", "address": 2}}},
    }
    created = maint.post("/api/v1/devices/endpoints/", entry, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["port"] == 502
    assert EquipmentLink.objects.get(equipment__code="CMM-01").unit == 4
    url = f"/api/v1/devices/endpoints/{created.json()['id']}/"

    bad = maint.patch(
        url,
        {"equipment": {"CMM-01": {"fault": {"table": "coil", "address": 70000}}}},
        format="json",
    )
    assert bad.status_code == 400 and paths(bad) == ["equipment.CMM-01.fault.address"]
    taken = maint.patch(
        url,
        {"equipment": {"CNC-02": {"fault": {"table": "coil", "address": 2}}}},
        format="json",
    )
    assert taken.status_code == 400 and paths(taken) == ["equipment.CNC-02"]
    assert "line1-modbus" in taken.json()["errors"][0]["message"]

    patched = maint.patch(url, {"poll_ms": 250}, format="json")
    assert patched.status_code == 200 and patched.json()["poll_ms"] == 250
    assert patched.json()["equipment"]["CMM-01"]["fault"] == {"table": "coil", "address": 2}

    clash = maint.put(url, {**entry, "name": "line1-opc"}, format="json")
    assert clash.status_code == 400 and paths(clash) == ["name"]

    gone = maint.delete(url)
    assert gone.status_code == 204
    assert not EquipmentLink.objects.filter(equipment__code="CMM-01").exists()
    assert maint.get(url).status_code == 404


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        (Role.MAINTENANCE, 200, 200),
        (Role.PLANNER, 200, 403),
        (Role.SUPERVISOR, 200, 403),
        (Role.PLANT_MANAGER, 200, 403),
        (Role.OPERATOR, 403, 403),
        (Role.COST_ACCOUNTANT, 403, 403),
    ],
)
def test_who_reads_and_loads_the_map(loaded, role, read, write):
    client = client_for(role)
    assert client.get("/api/v1/devices/map/").status_code == read
    assert client.get("/api/v1/devices/endpoints/").status_code == read
    assert client.post("/api/v1/devices/map/", ISSUE_MAP, format="json").status_code == write
    patched = client.patch(
        f"/api/v1/devices/endpoints/{endpoint_id('line1-opc')}/", {"poll_ms": 99}, format="json"
    )
    assert patched.status_code == (403 if write == 403 else 200)
    assert (Endpoint.objects.get(name="line1-opc").poll_ms == 99) == (write == 200)


def test_refusal_names_who_may(loaded):
    answer = client_for(Role.PLANNER).post("/api/v1/devices/map/", ISSUE_MAP, format="json")
    assert answer.status_code == 403
    assert answer.json()["detail"] == policy.refusal("devices.endpoint", "load")
    assert "maintenance" in answer.json()["detail"].lower()


# --- downtime reasons ------------------------------------------------------------------------


def test_downtime_reasons_crud_and_refusals(machines):
    sup = client_for(Role.SUPERVISOR)
    made = sup.post(
        "/api/v1/devices/downtime-reasons/",
        {"code": "TOOLWEAR", "name": "Tool wear check", "loss": "setup"},
        format="json",
    )
    assert made.status_code == 201, made.content
    bad = sup.post(
        "/api/v1/devices/downtime-reasons/",
        {"code": "X", "name": "x", "loss": "nap"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "loss"
    operator = client_for(Role.OPERATOR)
    assert operator.get("/api/v1/devices/downtime-reasons/").status_code == 200
    refused = operator.post(
        "/api/v1/devices/downtime-reasons/", {"code": "Y", "name": "y"}, format="json"
    )
    assert refused.status_code == 403
    reason = DowntimeReason.objects.get(code="TOOLWEAR")
    StateInterval.objects.create(
        equipment=machines["CNC-01"],
        state="stopped",
        start=T0,
        end=T0 + timedelta(minutes=5),
        reason=reason,
    )
    in_use = sup.delete(f"/api/v1/devices/downtime-reasons/{reason.pk}/")
    assert in_use.status_code == 409


# --- per equipment ---------------------------------------------------------------------------


def intervals(machine):
    rows = [
        ("running", T0, T0 + timedelta(hours=2)),
        ("fault", T0 + timedelta(hours=2), T0 + timedelta(hours=3)),
        ("running", T0 + timedelta(hours=3), None),
    ]
    for state, start, end in rows:
        StateInterval.objects.create(equipment=machine, state=state, start=start, end=end)


def test_intervals_of_a_machine_filtered_by_window(loaded):
    intervals(loaded["CNC-01"])
    intervals(loaded["CNC-02"])
    sup = client_for(Role.SUPERVISOR)
    answer = sup.get("/api/v1/devices/equipment/CNC-01/intervals/")
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert [r["state"] for r in rows] == ["running", "fault", "running"]
    assert rows[0]["start"] == "2026-12-09T08:00:00+08:00"
    assert rows[1]["seconds"] == "3600.000" and rows[2]["end"] is None
    window = sup.get(
        "/api/v1/devices/equipment/CNC-01/intervals/",
        {"from": "2026-12-09T10:30:00+08:00", "to": "2026-12-09T11:30:00+08:00"},
    )
    assert [r["state"] for r in window.json()["results"]] == ["fault", "running"]
    late = sup.get(
        "/api/v1/devices/equipment/CNC-01/intervals/", {"from": "2026-12-10T00:00:00+08:00"}
    )
    assert [r["state"] for r in late.json()["results"]] == ["running"]  # the open one


def test_telemetry_filtered_and_paginated(loaded):
    machine = loaded["CNC-02"]
    Telemetry.objects.bulk_create(
        Telemetry(equipment=machine, signal=s, value=i, at=T0 + timedelta(minutes=i))
        for i in range(30)
        for s in ("temperature", "spindle_speed")
    )
    Telemetry.objects.create(equipment=loaded["CNC-01"], signal="temperature", value=1, at=T0)
    qs = client_for(Role.QUALITY_SUPERVISOR)
    answer = qs.get(
        "/api/v1/devices/equipment/CNC-02/telemetry/",
        {"signal": "temperature", "from": "2026-12-09T08:10:00+08:00", "limit": 5},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 20
    assert body["results"][0] == {
        "signal": "temperature",
        "value": 29.0,
        "at": "2026-12-09T08:29:00+08:00",
    }
    assert len(body["results"]) == 5 and body["next"]
    to = qs.get(
        "/api/v1/devices/equipment/CNC-02/telemetry/",
        {"to": "2026-12-09T08:02:00+08:00"},
    )
    assert to.json()["count"] == 4


@pytest.mark.parametrize(
    "query",
    [{"from": "yesterday"}, {"to": "2026-13-45T25:61:00"}, {"nonsense": "1"}, {"limit": "x"}],
)
def test_bad_queries_answer_400(loaded, query):
    sup = client_for(Role.SUPERVISOR)
    for what in ("intervals", "telemetry"):
        answer = sup.get(f"/api/v1/devices/equipment/CNC-01/{what}/", query)
        assert answer.status_code == 400, (what, query)
        assert answer.json()["errors"][0]["field"] == next(iter(query))


def test_counts_since_the_map_linked_the_machine(loaded):
    Counter.objects.create(equipment=loaded["CNC-02"], signal="part_count", total=120, last_at=T0)
    Counter.objects.create(equipment=loaded["CNC-02"], signal="good_count", total=117, last_at=T0)
    answer = client_for(Role.PLANT_MANAGER).get("/api/v1/devices/equipment/CNC-02/counts/")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total_count"], body["good_count"]) == (120, 117)
    link = EquipmentLink.objects.get(equipment__code="CNC-02")
    assert datetime.fromisoformat(body["since"]) == link.since
    assert body["endpoint"] == "line1-modbus"
    mapped_no_reads = client_for(Role.PLANT_MANAGER).get("/api/v1/devices/equipment/CNC-01/counts/")
    assert (mapped_no_reads.json()["total_count"], mapped_no_reads.json()["good_count"]) == (0, 0)
    unlinked = client_for(Role.PLANT_MANAGER).get("/api/v1/devices/equipment/CMM-01/counts/")
    assert unlinked.json()["since"] is None and unlinked.json()["total_count"] is None


def test_unknown_machine_is_404(loaded):
    sup = client_for(Role.SUPERVISOR)
    for what in ("intervals", "telemetry", "counts"):
        assert sup.get(f"/api/v1/devices/equipment/NOPE/{what}/").status_code == 404


@pytest.mark.parametrize(
    ("role", "intervals_", "telemetry", "counts"),
    [
        (Role.SUPERVISOR, 200, 200, 200),
        (Role.MAINTENANCE, 200, 200, 200),
        (Role.QUALITY_SUPERVISOR, 200, 200, 200),
        (Role.COST_ACCOUNTANT, 403, 403, 200),
        (Role.OPERATOR, 403, 403, 403),
        (Role.SUPPLY_CHAIN_DIRECTOR, 403, 403, 403),
    ],
)
def test_who_reads_machine_data(loaded, role, intervals_, telemetry, counts):
    client = client_for(role)
    base = "/api/v1/devices/equipment/CNC-01"
    assert client.get(f"{base}/intervals/").status_code == intervals_
    assert client.get(f"{base}/telemetry/").status_code == telemetry
    assert client.get(f"{base}/counts/").status_code == counts


def test_anonymous_is_refused(loaded):
    assert APIClient().get("/api/v1/devices/map/").status_code == 401
    assert APIClient().get("/api/v1/devices/equipment/CNC-01/counts/").status_code == 401
