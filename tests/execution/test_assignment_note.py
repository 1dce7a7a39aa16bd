"""The note an automatic assignment leaves on a task: why this operator got it."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from execution.models import Task
from planning.models import OrderOperation, ProductionOrder
from planning.services.orders import production_order_create, production_order_release
from resources.models import Item

pytestmark = pytest.mark.django_db


def release_housings() -> ProductionOrder:
    """An order of injection-moulded housings, planned for next Monday (everyone's shift runs
    then): moulding (10) needs the INJ skill, the visual check (20, at INJ) needs none."""
    today = timezone.localdate()
    monday = today + timedelta(days=8 - today.isoweekday())
    order = production_order_create(
        item=Item.objects.get(code="HSG-100"),
        quantity=Decimal(200),
        due_date=monday + timedelta(days=3),
        status=ProductionOrder.Status.PLANNED,
    )
    start = timezone.make_aware(datetime.combine(monday, time(14)))
    OrderOperation.objects.filter(order=order).update(planned_start=start)
    return production_order_release(order=order)


def test_auto_assignment_notes_say_skill_or_home_work_center(demo_plant):
    order = release_housings()
    moulding = Task.objects.get(order=order, operation__sequence=10)
    check = Task.objects.get(order=order, operation__sequence=20)
    assert moulding.operation.required_skill.code == "INJ"
    assert check.operation.required_skill_id is None
    # wangwu is the INJ expert and INJ is his home work center: he gets both.
    assert moulding.operator.user.username == check.operator.user.username == "wangwu"
    assert moulding.assignment_note == "Auto: INJ expert, on shift, 0 open tasks"
    # The moulding of the same order, assigned just before, is his one open task.
    assert check.assignment_note == "Auto: home work center INJ, on shift, 1 open task"
