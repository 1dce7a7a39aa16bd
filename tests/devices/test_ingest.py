"""The gateway's entry point: telemetry, skipped samples, replays, and counts that drive the
floor on a step counted by machine."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devices.models import Counter, IngestBatch, ProductionCount, Telemetry
from execution.models import EventApproval, ProductionEvent, Task
from planning.models import OrderOperation, RoutingStep
from resources.models import Equipment

from .conftest import post

pytestmark = pytest.mark.django_db


def test_telemetry_values_scaled_and_bad_samples_skipped(demo_plant, feed):
    at = feed.tick()
    result = feed.send(
        feed.sample("CNC-01", "temperature", 423, at),  # × 0.1
        feed.sample("CNC-01", "spindle_speed", 1200, at),
        feed.sample("CNC-01", "state", 1, at),
        feed.sample("CNC-01", "fault", 0, at),
        feed.sample("CNC-01", "state", 9, at),  # not in the map
        feed.sample("CNC-01", "temperature", float("nan"), at),
        feed.sample("CNC-01", "temperature", "hot", at),
        feed.sample("CNC-01", "vibration", 3, at),  # not mapped
        feed.sample("CNC-99", "state", 1, at),  # no such machine
        feed.sample("CNC-01", "part_count", 2.5, at),  # not a whole count
    )
    assert (result.written, result.skipped) == (4, 6)
    values = dict(Telemetry.objects.filter(equipment__code="CNC-01").values_list("signal", "value"))
    assert values == {
        "temperature": pytest.approx(42.3),
        "spindle_speed": 1200,
        "state": 1,
        "fault": 0,
    }
    assert any("state code 9 is not in the map" in p for p in result.problems)
    assert any("CNC-99" in p for p in result.problems)


def test_a_batch_sent_again_changes_nothing(demo_plant, feed):
    at = feed.tick()
    batch = [feed.sample("CNC-02", "part_count", 100, at), feed.sample("CNC-02", "state", 1, at)]
    first = feed.send(*batch, batch_id="b-1")
    at = feed.tick()
    second = [feed.sample("CNC-02", "part_count", 110, at), feed.sample("CNC-02", "state", 0, at)]
    feed.send(*second, batch_id="b-2")
    before = (
        Telemetry.objects.count(),
        ProductionCount.objects.count(),
        Counter.objects.get(equipment__code="CNC-02", signal="part_count").total,
    )
    again = feed.send(*second, batch_id="b-2")
    assert again.duplicate and not first.duplicate
    assert before == (Telemetry.objects.count(), ProductionCount.objects.count(), 10)
    assert IngestBatch.objects.count() == 2
    # Without a batch id, counter readings already counted are skipped as well.
    feed.send(*second)
    assert Counter.objects.get(equipment__code="CNC-02", signal="part_count").total == 10


def test_query_count_does_not_grow_with_the_batch(demo_plant, feed):
    def queries(n: int) -> int:
        samples = []
        for _ in range(n):
            at = feed.tick()
            samples += [
                feed.sample("CNC-02", "temperature", 400, at),
                feed.sample("CNC-02", "spindle_speed", 900, at),
            ]
        with CaptureQueriesContext(connection) as ctx:
            feed.send(*samples)
        return len(ctx.captured_queries)

    queries(1)  # the counters and intervals exist from here on
    # (120 rows stay within one INSERT on SQLite, whose statements take at most 999 values.)
    assert queries(10) == queries(60)


def counted_task(order) -> Task:
    return Task.objects.get(order=order, operation__sequence=20)


def test_counts_on_a_counted_step_become_production_on_the_running_task(
    machining_on_cnc01, feed, api_as
):
    task = counted_task(machining_on_cnc01)
    assert task.operation.counted_by_machine and task.status == "running"
    feed.read("CNC-01", part_count=1000, good_count=500, state=1)  # baseline
    result = feed.read("CNC-01", part_count=1004, good_count=503, state=1)
    assert result.events == 1 and result.parts == 4
    task.refresh_from_db()
    assert (task.quantity_good, task.quantity_scrap) == (Decimal(3), Decimal(1))
    event = ProductionEvent.objects.get(task=task, kind="report")
    assert event.source == "device" and event.event_id == "dev:CNC-01:part_count:0-4"
    assert event.equipment.code == "CNC-01" and event.unit_id is None
    assert OrderOperation.objects.get(pk=task.operation_id).quantity_done == Decimal(3)
    count = ProductionCount.objects.filter(equipment__code="CNC-01").last()
    assert (count.total, count.good, count.operation_id) == (4, 3, task.operation_id)
    assert count.ideal_cycle_seconds == pytest.approx(10.1053 * 60)
    # A counter reading replayed (the same instant) or sent again posts nothing twice.
    again = feed.send(feed.sample("CNC-01", "part_count", 1004, feed.at))
    assert again.events == 0
    assert ProductionEvent.objects.filter(task=task, kind="report").count() == 1
    assert Counter.objects.get(equipment__code="CNC-01", signal="part_count").posted == 4


def test_the_board_row_moves_when_the_machine_counts(machining_on_cnc01, feed):
    from tests.execution.test_board import partial, row_of, web

    board = web("sunqi")
    assert "20: 0<" in row_of(partial(board), machining_on_cnc01)
    feed.read("CNC-01", part_count=7)
    feed.read("CNC-01", part_count=9)
    assert "20: 2<" in row_of(partial(board), machining_on_cnc01)


def test_an_operator_report_on_a_counted_step_is_refused_naming_the_step(
    machining_on_cnc01, api_as
):
    zhangsan = api_as("zhangsan")
    base = {"order": "MO-2026-00001", "sequence": 20}
    refused = post(
        zhangsan,
        {**base, "event_id": "r1", "kind": "report", "quantity_good": 1, "trace_code": "EB-0001"},
    )
    assert refused.status_code == 409
    assert (
        "Operation 20 Machining of MO-2026-00001 is counted by machine" in refused.content.decode()
    )
    assert not ProductionEvent.objects.filter(event_id="r1").exists()
    # Pause, resume and complete without quantities still work.
    for body in (
        {"event_id": "p1", "kind": "pause", "reason": "Tool change"},
        {"event_id": "p2", "kind": "resume"},
        {"event_id": "p3", "kind": "complete"},
    ):
        answer = post(zhangsan, {**base, **body})
        assert answer.status_code == 201, answer.content
    # The terminal shows "counted by machine" instead of the quantity fields.


def test_terminal_shows_counted_by_machine_instead_of_the_quantity_field(machining_on_cnc01):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="zhangsan"))
    page = client.get("/execution/terminal/").content.decode()
    card = page[page.index('data-label="MO-2026-00001 / 20') :]
    card = card[: card.index("</section>")]
    assert "Counted by machine" in card and 'name="quantity_good"' not in card


def test_device_counts_are_facts_never_held(machining_on_cnc01, feed):
    """Backdated (a spool replayed hours later) and past the order's tolerance (50 + 10 %):
    booked at once, not held for approval."""
    task = counted_task(machining_on_cnc01)
    old = feed.tick(-3600 * 20)  # 20 hours back: before the shift began
    feed.send(feed.sample("CNC-01", "part_count", 0, old))
    feed.send(feed.sample("CNC-01", "part_count", 70, feed.tick()))
    task.refresh_from_db()
    assert task.quantity_good == 70 and not EventApproval.objects.exists()


def test_a_step_without_the_flag_keeps_operator_reports_and_device_counts_do_not_post(
    machining_on_cnc01, feed, api_as
):
    step = RoutingStep.objects.get(routing__item__code="EB-500", step_no=20)
    step.counted_by_machine = False
    step.save()
    task = counted_task(machining_on_cnc01)
    OrderOperation.objects.filter(pk=task.operation_id).update(counted_by_machine=False)
    feed.read("CNC-01", part_count=10)
    feed.read("CNC-01", part_count=15)
    task.refresh_from_db()
    assert task.quantity_good == 0 and not ProductionEvent.objects.filter(source="device").exists()
    # The counts are kept for OEE, with the running operation.
    assert ProductionCount.objects.get(equipment__code="CNC-01").operation_id == task.operation_id
    reported = post(
        api_as("zhangsan"),
        {
            "order": "MO-2026-00001",
            "sequence": 20,
            "event_id": "r2",
            "kind": "report",
            "quantity_good": 1,
            "trace_code": "EB-0001",
        },
    )
    assert reported.status_code == 201, reported.content


def test_counts_with_no_task_running_are_kept(demo_plant, feed):
    feed.read("CNC-02", part_count=5)
    feed.read("CNC-02", part_count=8)
    count = ProductionCount.objects.get(equipment__code="CNC-02")
    assert (count.total, count.operation_id) == (3, None)
    cnc = Equipment.objects.get(code="CNC-02")
    assert count.ideal_cycle_seconds == (
        pytest.approx(3600 / float(cnc.rated_rate)) if cnc.rated_rate else None
    )


def test_part_and_good_counts_arriving_apart_split_good_and_scrap_right(machining_on_cnc01, feed):
    """OPC UA sends each counter's change with its own timestamp, and a batch can be cut
    between them: the parts wait for the good counter's reading of them."""
    task = counted_task(machining_on_cnc01)
    feed.read("CNC-01", part_count=100, good_count=100, state=1)  # baseline
    first = feed.read("CNC-01", part_count=110)  # the good counter's reading is still to come
    assert first.events == 0
    task.refresh_from_db()
    assert task.quantity_good == 0
    feed.read("CNC-01", good_count=108)
    task.refresh_from_db()
    assert (task.quantity_good, task.quantity_scrap) == (Decimal(8), Decimal(2))
    assert ProductionEvent.objects.get(task=task, kind="report").event_id == (
        "dev:CNC-01:part_count:0-10"
    )
    # A good counter that stops answering holds the parts back for at most a minute.
    feed.read("CNC-01", part_count=113)
    task.refresh_from_db()
    assert task.quantity_good == 8
    feed.read("CNC-01", 61, part_count=114)
    task.refresh_from_db()
    assert (task.quantity_good, task.quantity_scrap) == (Decimal(8), Decimal(6))


def test_parts_counted_while_no_counted_step_runs_are_not_posted_later(machining_on_cnc01, feed):
    from planning.models import OrderOperation

    task = counted_task(machining_on_cnc01)
    OrderOperation.objects.filter(pk=task.operation_id).update(counted_by_machine=False)
    feed.read("CNC-01", part_count=10)
    feed.read("CNC-01", part_count=40)  # 30 parts of another job
    OrderOperation.objects.filter(pk=task.operation_id).update(counted_by_machine=True)
    feed.read("CNC-01", part_count=42)
    task.refresh_from_db()
    assert task.quantity_good == 2
