"""A machine's status, at its owner (resources.services.equipment)."""

import pytest
from django.core.exceptions import ValidationError

from resources.models import Equipment
from resources.services.equipment import equipment_status_set
from tests.factories import EquipmentFactory

pytestmark = pytest.mark.django_db


def test_status_is_set_by_machine_or_by_id():
    machine, other = EquipmentFactory(), EquipmentFactory()
    equipment_status_set(equipment=machine, status=Equipment.Status.FAULT)
    equipment_status_set(equipment=other.pk, status=Equipment.Status.MAINTENANCE)
    machine.refresh_from_db()
    other.refresh_from_db()
    assert (machine.status, other.status) == (Equipment.Status.FAULT, Equipment.Status.MAINTENANCE)


def test_an_unknown_status_is_refused_and_nothing_changes():
    machine = EquipmentFactory()
    before = machine.status
    with pytest.raises(ValidationError) as refused:
        equipment_status_set(equipment=machine, status="exploded")
    assert "status" in refused.value.message_dict
    machine.refresh_from_db()
    assert machine.status == before
