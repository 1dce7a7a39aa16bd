"""The actual-cost pages on the worked order (conftest.py; its figures by hand in
test_actual.py and test_variance.py): order cost (the list and one order with its ledger),
the variance report with its drill-down and training-need button, and the unit cost trend
per product, each with CSV and XLSX. Cost accountants, planners and the plant manager see
them; an operator or a supervisor gets 403 on every page, partial, export and action."""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from core.events import outbox_dispatch_pending
from core.models import Notification
from costing.models import TrainingNeed
from costing.selectors.actual import TrendPoint, product_cost_trend
from costing.views.trend import trend_series
from execution.models import LabourBooking
from execution.services.approvals import labour_booking_correct
from planning.services.orders import production_order_complete_manual
from resources.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDER = "MO-2026-00001"
READERS = ["wujiu", "zhouba", "qianyi", "admin"]  # cost accountant, planner, plant manager, admin
OUTSIDERS = ["zhangsan", "sunqi"]  # an operator, a supervisor
PAGES = [
    "/costing/orders/",
    "/costing/orders/?product=EB-500&status=released&period=2026-12",
    f"/costing/orders/{ORDER}/",
    "/costing/variances/",
    f"/costing/variances/?order={ORDER}&product=EB-500&work_center=CAST&period=2026-12&by=work_center",
    f"/costing/variances/drill-down/?order={ORDER}&kind=labour_efficiency&step=10",
    "/costing/trend/",
    "/costing/trend/?item=EB-500",
]
EXPORTS = [
    "/costing/orders/?format=csv",
    "/costing/orders/?format=xlsx",
    f"/costing/orders/{ORDER}/?format=csv",
    f"/costing/orders/{ORDER}/?format=xlsx",
    "/costing/variances/?format=csv",
    "/costing/variances/?format=xlsx",
    "/costing/trend/?item=EB-500&format=csv",
    "/costing/trend/?item=EB-500&format=xlsx",
]
RAISE = "/costing/variances/training-need/"
NEED = {"order": ORDER, "step": "10", "cause": "labour_efficiency"}


@pytest.fixture
def as_user(client):
    def sign_in(username: str):
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return sign_in


def row_of(html: str, marker: str) -> str:
    part = html[html.index(marker) :]
    return part[: part.index("</tr>")]


# --- who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", READERS)
def test_every_page_renders_for_those_who_answer_for_cost(worked_order, as_user, username):
    client = as_user(username)
    for url in PAGES:
        assert client.get(url).status_code == 200, url
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200, url
    for url in EXPORTS:
        assert client.get(url).status_code == 200, url
    page = client.get("/costing/").content.decode()
    for href in ("/costing/orders/", "/costing/variances/", "/costing/trend/"):
        assert f'href="{href}"' in page


@pytest.mark.parametrize("username", OUTSIDERS)
def test_operator_and_supervisor_get_403_everywhere(worked_order, as_user, username):
    client = as_user(username)
    told = Notification.objects.count()
    for url in PAGES + EXPORTS:
        assert client.get(url).status_code == 403, url
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 403, url
    assert client.post(RAISE, NEED, HTTP_HX_REQUEST="true").status_code == 403
    assert not TrainingNeed.objects.exists() and Notification.objects.count() == told


def test_anonymous_is_sent_to_log_in(worked_order, client):
    for url in PAGES + EXPORTS:
        assert client.get(url).status_code == 302, url
    assert client.post(RAISE, NEED).status_code == 302


# --- order cost ------------------------------------------------------------------------------


