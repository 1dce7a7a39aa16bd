"""Changeovers of a machine: its minutes between two setup families, the pairs that differ,
their rules in the database, the service, the API and the admin's import (errors naming the
field, or the row and column, nothing written), and who may change them."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.roles import Role
from resources.models import Equipment, EquipmentChangeover
from resources.services.equipment import equipment_save
from tests.errors import error_fields, error_messages
from tests.factories import EquipmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(*roles: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(username="-".join(roles), roles=list(roles)))
    return client


def test_database_refuses_negative_minutes_and_a_pair_of_one_family():
    machine = EquipmentFactory(code="CNC-9")
    with pytest.raises(IntegrityError), transaction.atomic():
        Equipment.objects.filter(pk=machine.pk).update(changeover_minutes=-5)
    with pytest.raises(IntegrityError), transaction.atomic():
        EquipmentChangeover.objects.create(
            equipment=machine, from_family="FX-A", to_family="FX-A", minutes=10
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        EquipmentChangeover.objects.create(
            equipment=machine, from_family="FX-A", to_family="FX-B", minutes=-1
        )
    EquipmentChangeover.objects.create(
        equipment=machine, from_family="FX-A", to_family="FX-B", minutes=10
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        EquipmentChangeover.objects.create(
            equipment=machine, from_family="FX-A", to_family="FX-B", minutes=20
        )
    # The other direction is another pair.
    EquipmentChangeover.objects.create(
        equipment=machine, from_family="FX-B", to_family="FX-A", minutes=20
    )
    assert machine.changeovers.count() == 2


def test_model_validation_names_the_field():
    machine = EquipmentFactory(code="CNC-9")
    pair = EquipmentChangeover(equipment=machine, from_family="FX-A", to_family="FX-A", minutes=5)
    with pytest.raises(ValidationError) as refused:
        pair.full_clean()
    assert "to_family" in refused.value.message_dict
    machine.changeover_minutes = -1
    with pytest.raises(ValidationError) as refused:
        machine.full_clean()
    assert "changeover_minutes" in refused.value.message_dict


def test_service_replaces_the_pairs_and_writes_nothing_on_a_bad_one():
    machine = EquipmentFactory(code="CNC-9")
    equipment_save(
        equipment=machine,
        values={"changeover_minutes": 30},
        changeovers=[
            {"from_family": "FX-A", "to_family": "FX-B", "minutes": 45},
            {"from_family": "FX-B", "to_family": "FX-A", "minutes": 20},
        ],
    )
    equipment_save(
        equipment=machine,
        values={},
        changeovers=[{"from_family": "FX-B", "to_family": "FX-A", "minutes": 25}],
    )
    assert list(machine.changeovers.values_list("from_family", "to_family", "minutes")) == [
        ("FX-B", "FX-A", 25)
    ]
    with pytest.raises(ValidationError) as refused:
        equipment_save(
            equipment=machine,
            values={"changeover_minutes": 40},
            changeovers=[
                {"from_family": "FX-A", "to_family": "FX-C", "minutes": 10},
                {"from_family": "FX-C", "to_family": "FX-C", "minutes": 10},
            ],
        )
    assert "changeovers[1].to_family" in refused.value.message_dict
    machine.refresh_from_db()
    assert machine.changeover_minutes == 30
    assert machine.changeovers.count() == 1


def test_api_creates_a_machine_with_its_changeovers():
    api = client_for(Role.MAINTENANCE)
    wc = EquipmentFactory(code="CNC-8").work_center
    created = api.post(
        "/api/v1/equipment/",
        {
            "code": "CNC-9",
            "name": "Lathe",
            "work_center": wc.code,
            "changeover_minutes": 30,
            "changeovers": [{"from_family": "SHAFT-S", "to_family": "SHAFT-L", "minutes": 50}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["changeover_minutes"] == 30
    assert body["changeovers"] == [
        {"from_family": "SHAFT-S", "to_family": "SHAFT-L", "minutes": 50}
    ]
    machine = Equipment.objects.get(code="CNC-9")
    # Left out: the pairs stay; sent: they replace the machine's.
    kept = api.patch(f"/api/v1/equipment/{machine.pk}/", {"changeover_minutes": 35}, format="json")
    assert kept.status_code == 200 and len(kept.json()["changeovers"]) == 1
    replaced = api.patch(
        f"/api/v1/equipment/{machine.pk}/",
        {"changeovers": [{"from_family": "SHAFT-L", "to_family": "SHAFT-S", "minutes": 15}]},
        format="json",
    )
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["changeovers"] == [
        {"from_family": "SHAFT-L", "to_family": "SHAFT-S", "minutes": 15}
    ]
    assert api.get(f"/api/v1/equipment/{machine.pk}/").json()["changeover_minutes"] == 35


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"changeover_minutes": -1}, "changeover_minutes"),
        ({"changeovers": [{"from_family": "A", "to_family": "A", "minutes": 5}]}, "changeovers"),
        ({"changeovers": [{"from_family": "A", "to_family": "B", "minutes": -5}]}, "changeovers"),
        ({"changeovers": [{"from_family": "A", "minutes": 5}]}, "changeovers"),
        (
            {
                "changeovers": [
                    {"from_family": "A", "to_family": "B", "minutes": 5},
                    {"from_family": "A", "to_family": "B", "minutes": 6},
                ]
            },
            "changeovers",
        ),
    ],
)
def test_api_refuses_bad_changeovers_naming_the_field(payload, field):
    machine = EquipmentFactory(code="CNC-9", changeover_minutes=30)
    EquipmentChangeover.objects.create(
        equipment=machine, from_family="A", to_family="C", minutes=10
    )
    api = client_for(Role.MAINTENANCE)
    refused = api.patch(f"/api/v1/equipment/{machine.pk}/", payload, format="json")
    assert refused.status_code == 400, refused.content
    assert field in error_fields(refused)
    machine.refresh_from_db()
    assert machine.changeover_minutes == 30
    assert list(machine.changeovers.values_list("to_family", flat=True)) == ["C"]


def test_same_to_family_message_names_the_pair_field():
    machine = EquipmentFactory(code="CNC-9")
    refused = client_for(Role.MAINTENANCE).patch(
        f"/api/v1/equipment/{machine.pk}/",
        {"changeovers": [{"from_family": "A", "to_family": "A", "minutes": 5}]},
        format="json",
    )
    assert "must differ" in error_messages(refused, "changeovers")
    assert any(name.endswith("to_family") for name in error_fields(refused))


def test_only_maintenance_changes_changeovers_everyone_reads_them():
    machine = EquipmentFactory(code="CNC-9")
    payload = {"changeovers": [{"from_family": "A", "to_family": "B", "minutes": 5}]}
    planner = client_for(Role.PLANNER)
    assert planner.get(f"/api/v1/equipment/{machine.pk}/").status_code == 200
    refused = planner.patch(f"/api/v1/equipment/{machine.pk}/", payload, format="json")
    assert refused.status_code == 403
    assert not machine.changeovers.exists()
    allowed = client_for(Role.MAINTENANCE).patch(
        f"/api/v1/equipment/{machine.pk}/", payload, format="json"
    )
    assert allowed.status_code == 200


# --- import and export (admin) ------------------------------------------------------------

EQUIPMENT_HEADER = "code,name,work_center,model,rated_rate,changeover_minutes"
PAIR_HEADER = "equipment,from_family,to_family,minutes"


def import_preview(client, data: bytes, resource: str):
    url = reverse("admin:resources_equipment_import")
    upload = SimpleUploadedFile("equipment.csv", data)
    return client.post(url, {"resource": resource, "format": "0", "import_file": upload})


def import_confirm(client, preview):
    form = preview.context["confirm_form"]
    return client.post(reverse("admin:resources_equipment_process_import"), form.initial)


def invalid_cells(preview) -> list[tuple[int, list[str]]]:
    invalid = preview.context["result"].invalid_rows
    return [(row.number, list(row.field_specific_errors)) for row in invalid]


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(
        get_user_model().objects.create_superuser("eq-admin", "eq@example.com", "pw-12345!")
    )
    return client


def test_admin_imports_and_exports_machines_and_their_changeovers(superuser_client):
    wc = EquipmentFactory(code="CNC-1").work_center
    machines = f"{EQUIPMENT_HEADER}\nCNC-1,Lathe 1,{wc.code},,6,30\nCNC-2,Lathe 2,{wc.code},,6,\n"
    preview = import_preview(superuser_client, machines.encode(), "0")
    assert "confirm_form" in preview.context, invalid_cells(preview)
    assert import_confirm(superuser_client, preview).status_code == 302
    assert dict(Equipment.objects.values_list("code", "changeover_minutes")) == {
        "CNC-1": 30,
        "CNC-2": 0,
    }
    pairs = f"{PAIR_HEADER}\nCNC-1,SHAFT-S,SHAFT-L,45\nCNC-1,SHAFT-L,SHAFT-S,20\n"
    preview = import_preview(superuser_client, pairs.encode(), "1")
    assert "confirm_form" in preview.context, invalid_cells(preview)
    assert import_confirm(superuser_client, preview).status_code == 302
    # Imported again with other minutes: the pair is matched, not added.
    again = f"{PAIR_HEADER}\nCNC-1,SHAFT-S,SHAFT-L,50\n"
    assert import_confirm(superuser_client, import_preview(superuser_client, again.encode(), "1"))
    assert sorted(EquipmentChangeover.objects.values_list("from_family", "minutes")) == [
        ("SHAFT-L", 20),
        ("SHAFT-S", 50),
    ]
    form = {"resource": "1", "format": "0"} | {
        f"equipmentchangeoverresource_{c}": "on" for c in PAIR_HEADER.split(",")
    }
    exported = superuser_client.post(reverse("admin:resources_equipment_export"), form)
    assert exported.status_code == 200
    assert b"CNC-1,SHAFT-S,SHAFT-L,50" in exported.content


@pytest.mark.parametrize(
    ("resource", "body", "expected"),
    [
        ("0", "CNC-1,Lathe 1,{wc},,6,30\nCNC-2,Lathe 2,{wc},,6,-5", [(3, ["changeover_minutes"])]),
        ("0", "CNC-1,Lathe 1,{wc},,6,half", [(2, ["changeover_minutes"])]),
        ("1", "CNC-1,A,B,10\nCNC-1,A,A,10", [(3, ["to_family"])]),
        ("1", "CNC-1,A,B,-10", [(2, ["minutes"])]),
        ("1", "CNC-1,A,B,10\nCNC-9,A,B,10", [(3, ["equipment"])]),
        ("1", "CNC-1,A,B,10\nCNC-1,A,B,20", [(3, ["to_family"])]),
    ],
)
def test_admin_import_refuses_bad_cells_naming_row_and_column(
    superuser_client, resource, body, expected
):
    machine = EquipmentFactory(code="CNC-1", changeover_minutes=15)
    header = EQUIPMENT_HEADER if resource == "0" else PAIR_HEADER
    data = f"{header}\n{body.format(wc=machine.work_center.code)}\n".encode()
    preview = import_preview(superuser_client, data, resource)
    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    assert invalid_cells(preview) == expected
    assert list(Equipment.objects.values_list("code", "changeover_minutes")) == [("CNC-1", 15)]
    assert not EquipmentChangeover.objects.exists()


def test_admin_import_is_for_those_who_change_equipment(db):
    machine = EquipmentFactory(code="CNC-1")
    pairs = f"{PAIR_HEADER}\nCNC-1,A,B,10\n".encode()
    planner = Client()
    planner.force_login(UserFactory(username="eq-planner", roles=[Role.PLANNER]))
    assert planner.get(reverse("admin:resources_equipment_changelist")).status_code == 200
    assert planner.get(reverse("admin:resources_equipment_import")).status_code == 403
    refused = planner.post(
        reverse("admin:resources_equipment_import"),
        {"resource": "1", "format": "0", "import_file": SimpleUploadedFile("p.csv", pairs)},
    )
    assert refused.status_code == 403
    maintenance = Client()
    maintenance.force_login(UserFactory(username="eq-maint", roles=[Role.MAINTENANCE]))
    preview = import_preview(maintenance, pairs, "1")
    assert import_confirm(maintenance, preview).status_code == 302
    assert machine.changeovers.count() == 1


def test_admin_equipment_page_shows_the_changeover_pairs(superuser_client):
    machine = EquipmentFactory(code="CNC-1")
    EquipmentChangeover.objects.create(
        equipment=machine, from_family="SHAFT-S", to_family="SHAFT-L", minutes=45
    )
    page = superuser_client.get(reverse("admin:resources_equipment_change", args=[machine.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "changeover_minutes" in html and "SHAFT-L" in html and "From family" in html
