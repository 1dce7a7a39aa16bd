"""Production orders: operations copied from the routing, legal and illegal transitions."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.exceptions import StateConflict
from core.models import AuditEntry, OutboxEvent
from planning.models import ProductionOrder, Routing, RoutingStep
from planning.services.orders import (
    production_order_cancel,
    production_order_close,
    production_order_complete,
    production_order_create,
    production_order_plan,
    production_order_release,
    production_order_start,
)
from resources.models import Item, Skill
from tests.factories import EquipmentFactory, ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    item = ItemFactory(code="GEAR", source=Item.Source.MAKE)
    routing = Routing.objects.create(item=item, version="1")
    cnc1, cnc2 = EquipmentFactory(code="M-1"), None
    cnc2 = EquipmentFactory(code="M-2", work_center=cnc1.work_center)
    skill = Skill.objects.create(code="CNC", name="CNC")
    step = RoutingStep.objects.create(
        routing=routing,
        step_no=10,
        name="Turning",
        work_center=cnc1.work_center,
        setup_minutes=30,
        run_minutes_per_unit=Decimal("2.5"),
        required_skill=skill,
    )
    step.eligible_equipment.set([cnc1, cnc2])
    RoutingStep.objects.create(
        routing=routing,
        step_no=20,
        name="Deburr",
        work_center=EquipmentFactory().work_center,
        run_minutes_per_unit=1,
    )
    return item


def test_operations_copied_from_routing(product):
    order = production_order_create(item=product, quantity=Decimal(40), due_date=date(2026, 12, 10))
    ops = list(order.operations.order_by("sequence"))
    assert [(o.sequence, o.name) for o in ops] == [(10, "Turning"), (20, "Deburr")]
    assert sorted(e.code for e in ops[0].eligible_equipment.all()) == ["M-1", "M-2"]
    assert ops[0].required_skill.code == "CNC"
    assert ops[0].duration_minutes() == Decimal("130")  # 30 + 40 × 2.5
    assert order.number.startswith("MO-") and order.status == "draft"
    assert OutboxEvent.objects.filter(topic="planning.production_order.created").count() == 1


def test_full_lifecycle(product):
    order = production_order_create(item=product, quantity=5, due_date=date(2026, 12, 10))
    for step in (
        production_order_plan,
        production_order_release,
        production_order_start,
        production_order_complete,
        production_order_close,
    ):
        order = step(order=order)
    assert order.status == ProductionOrder.Status.CLOSED
    assert order.released_at and order.completed_at
    actions = list(
        AuditEntry.objects.filter(object_id=str(order.pk)).values_list("action", flat=True)
    )
    assert "production_order.released" in actions and "production_order.closed" in actions


def test_illegal_transition_names_the_state(product):
    order = production_order_create(item=product, quantity=5, due_date=date(2026, 12, 10))
    with pytest.raises(StateConflict, match=r"is draft; it cannot become completed"):
        production_order_complete(order=order)
    order = production_order_cancel(order=order)
    assert set(order.operations.values_list("status", flat=True)) == {"cancelled"}
    with pytest.raises(StateConflict, match="cancelled"):
        production_order_release(order=order)


def test_bought_item_or_bad_quantity_refused(product):
    with pytest.raises(ValidationError, match="bought"):
        production_order_create(
            item=ItemFactory(source="buy"), quantity=1, due_date=date(2026, 1, 1)
        )
    with pytest.raises(ValidationError) as err:
        production_order_create(item=product, quantity=0, due_date=date(2026, 1, 1))
    assert "quantity" in str(err.value)
    assert not ProductionOrder.objects.exists()


def test_a_refused_transition_lists_the_next_statuses_in_the_readers_language(product):
    order = production_order_create(item=product, quantity=5, due_date=date(2026, 12, 10))
    with translation.override("zh-hans"), pytest.raises(StateConflict) as zh:
        production_order_complete(order=order)
    with translation.override("en"), pytest.raises(StateConflict) as en:
        production_order_complete(order=order)
    assert str(zh.value) == (
        f"工单 {order.number} 当前为草稿，不能变为已完工（允许的下一步：已取消、已计划）。"
    )
    assert str(en.value) == (
        f"Order {order.number} is draft; it cannot become completed "
        "(allowed next: cancelled, planned)."
    )