def test_order_list_shows_the_worked_order_with_its_actual_cost(worked_order, as_user):
    client = as_user("zhouba")
    html = client.get("/costing/orders/").content.decode()
    row = row_of(html, f'data-order="{ORDER}"')
    assert 'data-field="actual">212.00<' in row
    assert f'href="/costing/orders/{ORDER}/"' in row
    assert "No good quantity yet" in row
    # Filters: another product, status or period finds nothing; a bad period is named.
    for query in ("product=HSG-100", "status=completed", "period=2026-11"):
        assert ORDER not in client.get(f"/costing/orders/?{query}").content.decode(), query
    bad = client.get("/costing/orders/?period=2026-13")
    assert bad.status_code == 400 and "period" in bad.content.decode()
    partial = client.get("/costing/orders/?product=EB-500", HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and ORDER in partial.content.decode()


def test_order_page_standard_against_actual_and_the_ledger(worked_order, as_user):
    html = as_user("wujiu").get(f"/costing/orders/{ORDER}/").content.decode()
    for element, actual in (
        ("material", "132.00"),
        ("labour", "50.00"),
        ("machine", "30.00"),
        ("overhead", "0.00"),
        ("scrap", "29.12"),
    ):
        assert f'data-field="actual">{actual}<' in row_of(html, f'data-element="{element}"')
    assert "memo" in row_of(html, 'data-element="scrap"')
    assert "<strong>212.00</strong>" in row_of(html, 'data-element="total"')
    # Nothing good has left the last operation yet: no unit cost, said so.
    assert "No good quantity yet: the unit cost is not known." in html
    # The entries behind it: who, which machine, which operation, which record.
    # 1 issue, 2 labour bookings, 2 machine spans, 1 scrap memo
    assert html.count('<tr data-entry="') == 6
    labour = re.findall(r'<tr data-entry="\d+"[^>]*>(.*?)</tr>', html, re.S)
    assert any("王五" in r and "labour booking" in r for r in labour)
    assert any("CAST-01" in r and "w-complete" in r for r in labour)
    assert any("S-2026-1101" in r and "cast-steel-1" in r for r in labour)
    assert "late-posting" not in html
    assert as_user("wujiu").get("/costing/orders/MO-NOPE/").status_code == 404


def test_late_postings_are_marked_on_the_order(worked_order, as_user):
    """A correction signed in January after the order was completed (test_actual.py): the
    order's cost stays frozen, the entry is marked late with its month."""
    production_order_complete_manual(
        order=worked_order,
        by=get_user_model().objects.get(username="zhouba"),
        reason="Casting only: the rest goes to another order.",
    )
    booking = LabourBooking.objects.get(task__order=worked_order, ended_at__minute=10)
    with time_machine.travel(datetime(2027, 1, 6, 9, 0, tzinfo=SHANGHAI), tick=False):
        labour_booking_correct(
            booking=booking,
            minutes=D("32"),
            by=get_user_model().objects.get(username="sunqi"),
            password=DEMO_PASSWORD,
            reason="Clocked off late.",
        )
        outbox_dispatch_pending()
    client = as_user("qianyi")
    html = client.get(f"/costing/orders/{ORDER}/").content.decode()
    assert "frozen" in html
    assert "<strong>212.00</strong>" in row_of(html, 'data-element="total"')
    (late,) = re.findall(r'<tr data-entry="\d+" class="late-posting">(.*?)</tr>', html, re.S)
    assert "late · 2027-01" in late and "10.0000" in late
    assert "Late postings" in html and "<td>2027-01</td><td>Labour</td>" in html
    listed = client.get("/costing/orders/?status=completed").content.decode()
    assert "late postings" in row_of(listed, f'data-order="{ORDER}"')
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/costing/orders/{ORDER}/?format=csv").content.decode())
        )
    )
    assert [r["period"] for r in rows if r["late"] == "yes"] == ["2027-01"]


def test_order_exports(worked_order, as_user):
    client = as_user("qianyi")
    rows = list(
        csv.DictReader(io.StringIO(client.get("/costing/orders/?format=csv").content.decode()))
    )
    (row,) = rows
    assert (row["order"], D(row["actual_total"]), D(row["labour"])) == (ORDER, D(212), D(50))
    assert D(row["scrap_memo"]) == D("29.12") and row["actual_unit_cost"] == ""
    # nothing good yet: no difference against a standard of nothing, and the reason in words
    assert row["difference"] == "" and "good" in row["problems"]
    answer = client.get(f"/costing/orders/{ORDER}/?format=xlsx")
    assert f"order-cost-{ORDER}.xlsx" in answer["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(answer.content)).active
    header = [c.value for c in sheet[1]]
    rows = [
        dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=2)
    ]
    elements = {r["element"]: r["actual"] for r in rows if r["row"] == "element"}
    assert all(r["difference"] in ("", None) for r in rows if r["row"] == "element")
    assert elements == {"material": 132, "labour": 50, "machine": 30, "overhead": 0, "scrap": 29.12}
    entries = [r for r in rows if r["row"] == "entry"]
    assert sum(D(str(r["amount"])) for r in entries if r["element"] != "scrap") == D(212)
    assert {r["operator"] for r in entries if r["element"] == "labour"} == {"wangwu"}
    assert client.get("/costing/orders/?format=pdf").status_code == 400


