"""The device map and downtime reasons in the admin, by the policy's roles; the machines'
records (state intervals, counters, counted parts) shown read-only, never added or deleted."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.roles import Role
from devices.models import Counter, Endpoint, EquipmentLink, ProductionCount, StateInterval
from devices.services.count_hours import count_rows_write
from devices.services.devicemap import device_map_load
from tests.devices.test_devicemap_load import ISSUE_MAP
from tests.factories import EquipmentFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 9, 0, 0, tzinfo=UTC)


def client_for(*roles) -> Client:
    client = Client()
    client.force_login(UserFactory(username="_".join(roles), roles=list(roles)))
    return client


@pytest.fixture
def loaded():
    machines = {code: EquipmentFactory(code=code) for code in ("CNC-01", "CNC-02", "CMM-01")}
    device_map_load(data=ISSUE_MAP)
    machine = machines["CNC-01"]
    StateInterval.objects.create(
        equipment=machine, state="fault", start=T0, end=T0 + timedelta(minutes=9)
    )
    Counter.objects.create(equipment=machine, signal="part_count", total=5)
    count_rows_write([ProductionCount(equipment=machine, at=T0, total=5, good=5)])
    return machines


def test_maintenance_keeps_the_map_in_the_admin(loaded):
    client = client_for(Role.MAINTENANCE)
    opc = Endpoint.objects.get(name="line1-opc")
    page = client.get(f"/admin/devices/endpoint/{opc.pk}/change/")
    assert page.status_code == 200
    assert b"CNC-01" in page.content  # its machine, inline
    link = EquipmentLink.objects.get(equipment__code="CNC-02")
    page = client.get(f"/admin/devices/equipmentlink/{link.pk}/change/")
    assert page.status_code == 200 and b"part_count" in page.content  # its signals, inline
    assert client.get("/admin/devices/endpoint/add/").status_code == 200
    added = client.post(
        "/admin/devices/endpoint/add/",
        {
            "name": "spare-opc",
            "protocol": "opcua",
            "url": "opc.tcp://10.0.0.5:4840",
            "security": "{}",
            "publishing_ms": 500,
            "poll_ms": 1000,
            "timeout_ms": 3000,
            "enabled": "on",
            "links-TOTAL_FORMS": 1,
            "links-INITIAL_FORMS": 0,
            "links-0-equipment": loaded["CMM-01"].pk,
            "links-0-unit": "",
        },
    )
    assert added.status_code == 302, added.content[:2000]
    assert EquipmentLink.objects.get(equipment__code="CMM-01").endpoint.name == "spare-opc"


def test_the_office_reads_the_map_but_does_not_edit_it(loaded):
    client = client_for(Role.PLANNER)  # keeps items, so the admin opens
    opc = Endpoint.objects.get(name="line1-opc")
    assert client.get("/admin/devices/endpoint/").status_code == 200
    assert client.get("/admin/devices/endpoint/add/").status_code == 403
    assert (
        client.post(f"/admin/devices/endpoint/{opc.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Endpoint.objects.filter(pk=opc.pk).exists()


def test_operators_do_not_open_the_admin(loaded):
    response = client_for(Role.OPERATOR).get("/admin/devices/endpoint/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_supervisors_keep_downtime_reasons(loaded):
    client = client_for(Role.SUPERVISOR)
    added = client.post(
        "/admin/devices/downtimereason/add/",
        {"code": "TOOLWEAR", "name": "Tool wear check", "loss": "setup", "active": "on"},
    )
    assert added.status_code == 302


@pytest.mark.parametrize("model", ["stateinterval", "counter", "productioncount"])
def test_machine_records_are_read_only_even_for_the_superuser(loaded, model):
    root = get_user_model().objects.create_superuser("root", "root@plant.local", "pw-12345-x")
    client = Client()
    client.force_login(root)
    row = {"stateinterval": StateInterval, "counter": Counter, "productioncount": ProductionCount}[
        model
    ].objects.get()
    assert client.get(f"/admin/devices/{model}/").status_code == 200
    assert client.get(f"/admin/devices/{model}/add/").status_code == 403
    assert client.get(f"/admin/devices/{model}/{row.pk}/delete/").status_code == 403
    page = client.get(f"/admin/devices/{model}/{row.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert type(row).objects.filter(pk=row.pk).exists()


def test_maintenance_reads_the_machine_records(loaded):
    client = client_for(Role.MAINTENANCE)
    assert client.get("/admin/devices/stateinterval/").status_code == 200
    assert client.get("/admin/devices/counter/").status_code == 200
    assert client.get("/admin/devices/productioncount/").status_code == 200


def test_unlinking_a_machine_in_the_admin_removes_its_counters(loaded):
    """A machine unlinked and linked again later counts from its new controller's first
    reading: its old counters go with the link, as when a loaded map drops the machine."""
    client = client_for(Role.MAINTENANCE)
    link = EquipmentLink.objects.get(equipment__code="CNC-01")
    assert Counter.objects.filter(equipment__code="CNC-01").exists()
    page = client.post(f"/admin/devices/equipmentlink/{link.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert not EquipmentLink.objects.filter(equipment__code="CNC-01").exists()
    assert not Counter.objects.filter(equipment__code="CNC-01").exists()
    # The same through the endpoint's inline: CNC-02 on the Modbus endpoint.
    modbus = Endpoint.objects.get(name="line1-modbus")
    Counter.objects.create(equipment=loaded["CNC-02"], signal="part_count", total=7)
    cnc02 = EquipmentLink.objects.get(equipment__code="CNC-02")
    page = client.post(
        f"/admin/devices/endpoint/{modbus.pk}/change/",
        {
            "name": modbus.name,
            "protocol": "modbus",
            "url": "",
            "host": modbus.host,
            "port": modbus.port,
            "security": "{}",
            "publishing_ms": modbus.publishing_ms,
            "poll_ms": modbus.poll_ms,
            "timeout_ms": modbus.timeout_ms,
            "enabled": "on",
            "links-TOTAL_FORMS": 1,
            "links-INITIAL_FORMS": 1,
            "links-0-id": cnc02.pk,
            "links-0-endpoint": modbus.pk,
            "links-0-equipment": loaded["CNC-02"].pk,
            "links-0-unit": cnc02.unit or "",
            "links-0-DELETE": "on",
        },
    )
    assert page.status_code == 302, page.content[:3000]
    assert not EquipmentLink.objects.filter(equipment__code="CNC-02").exists()
    assert not Counter.objects.filter(equipment__code="CNC-02").exists()
    # And deleting the endpoint itself.
    page = client.post(f"/admin/devices/endpoint/{modbus.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302 and not Endpoint.objects.filter(name="line1-modbus").exists()
