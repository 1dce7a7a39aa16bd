"""The single-event path (one event per request, as terminals, simple MES clients and
counted steps send them): a fixed, small number of statements per event, the same answers.

The query counts are pinned here; the speed is measured by bench/event_path_bench.py."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import OutboxEvent
from core.roles import Role, roles_ensure
from execution.models import EventApproval, ProductionEvent, Task
from execution.services.events import EVENTS_RECORDED, event_record
from planning.models import OrderOperation, ProductionOrder, Routing, RoutingStep
from planning.services.orders import production_order_create, production_order_release
from resources.models import Area, Holiday, Item, ShiftPattern, Site, WorkCenter

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]

# One report on a running task: the task, locked, with all the rules and writes ask of it,
# whether its id was seen, the sender's operator record and the shift calendar (the event
# occurred minutes ago), in one statement; the event; the task's and the operation's
# counters (and the order's, at the last operation); the outbox row. Plus the transaction's
# savepoint and its release (a test runs inside a transaction; in production these are
# BEGIN and COMMIT, which Django does not count). It was 13, then 9. On PostgreSQL the
# counters and the outbox row go in with the event, in its statement: three fewer (below).
REPORT_QUERIES = 7
# The first report of a user object also reads its roles (cached on the user; a signed-in
# request's user comes with them), and the first good piece makes the next operation's task
# and operation ready.
FIRST_REPORT_QUERIES = REPORT_QUERIES + 3
# The same POSTed to /api/v1/execution/events/ by a signed-in supervisor: the session with
# its user and the user's roles comes on top (every request loads its user). It was 18, 14,
# then 9 (the user read on its own).
REPORT_QUERIES_HTTP = REPORT_QUERIES + 1


@pytest.fixture
def plain(db):
    """A released order of an untracked two-operation part at a site with a day shift;
    operation 10 running. Returns the supervisor."""
    roles_ensure()
    user = get_user_model().objects.create_user("path-sup", password="path-pass-1")
    user.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    site = Site.objects.create(code="PATH", name="Path plant", time_zone="Asia/Shanghai")
    area = Area.objects.create(site=site, code="PATH-A", name="Path area")
    centers = [
        WorkCenter.objects.create(area=area, code=f"PATH-WC{n}", name=f"Path WC {n}")
        for n in (1, 2)
    ]
    for center in centers:
        ShiftPattern.objects.create(
            work_center=center,
            name="Day",
            weekdays="1,2,3,4,5",
            start_time=time(8),
            end_time=time(17),
        )
    Holiday.objects.create(site=site, date=date(2026, 12, 25), name="Closed")
    item = Item.objects.create(code="PATH-PART", name="Path part", source=Item.Source.MAKE)
    routing = Routing.objects.create(item=item, version="1")
    for step_no, center in zip((10, 20), centers, strict=True):
        RoutingStep.objects.create(
            routing=routing, step_no=step_no, name=f"Step {step_no}", work_center=center
        )
    order = production_order_create(
        item=item,
        quantity=Decimal(100),
        due_date=date(2027, 1, 15),
        number="PATH-0001",
        status=ProductionOrder.Status.PLANNED,
    )
    production_order_release(order=order)
    started = event_record(
        data={"event_id": "path-start", "kind": "start", "order": "PATH-0001", "sequence": 10}
    )
    assert started.status == "accepted", started.as_dict()
    return user


def report(event_id: str, sequence: int = 10, **extra) -> dict:
    return {
        "event_id": event_id,
        "kind": "report",
        "order": "PATH-0001",
        "sequence": sequence,
        "quantity_good": 1,
        "occurred_at": (timezone.now() - timedelta(minutes=3)).isoformat(),
        **extra,
    }


def counters(sequence: int) -> tuple:
    task = Task.objects.get(order__number="PATH-0001", operation__sequence=sequence)
    op = OrderOperation.objects.get(order__number="PATH-0001", sequence=sequence)
    order = ProductionOrder.objects.get(number="PATH-0001")
    return (
        (task.quantity_good, task.quantity_scrap),
        (op.quantity_done, op.quantity_scrap),
        (order.quantity_done, order.quantity_scrap),
        task.status,
    )


def test_a_report_costs_a_fixed_number_of_statements(plain, django_assert_max_num_queries):
    with django_assert_max_num_queries(FIRST_REPORT_QUERIES):
        first = event_record(data=report("r1"), by=plain)
    assert first.status == "accepted", first.as_dict()
    with django_assert_max_num_queries(REPORT_QUERIES):
        second = event_record(data=report("r2", quantity_good=0, quantity_scrap=2), by=plain)
    assert second.status == "accepted", second.as_dict()
    assert counters(10) == (
        (Decimal(1), Decimal(2)),
        (Decimal(1), Decimal(2)),
        (Decimal(0), Decimal(0)),  # the order counts its last operation
        Task.Status.RUNNING,
    )
    # Something made at 10: the task of 20 is ready now (read with the locked task).
    assert counters(20)[3] == Task.Status.READY
    assert OrderOperation.objects.get(order__number="PATH-0001", sequence=20).status == (
        OrderOperation.Status.READY
    )
    event = ProductionEvent.objects.get(event_id="r1")
    assert event.received_at is not None and event.created_by == plain
    assert (event.order.number, event.operation.sequence) == ("PATH-0001", 10)


def test_the_last_operation_moves_the_order(plain):
    event_record(data=report("r1"), by=plain)
    assert event_record(
        data={"event_id": "s20", "kind": "start", "order": "PATH-0001", "sequence": 20}
    ).status == ("accepted")
    task = Task.objects.get(order__number="PATH-0001", operation__sequence=20)
    result = event_record(data=report("r20", task=task.pk, order=None, sequence=None), by=plain)
    assert result.status == "accepted", result.as_dict()
    assert counters(20)[:3] == ((Decimal(1), Decimal(0)),) * 3


def test_a_retry_answers_from_one_lookup(plain, django_assert_max_num_queries):
    first = event_record(data=report("r1"), by=plain)
    # The savepoint, the task (which says the id is known), the event it names, the release.
    with django_assert_max_num_queries(4):
        again = event_record(data=report("r1"), by=plain)
    assert again.status == "duplicate" and again.event.pk == first.event.pk
    assert counters(10)[0] == (Decimal(1), Decimal(0))


def test_a_held_event_retried_is_still_held(plain):
    old = (timezone.now() - timedelta(hours=3)).isoformat()  # before the 08:00 shift start
    held = event_record(data=report("late", occurred_at=old), by=plain)
    assert held.status == "held" and "08:00" in held.approval.message
    again = event_record(data=report("late", occurred_at=old), by=plain)
    assert again.status == "held" and again.approval.pk == held.approval.pk
    assert (
        EventApproval.objects.count() == 1
        and not ProductionEvent.objects.filter(event_id="late").exists()
    )
    assert counters(10)[0] == (Decimal(0), Decimal(0))


def test_the_calendar_comes_with_the_task(plain):
    """The backdating check's shift calendar is read in the task's statement, never alone."""
    data = report("then", occurred_at=(timezone.now() - timedelta(minutes=5)).isoformat())
    with CaptureQueriesContext(connection) as ctx:
        assert event_record(data=data, by=plain).status == "accepted"
    calendar = [q["sql"] for q in ctx.captured_queries if "shiftpattern" in q["sql"]]
    assert len(calendar) == 1 and '"execution_task"' in calendar[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"task": "9" * 30}, "No task 999999999999999999999999999999."),
        ({"order": "PATH-0001", "sequence": 10**12}, "Order PATH-0001 has no released operation"),
        ({"order": "PATH-9999", "sequence": 10}, "No order PATH-9999."),
    ],
)
def test_a_task_that_cannot_exist_is_404(plain, data, message):
    result = event_record(
        data={"event_id": "x1", "kind": "report", "quantity_good": 1, **data}, by=plain
    )
    assert result.code == 404 and result.errors["task"].startswith(message)


def test_one_event_per_http_request(plain, django_assert_max_num_queries):
    event_record(data=report("r0"), by=plain)  # the next task made ready
    client = APIClient()
    client.force_login(plain)  # a session, as the terminal's pages and the bench sign in
    with django_assert_max_num_queries(REPORT_QUERIES_HTTP):
        response = client.post("/api/v1/execution/events/", report("h1"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "accepted"
    with django_assert_max_num_queries(REPORT_QUERIES_HTTP):
        again = client.post("/api/v1/execution/events/", report("h1"), format="json")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert counters(10)[0] == (Decimal(2), Decimal(0))


@pytest.mark.postgres
def test_the_task_lookup_is_prepared_on_postgresql(plain):
    """Planned once per connection (DB_PREPARED_STATEMENTS, on by default), and still logged
    with its text like any other statement."""
    with CaptureQueriesContext(connection) as ctx:
        assert event_record(data=report("p1"), by=plain).status == "accepted"
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any("FOR NO KEY UPDATE OF t" in statement for statement in prepared)
    # The single-row counter updates (task, operation, order) and the outbox row too.
    for table in ("execution_task", "planning_orderoperation", "core_outboxevent"):
        assert any(table in statement for statement in prepared), table
    assert all(q["sql"] for q in ctx.captured_queries)
    assert any("FOR NO KEY UPDATE OF t" in q["sql"] for q in ctx.captured_queries)


def _the_insert(ctx) -> str:
    (insert,) = [q["sql"] for q in ctx.captured_queries if "INSERT INTO" in q["sql"]]
    return insert


@pytest.mark.postgres
def test_on_postgresql_a_report_writes_everything_in_the_events_own_statement(plain):
    event_record(data=report("r0"), by=plain)  # the next task made ready, roles read
    with CaptureQueriesContext(connection) as ctx:
        assert event_record(data=report("r1", quantity_scrap=2), by=plain).status == "accepted"
    # The savepoint, the task, the event with everything it moves, the release.
    assert len(ctx.captured_queries) == REPORT_QUERIES - 3
    insert = _the_insert(ctx)
    # The task's counters, then its operation's (waiting for the task's: the lock order);
    # not the order's (operation 10 is not the last); the outbox row; the event itself.
    assert insert.startswith('WITH along0 AS (UPDATE "execution_task"')
    operation = insert.index('along1 AS (UPDATE "planning_orderoperation"')
    outbox = insert.index('along2 AS (INSERT INTO "core_outboxevent"')
    assert "(SELECT count(*) FROM along0) >= 0" in insert[operation:outbox]
    assert '"planning_productionorder"' not in insert
    assert insert.rindex('INSERT INTO "execution_productionevent"') > outbox
    assert counters(10)[:3] == (
        (Decimal(2), Decimal(2)),
        (Decimal(2), Decimal(2)),
        (Decimal(0), Decimal(0)),
    )
    (row,) = OutboxEvent.objects.filter(topic=EVENTS_RECORDED).order_by("-pk")[:1]
    assert row.payload["events"][0]["event_id"] == "r1"
    assert row.payload["events"][0]["scrap"] == "2"


@pytest.mark.postgres
def test_on_postgresql_a_report_on_the_last_operation_moves_the_order_in_lock_order(plain):
    event_record(data=report("r0"), by=plain)  # operation 20's task made ready
    event_record(data={"event_id": "s20", "kind": "start", "order": "PATH-0001", "sequence": 20})
    with CaptureQueriesContext(connection) as ctx:
        result = event_record(data=report("r20", sequence=20, quantity_scrap=1), by=plain)
    assert result.status == "accepted", result.as_dict()
    insert = _the_insert(ctx)
    task = insert.index('along0 AS (UPDATE "execution_task"')
    operation = insert.index('along1 AS (UPDATE "planning_orderoperation"')
    order = insert.index('along2 AS (UPDATE "planning_productionorder"')
    assert task < operation < order < insert.index('along3 AS (INSERT INTO "core_outboxevent"')
    assert "(SELECT count(*) FROM along1) >= 0" in insert[order:]
    assert counters(20)[:3] == (
        (Decimal(1), Decimal(1)),
        (Decimal(1), Decimal(1)),
        (Decimal(1), Decimal(1)),
    )


def test_one_event_at_a_time_keeps_counting_exactly(plain):
    """Many single events on one task: the single-row counter statement (prepared on
    PostgreSQL) adds each one."""
    for n in range(7):
        result = event_record(data=report(f"c{n}", quantity_scrap=1), by=plain)
        assert result.status == "accepted", result.as_dict()
    assert counters(10)[:2] == ((Decimal(7), Decimal(7)), (Decimal(7), Decimal(7)))