# --- variances -------------------------------------------------------------------------------


def test_variance_report_with_the_hand_worked_figures(worked_order, as_user):
    html = as_user("zhouba").get(f"/costing/variances/?order={ORDER}").content.decode()
    labour = row_of(html, 'data-kind="labour_efficiency"')
    assert 'data-field="amount"><strong>18.40<' in labour
    assert "66.7 %" in labour
    assert "labour efficiency +66.7 % on operation 10 — operators wangwu" in labour
    assert 'data-field="amount"><strong>12.00<' in row_of(html, 'data-kind="material_price"')
    assert "machines CAST-01" in row_of(html, 'data-kind="machine_efficiency"')
    # Totals by product: 95.52 = actual 212 − 4 good × 29.12.
    assert 'data-field="total"><strong>95.52<' in row_of(html, 'data-group="EB-500"')
    by_wc = as_user("zhouba").get("/costing/variances/?by=work_center").content.decode()
    assert 'data-field="total"><strong>95.52<' in row_of(by_wc, 'data-group="CAST"')
    none = as_user("zhouba").get("/costing/variances/?work_center=CNC").content.decode()
    assert "No variances" in none
    bad = as_user("zhouba").get("/costing/variances/?period=2026-13&kind=luck")
    text = bad.content.decode()
    assert bad.status_code == 400 and "period:" in text and "kind:" in text
    export = as_user("zhouba").get("/costing/variances/?period=x&format=csv")
    assert export.status_code == 400 and b"period" in export.content


def test_every_drill_down_totals_its_variance(worked_order, as_user):
    client = as_user("qianyi")
    html = client.get(f"/costing/variances/?order={ORDER}").content.decode()
    links = re.findall(r'hx-get="(/costing/variances/drill-down/\?[^"]+)"', html)
    assert len(links) == 7
    for link in links:
        link = link.replace("&amp;", "&")
        part = client.get(link, HTTP_HX_REQUEST="true").content.decode()
        kind = re.search(r"kind=(\w+)", link).group(1)
        shown = re.search(r'data-field="drill-total"><strong>(-?[\d.]+)<', part).group(1)
        amount = row_of(html, f'data-kind="{kind}"')
        variance = re.search(r'data-field="amount"><strong>(-?[\d.]+)<', amount).group(1)
        assert D(shown) == D(variance), kind
    labour = client.get(
        f"/costing/variances/drill-down/?order={ORDER}&kind=labour_efficiency&step=10"
    ).content.decode()
    assert labour.count("labour booking") == 2 and "wangwu" in labour
    assert "18.4000" in labour and "27.6000" in labour  # shares less the standard allowed
    machine = client.get(
        f"/costing/variances/drill-down/?order={ORDER}&kind=machine_efficiency&step=10"
    ).content.decode()
    assert "CAST-01" in machine and "w-pause" in machine
    assert (
        client.get(f"/costing/variances/drill-down/?order={ORDER}&kind=scrap&step=20").status_code
        == 404
    )
    assert (
        client.get(f"/costing/variances/drill-down/?order={ORDER}&kind=scrap&step=x").status_code
        == 400
    )
    assert client.get("/costing/variances/drill-down/?kind=luck").status_code == 400


