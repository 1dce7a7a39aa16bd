"""The actual cost API: order costs (standard vs actual by element, unit cost), the ledger
with its filters, the catch-up posting; 400s naming the field, 403 for the floor."""

from decimal import Decimal

import pytest

from costing.models import LotPrice, OrderCostEntry
from planning.models import ProductionOrder
from tests.errors import error_fields

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]
API = "/api/v1/costing"
ACTUAL_ENDPOINTS = [
    ("get", f"{API}/order-costs/"),
    ("get", f"{API}/order-costs/MO-2026-00001/"),
    ("post", f"{API}/order-costs/post-missing/"),
    ("get", f"{API}/cost-entries/"),
    ("get", f"{API}/lot-prices/"),
    ("post", f"{API}/lot-prices/"),
]


def test_order_cost_by_element_against_the_standard(worked_order, api_as):
    body = api_as("wujiu").get(f"{API}/order-costs/MO-2026-00001/").json()
    elements = {e["element"]: e for e in body["elements"]}
    assert {k: e["actual"] for k, e in elements.items()} == {
        "material": "132.0000",
        "labour": "50.0000",
        "machine": "30.0000",
        "overhead": "0.0000",
        "scrap": "29.1200",
    }
    # Standard unit cost 80 (50 / 20 / 10); nothing good has left the last operation yet.
    assert {k: e["standard_unit"] for k, e in elements.items()} == {
        "material": "50.0000",
        "labour": "20.0000",
        "machine": "10.0000",
        "overhead": "0.0000",
        "scrap": "0.0000",
    }
    assert body["actual_total"] == "212.0000" and body["standard_unit_cost"] == "80.0000"
    assert body["good_quantity"] == "0.0000" and body["unit_cost"] is None
    assert body["unit_cost_note"] == "No good quantity yet: the unit cost is not known."
    assert body["version"] == "STD-2026" and body["frozen"] is False and body["late"] == []


def test_unit_cost_is_actual_over_good_quantity(worked_order, api_as):
    ProductionOrder.objects.filter(pk=worked_order.pk).update(quantity_done=Decimal("4"))
    body = api_as("qianyi").get(f"{API}/order-costs/MO-2026-00001/").json()
    assert body["unit_cost"] == "53.0000"  # 212 ÷ 4
    assert body["standard_total"] == "320.0000"  # 4 × 80
    listed = api_as("zhouba").get(f"{API}/order-costs/?product=EB-500").json()["results"]
    assert [o["order"] for o in listed] == ["MO-2026-00001"]


def test_ledger_filters(worked_order, api_as):
    client = api_as("wujiu")
    rows = client.get(f"{API}/cost-entries/?order=MO-2026-00001&element=labour").json()
    assert {r["operator"] for r in rows["results"]} == {"OP-003"} and rows["count"] == 2
    rows = client.get(f"{API}/cost-entries/?period=2026-12&equipment=CAST-01&element=machine")
    assert rows.json()["count"] == 2
    assert client.get(f"{API}/cost-entries/?period=2026-11").json()["count"] == 0


@pytest.mark.parametrize(
    "query,field",
    [
        ("period=2026-13", "period"),
        ("period=last", "period"),
        ("element=gold", "element"),
        ("colour=red", "colour"),
    ],
)
def test_bad_filters_are_400_naming_the_field(worked_order, api_as, query, field):
    response = api_as("wujiu").get(f"{API}/cost-entries/?{query}")
    assert response.status_code == 400 and field in error_fields(response)


def test_post_missing_is_idempotent_and_names_a_bad_order(worked_order, api_as):
    client = api_as("wujiu")
    before = OrderCostEntry.objects.count()
    answer = client.post(f"{API}/order-costs/post-missing/", {"order": "MO-2026-00001"})
    assert answer.status_code == 200 and answer.json()["posted"] == 0
    bad = client.post(f"{API}/order-costs/post-missing/", {"order": "MO-NOPE"}, format="json")
    assert bad.status_code == 400 and error_fields(bad) == {"order"}
    assert OrderCostEntry.objects.count() == before
    assert client.get(f"{API}/order-costs/MO-NOPE/").status_code == 404
    # Readers other than cost accountants do not post.
    assert api_as("zhouba").post(f"{API}/order-costs/post-missing/", {}).status_code == 403


@pytest.mark.parametrize("username", ["zhangsan", "lisi", "wangwu"])
def test_operators_get_403_on_every_actual_cost_endpoint(worked_order, api_as, username):
    client = api_as(username)
    for method, url in ACTUAL_ENDPOINTS:
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (username, method, url)


def test_lists_cost_the_same_queries_for_one_order_or_two(worked_order, api_as):
    """Order costs, the ledger and the variances read a constant number of queries: a second
    order with cost (the first's entries copied to MO-2026-00002) adds none."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as("wujiu")
    urls = [f"{API}/order-costs/", f"{API}/cost-entries/", f"{API}/variances/"]

    def counts():
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    counts()  # the first request reads the caller's roles once
    one = counts()
    second = ProductionOrder.objects.get(number="MO-2026-00002")
    copies = []
    for entry in OrderCostEntry.objects.all():
        entry.pk, entry.order, entry.operation = None, second, None
        entry.source_key = f"copy:{entry.source_key}"
        copies.append(entry)
    OrderCostEntry.objects.bulk_create(copies)
    assert client.get(f"{API}/order-costs/").json()["count"] == 2
    assert counts() == one


def test_a_second_price_for_one_lot_is_400_naming_the_lot(demo_plant, api_as):
    from resources.models import MaterialLot

    lot = MaterialLot.objects.exclude(pk__in=LotPrice.objects.values("lot")).first()
    client = api_as("wujiu")
    first = client.post(f"{API}/lot-prices/", {"lot": lot.pk, "price": "3.50"}, format="json")
    assert first.status_code == 201, first.content
    again = client.post(f"{API}/lot-prices/", {"lot": lot.pk, "price": "4.00"}, format="json")
    assert again.status_code == 400 and "lot" in error_fields(again)
    assert LotPrice.objects.filter(lot=lot).count() == 1
