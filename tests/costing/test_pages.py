"""The costing pages on the demo plant: the versions overview with its roll-up and "make
current" actions, the item cost sheet (the roll-up tree, level by level) with its CSV and
XLSX, and an item's standard cost across versions with its SVG chart. Who sees them: cost
accountants, planners, the plant manager and administrators; every other role gets 403 on
every page, partial, export and action, and no top-bar entry."""

import csv
import io
import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from core.charts import BarSeries, bar_chart
from core.navigation import page_allowed
from costing.models import (
    CostRollupRun,
    CostVersion,
    ItemCost,
    LabourRate,
    MachineRate,
    OverheadRate,
    PurchasePrice,
)
from costing.services.rollup import standard_cost_rollup_run
from resources.models import Item
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db

READERS = ["wujiu", "zhouba", "qianyi", "admin"]  # cost accountant, planner, plant manager
OUTSIDERS = ["zhangsan", "zhaoliu", "sunqi", "zhengshi", "fengjie", "chenmo"]
PAGES = [
    "/costing/",
    "/costing/sheet/",
    "/costing/sheet/?item=EB-500",
    "/costing/sheet/?version=STD-2026&item=HSG-100",
    "/costing/sheet/items/?q=HSG",
    "/costing/sheet/STD-2026/HSG-100/node/?level=1",
    "/costing/compare/",
    "/costing/compare/?item=EB-500",
]
EXPORTS = [
    "/costing/sheet/?item=EB-500&format=csv",
    "/costing/sheet/?item=EB-500&format=xlsx",
    "/costing/compare/?item=EB-500&format=csv",
    "/costing/compare/?item=EB-500&format=xlsx",
]
ACTIONS = ["/costing/versions/STD-2026/rollup/", "/costing/versions/STD-2026/make-current/"]


@pytest.fixture
def as_user(client):
    def sign_in(username: str):
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return sign_in


@pytest.fixture
def plan_2027(demo_plant):
    """A 2027 plan: STD-2026's rates with labour 10 % dearer and steel at 11, rolled up."""
    std = CostVersion.objects.get(code="STD-2026")
    plan = CostVersion.objects.create(
        code="PLAN-2027", name="2027 plan", effective_from=date(2027, 1, 1)
    )
    for rate in LabourRate.objects.filter(version=std):
        rate.pk, rate.version = None, plan
        rate.rate_per_hour = rate.rate_per_hour * D("1.1")
        rate.save()
    for model in (MachineRate, OverheadRate, PurchasePrice):
        for row in model.objects.filter(version=std):
            row.pk, row.version = None, plan
            if model is PurchasePrice and row.item.code == "STEEL-42":
                row.price = D("11")
            row.save()
    standard_cost_rollup_run(version=plan)
    return plan


# --- who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", READERS)
def test_every_page_renders_for_those_who_answer_for_cost(demo_plant, as_user, username):
    client = as_user(username)
    for url in PAGES:
        assert client.get(url).status_code == 200, url
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200, url
    for url in EXPORTS:
        assert client.get(url).status_code == 200, url
    home = client.get("/", follow=True).content.decode()  # their home page
    assert 'href="/costing/"' in home  # the top bar's entry
    page = client.get("/costing/sheet/?item=EB-500")
    for href in ("/costing/", "/costing/sheet/", "/costing/compare/"):
        assert f'href="{href}"' in page.content.decode()
        assert page_allowed(page.wsgi_request.user, href)


@pytest.mark.parametrize("username", OUTSIDERS)
def test_everyone_else_gets_403_everywhere_and_no_menu_entry(demo_plant, as_user, username):
    client = as_user(username)
    for url in PAGES + EXPORTS:
        assert client.get(url).status_code == 403, url
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 403, url
    runs = CostRollupRun.objects.count()
    for url in ACTIONS:
        assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403, url
    assert CostRollupRun.objects.count() == runs
    assert "/costing/" not in client.get("/", follow=True).content.decode()


def test_anonymous_is_sent_to_log_in(demo_plant, client):
    for url in [*PAGES, *EXPORTS]:
        assert client.get(url).status_code == 302, url
    assert client.post(ACTIONS[0]).status_code == 302


# --- the versions overview -------------------------------------------------------------------


