"""The set-based batch path (execution/services/ingest.py) gives every event the answer
`event_record` gives it one at a time, and leaves the same log, counters and states.

Each test runs the same batch both ways, each inside a transaction rolled back afterwards,
and compares the answers (status, code, errors, which event a duplicate refers to) and the
resulting database: tasks, operations, orders, the event log, units, lots, outbox rows and
labour bookings."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import StateConflict
from core.models import OutboxEvent
from execution.models import LabourBooking, ProductionEvent, Task
from execution.services import events as event_services
from execution.services import ingest
from execution.services.events import event_record, events_record
from planning.models import OrderOperation, ProductionOrder, Routing, RoutingStep
from planning.services.orders import production_order_create, production_order_release
from resources.models import Item, MaterialLot, SerialUnit
from tests.factories import ItemFactory, WorkCenterFactory, machining_by_hand

pytestmark = pytest.mark.django_db

ORDER = "MO-2026-00001"


def at(minute: int) -> str:
    return (timezone.now() - timedelta(hours=3) + timedelta(minutes=minute)).isoformat()


def ev(event_id, kind="report", sequence=10, minute=0, order=ORDER, **extra):
    return {
        "event_id": event_id,
        "kind": kind,
        "order": order,
        "sequence": sequence,
        "occurred_at": at(minute),
        **extra,
    }


def user(username: str):
    return get_user_model().objects.get(username=username)


# --- running a batch both ways ------------------------------------------------------------


def one_at_a_time(items, by):
    return [event_record(data=i if isinstance(i, dict) else {}, by=by) for i in items]


class Spy:
    """Counts how many events the set-based path wrote itself."""

    def __init__(self, monkeypatch):
        self.runs = self.events = 0
        write = ingest._Run.write
        spy = self

        def counting_write(run):
            write(run)
            spy.runs += 1
            spy.events += len(run.rows)

        monkeypatch.setattr(ingest._Run, "write", counting_write)


def batched(items, by):
    return ingest.events_ingest(items=items, by=by, min_batch=1)


def answer(result) -> dict:
    out = result.as_dict()
    out.pop("id", None)
    if result.event is not None:
        # The id in the answer is the real row of the event it names.
        assert ProductionEvent.objects.get(pk=result.event.pk).event_id == result.event.event_id
        out["refers_to"] = result.event.event_id
    return out


def outbox_by_event() -> list:
    """The outbox, one entry per recorded event: a single event writes a domain event
    listing one, a batch run one listing the run's events."""
    rows = []
    for topic, payload in OutboxEvent.objects.order_by("id").values_list("topic", "payload"):
        if topic == event_services.EVENTS_RECORDED:
            rows.extend((topic, listed) for listed in payload["events"])
        else:
            rows.append((topic, payload))
    return rows


def state() -> dict:
    return {
        "tasks": list(
            Task.objects.order_by("order__number", "operation__sequence").values_list(
                "order__number",
                "operation__sequence",
                "status",
                "quantity_good",
                "quantity_scrap",
                "operator_id",
                "equipment_id",
                "started_at",
                "ended_at",
                "pause_reason",
            )
        ),
        "operations": list(
            OrderOperation.objects.order_by("order__number", "sequence").values_list(
                "order__number",
                "sequence",
                "status",
                "quantity_done",
                "quantity_scrap",
                "actual_start",
                "actual_end",
                "equipment_id",
            )
        ),
        "orders": list(
            ProductionOrder.objects.order_by("number").values_list(
                "number", "status", "quantity_done", "quantity_scrap"
            )
        ),
        "events": list(
            ProductionEvent.objects.order_by("id").values_list(
                "event_id",
                "kind",
                "task_id",
                "order_id",
                "operation_id",
                "operator_id",
                "equipment_id",
                "quantity_good",
                "quantity_scrap",
                "reason",
                "trace_code",
                "unit__serial",
                "lot__code",
                "occurred_at",
                "source",
                "created_by_id",
            )
        ),
        "units": sorted(SerialUnit.objects.values_list("item__code", "serial")),
        "lots": sorted(MaterialLot.objects.values_list("item__code", "code")),
        "outbox": outbox_by_event(),
        "labour": list(
            LabourBooking.objects.order_by("id").values_list(
                "operator_id",
                "task_id",
                "started_at",
                "ended_at",
                "quantity_good",
                "quantity_scrap",
            )
        ),
    }


