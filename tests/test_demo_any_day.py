"""The demo gives the same experience whenever `make run` starts: on a Wednesday morning, on
Sunday night, before Monday's first shift, on a holiday, in the last minute of a shift and on
New Year's Eve (the rule: planning/demo.py `demo_day_zero`, docs/demo.md)."""

from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from execution.models import Task
from planning.demo import demo_day_zero
from planning.models import ProductionOrder, SalesOrder
from planning.selectors.capacity import capacity_plan_check
from planning.services.orders import production_order_release
from resources.models import Item, WorkCenter
from resources.selectors.calendar import work_center_available_minutes

pytestmark = pytest.mark.django_db

INSTANTS = {
    "wednesday morning": "2026-12-09T10:00:00+08:00",
    "sunday night": "2026-12-13T23:30:00+08:00",
    "monday before the first shift": "2026-12-14T05:30:00+08:00",
    "a holiday (New Year's Day)": "2027-01-01T10:00:00+08:00",
    "last minute of the early shift": "2026-12-09T13:59:00+08:00",
    "last minute of the late shift": "2026-12-09T21:59:00+08:00",
    "saturday after the last shift": "2026-12-12T22:30:00+08:00",
    "new year's eve": "2026-12-31T23:59:00+08:00",
}


@pytest.mark.parametrize("instant", INSTANTS.values(), ids=INSTANTS.keys())
def test_the_demo_is_the_same_at_any_instant(instant):
    at = datetime.fromisoformat(instant)
    with time_machine.travel(at, tick=False):
        call_command("load_demo", "--quiet-logins", stdout=StringIO())
        today = timezone.localdate()
        machining = WorkCenter.objects.get(code="CNC")
        day_zero = demo_day_zero(machining)
        working = [
            d
            for d, m in work_center_available_minutes(
                machining, day_zero, day_zero + timedelta(days=6)
            ).items()
            if m > 0
        ]
        # Day 0 is a working day none of whose shifts has begun.
        assert day_zero >= today and working[0] == day_zero
        assert datetime.combine(day_zero, datetime.min.time(), tzinfo=at.tzinfo) + timedelta(
            hours=6
        ) >= timezone.localtime(at)

        # The EB-500 order of 500 is due in 7 days.
        order = SalesOrder.objects.get(number="SO-2026-0001")
        assert order.quantity == 500 and order.due_date == today + timedelta(days=7)
        assert {o.due_date for o in ProductionOrder.objects.filter(sales_order=order)} == {
            order.due_date
        }

        # Machining is already loaded on every working day of the week from day 0, and every
        # batch's task has an operator: the CNC expert.
        heads = Task.objects.filter(order__number__startswith="MO-BG-").select_related(
            "operator__user", "operation"
        )
        assert sorted({t.operation.planned_start.astimezone(at.tzinfo).date() for t in heads}) == (
            working
        )
        assert {t.operator.user.username for t in heads} == {"zhangsan"}

        # The first roll-up finds nobody behind.
        out = StringIO()
        call_command("progress_rollup", stdout=out)
        assert " 0 delays announced" in out.getvalue()

        # Releasing the first batch gives casting to wangwu, machining to zhangsan (the CNC
        # expert) and assembly to lisi.
        first = production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
        tasks = {
            t.operation.sequence: t
            for t in Task.objects.filter(order=first).select_related("operator__user")
        }
        assert tasks[10].operator.user.username == "wangwu"
        assert tasks[20].operator.user.username == "zhangsan"
        assert tasks[40].operator.user.username == "lisi"

        # 100 engine blocks a day on machining are capped to CNC-01's 95, and machining is
        # overloaded on day 0.
        check = capacity_plan_check(
            item=Item.objects.get(code="EB-500"),
            quantity=Decimal(500),
            requested_per_day=Decimal(100),
            start_day=today,
        )
        assert check.bottleneck.equipment == "CNC-01"
        assert check.plan.capped and check.plan.capped_per_day == 95
        assert [d.planned for d in check.plan.days][:5] == [95] * 5
        assert ("CNC", day_zero) in {(c.work_center, c.day) for c in check.overloads}
