"""The planner's journey in Simplified Chinese, in real headless Chromium (issue #17, "Must
show"): the planner (周八, language 简体中文) runs MRP, firms a planned order, reads the
capacity load, reschedules and releases the engine-block order. Every step shows Chinese
and no English label; the screenshots are kept in CLOSEDLOOP_SCREENSHOTS (else tmp_path)."""

import os
import re

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.clock("2026-12-09T10:00:00+08:00"),  # an ordinary working week
]


@pytest.fixture
def demo_plant(demo_plant_zh):
    """The demo plant as `make run` loads it, its data in Chinese (DEMO_LANGUAGE): the
    journeys read in Chinese, names included."""


# A Latin word standing alone (codes such as EB-500, MO-2026-00001 or CNC-01 are not words
# a translator writes, nor are abbreviations in capitals: MRP, BOM, CNC).
WORD = re.compile(r"(?<![\w-])[A-Za-z][a-z]+(?![\w-])")
# What a person reads as labels: headings, column heads, buttons, form labels.
LABELS = "main h1, main h2, main h3, main th, main button, main label, main legend, main summary"


def english_labels(page) -> list[str]:
    return [text for text in page.locator(LABELS).all_inner_texts() if WORD.search(text)]


def shows_chinese(page) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", page.inner_text("main")))


def test_the_planner_journey_in_chinese(live_server, demo_plant, browser_page, closes_db, tmp_path):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from core.preferences import preference_language_set
    from planning.models import ProductionOrder

    shots = os.environ.get("CLOSEDLOOP_SCREENSHOTS") or str(tmp_path)
    planner = get_user_model().objects.get(username="zhouba")
    preference_language_set(user=planner, language="zh-hans")
    order = ProductionOrder.objects.get(number="MO-2026-00001")
    page = browser_page

    def step(name: str) -> None:
        assert shows_chinese(page), name
        assert english_labels(page) == [], name
        page.screenshot(path=os.path.join(shots, f"planner-{name}-zh-hans.png"), full_page=True)

    login(page, live_server.url, "zhouba")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # The planner's home: orders at risk and the week's capacity load.
    page.goto(live_server.url + "/planning/home/")
    expect(page.get_by_role("heading", name="风险工单与产能")).to_be_visible()
    expect(page.get_by_role("heading", name="未来 7 天产能负荷")).to_be_visible()
    step("home")

    # MRP: run it; the bar follows the run, then the results replace it.
    page.goto(live_server.url + "/planning/mrp/")
    page.get_by_role("button", name="运行 MRP").click()
    expect(page.get_by_role("heading", name=re.compile("行动建议"))).to_be_visible()
    planned = page.locator("table.planned")
    expect(planned).to_contain_text("BRG-6205")
    expect(page.locator("table.messages")).not_to_contain_text("past_due")
    step("mrp")

    # Firm the bearings' planned purchase: it becomes a requisition.
    row = planned.locator("tr", has_text="BRG-6205").first
    row.get_by_role("button", name="确认").click()
    expect(row).to_contain_text("已确认")
    step("firm")

    # Capacity: load per work center, then per machine.
    page.goto(live_server.url + "/planning/capacity/")
    expect(page.get_by_role("heading", name="产能负荷")).to_be_visible()
    page.get_by_role("link", name="按设备").click()
    expect(page.locator("#capacity-grid")).to_contain_text("CNC-01")
    step("capacity")

    # Schedule: a short run; its result in plain Chinese words.
    page.goto(live_server.url + "/planning/schedule/")
    page.get_by_label("时间限制（秒）").fill("2")
    page.get_by_role("button", name="重新排程").click()
    expect(page.get_by_role("link", name="打开甘特图")).to_be_visible(timeout=60000)
    expect(page.locator(".schedule-result")).to_contain_text("工单")
    step("schedule")

    # Release the engine-block order: the page asks first, in Chinese.
    page.goto(f"{live_server.url}/planning/orders/{order.pk}/")
    expect(page.locator("#order-components")).to_contain_text("缺 20 件")
    page.get_by_role("button", name="下达").click()
    expect(page.get_by_role("heading", name=f"下达工单 {order.number}？")).to_be_visible()
    step("release-confirm")
    page.get_by_role("button", name=f"确定下达 {order.number}").click()
    expect(page.locator("#order-header h1 .status")).to_have_text("已下达")
    step("released")
    order.refresh_from_db()
    assert order.status == "released"
