"""The item cost sheet in real headless Chromium: the cost accountant opens EB-500's sheet
from the top bar and opens its housing, then the housing's resin, level by level (HTMX)."""

import pytest

from tests.integration.browser import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_cost_accountant_expands_the_engine_block_down_to_a_bought_item(
    live_server, demo_plant, browser_page, closes_db, tmp_path
):
    from playwright.sync_api import expect

    page = browser_page
    login(page, live_server.url, "wujiu")
    page.wait_for_url(live_server.url + "/costing/variances/")  # the role's home (core/homes.py)
    page.get_by_role("link", name="Costs", exact=True).click()
    page.wait_for_url(live_server.url + "/costing/")
    expect(page.locator('tr[data-version="STD-2026"]')).to_contain_text("current")
    page.get_by_role("link", name="Item cost sheet").click()
    page.get_by_role("link", name="EB-500", exact=True).click()
    sheet = page.locator('section.cost-sheet[data-item="EB-500"]')
    expect(sheet.locator(".cost-total")).to_have_text("80.00")
    top = sheet.locator('.cost-node[data-level="0"] > table.cost-elements')
    expect(top.locator('[data-element="material"]')).to_have_text("50.0000")
    expect(top.locator('[data-element="labour"]')).to_have_text("20.0000")
    expect(top.locator('[data-element="machine"]')).to_have_text("10.0000")

    housing = sheet.locator('details[data-component="HSG-100"]')
    housing.locator("> summary").click()
    node = housing.locator('.cost-node[data-item="HSG-100"][data-level="1"]')
    expect(node.locator('[data-element="total"]')).to_have_text("5.0000")
    expect(node).to_contain_text("0.2 ÷ (1 − 2 %) × PP-GF30 at 2.45")
    resin = node.locator('details[data-component="PP-GF30"]')
    resin.locator("> summary").click()
    expect(resin.locator('.cost-node[data-level="2"]')).to_contain_text("purchase price 2.45")
    # Closing and opening again does not load it twice.
    housing.locator("> summary").click()
    expect(node).to_be_hidden()
    housing.locator("> summary").click()
    expect(housing.locator(".cost-node[data-level='1']")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "cost-sheet.png"), full_page=True)


def test_order_costs_and_variances_of_the_demo_fit_a_1280_screen(
    live_server, demo_plant, browser_page, closes_db, tmp_path
):
    """The demo's costed history (costing/demo.py `history_load`) on a 1280 px screen: the
    order in progress with nothing good yet says so instead of a difference, and the variance
    report with its flagged labour efficiency fits the page (its tables scroll inside their
    own box rather than widen the page)."""
    import os

    from playwright.sync_api import expect

    from costing.demo import history_load

    history_load()  # as `make run` loads the demo (load_demo --history)
    shots = os.environ.get("CLOSEDLOOP_SCREENSHOTS") or str(tmp_path)
    page = browser_page
    login(page, live_server.url, "wujiu")
    page.wait_for_url(live_server.url + "/costing/variances/")  # the role's home (core/homes.py)
    page.goto(live_server.url + "/costing/orders/")
    running = page.locator('tr[data-order="MO-HIST-0002"]')
    expect(running.locator('[data-field="difference"]')).to_have_text("no good quantity yet")
    done = page.locator('tr[data-order="MO-HIST-0001"]')
    expect(done.locator('[data-field="actual"]')).to_have_text("2311.80")
    running.get_by_role("link", name="MO-HIST-0002").click()
    page.wait_for_url(live_server.url + "/costing/orders/MO-HIST-0002/")
    total = page.locator('tr[data-element="total"]')
    expect(total.locator('[data-field="difference"]')).to_have_text("no good quantity yet")
    expect(page.locator('[data-field="unit-cost"]')).to_contain_text("No good quantity yet")
    page.screenshot(path=os.path.join(shots, "order-in-progress.png"), full_page=True)

    page.goto(live_server.url + "/costing/variances/")
    flagged = page.locator(
        'tr.variance.flagged[data-kind="labour_efficiency"][data-order="MO-HIST-0001"]'
    )
    expect(flagged).to_have_count(1)
    expect(flagged.locator(".cause")).to_contain_text("operators wangwu")
    # Nothing sticks out of the page: no horizontal scroll of the document, and each table's
    # box ends inside the page's column.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    column = page.locator("main").bounding_box()
    for box in page.locator(".table-scroll").all():
        b = box.bounding_box()
        assert (
            b["x"] >= column["x"] - 1 and b["x"] + b["width"] <= column["x"] + column["width"] + 1
        )
    page.screenshot(path=os.path.join(shots, "variances-1280.png"), full_page=True)
