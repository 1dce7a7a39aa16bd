"""Record plausibility of production events: a backdated event or an over-delivery is held
for a supervisor's signed approval instead of booked; labour stops counting at the shift's end.

The suite's clock stands on a Wednesday at 10:00 in Shanghai: the demo's early shift
(06:00–14:00) is running, so the backdating cutoff is 06:00 that morning."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from core.models import Signature
from core.signatures import signature_verify, signatures_for
from execution.models import EventApproval, LabourBooking, ProductionEvent, Task
from execution.services.events import event_record
from planning.models import OrderOperation, ProductionOrder
from planning.services.orders import production_order_create, production_order_release
from resources.demo import DEMO_PASSWORD
from resources.models import Item, Operator, ShiftPattern

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENTS = "/api/v1/execution/events/"
APPROVALS = "/api/v1/execution/event-approvals/"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def ev(event_id, kind, order="MO-2026-00001", sequence=10, **extra):
    return {"event_id": event_id, "kind": kind, "order": order, "sequence": sequence, **extra}


@pytest.fixture
def housings(demo_plant):
    """An order of 88 housings (lot-tracked), released; wangwu runs its moulding step."""
    order = production_order_create(
        item=Item.objects.get(code="HSG-100"),
        quantity=Decimal(88),
        due_date=timezone.localdate() + timedelta(days=3),
        number="MO-T-88",
        status=ProductionOrder.Status.PLANNED,
    )
    order = production_order_release(order=order)
    task = Task.objects.get(order=order, operation__sequence=10)
    Task.objects.filter(pk=task.pk).update(operator=Operator.objects.get(badge="OP-003"))
    return order


def test_backdated_start_35_days_back_is_held_and_the_pause_books_nothing(released, api_as):
    """The reproduction: an operator sent `start` 35 days in the past, then paused; that
    booked 50,513.7 minutes into labour.csv. Now the start waits for a supervisor and the
    pause finds no running task."""
    wangwu = api_as("wangwu")  # the casting task is his
    back = (timezone.now() - timedelta(days=35)).isoformat()
    start = wangwu.post(EVENTS, ev("bd-start", "start", occurred_at=back), format="json")
    assert start.status_code == 202
    body = start.json()
    assert body["status"] == "held" and body["approval_status"] == "pending"
    assert "Waiting for supervisor approval" in body["detail"]
    assert "before 2026-12-09 06:00" in body["detail"]
    approval = EventApproval.objects.get(pk=body["approval"])
    assert approval.reasons == ["backdated"] and approval.requested_by.username == "wangwu"
    assert not ProductionEvent.objects.exists()
    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=10)
    assert task.status == Task.Status.READY

    pause = wangwu.post(EVENTS, ev("bd-pause", "pause", reason="break"), format="json")
    assert pause.status_code == 409
    assert not LabourBooking.objects.exists()


def test_a_retried_held_event_changes_nothing(released, api_as):
    wangwu = api_as("wangwu")
    back = local(8, 9).isoformat()  # yesterday morning
    first = wangwu.post(EVENTS, ev("bd-1", "start", occurred_at=back), format="json")
    again = wangwu.post(EVENTS, ev("bd-1", "start", occurred_at=back), format="json")
    batch = wangwu.post(EVENTS, [ev("bd-1", "start", occurred_at=back)], format="json")
    assert first.status_code == again.status_code == 202
    assert again.json()["approval"] == first.json()["approval"]
    assert batch.json()[0]["status"] == "held"
    assert batch.json()[0]["approval"] == first.json()["approval"]
    assert EventApproval.objects.count() == 1 and not ProductionEvent.objects.exists()


def test_an_event_since_the_shift_start_is_booked_at_once(released, api_as):
    wangwu = api_as("wangwu")
    response = wangwu.post(EVENTS, ev("ok-1", "start", occurred_at=local(9, 6, 5).isoformat()), format="json")  # fmt: skip
    assert response.status_code == 201
    early = wangwu.post(EVENTS, ev("ok-2", "report", quantity_good=1, trace_code="EB-1", occurred_at=local(9, 5, 59).isoformat()), format="json")  # fmt: skip
    assert early.status_code == 202  # one minute before the shift began


def test_between_shifts_only_the_hours_count(released, api_as, pinned_now, settings):
    # 23:00: no shift runs (early 06–14, late 14–22), so 12 hours back is the cutoff.
    pinned_now.move_to(local(9, 23))
    wangwu = api_as("wangwu")
    assert wangwu.post(EVENTS, ev("n-1", "start", occurred_at=local(9, 11, 30).isoformat()), format="json").status_code == 201  # fmt: skip
    assert wangwu.post(EVENTS, ev("n-2", "report", quantity_good=1, trace_code="EB-1", occurred_at=local(9, 10, 59).isoformat()), format="json").status_code == 202  # fmt: skip
    settings.EXECUTION_BACKDATE_MAX_HOURS = 14
    assert wangwu.post(EVENTS, ev("n-3", "report", quantity_good=1, trace_code="EB-2", occurred_at=local(9, 10, 59).isoformat()), format="json").status_code == 201  # fmt: skip


def _approve(
    client, pk, *, password=DEMO_PASSWORD, reason="Paper log checked.", decision="approve"
):
    return client.post(
        f"{APPROVALS}{pk}/{decision}/", {"password": password, "reason": reason}, format="json"
    )


def test_approval_with_a_signature_books_the_event_exactly_once(released, api_as):
    wangwu, sunqi = api_as("wangwu"), api_as("sunqi")
    back = local(8, 9).isoformat()
    pk = wangwu.post(EVENTS, ev("bd-a", "start", occurred_at=back), format="json").json()["approval"]  # fmt: skip

    wrong = _approve(sunqi, pk, password="wrong")
    assert wrong.status_code == 400 and "password" in str(wrong.json())
    no_reason = _approve(sunqi, pk, reason=" ")
    assert no_reason.status_code == 400
    assert not ProductionEvent.objects.exists() and not Signature.objects.exists()
    assert EventApproval.objects.get(pk=pk).status == "pending"

    own = _approve(wangwu, pk)  # operators decide nothing
    assert own.status_code == 403

    done = _approve(sunqi, pk)
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "approved"
    event = ProductionEvent.objects.get(event_id="bd-a")
    assert event.occurred_at == local(8, 9) and event.created_by.username == "wangwu"
    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=10)
    assert task.status == Task.Status.RUNNING and task.started_at == local(8, 9)
    approval = EventApproval.objects.get(pk=pk)
    assert approval.applied_event == event and approval.decided_by.username == "sunqi"
    (signature,) = signatures_for(approval)
    assert signature.meaning == "approved" and signature.reason == "Paper log checked."
    assert signature_verify(signature)

    twice = _approve(sunqi, pk)
    assert twice.status_code == 409
    retry = wangwu.post(EVENTS, ev("bd-a", "start", occurred_at=back), format="json")
    assert retry.status_code == 200 and retry.json()["status"] == "duplicate"
    assert ProductionEvent.objects.filter(event_id="bd-a").count() == 1
    assert Signature.objects.count() == 1


def test_rejection_is_signed_and_books_nothing(released, api_as):
    wangwu, sunqi = api_as("wangwu"), api_as("sunqi")
    pk = wangwu.post(EVENTS, ev("bd-r", "start", occurred_at=local(1, 9).isoformat()), format="json").json()["approval"]  # fmt: skip
    rejected = _approve(sunqi, pk, decision="reject", reason="No such shift worked.")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert not ProductionEvent.objects.exists()
    (signature,) = signatures_for(EventApproval.objects.get(pk=pk))
    assert signature.meaning == "rejected"
    assert _approve(sunqi, pk).status_code == 409
    assert not ProductionEvent.objects.exists()


def test_only_a_supervisor_of_the_work_center_decides(released, api_as):
    wangwu = api_as("wangwu")
    pk = wangwu.post(EVENTS, ev("bd-w", "start", occurred_at=local(8, 9).isoformat()), format="json").json()["approval"]  # fmt: skip
    other = get_user_model().objects.create_user("supervisor2", password=DEMO_PASSWORD)
    other.groups.add(*get_user_model().objects.get(username="sunqi").groups.all())
    response = _approve(api_as("supervisor2"), pk)
    assert response.status_code == 403
    assert "CAST" in response.json()["detail"]
    assert EventApproval.objects.get(pk=pk).status == "pending"


def test_an_approval_that_can_no_longer_apply_is_refused_and_stays_pending(released, api_as):
    wangwu, sunqi = api_as("wangwu"), api_as("sunqi")
    pk = wangwu.post(EVENTS, ev("bd-late", "start", occurred_at=local(8, 9).isoformat()), format="json").json()["approval"]  # fmt: skip
    assert wangwu.post(EVENTS, ev("now-start", "start"), format="json").status_code == 201
    response = _approve(sunqi, pk)
    assert response.status_code == 409
    assert "cannot be booked now" in response.json()["detail"]
    assert EventApproval.objects.get(pk=pk).status == "pending"
    assert not Signature.objects.exists()


def test_1058_of_88_is_held_and_96_of_88_is_booked(housings, api_as):
    """The reproduction: a task for 88 units accepted 1,058 good."""
    wangwu = api_as("wangwu")
    h = {"order": "MO-T-88"}
    assert wangwu.post(EVENTS, ev("h-s", "start", **h), format="json").status_code == 201
    over = wangwu.post(EVENTS, ev("h-r1", "report", quantity_good=1058, trace_code="H-88", **h), format="json")  # fmt: skip
    assert over.status_code == 202, over.json()
    assert "1058 of 88 planned" in over.json()["detail"]
    assert "at most 96.8" in over.json()["detail"]
    operation = OrderOperation.objects.get(order__number="MO-T-88", sequence=10)
    assert operation.quantity_done == 0
    ok = wangwu.post(EVENTS, ev("h-r2", "report", quantity_good=90, quantity_scrap=6, trace_code="H-88", **h), format="json")  # fmt: skip
    assert ok.status_code == 201
    operation.refresh_from_db()
    assert operation.quantity_done + operation.quantity_scrap == 96
    one_more = wangwu.post(EVENTS, ev("h-r3", "report", quantity_good=1, trace_code="H-88", **h), format="json")  # fmt: skip
    assert one_more.status_code == 202  # 97 > 96.8
    assert EventApproval.objects.filter(reasons=["over_delivery"]).count() == 2


def test_over_delivery_in_a_batch_is_held_after_the_run_before_it(housings, api_as):
    wangwu = api_as("wangwu")
    h = {"order": "MO-T-88"}
    assert wangwu.post(EVENTS, ev("hb-s", "start", **h), format="json").status_code == 201
    answers = wangwu.post(
        EVENTS,
        [
            ev("hb-1", "report", quantity_good=50, trace_code="H-B", **h),
            ev("hb-2", "report", quantity_good=40, trace_code="H-B", **h),
            ev("hb-3", "report", quantity_good=10, trace_code="H-B", **h),  # 100 > 96.8
            ev("hb-4", "report", quantity_good=5, trace_code="H-B", **h),  # 95: fine
        ],
        format="json",
    ).json()
    assert [a["status"] for a in answers] == ["accepted", "accepted", "held", "accepted"]
    assert OrderOperation.objects.get(order__number="MO-T-88", sequence=10).quantity_done == 95


def test_a_routing_step_sets_its_own_tolerance(housings, api_as):
    OrderOperation.objects.filter(order__number="MO-T-88").update(over_delivery_pct=0)
    wangwu = api_as("wangwu")
    h = {"order": "MO-T-88"}
    wangwu.post(EVENTS, ev("t-s", "start", **h), format="json")
    assert wangwu.post(EVENTS, ev("t-1", "report", quantity_good=88, trace_code="H-T", **h), format="json").status_code == 201  # fmt: skip
    assert wangwu.post(EVENTS, ev("t-2", "report", quantity_scrap=1, trace_code="H-T", **h), format="json").status_code == 202  # fmt: skip


def test_approving_an_over_delivery_books_it(housings, api_as):
    wangwu, sunqi = api_as("wangwu"), api_as("sunqi")
    h = {"order": "MO-T-88"}
    wangwu.post(EVENTS, ev("a-s", "start", **h), format="json")
    pk = wangwu.post(EVENTS, ev("a-r", "report", quantity_good=120, trace_code="H-A", **h), format="json").json()["approval"]  # fmt: skip
    assert _approve(sunqi, pk, reason="Customer takes the extra 32.").status_code == 200
    assert OrderOperation.objects.get(order__number="MO-T-88", sequence=10).quantity_done == 120


# --- labour capped at the shift --------------------------------------------------------------


def test_labour_stops_at_the_end_of_the_shift_and_the_excess_is_flagged(
    released, api_as, pinned_now
):
    wangwu = api_as("wangwu")
    pinned_now.move_to(local(9, 13))
    assert wangwu.post(EVENTS, ev("l-s", "start"), format="json").status_code == 201
    pinned_now.move_to(local(9, 16, 30))  # the late shift runs now: 14:00 is its start
    pause = wangwu.post(EVENTS, ev("l-p", "pause", reason="end of shift"), format="json")
    assert pause.status_code == 201
    booking = LabourBooking.objects.get()
    assert booking.started_at == local(9, 13) and booking.ended_at == local(9, 14)
    assert booking.minutes == 60 and booking.excess_minutes == Decimal("150.0")
    assert booking.flagged


def test_labour_within_the_shift_is_booked_whole(released, api_as, pinned_now):
    wangwu = api_as("wangwu")
    assert wangwu.post(EVENTS, ev("w-s", "start", occurred_at=local(9, 7).isoformat()), format="json").status_code == 201  # fmt: skip
    assert wangwu.post(EVENTS, ev("w-p", "pause", reason="tool change"), format="json").status_code == 201  # fmt: skip
    booking = LabourBooking.objects.get()
    assert round(booking.minutes) == 180 and booking.excess_minutes == 0 and not booking.flagged


def test_an_approved_backdated_start_books_only_its_shift(released, api_as, pinned_now):
    """Even approved, the 35-day-old start books at most the rest of that day's shift."""
    wangwu, sunqi = api_as("wangwu"), api_as("sunqi")
    back = local(9, 10) - timedelta(days=35) + timedelta(minutes=30)  # 2026-11-04 10:30
    pk = wangwu.post(EVENTS, ev("o-s", "start", occurred_at=back.isoformat()), format="json").json()["approval"]  # fmt: skip
    assert _approve(sunqi, pk).status_code == 200
    assert wangwu.post(EVENTS, ev("o-p", "pause", reason="break"), format="json").status_code == 201
    booking = LabourBooking.objects.get()
    assert booking.ended_at == back.replace(hour=14, minute=0)  # the early shift's end
    assert booking.minutes == 210
    assert booking.excess_minutes > 50_000 and booking.flagged