def test_variance_export(worked_order, as_user):
    answer = as_user("wujiu").get(f"/costing/variances/?order={ORDER}&format=csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    by_kind = {r["kind"]: r for r in rows}
    assert D(by_kind["labour_efficiency"]["variance"]) == D("18.40")
    assert by_kind["labour_efficiency"]["operators"] == "wangwu"
    assert by_kind["machine_rate"]["flagged"] == "no"
    assert sum(D(r["variance"]) for r in rows) == D("95.52")
    book = load_workbook(
        io.BytesIO(as_user("wujiu").get("/costing/variances/?format=xlsx").content)
    )
    assert book.active.max_row == 8


def test_training_need_button_raises_once(worked_order, as_user):
    client = as_user("wujiu")
    told = Notification.objects.count()
    html = client.get(f"/costing/variances/?order={ORDER}").content.decode()
    assert html.count("Raise training need") == 2  # labour efficiency and scrap, flagged
    assert "Raise training need" in row_of(html, 'data-kind="labour_efficiency"')
    assert "Raise training need" not in row_of(html, 'data-kind="machine_efficiency"')
    first = client.post(RAISE, NEED, HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and "Training need raised" in first.content.decode()
    needs = Notification.objects.filter(text__startswith="Training need")
    assert [n.user.username for n in needs] == ["qianyi"]
    assert Notification.objects.count() == told + 1
    told += 1
    again = client.post(RAISE, NEED, HTTP_HX_REQUEST="true")
    assert "already raised" in again.content.decode()
    assert TrainingNeed.objects.count() == 1 and Notification.objects.count() == told
    html = client.get(f"/costing/variances/?order={ORDER}").content.decode()
    assert "training need raised" in row_of(html, 'data-kind="labour_efficiency"')
    # Not a cause training answers; not an operation with the variance; not a number.
    for bad in ({**NEED, "cause": "material_price"}, {**NEED, "step": "20"}, {**NEED, "step": "x"}):
        answer = client.post(RAISE, bad, HTTP_HX_REQUEST="true")
        assert answer.status_code == 400 and 'class="error"' in answer.content.decode()
    assert client.post(RAISE, {**NEED, "order": "MO-NOPE"}).status_code == 404
    assert client.get(RAISE).status_code == 405
    assert TrainingNeed.objects.count() == 1


def test_planner_sees_no_training_need_button_and_may_not_raise(worked_order, as_user):
    client = as_user("zhouba")
    html = client.get(f"/costing/variances/?order={ORDER}").content.decode()
    assert "Raise training need" not in html and RAISE not in html
    assert client.post(RAISE, NEED, HTTP_HX_REQUEST="true").status_code == 403
    assert not TrainingNeed.objects.exists()
    assert "Raise training need" in as_user("qianyi").get("/costing/variances/").content.decode()


# --- trend -----------------------------------------------------------------------------------


def test_trend_per_product(worked_order, as_user):
    (point,) = product_cost_trend("EB-500")
    assert (point.period.isoformat(), point.orders, point.actual_total) == ("2026-12-01", 1, D(212))
    assert point.actual_unit is None  # nothing good out of the last operation yet
    assert point.standard_unit == D("80.0000")  # the standard does not wait for output
    html = as_user("wujiu").get("/costing/trend/?item=EB-500").content.decode()
    assert 'data-period="2026-12"' in html and "no good quantity yet" in html
    assert '<svg class="bar-chart"' in html
    assert 'data-series="Standard unit cost" data-category="2026-12"' in html
    assert 'data-series="Actual unit cost"' not in html  # no bar, not an invented zero
    assert as_user("wujiu").get("/costing/trend/?item=NOPE").status_code == 404


def test_trend_with_good_quantity_draws_both_series(worked_order, as_user):
    worked_order.quantity_done = D("4")
    worked_order.save(update_fields=["quantity_done"])
    (point,) = product_cost_trend("EB-500")
    assert point.actual_unit == D("53.0000")  # 212 ÷ 4
    assert point.standard_unit == D("80.0000")
    html = as_user("qianyi").get("/costing/trend/?item=EB-500").content.decode()
    assert 'data-series="Standard unit cost" data-category="2026-12"' in html
    assert 'data-series="Actual unit cost" data-category="2026-12"' in html
    assert 'data-field="actual-unit">53.0000<' in html
    rows = list(
        csv.DictReader(
            io.StringIO(
                as_user("qianyi").get("/costing/trend/?item=EB-500&format=csv").content.decode()
            )
        )
    )
    assert [(r["period"], D(r["standard_unit_cost"]), D(r["actual_unit_cost"])) for r in rows] == [
        ("2026-12", D(80), D(53))
    ]
    assert D(rows[0]["difference_per_unit"]) == D(-27)


def test_trend_series_skip_months_without_a_figure():
    points = [
        TrendPoint(date(2026, 11, 1), 1, D(0), None, D(10), [None]),
        TrendPoint(date(2026, 12, 1), 2, D(10), D(800), D(850), [D(80), D(80)]),
    ]
    standard, actual = trend_series(points)
    assert standard.values == [None, [D(80)]] and actual.values == [None, [D(85)]]


def test_pages_cost_the_same_queries_for_one_order_or_two(worked_order, as_user):
    """A second order with cost (the first's entries copied to MO-2026-00002) adds no query
    to the order list, the variance report or the trend."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from costing.models import OrderCostEntry
    from planning.models import ProductionOrder

    client = as_user("wujiu")
    urls = ["/costing/orders/", "/costing/variances/", "/costing/trend/?item=EB-500"]

    def counts():
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    counts()
    one = counts()
    second = ProductionOrder.objects.get(number="MO-2026-00002")
    copies = []
    for entry in OrderCostEntry.objects.all():
        entry.pk, entry.order, entry.operation = None, second, None
        entry.source_key = f"copy:{entry.source_key}"
        copies.append(entry)
    OrderCostEntry.objects.bulk_create(copies)
    assert "MO-2026-00002" in client.get("/costing/orders/").content.decode()
    assert counts() == one


@pytest.mark.parametrize(
    "url,status,named",
    [
        ("/costing/orders/?status=bogus", 400, "status"),
        ("/costing/orders/?period=13-2026", 400, "period"),
        ("/costing/orders/?status=bogus&format=csv", 400, "status"),
        ("/costing/variances/?by=customer", 400, "by"),
        ("/costing/variances/?flagged=maybe", 400, "flagged"),
        ("/costing/variances/?format=pdf", 400, "format"),
        ("/costing/variances/?order=MO-NOPE", 200, "No variances"),
        (f"/costing/variances/drill-down/?order={ORDER}&kind=material_price", 200, "STEEL-42"),
        (f"/costing/variances/drill-down/?order={ORDER}&kind=late", 400, "kind"),
        ("/costing/variances/drill-down/?order=MO-NOPE&kind=scrap", 404, ""),
        ("/costing/trend/?item=HSG-100", 200, "No order of HSG-100 has actual cost yet"),
        ("/costing/trend/?item=EB-500&format=pdf", 400, "format"),
        # An order with nothing posted yet: its standard and "Nothing posted yet", not a 404.
        ("/costing/orders/MO-2026-00002/", 200, "Nothing posted yet"),
        ("/costing/orders/MO-NOPE/", 404, ""),
    ],
)
def test_bad_input_is_named_never_a_500(worked_order, as_user, url, status, named):
    answer = as_user("wujiu").get(url)
    assert answer.status_code == status, answer.content[:300]
    assert named in answer.content.decode()


def test_exports_and_pages_in_chinese(worked_order, as_user):
    """A Chinese reader's export has Chinese column headings (English keeps the column keys
    integrators read), and the variance page shows labels, not the engine's codes."""
    from django.utils import translation

    # The locale middleware leaves the request's language active in this thread: restore it.
    with translation.override("en"):
        _exports_and_pages_in_chinese(as_user)


def _exports_and_pages_in_chinese(as_user):
    client = as_user("wujiu")
    csv_zh = client.get("/costing/variances/?format=csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    header = csv_zh.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:3] == ["工单", "产品", "期间"]
    csv_en = client.get("/costing/variances/?format=csv", HTTP_ACCEPT_LANGUAGE="en")
    assert csv_en.content.decode("utf-8-sig").splitlines()[0].startswith("order,product,period")
    page = client.get("/costing/variances/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "人工效率" in page and "成本差异" in page and "labour_efficiency<" not in page
