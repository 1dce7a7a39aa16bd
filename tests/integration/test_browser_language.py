"""The language switcher on the operator terminal, in real headless Chromium: the operator
picks 简体中文, the terminal answers in Chinese, and the choice holds at the next sign-in.
The screenshot is kept (CLOSEDLOOP_SCREENSHOTS, else the test's tmp_path)."""

import os

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_operator_switches_the_terminal_to_chinese(
    live_server, released_order, browser_page, closes_db, tmp_path
):
    from playwright.sync_api import expect

    shots = os.environ.get("CLOSEDLOOP_SCREENSHOTS") or str(tmp_path)
    page = browser_page
    login(page, live_server.url, "wangwu")
    page.wait_for_url(live_server.url + "/execution/terminal/")  # the operator's home
    page.goto(live_server.url + "/execution/terminal/")
    expect(page.get_by_role("button", name="Start").first).to_be_visible()

    page.select_option("select[name=language]", "zh-hans")
    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name="开工").first).to_be_visible()
    assert page.url.endswith("/execution/terminal/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "王五" in page.inner_text("main") and "刷新" in page.inner_text("main")
    page.screenshot(path=os.path.join(shots, "terminal-zh-hans.png"), full_page=True)

    # Signed out and in again (the browser still asks for English): Chinese, as chosen.
    page.get_by_role("button", name="退出登录（王五）").click()
    page.wait_for_load_state("load")
    login(page, live_server.url, "wangwu")
    page.wait_for_url(live_server.url + "/execution/terminal/")
    page.goto(live_server.url + "/execution/terminal/")
    expect(page.get_by_role("button", name="开工").first).to_be_visible()