def run(path, items, by):
    with transaction.atomic():
        results = path(items, by)
        out = [answer(r) for r in results], state()
        transaction.set_rollback(True)
    return out


def assert_same(items, by) -> list[dict]:
    """Run `items` both ways; return the answers (the same for both)."""
    answers_one, state_one = run(one_at_a_time, items, by)
    answers_batch, state_batch = run(batched, items, by)
    assert len(answers_batch) == len(answers_one) == len(items)
    for n, (a, b) in enumerate(zip(answers_one, answers_batch, strict=True)):
        assert b == a, f"event #{n} {items[n]!r}"
    for key in state_one:
        assert state_batch[key] == state_one[key], key
    return answers_one


def statuses(answers) -> dict:
    return {a["event_id"]: (a["status"], a["code"]) for a in answers}


# --- the demo plant: serial-tracked engine blocks ------------------------------------------


def test_mixed_batch_same_answers_log_and_counters(released, monkeypatch):
    machining_by_hand(released.number)  # the batch reports units of operation 20 by hand
    sunqi = user("sunqi")
    assert event_record(data=ev("s0", "start"), by=sunqi).status == "accepted"
    # Scrap only: operation 20 stays queued until something good is made.
    assert (
        event_record(data=ev("old", quantity_scrap=1, trace_code="EB-0", minute=1), by=sunqi).status
        == "accepted"
    )
    future = (timezone.now() + timedelta(hours=2)).isoformat()
    items = [
        ev("q20a", sequence=20, quantity_good=1, trace_code="EB-1"),  # queued
        ev("r1", quantity_good=1, trace_code="EB-1", minute=2),
        ev("r1", quantity_good=1, trace_code="EB-1", minute=2),  # the same id in this batch
        ev("old", quantity_scrap=1, trace_code="EB-0", minute=1),  # sent before
        ev("q20b", sequence=20, quantity_good=1, trace_code="EB-1"),  # ready now
        ev("neg", quantity_good=-1, trace_code="EB-2"),
        ev("nan", quantity_scrap="abc", trace_code="EB-2"),
        ev("inf", quantity_good="Infinity", trace_code="EB-2"),
        ev("huge", quantity_good="1e20", trace_code="EB-2"),
        ev("future", quantity_good=1, trace_code="EB-2", occurred_at=future),
        ev("month13", quantity_good=1, trace_code="EB-2", occurred_at="2026-13-45T00:00"),
        ev("notadate", occurred_at="yesterday"),
        ev("notrace", quantity_good=1),
        ev("two", quantity_good=2, trace_code="EB-3"),
        ev("longcode", quantity_good=1, trace_code="X" * 70),
        {"event_id": "task-id", "kind": "report", "task": 999999},
        {"event_id": "task-abc", "kind": "report", "task": "abc"},
        {"event_id": "task-huge", "kind": "report", "task": "99999999999999999999999"},
        ev("noorder", order="MO-NOPE"),
        ev("noseq", sequence=99),
        ev("badseq", sequence="ten"),
        {"event_id": "noref", "kind": "report"},
        ev("badop", operator="NOPE-1", quantity_good=1, trace_code="EB-4"),
        ev("badeq", equipment="NOPE", quantity_good=1, trace_code="EB-4"),
        ev("eq", equipment="CAST-01", quantity_good=1, trace_code="EB-5", minute=3),
        ev("badge", operator="OP-001", quantity_good=1, trace_code="EB-6", minute=4),
        ev("kind?", kind="explode"),
        ev("kindlist", kind=["report"]),
        {"kind": "report"},
        ev("x" * 101),
        "not an object",
        ev("numeric", quantity_good=1, trace_code=12345, minute=5),
        ev("listcode", quantity_good=1, trace_code=["a"]),
        ev("round", quantity_good="0.00005", trace_code="EB-7", minute=6),
        ev("zero", minute=6),
        ev("s20", "start", sequence=20, minute=7),
        ev("u20-unknown", sequence=20, quantity_good=1, trace_code="EB-404", minute=8),
        ev("u20", sequence=20, quantity_good=1, trace_code="EB-1", minute=8),
        ev("p10", "pause", reason="Die change", minute=10),
        ev("paused-report", quantity_scrap=1, trace_code="EB-8", minute=11),
        ev("p10-again", "pause", reason="tea", minute=12),
        ev("res10", "resume", minute=20),
        ev("r9", quantity_good="1", trace_code="EB-9", minute=21),
        ev("c10", "complete", minute=30),
        ev("after", quantity_good=1, trace_code="EB-10", minute=31),
        ev("r1", quantity_good=1, trace_code="EB-1", minute=2),
    ]
    spy = Spy(monkeypatch)
    answers = assert_same(items, sunqi)
    assert spy.runs >= 3 and spy.events >= 8  # the reports really went the set-based way
    got = statuses(answers)
    assert got["q20a"] == ("rejected", 409) and got["q20b"] == ("rejected", 409)
    by_id = {a["event_id"]: a for a in answers}
    assert "is queued" in by_id["q20a"]["errors"]["detail"]
    assert "is ready" in by_id["q20b"]["errors"]["detail"]
    assert [a["status"] for a in answers[1:4]] == ["accepted", "duplicate", "duplicate"]
    for rejected_400 in ("neg", "nan", "inf", "huge", "future", "month13", "notadate"):
        assert got[rejected_400] == ("rejected", 400), rejected_400
    for accepted in ("eq", "badge", "numeric", "round", "zero", "s20", "u20", "p10", "c10"):
        assert got[accepted] == ("accepted", 201), accepted
    assert got["paused-report"] == ("accepted", 201) and got["r9"] == ("accepted", 201)
    assert got["task-id"] == got["task-abc"] == got["task-huge"] == ("rejected", 404)
    assert got["noorder"] == got["noseq"] == ("rejected", 404)
    assert got["badseq"] == got["noref"] == ("rejected", 400)
    assert "Unknown unit EB-404" in by_id["u20-unknown"]["errors"]["trace_code"]
    assert got["p10-again"] == ("rejected", 409) and got["after"] == ("rejected", 409)
    assert by_id["kindlist"]["code"] == 400 and by_id["listcode"]["code"] == 400
    assert answers[-1]["status"] == "duplicate"


