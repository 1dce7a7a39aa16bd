"""The late order of the issue in real headless Chromium: on the order list, ticking "At risk
only" (an HTMX filter) keeps MO-2026-00002, scheduled past its due date with a severe fault
blocking its machining, and leaves out the batch that is on time."""

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.clock("2026-12-09T10:00:00+08:00"),  # the ordinary working week
]


def test_at_risk_only_keeps_the_late_order(
    live_server, demo_plant, browser_page, closes_db, tmp_path
):
    from playwright.sync_api import expect

    from execution.models import Severity
    from execution.services.alerts import alert_raise
    from planning.models import ProductionOrder, ScheduleRun
    from planning.services.orders import production_order_release
    from planning.services.schedule import schedule_run_execute

    schedule_run_execute(run_id=ScheduleRun.objects.create(time_limit_seconds=2).pk, workers=2)
    late = production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00002"))
    machine = late.operations.get(sequence=20).equipment
    alert_raise(
        alert_type="equipment_fault",
        severity=Severity.SEVERE,
        description=f"{machine.code} spindle fault",
        equipment=machine,
        order=late,
    )
    on_time = ProductionOrder.objects.get(number="MO-2026-00001")

    page = browser_page
    login(page, live_server.url, "zhouba")
    page.wait_for_url(live_server.url + "/planning/home/")  # the role's home (core/homes.py)
    page.goto(live_server.url + "/planning/orders/")
    expect(page.locator(f"#order-{on_time.pk}")).to_be_visible()
    row = page.locator(f"#order-{late.pk}")
    expect(row.locator(".risk-late")).to_contain_text("late +")
    page.get_by_label("At risk only").check()
    expect(page.locator(f"#order-{on_time.pk}")).to_have_count(0)
    expect(page.locator(f"#order-{late.pk} .risk-late")).to_be_visible()
    assert "risk=1" in page.url  # the filter is in the address, for a bookmark
    page.screenshot(path=str(tmp_path / "orders-at-risk.png"), full_page=True)
