"""The costing API on the demo plant: versions, rates and prices with 400s naming fields, the
roll-up run and its results with the breakdown, 403 for every role the policy keeps out, and
constant query counts for the lists."""

from decimal import Decimal as D

import pytest
from django.urls import URLPattern, get_resolver

from costing.models import CostVersion, ItemCost, LabourRate, PurchasePrice
from resources.models import Item
from tests.errors import error_fields, error_messages
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/costing"


def _costing_urls() -> list[str]:
    """Every costing API route, with an existing id where it takes one."""
    resolver = get_resolver()
    (costing,) = [
        p
        for p in resolver.url_patterns
        if str(p.pattern) == "api/v1/"
        for p in p.url_patterns
        if str(p.pattern) == "costing/"
    ]
    ids = {
        "versions": CostVersion.objects.first().pk,
        "labour-rates": LabourRate.objects.first().pk,
        "machine-rates": 1,
        "overhead-rates": 1,
        "purchase-prices": PurchasePrice.objects.first().pk,
        "rollups": 1,
        "item-costs": ItemCost.objects.first().pk,
    }
    urls = []
    for pattern in costing.url_patterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern).lstrip("^").rstrip("$")
        if "format" in route or route == "":
            continue
        prefix = route.split("/", 1)[0]
        route = route.replace("(?P<pk>[^/.]+)", str(ids.get(prefix, 1)))
        route = route.replace("(?P<number>[^/]+)", "MO-2026-00001")
        urls.append(f"{API}/{route}")
    return urls


@pytest.mark.parametrize(
    "username", ["zhangsan", "zhaoliu", "sunqi", "zhengshi", "fengjie", "chenmo", "cnc-gateway"]
)
def test_every_costing_endpoint_refuses_roles_outside_cost(demo_plant, api_as, username):
    """Operators (and every role the policy does not name) get 403 on every costing endpoint
    and method; a method an endpoint does not have may answer 405, never 2xx."""
    client = api_as(username)
    urls = _costing_urls()
    assert len(urls) >= 15
    refused = 0
    for url in urls:
        codes = []
        for method in ("get", "post", "put", "patch", "delete"):
            code = getattr(client, method)(url, {}, format="json").status_code
            assert code in (403, 405), f"{username} {method.upper()} {url}: {code}"
            codes.append(code)
        assert 403 in codes, url  # each endpoint refuses at least its own method
        refused += codes.count(403)
    assert refused >= 30
    assert ItemCost.objects.count() == 6 and CostVersion.objects.count() == 1


@pytest.mark.parametrize("username", ["zhouba", "qianyi"])
def test_planners_and_the_plant_manager_read_but_do_not_edit(demo_plant, api_as, username):
    client = api_as(username)
    assert client.get(f"{API}/item-costs/?item=EB-500").json()["results"][0]["total"] == "80.0000"
    assert client.post(f"{API}/rollups/", {}, format="json").status_code == 403
    assert client.post(f"{API}/purchase-prices/", {}, format="json").status_code == 403


