"""The landing page and the admin with the demo plant, in real headless Chromium."""

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_landing_login_and_admin_show_the_demo_plant(
    live_server, demo_plant, browser_page, tmp_path
):
    page = browser_page
    page.goto(live_server.url + "/")
    assert "ClosedLoop" in page.title()
    assert page.get_by_role("link", name="Log in").first.is_visible()

    login(page, live_server.url, "admin")
    page.wait_for_url(live_server.url + "/")
    assert "Signed in as Plant Administrator (admin)" in page.inner_text("main")

    page.goto(live_server.url + "/admin/resources/equipment/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 6
    assert page.get_by_role("link", name="CNC-01").is_visible()

    page.goto(live_server.url + "/admin/planning/routing/")
    page.get_by_role("link", name="EB-500", exact=True).click()
    page.wait_for_url("**/change/")
    steps = page.locator("input[name$='-step_no']")
    assert [steps.nth(i).input_value() for i in range(steps.count())][:4] == [
        "10",
        "20",
        "30",
        "40",
    ]
    page.screenshot(path=str(tmp_path / "admin-routing.png"), full_page=True)


def test_operator_cannot_reach_the_admin(live_server, demo_plant, browser_page):
    page = browser_page
    login(page, live_server.url, "zhangsan")
    page.goto(live_server.url + "/admin/")
    assert "/admin/login/" in page.url
