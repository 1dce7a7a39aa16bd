"""Order board: live rows and colours, constant queries, drill-down, labour CSV export."""

import csv
import io
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from execution.models import LabourBooking, Task
from planning.models import OrderOperation, ProductionOrder
from resources.models import Operator

pytestmark = pytest.mark.django_db

BOARD = "/execution/board/"


def web(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def partial(client: Client, url: str = BOARD, **params) -> str:
    response = client.get(url, params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def row_of(html: str, order: ProductionOrder) -> str:
    match = re.search(rf'<tr [^>]*id="board-order-{order.pk}".*?</tr>', html, re.S)
    assert match, f"{order.number} is not on the board"
    return match.group(0)


def bulk_orders(n: int, prefix: str, *, done: list[Decimal] | None = None) -> list:
    """`n` released engine-block orders of 100, copied from the demo's released order in a
    few bulk inserts, planned over the last five days (so all 100 are planned by now)."""
    template = ProductionOrder.objects.get(number="MO-2026-00001")
    steps = list(template.operations.order_by("sequence"))
    operators = {t.operation_id: t.operator_id for t in template.tasks.all()}
    end = timezone.now() - timedelta(hours=1)
    start = end - timedelta(days=5)
    orders = ProductionOrder.objects.bulk_create(
        [
            ProductionOrder(
                number=f"{prefix}-{i:05d}",
                item_id=template.item_id,
                quantity=Decimal(100),
                quantity_done=(done[i] if done else Decimal(0)),
                due_date=timezone.localdate() + timedelta(days=i % 9),
                status=ProductionOrder.Status.RELEASED,
                routing_id=template.routing_id,
                bom_id=template.bom_id,
                planned_start=start,
                planned_end=end,
            )
            for i in range(n)
        ]
    )
    ops = OrderOperation.objects.bulk_create(
        [
            OrderOperation(
                order=order,
                sequence=step.sequence,
                name=step.name,
                work_center_id=step.work_center_id,
                setup_minutes=step.setup_minutes,
                run_minutes_per_unit=step.run_minutes_per_unit,
                planned_start=start,
                planned_end=end,
                status=OrderOperation.Status.READY,
            )
            for order in orders
            for step in steps
        ]
    )
    by_key = {(s.sequence): s.pk for s in steps}
    Task.objects.bulk_create(
        [
            Task(
                operation=op,
                order=op.order,
                status=Task.Status.READY,
                operator_id=operators.get(by_key[op.sequence]),
            )
            for op in ops
        ]
    )
    return orders


# --- colours, filters, live updates ---------------------------------------------------------


def test_board_page_and_partial(released):
    client = web("zhouba")
    page = client.get(BOARD)
    assert page.status_code == 200 and b"<html" in page.content
    assert b'hx-trigger="every 5s"' in page.content and b"MO-2026-00001" in page.content
    assert b"<html" not in partial(client).encode()
    assert Client().get(BOARD).status_code == 302  # signed-in users only


def test_board_colours_at_the_thresholds(released):
    # Planned windows all in the past: 100 planned by now, so attainment = quantity done.
    done = [Decimal(x) for x in ("90", "89.99", "50", "49.99", "100", "0")]
    orders = bulk_orders(len(done), "COL", done=done)
    html = partial(web("sunqi"))
    colours = [re.search(r'board-row-(\w+)"', row_of(html, o)).group(1) for o in orders]
    assert colours == ["green", "yellow", "yellow", "red", "green", "red"]
    assert "89.99 %" in row_of(html, orders[1]) and "49.99 %" in row_of(html, orders[3])
    assert "Lagging" in row_of(html, orders[1]) and "Lagging" not in row_of(html, orders[0])


def test_board_query_count_is_constant_for_10_and_500_orders(released):
    client = web("sunqi")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            html = partial(client)
        assert "board-row" in html
        return len(ctx.captured_queries)

    bulk_orders(10, "QA")
    few = queries()
    bulk_orders(490, "QB")
    assert ProductionOrder.objects.filter(status="released").count() >= 500
    assert queries() == few


def test_board_shows_an_event_at_once(released, api_as):
    board = web("sunqi")
    assert "10: 0<" in row_of(partial(board), released)
    wangwu = api_as("wangwu")  # the casting operator
    for body in (
        {"event_id": "b-1", "kind": "start"},
        {"event_id": "b-2", "kind": "report", "quantity_good": 1, "trace_code": "EB-0001"},
    ):
        body.update(order="MO-2026-00001", sequence=10, equipment="CAST-01")
        assert wangwu.post("/api/v1/execution/events/", body, format="json").status_code == 201
    row = row_of(partial(board), released)
    assert "10: 1<" in row  # casting has made one block
    assert "CAST-01" in row and "In progress" in row


def test_board_filters_by_work_center_and_status(released):
    client = web("sunqi")
    everything = partial(client)
    assert "MO-2026-00001" in everything and "MO-BG-" in everything
    running = partial(client, status="in_progress")
    assert "MO-BG-" in running and "MO-2026-00001" not in running
    moulding = partial(client, work_center="INJ")
    assert "MO-2026-00001" not in moulding and "No released or running orders" in moulding
    lagging = partial(client, flag="lagging")
    assert "MO-2026-00001" not in lagging  # not scheduled: nothing planned, not lagging


def test_reschedule_suggested_links_to_the_schedule(released):
    # Casting planned at 1 h per unit over the last 50 h, 10 made in 25 h: 2.5 h per unit.
    now = timezone.now()
    start = now - timedelta(hours=25)
    ProductionOrder.objects.filter(pk=released.pk).update(
        planned_start=start, planned_end=now + timedelta(hours=25)
    )
    OrderOperation.objects.filter(order=released, sequence=10).update(
        planned_start=start, planned_end=now + timedelta(hours=25), quantity_done=10
    )
    task = Task.objects.get(order=released, operation__sequence=10)
    Task.objects.filter(pk=task.pk).update(status="paused", pause_reason="Ladle repair")
    LabourBooking.objects.create(
        operator=task.operator, task=task, started_at=start, ended_at=now, quantity_good=10
    )
    row = row_of(partial(web("sunqi")), released)
    assert "Reschedule suggested" in row and 'href="/planning/schedule/"' in row
    assert "Ladle repair" in row


# --- drill-down -------------------------------------------------------------------------


def test_drill_down_shows_operations_and_the_timeline(released, api_as):
    wangwu = api_as("wangwu")
    t0 = timezone.now() - timedelta(minutes=30)
    for n, body in enumerate(
        (
            {"event_id": "d-1", "kind": "start"},
            {"event_id": "d-2", "kind": "report", "quantity_good": 1, "trace_code": "EB-7"},
            {"event_id": "d-3", "kind": "pause", "reason": "Die change"},
        )
    ):
        body.update(
            order="MO-2026-00001",
            sequence=10,
            equipment="CAST-01",
            occurred_at=(t0 + timedelta(minutes=n * 10)).isoformat(),
        )
        assert wangwu.post("/api/v1/execution/events/", body, format="json").status_code == 201
    client = web("zhouba")
    page = client.get(f"/execution/board/{released.pk}/")
    assert page.status_code == 200 and b'hx-trigger="every 5s"' in page.content
    html = partial(client, f"/execution/board/{released.pk}/")
    casting = re.search(r'id="board-op-\d+".*?</tr>', html, re.S).group(0)
    assert "Casting" in casting and "CAST-01" in casting and "Paused: Die change" in casting
    assert Operator.objects.get(badge="OP-003").name in casting  # wangwu, the operator
    timeline = html[html.index("Timeline") :]
    assert timeline.index("Pause") < timeline.index("Report") < timeline.index("Start")
    assert "EB-7" in timeline and "Die change" in timeline
    assert client.get("/execution/board/999999/").status_code == 404


# --- labour CSV -------------------------------------------------------------------------


def _bookings(released):
    tz = timezone.get_current_timezone()
    task = Task.objects.get(order=released, operation__sequence=10)
    day = datetime(2026, 3, 2, tzinfo=tz).date()

    def at(d, h, m=0):
        return datetime.combine(day + timedelta(days=d), time(h, m), tzinfo=tz)

    for start, end, good, scrap in (
        (at(0, 6), at(0, 8), 4, 1),
        (at(0, 9), at(0, 10, 30), 3, 0),
        (at(1, 6), at(1, 7), 0, 0),
        (at(3, 6), at(3, 7), 5, 0),  # outside the period asked for
    ):
        LabourBooking.objects.create(
            operator=task.operator,
            task=task,
            started_at=start,
            ended_at=end,
            quantity_good=good,
            quantity_scrap=scrap,
        )
    return task.operator


def test_labour_csv_per_operator_per_day(released):
    operator = _bookings(released)
    response = web("wujiu").get("/execution/labour.csv?start=2026-03-02&end=2026-03-04")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "labour-2026-03-02-2026-03-04.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["badge", "name", "date", "minutes", "good", "scrap", "yield_pct", "excess_minutes"],
        [operator.badge, operator.name, "2026-03-02", "210.0", "7", "1", "87.50", "0.0"],
        [operator.badge, operator.name, "2026-03-03", "60.0", "0", "0", "", "0.0"],
    ]


def test_labour_csv_raw_bookings(released):
    operator = _bookings(released)
    response = web("sunqi").get("/execution/labour.csv?start=2026-03-02&end=2026-03-02&detail=1")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["minutes"] for r in rows] == ["120.0", "90.0"]
    first = rows[0]
    assert first["badge"] == operator.badge and first["order"] == "MO-2026-00001"
    assert first["operation"] == "10" and first["work_center"] == "CAST"
    assert first["started_at"] == "2026-03-02T06:00:00+08:00" and first["yield_pct"] == "80.00"