def test_quantities_rounded_like_the_database_and_counted_exactly(released):
    """More than four decimal places: rounded once per event (as numeric(18, 4) would),
    so a batch that sums first arrives at the same totals."""
    sunqi = user("sunqi")
    event_record(data=ev("s0", "start"), by=sunqi)
    items = [
        ev(f"r{n}", quantity_good="0.00005" if n % 2 else "1", trace_code=f"EB-{n}", minute=n)
        for n in range(10)
    ]
    answers = assert_same(items, sunqi)
    assert all(a["status"] == "accepted" for a in answers)
    events_record(items=items, by=sunqi)
    op = OrderOperation.objects.get(order__number=ORDER, sequence=10)
    assert op.quantity_done == Decimal("5.0005")  # 5 × 1 + 5 × 0.0001
    assert ProductionEvent.objects.get(event_id="r1").quantity_good == Decimal("0.0001")


def test_operator_isolation_same_in_both_paths(released):
    wangwu, lisi = user("wangwu"), user("lisi")  # casting is wangwu's, assembly lisi's
    assert event_record(data=ev("s0", "start"), by=wangwu).status == "accepted"
    theirs = [
        ev("l1", quantity_good=1, trace_code="EB-1", minute=1),
        ev("l2", quantity_good=1, trace_code="EB-2", minute=2, operator="OP-003"),
        ev("l3", sequence=40, quantity_good=1, trace_code="EB-1"),
    ]
    answers = assert_same(theirs, lisi)
    assert [a["code"] for a in answers[:2]] == [403, 403]
    assert "is not assigned to you" in answers[0]["errors"]["detail"]
    mine = [
        ev("w1", quantity_good=1, trace_code="EB-1", minute=1),
        ev("w2", sequence=40, quantity_good=1, trace_code="EB-1"),  # not his: 403 first
        ev("w3", quantity_good=1, trace_code="EB-2", minute=2),
    ]
    answers = assert_same(mine, wangwu)
    assert [a["code"] for a in answers] == [201, 403, 201]


