"""The basis of a cost line and of an actual cost entry is a stored text (core/texts.py): its
message id and parameters are stored beside the English words, and every page, export, the
API and the admin show it in the reader's language. A row stored before (no message id)
shows its English as stored.

The figures are the demo's (test_pages.py) and the worked order's (test_actual.py)."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from core.texts import text_render
from costing.models import ItemCost, ItemCostLine, MachineRate, OrderCostEntry

pytestmark = pytest.mark.django_db
API = "/api/v1/costing"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}


@pytest.fixture
def reader(client):
    client.force_login(get_user_model().objects.get(username="wujiu"))  # cost accountant
    return client


def _line(item: str, **where) -> ItemCostLine:
    return ItemCostLine.objects.get(
        item_cost__version__code="STD-2026", item_cost__item__code=item, **where
    )


# --- the roll-up's lines ---------------------------------------------------------------------


def test_the_rollup_stores_each_basis_as_message_id_and_parameters(demo_plant):
    labour = _line("EB-500", element="labour", step_no=10)
    assert labour.basis == (
        "(60 min setup ÷ BOM batch 50 + 6 min run) ÷ 60 h × 46/h (skill CAST level 2)"
    )
    assert labour.basis_id == "%(hours)s h × %(rate)s/h (%(source)s)"
    assert labour.basis_params["rate"] == "46"
    assert labour.basis_params["source"] == {
        "text": "skill %(skill)s level %(level)s",
        "params": {"skill": "CAST", "level": 2},
    }
    # Every line's English is its message rendered in English.
    for line in ItemCostLine.objects.all():
        assert line.basis_id, line
        assert line.basis == text_render(line.basis_id, line.basis_params, "en"), line


def test_the_cost_sheet_shows_the_basis_in_chinese(demo_plant, reader):
    html = reader.get("/costing/sheet/?item=EB-500", **ZH).content.decode()
    assert "（准备 60 分钟 ÷ BOM 基准数量 50 + 加工 6 分钟）÷ 60" in html
    assert "÷ 60 小时 × 46/小时（技能 CAST 2 级）" in html
    assert "工时 （准备 60 分钟" in html
    assert "50 ÷ 50 × BRG-6205，单位成本 25" in html
    assert "min setup" not in html and " at 25" not in html
    housing = reader.get("/costing/sheet/STD-2026/HSG-100/node/?level=1", **ZH).content.decode()
    assert "0.2 ÷ (1 − 2 %) × PP-GF30，单位成本 2.45" in housing
    assert "机时 " in housing
    resin = reader.get("/costing/sheet/STD-2026/PP-GF30/node/?level=2", **ZH).content.decode()
    assert "采购价 2.45" in resin
    # The same page in English reads as before.
    english = reader.get("/costing/sheet/?item=EB-500").content.decode()
    assert "50 ÷ 50 × BRG-6205 at 25" in english


def test_the_sheet_export_writes_the_basis_in_the_readers_language(demo_plant, reader):
    body = reader.get("/costing/sheet/?item=HSG-100&format=csv", **ZH).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    bases = [row[-1] for row in rows[1:] if row[4] == "line"]
    assert "0.2 ÷ (1 − 2 %) × PP-GF30，单位成本 2.45" in bases
    assert "采购价 2.45" in bases


def test_the_api_gives_the_basis_in_the_requests_language_and_its_id(demo_plant, api_as):
    cost = ItemCost.objects.get(version__code="STD-2026", item__code="PP-GF30")
    body = api_as("wujiu").get(f"{API}/item-costs/{cost.pk}/", **ZH).json()
    (line,) = body["lines"]
    assert line["basis"] == "采购价 2.45"
    assert (line["basis_id"], line["basis_params"]) == (
        "purchase price %(price)s",
        {"price": "2.45"},
    )
    english = api_as("wujiu").get(f"{API}/item-costs/{cost.pk}/").json()
    assert english["lines"][0]["basis"] == "purchase price 2.45"


def test_a_line_stored_before_shows_its_english_as_stored(demo_plant, reader, api_as):
    line = _line("PP-GF30")
    ItemCostLine.objects.filter(pk=line.pk).update(
        basis="purchase price 2.45 (as stored)", basis_id="", basis_params={}
    )
    resin = reader.get("/costing/sheet/STD-2026/PP-GF30/node/?level=2", **ZH).content.decode()
    assert "purchase price 2.45 (as stored)" in resin and "采购价" not in resin
    body = api_as("wujiu").get(f"{API}/item-costs/{line.item_cost_id}/", **ZH).json()
    assert body["lines"][0]["basis"] == "purchase price 2.45 (as stored)"
    assert body["lines"][0]["basis_id"] == ""


# --- the actual cost ledger ------------------------------------------------------------------


def test_the_ledger_stores_each_basis_as_message_id_and_parameters(worked_order):
    entries = OrderCostEntry.objects.filter(order=worked_order)
    material = entries.get(element="material")
    assert material.basis == "12 × 11 (lot price)"
    assert (material.basis_id, material.basis_params) == (
        "%(quantity)s × %(price)s (%(source)s)",
        {"quantity": "12", "price": "11", "source": {"text": "lot price", "params": {}}},
    )
    for e in entries:
        assert e.basis_id, e
        assert e.basis == text_render(e.basis_id, e.basis_params, "en"), e


def test_the_order_page_shows_the_ledger_basis_in_chinese(worked_order, reader):
    html = reader.get(f"/costing/orders/{worked_order.number}/", **ZH).content.decode()
    assert "发料 12 × 单价 11（批次价格）" in html
    assert "工时 0.6666666667 小时 × 50/小时（操作工技能等级 3）" in html
    assert "运行机时 0.6666666667 小时 × 30/小时" in html
    assert "报废 1 × 截至工序 10 的标准成本 29.12" in html
    assert "lot price" not in html and "h running" not in html


def test_the_order_export_and_the_api_give_the_ledger_basis_in_chinese(
    worked_order, reader, api_as
):
    body = reader.get(f"/costing/orders/{worked_order.number}/?format=csv", **ZH)
    text = body.content.decode("utf-8-sig")
    assert "发料 12 × 单价 11（批次价格）" in text and "lot price" not in text
    rows = (
        api_as("wujiu")
        .get(f"{API}/cost-entries/?order={worked_order.number}&element=machine", **ZH)
        .json()["results"]
    )
    assert {r["basis_id"] for r in rows} == {"%(hours)s h running × %(rate)s/h"}
    assert sorted(r["basis"] for r in rows) == [
        "运行机时 0.3333333333 小时 × 30/小时",
        "运行机时 0.6666666667 小时 × 30/小时",
    ]
    assert {r["basis_params"]["rate"] for r in rows} == {"30"}


def test_an_entry_stored_before_shows_its_english_as_stored(worked_order, reader, api_as):
    entry = OrderCostEntry.objects.get(order=worked_order, element="material")
    OrderCostEntry.objects.filter(pk=entry.pk).update(basis_id="", basis_params={})
    html = reader.get(f"/costing/orders/{worked_order.number}/", **ZH).content.decode()
    assert "12 × 11 (lot price)" in html and "发料 12" not in html
    rows = (
        api_as("wujiu")
        .get(f"{API}/cost-entries/?order={worked_order.number}&element=material", **ZH)
        .json()["results"]
    )
    assert [r["basis"] for r in rows] == ["12 × 11 (lot price)"]


def test_the_admin_shows_the_basis_in_chinese(worked_order, admin_client):
    page = admin_client.get("/admin/costing/ordercostentry/", **ZH).content.decode()
    assert "依据" in page and "发料 12 × 单价 11（批次价格）" in page
    entry = OrderCostEntry.objects.get(order=worked_order, element="material")
    detail = admin_client.get(f"/admin/costing/ordercostentry/{entry.pk}/change/", **ZH)
    assert "发料 12 × 单价 11（批次价格）" in detail.content.decode()
    rates = admin_client.get("/admin/costing/machinerate/", **ZH).content.decode()
    assert "每小时费率" in rates
    cost = ItemCost.objects.get(version__code="STD-2026", item__code="PP-GF30")
    sheet = admin_client.get(f"/admin/costing/itemcost/{cost.pk}/change/", **ZH)
    assert "采购价 2.45" in sheet.content.decode()


def test_what_could_not_be_posted_is_said_in_the_requests_language(worked_order, api_as):
    MachineRate.objects.filter(version__code="STD-2026", equipment__code="CAST-01").delete()
    OrderCostEntry.objects.filter(order=worked_order, element="machine").delete()
    answer = api_as("wujiu").post(
        f"{API}/order-costs/post-missing/", {"order": worked_order.number}, format="json", **ZH
    )
    problems = answer.json()["problems"]
    assert len(problems) == 2, problems
    assert all("MO-2026-00001/10" in p and "没有设备" in p and "未过账" in p for p in problems)
    again = api_as("wujiu").post(
        f"{API}/order-costs/post-missing/", {"order": worked_order.number}, format="json"
    )
    assert all("no machine rate for equipment" in p for p in again.json()["problems"])
