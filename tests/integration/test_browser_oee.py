"""The OEE board in real headless Chromium: tiles, roll-ups, the trend and Pareto SVGs, the
live refresh of the tiles, and the drill-down's state timeline."""

from datetime import timedelta

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.clock("2026-12-09T10:00:00+08:00"),
]


def test_plant_manager_opens_the_board_and_drills_down(
    live_server, browser_page, closes_db, tmp_path
):
    from playwright.sync_api import expect

    from core.roles import Role
    from devices.models import DowntimeReason, ProductionCount, StateInterval
    from devices.services.count_hours import count_rows_write
    from tests.devices.test_oee_selectors import TUE, at, day_of, machine
    from tests.factories import UserFactory

    wed = TUE + timedelta(days=1)
    cnc = machine(code="CNC-OEE")
    inj = machine(code="INJ-OEE")
    for eq in (cnc, inj):
        for back in range(5):
            day_of(eq, TUE - timedelta(days=back))
    jam = DowntimeReason.objects.create(code="CHIPJAM", name="Chip jam", loss="breakdown")
    StateInterval.objects.create(equipment=cnc, state="running", start=at(wed, 6), end=at(wed, 8))
    StateInterval.objects.create(equipment=cnc, state="fault", start=at(wed, 8), reason=jam)
    StateInterval.objects.create(equipment=inj, state="running", start=at(wed, 6))
    count_rows_write([ProductionCount(equipment=cnc, at=at(wed, 8), total=100, good=98)])
    count_rows_write([ProductionCount(equipment=inj, at=at(wed, 9), total=200, good=200)])
    UserFactory(username="oee-pm", password="closedloop", roles=[Role.PLANT_MANAGER])

    page = browser_page
    login(page, live_server.url, "oee-pm")
    page.wait_for_url(live_server.url + "/kpis/")  # the plant manager's home
    page.get_by_role("link", name="OEE", exact=True).click()
    page.wait_for_url(live_server.url + "/devices/oee/")
    tile = page.locator('[data-equipment="CNC-OEE"]')
    expect(tile).to_contain_text("fault")
    expect(tile.locator(".oee-diagnosis")).to_contain_text("frequent faults")
    expect(tile.locator(".oee-diagnosis")).to_contain_text("Chip jam")
    expect(page.locator('[data-equipment="INJ-OEE"] .oee-big')).to_be_visible()
    expect(page.locator('[data-rollup="plant"]')).to_contain_text("Plant today")
    # Fri, Mon, Tue and today have shifts; the weekend has none, so no bar.
    expect(page.locator("svg.oee-trend rect")).to_have_count(4)
    expect(page.locator("svg.oee-pareto rect").first).to_be_visible()
    assert page.locator(".oee-tile .oee-bar span").count() == 6
    page.screenshot(path=str(tmp_path / "oee-board.png"), full_page=True)

    # The tiles refresh on their own: a new count shows without a reload.
    page.evaluate("window.__notReloaded = true")
    count_rows_write([ProductionCount(equipment=inj, at=at(wed, 9, 30), total=50, good=40)])
    expect(page.locator('[data-equipment="INJ-OEE"]')).to_contain_text(
        "240 good of 250", timeout=15000
    )
    assert page.evaluate("window.__notReloaded") is True

    tile.click()
    page.wait_for_url(live_server.url + "/devices/oee/CNC-OEE/")
    expect(page.locator("svg.oee-timeline rect.band-fault")).to_have_count(1)
    expect(page.locator("table.oee-downtime")).to_contain_text("Chip jam")
    page.screenshot(path=str(tmp_path / "oee-machine.png"), full_page=True)