def test_gates_are_asked_the_same_way(released, monkeypatch):
    sunqi = user("sunqi")
    event_record(data=ev("s0", "start"), by=sunqi)
    SerialUnit.objects.create(item=Item.objects.get(code="EB-500"), serial="HOLD-1")

    def hold_gate(*, task, kind, unit, lot):
        if unit is not None and unit.serial.startswith("HOLD"):
            raise StateConflict(f"Unit {unit.serial} is on hold.")

    items = [
        ev("g1", quantity_good=1, trace_code="EB-1", minute=1),
        ev("g2", quantity_good=1, trace_code="HOLD-1", minute=2),  # known unit, refused
        ev("g3", quantity_good=1, trace_code="HOLD-2", minute=3),  # new unit, refused
        ev("g4", quantity_good=1, trace_code="EB-2", minute=4),
    ]
    monkeypatch.setattr(event_services, "_gate_checks", [])
    monkeypatch.setattr(event_services, "_batch_safe_gates", set())
    event_services.gate_register(hold_gate)  # not batch-safe: everything one at a time
    spy = Spy(monkeypatch)
    answers = assert_same(items, sunqi)
    assert spy.runs == 0
    assert [a["code"] for a in answers] == [201, 409, 409, 201]

    event_services.gate_register(hold_gate, batch_safe=True)
    assert event_services.gate_checks() == [hold_gate]
    answers = assert_same(items, sunqi)
    assert spy.runs >= 1 and [a["code"] for a in answers] == [201, 409, 409, 201]
    assert "HOLD-2 is on hold" in answers[2]["errors"]["detail"]


def test_a_run_the_database_refuses_goes_one_at_a_time(released, monkeypatch):
    """A run rolled back (here: a made-up failure; in production a concurrent insert of one
    of its event ids, or a deadlock) is answered event by event instead."""
    sunqi = user("sunqi")
    event_record(data=ev("s0", "start"), by=sunqi)
    failures = []
    emit = ingest.emit

    def fail_once(topic, payload, **kwargs):
        if not failures:
            failures.append(len(payload["events"]))
            raise IntegrityError("duplicate key value violates unique constraint")
        return emit(topic, payload, **kwargs)

    monkeypatch.setattr(ingest, "emit", fail_once)
    items = [ev(f"r{n}", quantity_good=1, trace_code=f"EB-{n % 4}", minute=n) for n in range(8)] + [
        ev("r1", quantity_good=1, trace_code="EB-1", minute=1)
    ]
    answers = assert_same(items, sunqi)
    assert failures and [a["status"] for a in answers] == ["accepted"] * 8 + ["duplicate"]


# --- products made for the test: lot-tracked and untracked -------------------------------


def make_order(code: str, tracking: str, number: str) -> ProductionOrder:
    item = ItemFactory(code=code, source=Item.Source.MAKE, tracking=tracking)
    routing = Routing.objects.create(item=item, version="1")
    for step_no in (10, 20):
        RoutingStep.objects.create(
            routing=routing,
            step_no=step_no,
            name=f"Step {step_no}",
            work_center=WorkCenterFactory(),
        )
    order = production_order_create(
        item=item,
        quantity=Decimal(1000),
        due_date=date.today() + timedelta(days=10),
        number=number,
        status=ProductionOrder.Status.PLANNED,
    )
    return production_order_release(order=order)


@pytest.fixture
def two_products(db):
    """A lot-tracked and an untracked product, each on an order whose two tasks run."""
    lots = make_order("LOT-PART", Item.Tracking.LOT, "MO-LOT")
    plain = make_order("PLAIN-PART", Item.Tracking.NONE, "MO-PLAIN")
    for order, trace in ((lots, "L-0"), (plain, "")):
        for event_id, kind, sequence, good in (
            ("start10", "start", 10, 0),
            ("first", "report", 10, 1),
            ("start20", "start", 20, 0),
        ):
            result = event_record(
                data=ev(
                    f"{order.number}-{event_id}",
                    kind,
                    sequence,
                    order=order.number,
                    quantity_good=good,
                    trace_code=trace if kind == "report" else "",
                )
            )
            assert result.status == "accepted", result.as_dict()
    return lots, plain


