"""The order board as data (/api/v1/execution/board/): the page's rows, colours, planned by
now, lagging, reasons and operations, decimal strings and times with their offset."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from tests.errors import error_fields
from tests.execution.test_board import bulk_orders, partial, row_of, web

pytestmark = pytest.mark.django_db

URL = "/api/v1/execution/board/"


def test_rows_are_the_boards_with_colours_and_attainment(released, api_as):
    done = [Decimal(x) for x in ("90", "89.99", "50", "49.99")]
    orders = bulk_orders(len(done), "API", done=done)
    body = api_as("sunqi").get(URL, {"limit": 1000}).json()
    rows = {row["number"]: row for row in body["results"]}
    assert [rows[o.number]["colour"] for o in orders] == ["green", "yellow", "yellow", "red"]
    second = rows[orders[1].number]
    # Decimal strings, as every quantity of the API; planned by now is all 100 (window past).
    assert second["attainment_pct"] == "89.99" and second["quantity_done"] == "89.9900"
    assert second["planned_by_now"] == "100.0000" and second["quantity"] == "100.0000"
    assert second["lagging"] is True and rows[orders[0].number]["lagging"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d", body["at"])
    assert re.search(r"[+-]\d\d:\d\d$", second["planned_end"])
    assert [op["sequence"] for op in second["operations"]] == sorted(
        op["sequence"] for op in second["operations"]
    )
    # The page shows the same colour and the same counts.
    html = partial(web("sunqi"))
    assert "board-row-yellow" in row_of(html, orders[1])
    assert body["counts"]["total"] == len(body["results"]) == body["count"]
    assert body["counts"]["red"] == sum(1 for r in body["results"] if r["colour"] == "red")


def test_filters_sorts_and_limits_as_the_page(released, api_as):
    bulk_orders(3, "LAG", done=[Decimal("10"), Decimal("95"), Decimal("60")])
    client = api_as("zhouba")
    lagging = client.get(URL, {"flag": "lagging", "sort": "worst"}).json()
    attainment = [Decimal(r["attainment_pct"]) for r in lagging["results"]]
    assert attainment == sorted(attainment) and all(r["lagging"] for r in lagging["results"])
    assert lagging["count"] == len(lagging["results"]) < lagging["counts"]["total"]
    assert len(client.get(URL, {"limit": 2}).json()["results"]) == 2
    for params in ({"flag": "late"}, {"sort": "name"}, {"status": "closed"}, {"limit": "0"}):
        response = client.get(URL, params)
        assert response.status_code == 400 and set(params) <= error_fields(response), params


def test_who_reads_the_board(released, api_as):
    assert api_as("lisi").get(URL).status_code == 200  # operators see the board page too
    assert api_as("wujiu").get(URL).status_code == 403  # the cost accountant does not
    assert Client().get(URL).status_code in (401, 403)
