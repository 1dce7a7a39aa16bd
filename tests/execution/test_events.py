"""Production events: idempotent, validated per event, state machine, operator isolation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from execution.models import LabourBooking, ProductionEvent, Task
from planning.models import OrderOperation, ProductionOrder

pytestmark = pytest.mark.django_db


def ev(event_id, kind, sequence=10, **extra):
    return {
        "event_id": event_id,
        "kind": kind,
        "order": "MO-2026-00001",
        "sequence": sequence,
        **extra,
    }


def test_retry_with_same_event_id_changes_nothing(released, api_as):
    wangwu = api_as("wangwu")  # assigned to casting
    assert (
        wangwu.post("/api/v1/execution/events/", ev("e1", "start"), format="json").status_code
        == 201
    )
    body = ev("e2", "report", quantity_good=1, trace_code="EB-0001")  # serial-tracked: one unit
    first = wangwu.post("/api/v1/execution/events/", body, format="json")
    again = wangwu.post("/api/v1/execution/events/", body, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["status"] == "duplicate" and again.json()["id"] == first.json()["id"]
    op = OrderOperation.objects.get(order__number="MO-2026-00001", sequence=10)
    assert op.quantity_done == 1
    assert ProductionEvent.objects.count() == 2


def test_batch_answers_per_event(released, api_as):
    supervisor = api_as("sunqi")
    future = (timezone.now() + timedelta(hours=2)).isoformat()
    results = supervisor.post(
        "/api/v1/execution/events/",
        [
            ev("b1", "start"),
            ev("b2", "report", quantity_good=-1, trace_code="EB-1"),
            ev("b3", "report", quantity_good=1, occurred_at=future, trace_code="EB-1"),
            ev("b4", "report", quantity_good=1),  # serial-tracked: needs the unit's code
            ev("b5", "report", quantity_good=1, trace_code="EB-1"),
            ev("b6", "start", sequence=99),
            {"kind": "start"},
            ev("b1", "start"),
        ],
        format="json",
    ).json()
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
        "rejected",
        "rejected",
        "duplicate",
    ]
    # A rejected event carries the API's error body; its entries name the row and the field.
    assert [(e["row"], e["field"]) for e in results[1]["errors"]] == [(1, "quantity_good")]
    assert "future" in results[2]["errors"][0]["message"]
    assert results[2]["errors"][0]["field"] == "occurred_at"
    assert [e["field"] for e in results[3]["errors"]] == ["trace_code"]
    assert results[3]["detail"].startswith("trace_code: ")
    assert results[5]["code"] == 404 and results[6]["code"] == 400
    assert OrderOperation.objects.get(order__number="MO-2026-00001", sequence=10).quantity_done == 1


def test_illegal_transition_is_409_with_a_message(released, api_as):
    wangwu = api_as("wangwu")
    response = wangwu.post(
        "/api/v1/execution/events/", ev("x1", "pause", reason="tea"), format="json"
    )
    assert response.status_code == 409
    assert "is ready; it cannot take a pause event (start it first)" in response.json()["detail"]
    queued = api_as("sunqi").post(
        "/api/v1/execution/events/", ev("x2", "start", sequence=20), format="json"
    )
    assert queued.status_code == 409 and "waits for operation 10" in queued.json()["detail"]


# Labour is capped at the work center's shift: this run books labour inside an ordinary
# working morning, on any day the suite runs.
@pytest.mark.clock("2026-12-09T10:00:00+08:00")
def test_full_run_books_labour_and_completes(released, api_as):
    wangwu = api_as("wangwu")
    t0 = timezone.now() - timedelta(hours=2)
    post = lambda body: wangwu.post("/api/v1/execution/events/", body, format="json")  # noqa: E731
    assert post(ev("r1", "start", occurred_at=t0.isoformat())).status_code == 201
    assert (
        post(
            ev(
                "r2",
                "pause",
                reason="Die change",
                occurred_at=(t0 + timedelta(minutes=30)).isoformat(),
            )
        ).status_code
        == 201
    )
    assert (
        post(ev("r3", "resume", occurred_at=(t0 + timedelta(minutes=40)).isoformat())).status_code
        == 201
    )
    # Serial-tracked blocks are reported one unit at a time: two good, one scrapped.
    for n, (good, scrap) in enumerate([(1, 0), (1, 0), (0, 1)]):
        at = (t0 + timedelta(minutes=60 + n)).isoformat()
        body = ev(
            f"u{n}",
            "report",
            quantity_good=good,
            quantity_scrap=scrap,
            trace_code=f"EB-{n}",
            occurred_at=at,
        )
        assert post(body).status_code == 201
    done = post(ev("r4", "complete", occurred_at=(t0 + timedelta(minutes=100)).isoformat()))
    assert done.status_code == 201
    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=10)
    assert task.status == "done" and task.quantity_good == 2 and task.quantity_scrap == 1
    bookings = list(LabourBooking.objects.filter(task=task).order_by("started_at"))
    assert [round(b.minutes) for b in bookings] == [30, 60]
    assert bookings[1].quantity_good == 2 and bookings[1].quantity_scrap == 1
    assert Task.objects.get(order__number="MO-2026-00001", operation__sequence=20).status == "ready"
    assert ProductionOrder.objects.get(number="MO-2026-00001").status == "in_progress"


def test_operator_cannot_act_on_or_see_another_operators_task(released, api_as):
    lisi = api_as("lisi")  # assembly; casting belongs to wangwu
    response = lisi.post("/api/v1/execution/events/", ev("iso-1", "start"), format="json")
    assert response.status_code == 403
    casting = Task.objects.get(order__number="MO-2026-00001", operation__sequence=10)
    assert lisi.get(f"/api/v1/execution/tasks/{casting.pk}/").status_code == 404
    mine = lisi.get("/api/v1/execution/tasks/").json()["results"]
    assert {t["sequence"] for t in mine} == {40}
    assert not ProductionEvent.objects.exists()


def test_events_only_for_released_orders(demo_plant, api_as):
    response = api_as("sunqi").post(
        "/api/v1/execution/events/",
        {"event_id": "n1", "kind": "start", "order": "MO-2026-00002", "sequence": 10},
        format="json",
    )
    assert response.status_code == 404  # planned, not released: it has no tasks yet
    assert Decimal(0) == ProductionOrder.objects.get(number="MO-2026-00002").quantity_done


# Labour is capped at the shift: booked inside an ordinary working morning.
@pytest.mark.clock("2026-12-09T10:00:00+08:00")
def test_labour_books_what_was_reported_in_its_span_not_later_counter_moves(released, api_as):
    """A scrap disposition moves good to scrap on the task's counters between two bookings;
    the next booking still holds only what was reported after its start or resume."""
    from django.db.models import F

    wangwu = api_as("wangwu")
    t0 = timezone.now() - timedelta(hours=3)
    at = lambda minutes: (t0 + timedelta(minutes=minutes)).isoformat()  # noqa: E731
    post = lambda body: wangwu.post("/api/v1/execution/events/", body, format="json")  # noqa: E731
    assert post(ev("l1", "start", occurred_at=at(0))).status_code == 201
    for n in range(3):
        body = ev(f"lu{n}", "report", quantity_good=1, trace_code=f"EB-L{n}", occurred_at=at(5 + n))
        assert post(body).status_code == 201
    assert post(ev("l2", "pause", reason="Break", occurred_at=at(30))).status_code == 201
    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=10)
    # What a scrap disposition of EB-L0 does to the counters (quality/services/inspections.py).
    Task.objects.filter(pk=task.pk).update(
        quantity_good=F("quantity_good") - 1, quantity_scrap=F("quantity_scrap") + 1
    )
    assert post(ev("l3", "resume", occurred_at=at(40))).status_code == 201
    body = ev("lu9", "report", quantity_good=1, trace_code="EB-L9", occurred_at=at(50))
    assert post(body).status_code == 201
    assert post(ev("l4", "complete", occurred_at=at(60))).status_code == 201
    bookings = list(LabourBooking.objects.filter(task=task).order_by("started_at"))
    assert [(b.quantity_good, b.quantity_scrap) for b in bookings] == [(3, 0), (1, 0)]
    assert [round(b.minutes) for b in bookings] == [30, 20]