def test_lot_tracked_and_untracked_products(two_products):
    lot_order, plain = two_products
    lot, pl = lot_order.number, plain.number
    items = [
        ev("a1", order=lot, quantity_good=5, trace_code="L-1", minute=1),
        ev("a2", order=lot, quantity_good=3, quantity_scrap=1, trace_code="L-1", minute=2),
        ev("a3", order=lot, quantity_good=2, trace_code="L-2", minute=3),
        ev("a4", order=lot, sequence=20, quantity_good=4, trace_code="L-1", minute=4),
        ev("a5", order=lot, sequence=20, quantity_good=1, trace_code="L-9", minute=5),
        ev("a6", order=lot, quantity_good=1, minute=6),
        ev("a7", order=lot, sequence=20, quantity_scrap=2, trace_code="L-0", minute=7),
        ev("b1", order=pl, quantity_good=7, trace_code="anything", minute=1),
        ev("b2", order=pl, sequence=20, quantity_good="2.5", minute=2),
        ev("b3", order=pl, sequence=20, quantity_scrap="0.5", minute=3),
        ev("b2", order=pl, sequence=20, quantity_good="2.5", minute=2),
        {
            "event_id": "c1",
            "kind": "report",
            "task": Task.objects.get(order=plain, operation__sequence=10).pk,
            "quantity_good": 1,
            "occurred_at": at(9),
        },
        {
            "event_id": "c2",
            "kind": "report",
            "task": str(Task.objects.get(order=plain, operation__sequence=20).pk),
            "quantity_good": 1,
            "occurred_at": at(9),
        },
    ]
    answers = assert_same(items, None)
    got = statuses(answers)
    assert got["a5"] == ("rejected", 400) and got["a6"] == ("rejected", 400)
    assert got["b2"] == ("duplicate", 200)
    assert all(s == ("accepted", 201) for k, s in got.items() if k not in ("a5", "a6", "b2"))
    result = events_record(items=items, by=None)
    assert [r.code for r in result] == [a["code"] for a in answers]
    lot_order.refresh_from_db()
    plain.refresh_from_db()
    assert (lot_order.quantity_done, lot_order.quantity_scrap) == (Decimal(4), Decimal(2))
    assert (plain.quantity_done, plain.quantity_scrap) == (Decimal("3.5"), Decimal("0.5"))
    assert sorted(MaterialLot.objects.values_list("code", flat=True)) == ["L-0", "L-1", "L-2"]


def test_a_batch_costs_a_constant_number_of_queries(two_products, django_assert_max_num_queries):
    _lots, plain = two_products
    items = [
        ev(f"n{n}", order=plain.number, sequence=10 + 10 * (n % 2), quantity_good=1, minute=n % 60)
        for n in range(300)
    ]
    before = OrderOperation.objects.get(order=plain, sequence=10).quantity_done
    outbox = OutboxEvent.objects.filter(topic="execution.events.recorded")
    sent = set(outbox.values_list("pk", flat=True))
    with django_assert_max_num_queries(30):
        results = events_record(items=items, by=None)
    assert {r.status for r in results} == {"accepted"}
    assert OrderOperation.objects.get(order=plain, sequence=10).quantity_done == before + 150
    plain.refresh_from_db()
    assert plain.quantity_done == 150
    assert Task.objects.get(order=plain, operation__sequence=20).quantity_good == 150
    # One domain event per run listing its events, in order.
    listed = [
        e["event_id"]
        for payload in outbox.exclude(pk__in=sent).order_by("pk").values_list("payload", flat=True)
        for e in payload["events"]
    ]
    assert listed == [f"n{n}" for n in range(300)]


def test_lots_first_seen_in_a_batch_get_their_trace_codes_from_one_domain_event(two_products):
    from core.events import outbox_dispatch_pending
    from quality.models import TraceCode

    lot_order, plain = two_products
    outbox_dispatch_pending()  # the fixture's own events
    items = [
        ev(f"t{n}", order=lot_order.number, quantity_good=1, trace_code=f"NEW-{n % 3}", minute=n)
        for n in range(9)
    ] + [ev("u1", order=plain.number, quantity_good=1, minute=1)]
    assert {r.status for r in events_record(items=items, by=None)} == {"accepted"}
    recorded = OutboxEvent.objects.filter(
        topic=event_services.EVENTS_RECORDED, dispatched_at__isnull=True
    )
    assert recorded.count() == 1 and len(recorded.get().payload["events"]) == 10
    assert outbox_dispatch_pending() == 1
    codes = TraceCode.objects.filter(lot__code__startswith="NEW-")
    assert sorted(codes.values_list("code", "lot__code")) == [
        ("NEW-0", "NEW-0"),
        ("NEW-1", "NEW-1"),
        ("NEW-2", "NEW-2"),
    ]
    assert {c.order_id for c in codes} == {lot_order.pk}
    assert TraceCode.objects.filter(lot__code="L-0").count() == 1  # issued before, kept