def test_cost_accountant_keeps_prices_and_runs_the_rollup(demo_plant, api_as):
    client = api_as("wujiu")
    # Bad input: 400 naming the field, nothing written.
    before = PurchasePrice.objects.count()
    answer = client.post(
        f"{API}/purchase-prices/",
        {"version": "STD-2026", "item": "EB-500", "price": "-1"},
        format="json",
    )
    assert answer.status_code == 400
    assert error_fields(answer) >= {"item"} or error_fields(answer) >= {"price"}
    answer = client.post(
        f"{API}/purchase-prices/",
        {"version": "STD-2026", "item": "EB-500", "price": "70"},
        format="json",
    )
    assert answer.status_code == 400 and "item" in error_fields(answer)
    assert "made, not bought" in error_messages(answer, "item")
    answer = client.post(
        f"{API}/purchase-prices/",
        {"version": "STD-2026", "item": "NOPE", "price": "1"},
        format="json",
    )
    assert answer.status_code == 400 and "item" in error_fields(answer)
    answer = client.post(
        f"{API}/purchase-prices/",
        {"version": "STD-2026", "item": "STEEL-42", "price": "11"},
        format="json",
    )
    assert answer.status_code == 400  # already priced in this version
    answer = client.post(
        f"{API}/labour-rates/",
        {"version": "STD-2026", "work_center": "CNC", "skill": "CNC", "rate_per_hour": "1"},
        format="json",
    )
    assert answer.status_code == 400 and "skill" in error_fields(answer)
    assert PurchasePrice.objects.count() == before

    # A new bought item without a price: the roll-up says so and stores it incomplete.
    ItemFactory(code="NUT-M8", source=Item.Source.BUY)
    answer = client.post(f"{API}/rollups/", {}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["problems"] == [
        "NUT-M8: bought item with no purchase price in cost version STD-2026."
    ]
    # The price changes through the API; the roll-up carries it up to the engine block.
    steel = PurchasePrice.objects.get(item__code="STEEL-42")
    answer = client.patch(f"{API}/purchase-prices/{steel.pk}/", {"price": "12"}, format="json")
    assert answer.status_code == 200
    answer = client.post(f"{API}/rollups/", {"version": "STD-2026"}, format="json")
    assert answer.status_code == 201
    assert client.post(f"{API}/rollups/", {"version": "X"}, format="json").status_code == 400
    eb = ItemCost.objects.get(item__code="EB-500")
    body = client.get(f"{API}/item-costs/{eb.pk}/").json()
    assert (body["material"], body["total"]) == ("54.0000", "84.0000")
    steel_line = next(x for x in body["lines"] if x["component"] == "STEEL-42")
    assert (steel_line["quantity"], steel_line["rate"], steel_line["amount"]) == (
        "2.0000000000",
        "12.0000",
        "24.0000",
    )
    assert {x["step_no"] for x in body["lines"] if x["element"] == "labour"} == {10, 20, 30, 40}


def test_make_current_through_the_api(demo_plant, api_as):
    client = api_as("wujiu")
    answer = client.post(
        f"{API}/versions/",
        {
            "code": "PLAN-2027",
            "name": "2027 plan",
            "effective_from": "2027-01-01",
            "is_current": True,
        },
        format="json",
    )
    assert answer.status_code == 201 and answer.json()["is_current"] is False
    new = answer.json()["id"]
    assert client.post(f"{API}/versions/{new}/make-current/").json()["is_current"] is True
    assert list(CostVersion.objects.filter(is_current=True).values_list("code", flat=True)) == [
        "PLAN-2027"
    ]
    # The current version cannot be deleted; the other can.
    assert client.delete(f"{API}/versions/{new}/").status_code == 400
    assert api_as("zhouba").post(f"{API}/versions/{new}/make-current/").status_code == 403


LISTS = [
    "versions/",
    "labour-rates/",
    "machine-rates/",
    "overhead-rates/",
    "purchase-prices/",
    "rollups/",
    "item-costs/",
]


@pytest.mark.parametrize("path", LISTS)
def test_list_query_counts_do_not_grow_with_rows(
    demo_plant, api_as, django_assert_num_queries, path
):
    client = api_as("wujiu")
    client.get(f"{API}/{path}")  # warm the user's roles
    with django_assert_num_queries(QUERIES[path]):
        assert client.get(f"{API}/{path}").status_code == 200
    # More rows of every kind: a second version with the same rates, rolled up.
    source = CostVersion.objects.get()
    copy = CostVersion.objects.create(
        code="COPY", name="Copy", effective_from=source.effective_from
    )
    for related in ("labour_rates", "machine_rates", "overhead_rates", "purchase_prices"):
        for row in getattr(source, related).all():
            row.pk, row.version = None, copy
            row.save()
    client.post(f"{API}/rollups/", {"version": "COPY"}, format="json")
    with django_assert_num_queries(QUERIES[path]):
        assert client.get(f"{API}/{path}").status_code == 200


# A page of rows: the count and the page (the user's roles are read once per request).
QUERIES = {path: 2 for path in LISTS}


def test_item_cost_detail_query_count(demo_plant, api_as, django_assert_num_queries):
    client = api_as("wujiu")
    eb = ItemCost.objects.get(item__code="EB-500")
    client.get(f"{API}/item-costs/{eb.pk}/")
    with django_assert_num_queries(2):
        body = client.get(f"{API}/item-costs/{eb.pk}/").json()
    assert len(body["lines"]) == 11 and D(body["total"]) == D("80")
