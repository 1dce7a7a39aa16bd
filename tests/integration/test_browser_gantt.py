"""The Gantt in real headless Chromium: the planner drags an operation one or more days
along its machine's row; the server pins it there (after the scheduler's checks) and queues
the rescheduling of the rest; a click on a bar opens its order."""

from datetime import timedelta

import pytest
from django.db import transaction

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


class _Undo(Exception):
    pass


def test_the_planner_drags_an_operation_a_day_later_and_it_is_pinned(
    live_server, demo_plant, browser_page, closes_db, tmp_path
):
    from playwright.sync_api import expect

    from planning.models import OrderOperation, ScheduleAssignment
    from planning.services.schedule_moves import MoveRefused, operation_move
    from resources.selectors.calendar import plant_time_zone
    from tests.planning.test_schedule_service import run_now

    run = run_now()
    assert run.status == "done", run.error
    found = None
    for part in ScheduleAssignment.objects.filter(
        run=run, operation__status="pending"
    ).select_related("operation__order", "equipment"):
        op = part.operation
        if ScheduleAssignment.objects.filter(run=run, operation=op).count() != 1:
            continue
        for days in (1, 2, 3):
            try:
                with transaction.atomic():
                    operation_move(
                        operation=op,
                        machine=part.equipment,
                        start=part.start + timedelta(days=days),
                        reschedule=False,
                    )
                    raise _Undo
            except MoveRefused:
                continue
            except _Undo:
                found = (op, part, days)
                break
        if found:
            break
    if found is None:
        pytest.skip("no operation of the demo schedule can move whole days on its machine")
    op, part, days = found

    page = browser_page
    page.set_viewport_size({"width": 2400, "height": 1100})
    login(page, live_server.url, "zhouba")
    page.wait_for_url(live_server.url + "/planning/home/")  # the role's home (core/homes.py)
    first = part.start.astimezone(plant_time_zone()).date()
    page.goto(f"{live_server.url}/planning/gantt/?view=week&from={first:%Y-%m-%d}")
    bar = page.locator(f'a.bar.movable[data-operation="{op.pk}"]')
    expect(bar).to_have_count(1)
    svg = page.locator("svg.gantt-movable")
    box = svg.bounding_box()
    width = float(svg.get_attribute("data-width"))
    span = float(svg.get_attribute("data-span"))
    plot = width - float(svg.get_attribute("data-label-w"))
    per_day = 86400 / span * plot * box["width"] / width  # screen pixels per day
    rect = bar.locator("rect").bounding_box()
    x, y = rect["x"] + min(6, rect["width"] / 2), rect["y"] + rect["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + per_day * days / 2, y, steps=5)
    page.mouse.move(x + per_day * days, y, steps=5)
    expect(page.locator("svg.gantt .drag-time")).to_be_visible()
    page.mouse.up()
    # The rescheduling runs inside the request here (Celery eager in the tests): wait for it.
    message = page.locator("#gantt [role=status]")
    expect(message).to_contain_text(
        f"{op.order.number}/{op.sequence} pinned on {part.equipment.code}", timeout=90_000
    )
    moved = OrderOperation.objects.get(pk=op.pk)
    assert moved.frozen and moved.equipment_id == part.equipment_id
    assert moved.planned_start == part.start + timedelta(days=days)
    page.screenshot(path=str(tmp_path / "gantt-moved.png"), full_page=True)

    # A click (no drag) opens the order.
    page.locator(f'a.bar[data-operation="{op.pk}"] rect').first.click()
    page.wait_for_url(f"{live_server.url}/planning/orders/{op.order_id}/")