def test_overview_marks_the_current_version_and_counts_its_rates(plan_2027, as_user):
    html = as_user("qianyi").get("/costing/").content.decode()
    std_row = html[html.index('data-version="STD-2026"') :]
    std_row = std_row[: std_row.index("</tr>")]
    assert "current" in std_row
    # 9 labour rates (4 skills, 5 work centers), 6 machines, 1 overhead, 3 prices, 6 items
    counts = re.findall(r'<td class="num">(?:<a [^>]*>)?(\d+)<', std_row)
    assert counts == ["9", "6", "1", "3", "6"]
    assert "6 items, " in std_row and "all complete" in std_row
    assert 'data-version="PLAN-2027"' in html
    assert html.index('data-version="STD-2026"') < html.index('data-version="PLAN-2027"')


def test_cost_accountant_runs_the_rollup_through_htmx(demo_plant, as_user):
    client = as_user("wujiu")
    page = client.get("/costing/").content.decode()
    assert 'hx-post="/costing/versions/STD-2026/rollup/"' in page
    ItemFactory(code="NUT-M8", name="Nut M8", source=Item.Source.BUY)
    runs = CostRollupRun.objects.count()
    answer = client.post("/costing/versions/STD-2026/rollup/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "<html" not in html  # the table's partial, not the page
    assert "Roll-up of STD-2026: 7 items costed, 1 incomplete." in html
    assert CostRollupRun.objects.count() == runs + 1
    # The item without a cost is named with what it lacks, and links to its sheet.
    assert "Items without a complete cost in STD-2026" in html
    assert "— bought item with no purchase price in cost version STD-2026." in html
    assert "NUT-M8: bought item with no purchase price" in html  # the run's full list
    assert "/costing/sheet/?version=STD-2026&amp;item=NUT-M8" in html
    sheet = client.get("/costing/sheet/?version=STD-2026&item=NUT-M8").content.decode()
    assert "NUT-M8 is incomplete in STD-2026" in sheet
    assert "no purchase price" in sheet
    assert client.post("/costing/versions/NOPE/rollup/").status_code == 404


@pytest.mark.parametrize("username", ["zhouba", "qianyi"])
def test_planner_and_plant_manager_see_no_action_buttons(plan_2027, as_user, username):
    client = as_user(username)
    page = client.get("/costing/").content.decode()
    assert "Run roll-up" not in page and "/rollup/" not in page
    assert "Make current" not in page and "/make-current/" not in page
    runs = CostRollupRun.objects.count()
    for url in ACTIONS + ["/costing/versions/PLAN-2027/make-current/"]:
        assert client.post(url, HTTP_HX_REQUEST="true").status_code == 403
    assert CostRollupRun.objects.count() == runs
    assert CostVersion.objects.get(is_current=True).code == "STD-2026"


def test_cost_accountant_makes_a_version_current(plan_2027, as_user):
    client = as_user("wujiu")
    page = client.get("/costing/").content.decode()
    assert 'hx-post="/costing/versions/PLAN-2027/make-current/"' in page
    assert 'hx-post="/costing/versions/STD-2026/make-current/"' not in page  # already current
    answer = client.post("/costing/versions/PLAN-2027/make-current/", HTTP_HX_REQUEST="true")
    assert "PLAN-2027 is now the current cost version." in answer.content.decode()
    assert CostVersion.objects.get(is_current=True).code == "PLAN-2027"
    # Again: nothing changes.
    client.post("/costing/versions/PLAN-2027/make-current/", HTTP_HX_REQUEST="true")
    assert list(CostVersion.objects.filter(is_current=True).values_list("code", flat=True)) == [
        "PLAN-2027"
    ]
    assert client.get("/costing/versions/PLAN-2027/make-current/").status_code == 405


# --- the item cost sheet ---------------------------------------------------------------------


def test_sheet_shows_the_element_split_and_the_lines_of_eb500(demo_plant, as_user):
    html = as_user("wujiu").get("/costing/sheet/?item=EB-500").content.decode()
    assert '<strong class="cost-total">80.00</strong>' in html
    for element, value in (("material", "50"), ("labour", "20"), ("machine", "10")):
        assert f'data-element="{element}">{value}.0000<' in html
    assert 'data-element="total"><strong>80.0000</strong>' in html
    # per component (with the basis in words) and per operation and element
    assert "50 ÷ 50 × BRG-6205 at 25" in html
    assert "(60 min setup ÷ BOM batch 50 + 6 min run) ÷ 60 h × 46/h (skill CAST level 2)" in html
    assert html.count('class="cost-line element-labour"') == 4
    # the made and bought components open one level further down
    for code in ("STEEL-42", "HSG-100", "BRG-6205"):
        assert f'hx-get="/costing/sheet/STD-2026/{code}/node/?level=1"' in html


def test_components_expand_down_to_bought_items_and_their_price(demo_plant, as_user):
    client = as_user("zhouba")
    housing = client.get("/costing/sheet/STD-2026/HSG-100/node/?level=1", HTTP_HX_REQUEST="true")
    html = housing.content.decode()
    assert "<html" not in html
    assert 'data-element="total"><strong>5.0000</strong>' in html
    assert "0.2 ÷ (1 − 2 %) × PP-GF30 at 2.45" in html
    assert 'hx-get="/costing/sheet/STD-2026/PP-GF30/node/?level=2"' in html
    resin = client.get("/costing/sheet/STD-2026/PP-GF30/node/?level=2").content.decode()
    assert "purchase price 2.45" in resin
    assert "/node/" not in resin  # a bought item is the bottom of the tree
    assert client.get("/costing/sheet/STD-2026/HSG-100/node/?level=²").status_code == 200
    assert client.get("/costing/sheet/STD-2026/NOPE/node/").status_code == 404
    assert client.get("/costing/sheet/NOPE/HSG-100/node/").status_code == 404


def test_sheet_node_costs_a_constant_number_of_queries(
    demo_plant, as_user, django_assert_max_num_queries
):
    client = as_user("wujiu")
    with django_assert_max_num_queries(12):
        client.get("/costing/sheet/STD-2026/EB-500/node/?level=0")


def test_pick_list_finds_items_by_code_or_name(demo_plant, as_user):
    client = as_user("qianyi")
    html = client.get("/costing/sheet/items/?q=housing", HTTP_HX_REQUEST="true").content.decode()
    assert "HSG-100" in html and "EB-500" not in html
    assert "No item" in client.get("/costing/sheet/items/?q=zzz").content.decode()
    # With an item open, the list waits for a search; more than fifty ask for more letters.
    page = client.get("/costing/sheet/?item=EB-500").content.decode()
    assert "/costing/sheet/?version=STD-2026&amp;item=CH-300" not in page
    assert (
        "/costing/sheet/?version=STD-2026&amp;item=CH-300"
        in client.get("/costing/sheet/?item=EB-500&q=CH").content.decode()
    )
    for n in range(51):
        ItemFactory(code=f"BOLT-{n:02d}", name="Bolt", source=Item.Source.BUY)
    html = client.get("/costing/sheet/items/?q=bolt").content.decode()
    assert html.count("item=BOLT-") == 50 and "and more" in html
    assert "not costed" in html
    assert client.get("/costing/sheet/?item=NOPE").status_code == 404
    assert client.get("/costing/sheet/?version=NOPE").status_code == 404


def test_csv_export_of_the_sheet(demo_plant, as_user):
    answer = as_user("wujiu").get("/costing/sheet/?item=EB-500&format=csv")
    assert answer["Content-Type"].startswith("text/csv")
    assert 'filename="cost-sheet-STD-2026-EB-500.csv"' in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    top = rows[0]
    assert (top["item"], top["row"], top["level"]) == ("EB-500", "item", "0")
    assert [D(top[k]) for k in ("material", "labour", "machine", "overhead", "total")] == [
        D("50"),
        D("20"),
        D("10"),
        D("0"),
        D("80.00"),
    ]
    eb_lines = [r for r in rows if r["item"] == "EB-500" and r["row"] == "line"]
    assert sum(D(r["amount"]) for r in eb_lines) == D("80.00")
    assert {r["element"] for r in eb_lines} == {"material", "labour", "machine"}
    # the tree below: the housing (level 1) and its resin (level 2), depth first
    paths = [r["path"] for r in rows if r["row"] == "item"]
    assert paths == [
        "EB-500",
        "EB-500 > STEEL-42",
        "EB-500 > HSG-100",
        "EB-500 > HSG-100 > PP-GF30",
        "EB-500 > BRG-6205",
    ]
    resin = next(r for r in rows if r["path"].endswith("PP-GF30") and r["row"] == "item")
    assert (resin["level"], D(resin["total"])) == ("2", D("2.45"))


def test_xlsx_export_of_the_sheet(demo_plant, as_user):
    answer = as_user("qianyi").get("/costing/sheet/?item=EB-500&format=xlsx")
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["level", "path", "item", "name", "row"]
    top = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert top["item"] == "EB-500" and top["row"] == "item"
    assert [top[k] for k in ("material", "labour", "machine", "total")] == [50, 20, 10, 80]
    assert isinstance(top["total"], int | float)  # numbers stay numbers


def test_export_refuses_a_bad_format_or_an_uncosted_item(demo_plant, as_user):
    client = as_user("wujiu")
    answer = client.get("/costing/sheet/?item=EB-500&format=pdf")
    assert answer.status_code == 400 and b"format" in answer.content
    assert client.get("/costing/sheet/?format=csv").status_code == 400
    ItemFactory(code="NEW-1", source=Item.Source.MAKE)
    answer = client.get("/costing/sheet/?item=NEW-1&format=csv")
    assert answer.status_code == 400 and b"NEW-1 has no standard cost in STD-2026" in answer.content
    page = client.get("/costing/sheet/?item=NEW-1").content.decode()
    assert "NEW-1 has no standard cost in STD-2026" in page


# --- comparison across versions --------------------------------------------------------------


def test_comparison_across_versions_with_its_chart(plan_2027, as_user):
    html = as_user("zhouba").get("/costing/compare/?item=EB-500").content.decode()
    assert '<svg class="bar-chart"' in html
    assert html.count('<g class="bar" data-series="Standard cost"') == 2
    assert 'data-category="STD-2026"' in html and 'data-category="PLAN-2027"' in html
    assert "STD-2026 · Standard cost · Labour: 20" in html
    plan = ItemCost.objects.get(version=plan_2027, item__code="EB-500")
    assert plan.labour == D("22.0000")  # 20 × 1.1
    row = html[html.index('<tr data-version="PLAN-2027"') :]
    row = row[: row.index("</tr>")]
    diff = plan.total - D("80")
    assert f"{diff:.4f}" in row
    assert f"{(diff / 80 * 100).quantize(D('0.1'))} %" in row


def test_comparison_export(plan_2027, as_user):
    answer = as_user("wujiu").get("/costing/compare/?item=EB-500&format=csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [r["version"] for r in rows] == ["STD-2026", "PLAN-2027"]
    assert (D(rows[0]["total"]), rows[0]["current"], D(rows[0]["change"])) == (D(80), "yes", 0)
    assert D(rows[1]["labour"]) == D("22")


def test_bar_chart_draws_series_side_by_side_and_skips_missing_values():
    chart = bar_chart(
        ["A", "B"],
        [
            BarSeries("Standard", [[D(50), D(30)], [D(40), D(44)]], segment_names=["m", "l"]),
            BarSeries("Actual", [None, [D(90)]], outline="#c62828"),
        ],
    )
    assert [(b["category"], b["series"]) for b in chart["bars"]] == [
        ("A", "Standard"),
        ("B", "Standard"),
        ("B", "Actual"),
    ]
    assert chart["peak"] == "100"
    a, b, actual = chart["bars"]
    assert [s["h"] for s in a["segments"]] == [92.0, 55.2]  # 184 px high plot, axis 0–100
    assert actual["x"] > b["x"] and actual["total"] == "90"
    assert [entry["name"] for entry in chart["legend"]] == ["m", "l"]


def test_sheet_without_a_current_version_says_so(db, client):
    from core.roles import Role
    from tests.factories import UserFactory

    client.force_login(UserFactory(roles=[Role.COST_ACCOUNTANT]))
    answer = client.get("/costing/sheet/")
    assert answer.status_code == 200 and "No cost version is current" in answer.content.decode()
    assert client.get("/costing/").status_code == 200
    assert client.get("/costing/compare/").status_code == 200


def test_overview_costs_the_same_queries_for_more_versions(demo_plant, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user("qianyi")
    with CaptureQueriesContext(connection) as one:
        client.get("/costing/", HTTP_HX_REQUEST="true")
    CostVersion.objects.create(code="PLAN-2027", name="2027 plan", effective_from=date(2027, 1, 1))
    ItemFactory(code="NUT-M8", source=Item.Source.BUY)
    standard_cost_rollup_run(version=CostVersion.objects.get(code="STD-2026"))
    with CaptureQueriesContext(connection) as two:
        client.get("/costing/", HTTP_HX_REQUEST="true")
    assert len(two) == len(one)


def test_an_orders_cost_problem_reads_in_the_readers_language(db):
    from django.utils import translation

    from costing.selectors.actual import order_cost_summary
    from planning.models import ProductionOrder
    from resources.models import Item
    from tests.factories import ItemFactory

    item = ItemFactory(code="EB-9", source=Item.Source.MAKE)
    order = ProductionOrder.objects.create(
        number="MO-C-1", item=item, quantity=5, due_date=date(2026, 12, 20)
    )
    assert order_cost_summary(order).problems == [
        "No cost version is current: no standard to compare with."
    ]
    with translation.override("zh-hans"):
        assert order_cost_summary(order).problems == ["没有当前成本版本：无标准成本可比较。"]
