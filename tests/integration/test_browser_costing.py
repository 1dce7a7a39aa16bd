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
    page.wait_for_url(live_server.url + "/")
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
