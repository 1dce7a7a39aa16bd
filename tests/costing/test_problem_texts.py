"""A roll-up's problems are stored texts (core/texts.py): each keeps its message id and
parameters beside the English, and the cost sheet, its export, the versions page and the API
show it in the reader's language. A problem stored before (a plain English string) is shown
as stored.

The plant is the demo's; the resin PP-GF30 (bought, under HSG-100 under EB-500) loses its
purchase price."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from core.texts import text_render
from costing.models import CostRollupRun, CostVersion, ItemCost, PurchasePrice
from costing.services.rollup import standard_cost_rollup_run
from costing.views.sheet import SHEET_HEADER

pytestmark = pytest.mark.django_db
API = "/api/v1/costing"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
NO_PRICE_EN = "PP-GF30: bought item with no purchase price in cost version STD-2026."
NO_PRICE_ZH = "PP-GF30：外购件在成本版本 STD-2026 中没有采购价。"
HOUSING_ZH = "HSG-100：BOM 行 10 的子件 PP-GF30 没有完整成本（见 PP-GF30）。"
PROBLEMS = SHEET_HEADER.index("problems")  # the export's headers are in the reader's language
OLD = "PP-GF30: bought item with no purchase price (as stored)."


@pytest.fixture
def reader(client):
    client.force_login(get_user_model().objects.get(username="wujiu"))  # cost accountant
    return client


@pytest.fixture
def no_price(demo_plant) -> CostRollupRun:
    version = CostVersion.objects.get(code="STD-2026")
    PurchasePrice.objects.filter(version=version, item__code="PP-GF30").delete()
    return standard_cost_rollup_run(version=version)


def _resin() -> ItemCost:
    return ItemCost.objects.get(version__code="STD-2026", item__code="PP-GF30")


def _housing_line_no() -> int:
    problems = ItemCost.objects.get(version__code="STD-2026", item__code="HSG-100").problems
    return problems[0]["params"]["problem"]["params"]["line"]


def test_the_rollup_stores_each_problem_as_message_id_and_parameters(no_price):
    (problem,) = _resin().problems
    assert problem == {
        "text": NO_PRICE_EN,
        "id": "%(item)s: %(problem)s",
        "params": {
            "item": "PP-GF30",
            "problem": {
                "text": "bought item with no purchase price in cost version %(version)s.",
                "params": {"version": "STD-2026"},
            },
        },
    }
    assert NO_PRICE_EN in [p["text"] for p in no_price.problems]
    # Every stored problem's English is its message rendered in English.
    for p in no_price.problems:
        assert p["text"] == text_render(p["id"], p["params"], "en"), p
    assert text_render(problem["id"], problem["params"], "zh-hans") == NO_PRICE_ZH


def test_the_cost_sheet_shows_the_problems_in_chinese(no_price, reader):
    assert _housing_line_no() == 10
    html = reader.get("/costing/sheet/?item=PP-GF30", **ZH).content.decode()
    assert NO_PRICE_ZH in html and "bought item" not in html
    housing = reader.get("/costing/sheet/?item=HSG-100", **ZH).content.decode()
    assert HOUSING_ZH in housing and "has no complete cost" not in housing
    english = reader.get("/costing/sheet/?item=PP-GF30").content.decode()
    assert NO_PRICE_EN in english


def test_the_versions_page_lists_the_problems_in_chinese(no_price, reader):
    html = reader.get("/costing/", **ZH).content.decode()
    # Under the item's name: the problem without the item; in the run's list: whole.
    assert "— 外购件在成本版本 STD-2026 中没有采购价。" in html
    assert f"<li>{NO_PRICE_ZH}</li>" in html
    assert "bought item" not in html


def test_the_sheet_export_writes_the_problems_in_the_readers_language(no_price, reader):
    body = reader.get("/costing/sheet/?item=PP-GF30&format=csv", **ZH).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][2] == "PP-GF30" and rows[1][PROBLEMS] == NO_PRICE_ZH
    answer = reader.get("/costing/sheet/?item=HSG-100&format=xlsx", **ZH)
    sheet = load_workbook(io.BytesIO(answer.content)).active
    problems = {
        row[2].value: row[PROBLEMS].value
        for row in sheet.iter_rows(min_row=2)
        if row[PROBLEMS].value
    }
    assert problems["HSG-100"] == HOUSING_ZH
    assert problems["PP-GF30"] == NO_PRICE_ZH


def test_the_api_gives_the_problems_in_the_requests_language_and_their_ids(no_price, api_as):
    client = api_as("wujiu")
    cost = client.get(f"{API}/item-costs/{_resin().pk}/", **ZH).json()
    assert cost["problems"] == [NO_PRICE_ZH]
    (detail,) = cost["problems_detail"]
    assert detail["text"] == NO_PRICE_EN and detail["id"] == "%(item)s: %(problem)s"
    assert detail["params"]["item"] == "PP-GF30"
    run = client.get(f"{API}/rollups/{no_price.pk}/", **ZH).json()
    assert NO_PRICE_ZH in run["problems"] and HOUSING_ZH in run["problems"]
    assert len(run["problems_detail"]) == len(run["problems"])
    english = client.get(f"{API}/item-costs/{_resin().pk}/").json()
    assert english["problems"] == [NO_PRICE_EN]
    # A roll-up run through the API answers in the request's language too.
    posted = client.post(f"{API}/rollups/", {"version": "STD-2026"}, format="json", **ZH)
    assert posted.status_code == 201 and NO_PRICE_ZH in posted.json()["problems"]


def test_problems_stored_before_show_their_english_as_stored(no_price, reader, api_as):
    ItemCost.objects.filter(pk=_resin().pk).update(problems=[OLD])
    CostRollupRun.objects.filter(pk=no_price.pk).update(problems=[OLD])
    html = reader.get("/costing/sheet/?item=PP-GF30", **ZH).content.decode()
    assert OLD in html and "没有采购价" not in html
    body = reader.get("/costing/sheet/?item=PP-GF30&format=csv", **ZH).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][PROBLEMS] == OLD
    versions = reader.get("/costing/", **ZH).content.decode()
    assert "— bought item with no purchase price (as stored)." in versions  # the item taken off
    assert f"<li>{OLD}</li>" in versions
    client = api_as("wujiu")
    cost = client.get(f"{API}/item-costs/{_resin().pk}/", **ZH).json()
    assert cost["problems"] == [OLD]
    assert cost["problems_detail"] == [{"text": OLD, "id": "", "params": {}}]
    run = client.get(f"{API}/rollups/{no_price.pk}/", **ZH).json()
    assert run["problems"] == [OLD]
