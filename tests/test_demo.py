"""The demo plant loads as described, and loading it twice creates nothing twice."""

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from resources.models import Equipment, Item, Operator, OperatorSkill, StockBalance
from resources.selectors.calendar import equipment_available_minutes

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label not in {"sessions", "admin", "contenttypes"}
        and m._meta.label not in {"core.AuditEntry", "core.OutboxEvent"}
    }


def test_demo_twice_is_idempotent():
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = counts()
    assert "zhangsan" in out.getvalue() and "closedloop" in out.getvalue()
    call_command("load_demo", stdout=StringIO())
    assert counts() == first


def test_demo_matches_the_reference_scenario(demo_plant):
    block = Item.objects.get(code="EB-500")
    assert block.standard_cost == 80 and block.tracking == "serial"
    steps = block.routings.get().steps.order_by("step_no")
    assert [(s.step_no, s.work_center.code) for s in steps] == [
        (10, "CAST"),
        (20, "CNC"),
        (30, "CMM"),
        (40, "ASM"),
    ]
    assert sorted(e.code for e in steps[1].eligible_equipment.all()) == ["CNC-01", "CNC-02"]
    bom = block.boms.get()
    lines = {line.component.code: line for line in bom.lines.all()}
    assert bom.base_quantity == 50
    assert lines["STEEL-42"].quantity == 100 and lines["STEEL-42"].operation_step_no == 10
    assert lines["BRG-6205"].quantity == 50 and lines["BRG-6205"].operation_step_no == 40
    bearings = StockBalance.objects.filter(item__code="BRG-6205")
    assert sum(b.on_hand for b in bearings) == 30
    cnc1 = Equipment.objects.get(code="CNC-01")
    monday = __import__("datetime").date(2026, 11, 30)
    minutes = equipment_available_minutes(cnc1, monday, monday)[monday]
    assert Decimal(minutes) / 60 * cnc1.rated_rate == 95  # 95 units/day
    zhangsan = Operator.objects.get(user__username="zhangsan")
    assert OperatorSkill.objects.get(operator=zhangsan, skill__code="CNC").level == 3
    assert Equipment.objects.filter(code="INJ-01").exists()
    assert Item.objects.get(code="HSG-100").boms.get().lines.get().component.code == "PP-GF30"