def test_labour_csv_permissions_and_bad_dates(released):
    assert (
        web("zhangsan").get("/execution/labour.csv?start=2026-03-01&end=2026-03-31").status_code
        == 403
    )
    assert web("zhouba").get("/execution/labour/").status_code == 200
    planner = web("zhouba")
    for query, message in (
        ("start=2026-03-01", "end: give a date"),
        ("start=2026-02-30&end=2026-03-31", "start: '2026-02-30' is not a date"),
        ("start=20260301&end=2026-03-31", "is not a date"),
        ("start=2026-03-31&end=2026-03-01", "is before start"),
        ("start=2020-01-01&end=2026-03-31", "at most 366 days"),
    ):
        response = planner.get(f"/execution/labour.csv?{query}")
        assert response.status_code == 400 and message in response.content.decode(), query


def test_board_cells_escape_names_and_show_who_works_where(released, api_as):
    """The rows are built in Python: names and reasons are escaped, and a running
    operation shows its machine and operator, a paused one says so."""
    OrderOperation.objects.filter(order=released, sequence=10).update(name='Cast <b>"hot"</b>')
    task = Task.objects.get(order=released, operation__sequence=10)
    operator = task.operator
    api = api_as("sunqi")
    started = api.post(
        "/api/v1/execution/events/",
        {"event_id": "esc-1", "kind": "start", "task": task.pk, "equipment": "CAST-01"},
        format="json",
    )
    assert started.status_code == 201, started.content
    row = row_of(partial(web("sunqi")), released)
    assert 'title="Cast &lt;b&gt;&quot;hot&quot;&lt;/b&gt;"' in row and "<b>" not in row
    task.refresh_from_db()
    now_cell = re.search(r'<td class="board-now">(.*?)</td>', row, re.S).group(1)
    assert now_cell.startswith("<div>10 ") and operator.name in now_cell
    assert "CAST-01" in now_cell and "(paused)" not in now_cell
    paused = api.post(
        "/api/v1/execution/events/",
        {"event_id": "esc-2", "kind": "pause", "task": task.pk, "reason": "Die <i>change</i>"},
        format="json",
    )
    assert paused.status_code == 201, paused.content
    row = row_of(partial(web("sunqi")), released)
    assert "<em>(paused)</em>" in row
    assert "paused: Die &lt;i&gt;change&lt;/i&gt;</li>" in row and "<i>" not in row
    assert f'<a href="/execution/board/{released.pk}/">{released.number}</a>' in row


def test_board_says_when_no_order_matches(released):
    html = partial(web("sunqi"), work_center="NO-SUCH-CENTER")
    assert "No released or running orders match." in html and "board-row" not in html
