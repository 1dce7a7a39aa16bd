"""The demo plant's planning story: 100/day on machining capped to 95/day, the MPS page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from core.roles import Role
from planning.demo import demo_day_zero
from planning.models import MpsEntry
from planning.selectors.capacity import capacity_plan_check
from resources.models import Item, WorkCenter
from resources.selectors.calendar import work_center_available_minutes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def next_monday():
    today = timezone.localdate()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def test_engine_block_plan_capped_to_95_per_day_on_cnc_01(demo_plant):
    machining = WorkCenter.objects.get(code="CNC")
    start = demo_day_zero(machining)  # the first day the cylinder-head batches load machining
    check = capacity_plan_check(
        item=Item.objects.get(code="EB-500"),
        quantity=Decimal(500),
        requested_per_day=Decimal(100),
        start_day=start,
    )
    assert check.bottleneck.equipment == "CNC-01" and check.bottleneck.step_no == 20
    assert check.plan.capped and check.plan.capped_per_day == 95
    minutes = work_center_available_minutes(machining, start, start + timedelta(days=14))
    working = sorted(d for d, m in minutes.items() if m > 0)  # Sundays and holidays left out
    assert check.plan.requested_finish == working[4]  # 5 working days at 100
    assert check.plan.capped_finish == working[5]  # 6 working days at 95
    assert [d.planned for d in check.plan.days if d.planned] == [95] * 5 + [25]
    # Machining is already ~90 % loaded by the cylinder-head batches: adding 95 blocks a
    # day (about 990 minutes) overloads it on the days both overlap.
    cnc = {c.day: c for c in check.cells if c.work_center == "CNC"}
    assert cnc[start].available == 1920 and cnc[start].overload > 700
    assert ("CNC", start) in {(c.work_center, c.day) for c in check.overloads}


def test_mps_page_edits_cells(demo_plant):
    user = UserFactory(username="mps-planner")
    user.groups.add(Group.objects.get_or_create(name=Role.PLANNER)[0])
    client = Client()
    client.force_login(user)
    page = client.get("/planning/mps/")
    assert page.status_code == 200 and b"EB-500" in page.content and b"booked 500" in page.content
    week = next_monday()
    saved = client.post("/planning/mps/cell/", {"item": "EB-500", "week": week, "quantity": "250"})
    assert saved.status_code == 200
    assert MpsEntry.objects.get(item__code="EB-500", period_start=week).quantity == 250
    bad = client.post("/planning/mps/cell/", {"item": "EB-500", "week": week, "quantity": "-5"})
    assert bad.status_code == 400 and b"negative" in bad.content
    bought = client.post("/planning/mps/cell/", {"item": "BRG-6205", "week": week, "quantity": "5"})
    assert bought.status_code == 400 and b"bought" in bought.content
    cleared = client.post("/planning/mps/cell/", {"item": "EB-500", "week": week, "quantity": "0"})
    assert cleared.status_code == 200 and not MpsEntry.objects.exists()
    operator = Client()
    operator.force_login(UserFactory(username="mps-op"))
    assert operator.post("/planning/mps/cell/", {"item": "EB-500", "week": week}).status_code == 403