def test_a_work_center_without_shifts_books_the_whole_span(released, api_as):
    ShiftPattern.objects.filter(work_center__code="CAST").delete()
    wangwu = api_as("wangwu")
    wangwu.post(EVENTS, ev("x-s", "start", occurred_at=local(9, 1).isoformat()), format="json")
    assert wangwu.post(EVENTS, ev("x-p", "pause", reason="break"), format="json").status_code == 201
    booking = LabourBooking.objects.get()
    assert round(booking.minutes) == 540 and not booking.flagged


def test_event_record_answers_held_for_the_terminal(released):
    wangwu = get_user_model().objects.get(username="wangwu")
    result = event_record(
        data=ev("t-held", "start", occurred_at=local(8, 9).isoformat()), by=wangwu
    )
    assert result.status == "held" and result.code == 202
    assert result.as_dict()["detail"].startswith("Waiting for supervisor approval")


def test_why_an_event_is_held_reads_in_each_readers_language(housings, api_as, client):
    """Kept as a message id with its figures: the operator who sent it in Chinese, the
    supervisor reading in English, and the API each get their own language."""
    wangwu = api_as("wangwu")
    h = {"order": "MO-T-88"}
    assert wangwu.post(EVENTS, ev("h-s", "start", **h), format="json").status_code == 201
    back = local(8, 9).isoformat()  # yesterday morning, and 1,058 of 88
    data = ev("h-zh", "report", quantity_good=1058, trace_code="H-88", occurred_at=back, **h)
    held = wangwu.post(EVENTS, data, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert held.status_code == 202
    assert held.json()["detail"] == (
        "等待班组长审批：发生时间 2026-12-08 09:00 早于当前班次开始时间 2026-12-09 06:00"
        "（最多可追溯 12 小时）；合格 + 报废将达到 1058，计划 88（允差 10 %：最多 96.8）。"
    )
    approval = EventApproval.objects.get(event_id="h-zh")
    assert approval.message.startswith("Waiting for supervisor approval: occurred_at 2026-12-08")
    with translation.override("en"):
        assert approval.message_shown == approval.message
        assert approval.held_why.startswith("occurred_at 2026-12-08 09:00 is before")
    with translation.override("zh-hans"):
        assert approval.held_why.endswith("（允差 10 %：最多 96.8）")
    client.force_login(get_user_model().objects.get(username="sunqi"))
    page = client.get("/execution/supervisor/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "合格 + 报废将达到 1058，计划 88" in page.content.decode()
