"""Database constraints on master data: the database refuses what the rules forbid."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from resources.models import (
    Equipment,
    Item,
    MaintenanceWindow,
    OperatorSkill,
    ShiftPattern,
    StockBalance,
    StockMove,
)
from tests.factories import EquipmentFactory, ItemFactory, LocationFactory, WorkCenterFactory

pytestmark = pytest.mark.django_db


def refused(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_equipment_rate_not_negative_and_not_its_own_backup():
    wc = WorkCenterFactory()
    refused(lambda: Equipment.objects.create(work_center=wc, code="X", name="x", rated_rate=-1))
    eq = EquipmentFactory(work_center=wc)
    refused(lambda: Equipment.objects.filter(pk=eq.pk).update(backup_equipment=eq))
    eq.backup_equipment = eq
    with pytest.raises(ValidationError, match="back itself up"):
        eq.full_clean()


def test_equipment_codes_unique():
    EquipmentFactory(code="CNC-9")
    refused(lambda: EquipmentFactory(code="CNC-9"))


def test_maintenance_window_must_end_after_start():
    eq = EquipmentFactory()
    now = timezone.now()
    refused(lambda: MaintenanceWindow.objects.create(equipment=eq, start=now, end=now))
    window = MaintenanceWindow(equipment=eq, start=now, end=now - timedelta(hours=1))
    with pytest.raises(ValidationError) as err:
        window.full_clean()
    assert "end" in err.value.message_dict


def test_item_rules():
    refused(lambda: Item.objects.create(code="A", name="a", standard_cost=Decimal("-1")))
    refused(lambda: Item.objects.create(code="B", name="b", lot_policy="fixed", lot_size=0))
    refused(lambda: Item.objects.create(code="C", name="c", safety_stock=Decimal("-5")))
    item = Item(code="D", name="d", lot_policy="fixed", lot_size=0)
    with pytest.raises(ValidationError) as err:
        item.full_clean()
    assert "lot_size" in err.value.message_dict


def test_shift_weekdays_validated():
    wc = WorkCenterFactory()
    shift = ShiftPattern(
        work_center=wc,
        name="x",
        weekdays="1,9",
        start_time=datetime(2026, 1, 1, 6).time(),
        end_time=datetime(2026, 1, 1, 14).time(),
    )
    with pytest.raises(ValidationError) as err:
        shift.full_clean()
    assert "weekdays" in err.value.message_dict


def test_stock_balance_never_negative_and_unique_without_lot():
    item, location = ItemFactory(), LocationFactory()
    StockBalance.objects.create(item=item, location=location, on_hand=5)
    refused(lambda: StockBalance.objects.create(item=item, location=location, on_hand=1))
    refused(lambda: StockBalance.objects.filter(item=item).update(on_hand=-1))


def test_stock_move_zero_refused_and_rows_are_append_only():
    item, location = ItemFactory(), LocationFactory()
    refused(
        lambda: StockMove.objects.create(item=item, location=location, quantity=0, kind="receipt")
    )
    move = StockMove.objects.create(item=item, location=location, quantity=3, kind="receipt")
    move.quantity = 4
    with pytest.raises(ValidationError, match="append-only"):
        move.save()


def test_skill_level_range():
    from resources.models import Operator, Skill
    from tests.factories import UserFactory

    operator = Operator.objects.create(user=UserFactory(), badge="B1", name="n")
    skill = Skill.objects.create(code="CNC", name="CNC")
    refused(lambda: OperatorSkill.objects.create(operator=operator, skill=skill, level=4))
