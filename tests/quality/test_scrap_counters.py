"""A scrap disposition moves what it scraps from good to scrap on the inspected operation's
task and order operation, and on the order when that operation is its last; capped at what
was reported good there (no counter goes negative), posted once however often it is
retried, kept on the disposition and noted in the audit trail. Rework and use as is change
no counters. A correction of a scrapped record moves back what its scrap moved, once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Q
from django.utils import timezone

from core.models import AuditEntry, OutboxEvent
from execution.models import Task
from planning.models import OrderOperation, ProductionOrder
from quality.models import Disposition, InspectionRecord
from quality.selectors.inspections import inspection_status
from quality.services.records import disposition_record, inspection_correct

from . import (
    EB_ORDER,
    INSPECTIONS,
    SIGNED,
    bore,
    client_as,
    eb_released,
    hsg_released,
    post_event,
    post_inspection,
    unit_through,
    user,
)

pytestmark = pytest.mark.django_db


def counters(order_number: str, sequence: int) -> dict:
    """Good and scrap of an operation's task and order operation, and of its order."""
    task = Task.objects.get(order__number=order_number, operation__sequence=sequence)
    op = OrderOperation.objects.get(order__number=order_number, sequence=sequence)
    order = ProductionOrder.objects.get(number=order_number)
    return {
        "task": (task.quantity_good, task.quantity_scrap),
        "operation": (op.quantity_done, op.quantity_scrap),
        "order": (order.quantity_done, order.quantity_scrap),
    }


def q(*values) -> tuple:
    return tuple(Decimal(v) for v in values)


def failed(inspector, code: str, **extra) -> InspectionRecord:
    answer = post_inspection(inspector, code, bore("50.20"), **extra)
    assert answer.status_code == 201 and answer.json()["result"] == "fail", answer.json()
    return InspectionRecord.objects.get(pk=answer.json()["id"])


def kept(record: InspectionRecord) -> Disposition:
    """The record's disposition as stored: what its scrap moved, where, and any move back."""
    return Disposition.objects.get(record=record)


def task_of(order_number: str, sequence: int) -> Task:
    return Task.objects.get(order__number=order_number, operation__sequence=sequence)


def scrap_audit(record: InspectionRecord) -> dict:
    entry = AuditEntry.objects.get(
        action="inspection.disposition", object_id=str(record.disposition.pk)
    )
    return entry.data["scrap"]


@pytest.fixture
def line(scenario):
    """EB-0001 and EB-0002 made good through operation 30 (the CMM), EB-0003 through 20."""

    def build():
        eb_released()
        supervisor = client_as("sunqi")
        unit_through(supervisor, "EB-0001")
        unit_through(supervisor, "EB-0002")
        unit_through(supervisor, "EB-0003", last=20)

    scenario("quality.scrap.line", build)
    return client_as("zhaoliu")


def test_scrap_of_a_unit_moves_one_from_good_to_scrap(line):
    inspector = line
    before = counters(EB_ORDER, 30)
    assert before["task"] == q(2, 0) and before["operation"] == q(2, 0)
    machining = counters(EB_ORDER, 20)
    record = failed(inspector, "EB-0001")

    answer = inspector.post(
        f"{INSPECTIONS}{record.pk}/disposition/", {"decision": "scrap", **SIGNED}, format="json"
    )
    assert answer.status_code == 201, answer.json()

    after = counters(EB_ORDER, 30)
    assert after["task"] == q(1, 1)
    assert after["operation"] == q(1, 1)
    # Operation 30 is not the order's last (assembly is): the order keeps its counts.
    assert after["order"] == before["order"] == q(0, 0)
    assert counters(EB_ORDER, 20) == machining
    scrap = scrap_audit(record)
    assert (scrap["quantity"], scrap["moved"]) == ("1", "1")
    assert scrap["note"] == "EB-0001: 1 moved from good to scrap at operation 30."
    assert scrap["order_id"] is None
    disposition = kept(record)
    assert disposition.quantity_moved == 1
    assert disposition.moved_task == task_of(EB_ORDER, 30)
    assert scrap["task_id"] == disposition.moved_task_id
    assert disposition.moved_order is None
    assert disposition.moved_back_at is None and disposition.quantity_moved_back is None


def test_a_retried_scrap_does_not_move_counts_twice(line):
    inspector = line
    record = failed(inspector, "EB-0001")
    url = f"{INSPECTIONS}{record.pk}/disposition/"
    assert inspector.post(url, {"decision": "scrap", **SIGNED}, format="json").status_code == 201
    once = counters(EB_ORDER, 30)
    assert once["task"] == q(1, 1)

    first = Disposition.objects.get()
    retried = inspector.post(url, {"decision": "scrap", **SIGNED}, format="json")
    assert retried.status_code == 200 and retried.json()["id"] == first.pk
    again, created = disposition_record(
        record=record, decision="scrap", by=user("zhaoliu"), **SIGNED
    )
    assert again.pk == first.pk and not created
    # Another decision on the same record is refused and names the one that stands.
    other = inspector.post(url, {"decision": "rework"}, format="json")
    assert other.status_code == 409
    assert "already has a disposition: scrap by zhaoliu" in other.json()["detail"]
    assert counters(EB_ORDER, 30) == once
    assert Disposition.objects.count() == 1
    assert AuditEntry.objects.filter(action="inspection.disposition").count() == 1


def test_a_unit_scrapped_again_on_a_later_record_moves_nothing_more(line):
    inspector = line
    first = failed(inspector, "EB-0001")
    disposition_record(record=first, decision="scrap", by=user("zhaoliu"), **SIGNED)
    once = counters(EB_ORDER, 30)
    again = failed(inspector, "EB-0001")  # inspected again by mistake, failed again
    disposition_record(record=again, decision="scrap", by=user("zhaoliu"), **SIGNED)
    assert counters(EB_ORDER, 30) == once
    scrap = scrap_audit(again)
    assert scrap["moved"] == "0"
    assert kept(again).quantity_moved == 0 and kept(first).quantity_moved == 1
    assert scrap["note"] == (
        f"EB-0001 was already scrapped at operation 30 (record {first.pk}); nothing moved again."
    )


def test_rework_and_use_as_is_change_no_counters(line):
    inspector = line
    before = {seq: counters(EB_ORDER, seq) for seq in (10, 20, 30, 40)}
    reworked = failed(inspector, "EB-0001")
    accepted = failed(inspector, "EB-0002")
    disposition_record(record=reworked, decision="rework", by=user("zhaoliu"))
    disposition_record(record=accepted, decision="use_as_is", by=user("fengjie"), **SIGNED)
    assert {seq: counters(EB_ORDER, seq) for seq in (10, 20, 30, 40)} == before
    entries = AuditEntry.objects.filter(action="inspection.disposition")
    assert sorted(e.data["decision"] for e in entries) == ["rework", "use_as_is"]
    assert all("scrap" not in e.data for e in entries)
    for record in (reworked, accepted):
        disposition = kept(record)
        assert disposition.quantity_moved is None
        assert disposition.moved_task is None and disposition.moved_order is None
        assert disposition.moved_back_at is None and disposition.quantity_moved_back is None


def test_scrap_is_capped_at_what_was_reported_good(line):
    """Nothing moves for a unit not reported good at the inspected operation — neither one
    not reported there yet nor one the operator already reported as scrap — so no other
    unit's good count is taken and no counter goes negative."""
    inspector = line
    before = counters(EB_ORDER, 30)
    not_here = failed(inspector, "EB-0003")  # made through operation 20 only
    disposition_record(record=not_here, decision="scrap", by=user("zhaoliu"), **SIGNED)
    assert counters(EB_ORDER, 30) == before
    scrap = scrap_audit(not_here)
    assert (scrap["quantity"], scrap["reported_good"], scrap["moved"]) == ("1", "0", "0")
    assert kept(not_here).quantity_moved == 0
    assert kept(not_here).moved_task == task_of(EB_ORDER, 30)
    assert scrap["note"] == (
        "EB-0003: 1 scrapped, but only 0 was reported good at operation 30; "
        "0 moved from good to scrap."
    )

    supervisor = client_as("sunqi")
    unit_through(supervisor, "EB-0004", last=20)
    reported = post_event(supervisor, "report", 30, quantity_scrap=1, trace_code="EB-0004")
    assert reported.status_code == 201, reported.json()
    before = counters(EB_ORDER, 30)
    assert before["task"] == q(2, 1)
    operator_scrap = failed(inspector, "EB-0004")
    disposition_record(record=operator_scrap, decision="scrap", by=user("zhaoliu"), **SIGNED)
    assert counters(EB_ORDER, 30) == before
    assert scrap_audit(operator_scrap)["moved"] == "0"


@pytest.fixture
def housings(demo_plant):
    """Housings: lots H-001 … H-003 of 50 moulded; H-001 and H-002 reported good at the
    visual check (operation 20, the order's last), H-003 not yet."""
    order = hsg_released(lots=3)
    supervisor = client_as("sunqi")
    assert post_event(supervisor, "start", 20, order.number).status_code == 201
    for code in ("H-001", "H-002"):
        reported = post_event(
            supervisor, "report", 20, order.number, quantity_good=50, trace_code=code
        )
        assert reported.status_code == 201, reported.json()
    return order


def failed_lot(order, code: str) -> InspectionRecord:
    answer = post_inspection(
        client_as("zhaoliu"),
        code,
        {"No short shots": False},
        order=order.number,
        sequence=20,
        defect_code="SHORT-SHOT",
    )
    assert answer.status_code == 201 and answer.json()["result"] == "fail", answer.json()
    return InspectionRecord.objects.get(pk=answer.json()["id"])


def test_scrap_of_a_lot_at_the_last_operation_moves_the_order_too(housings):
    order = housings
    before = counters(order.number, 20)
    assert before == {"task": q(100, 0), "operation": q(100, 0), "order": q(100, 0)}
    moulding = counters(order.number, 10)
    record = failed_lot(order, "H-001")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)

    assert counters(order.number, 20) == {
        "task": q(50, 50),
        "operation": q(50, 50),
        "order": q(50, 50),
    }
    assert counters(order.number, 10)["task"] == moulding["task"] == q(150, 0)
    scrap = scrap_audit(record)
    assert (scrap["quantity"], scrap["moved"]) == ("50", "50")
    assert scrap["order_id"] == order.pk
    disposition = kept(record)
    assert disposition.quantity_moved == 50
    assert disposition.moved_task == task_of(order.number, 20)
    assert disposition.moved_order == order

    _same, created = disposition_record(
        record=record, decision="scrap", by=user("zhaoliu"), **SIGNED
    )
    assert not created  # a retry
    assert counters(order.number, 20)["order"] == q(50, 50)


def test_a_lot_not_yet_reported_at_the_inspection_moves_nothing(housings):
    order = housings
    before = counters(order.number, 20)
    record = failed_lot(order, "H-003")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    assert counters(order.number, 20) == before
    scrap = scrap_audit(record)
    # The lot's quantity in the order is what moulding reported of it.
    assert (scrap["quantity"], scrap["reported_good"], scrap["moved"]) == ("50", "0", "0")
    assert "only 0 was reported good at operation 20" in scrap["note"]


# --- corrections of scrapped records ---------------------------------------------------------
# A corrected scrap no longer stands (the gate no longer holds the unit as scrapped), so
# what it moved goes back from scrap to good: once, read from the disposition.


def corrected(
    record: InspectionRecord, value: str = "50.02", external_id: str = "", by: str = "fengjie"
) -> tuple:
    """A signed correction; to a pass by the quality supervisor (the inspector may not)."""
    return inspection_correct(
        record=record,
        external_id=external_id or f"fix-{record.pk}",
        values=bore(value),
        defect_code="BORE-OOT",  # a correction to a fail names it; one to a pass drops it
        by=user(by),
        **SIGNED,
    )


def reversals(record: InspectionRecord) -> list[dict]:
    return [
        e.data
        for e in AuditEntry.objects.filter(
            action="inspection.scrap_reverse", object_id=str(record.disposition.pk)
        )
    ]


def test_a_scrap_corrected_to_pass_moves_the_unit_back_to_good(line):
    inspector = line
    before = counters(EB_ORDER, 30)
    record = failed(inspector, "EB-0001")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    assert counters(EB_ORDER, 30)["task"] == q(1, 1)

    answer = client_as("fengjie").post(
        f"{INSPECTIONS}{record.pk}/correct/",
        {"external_id": "fix-1", "values": bore("50.02"), **SIGNED},
        format="json",
    )
    assert answer.status_code == 201 and answer.json()["result"] == "pass", answer.json()

    assert counters(EB_ORDER, 30) == before
    status, latest = inspection_status(operation=record.operation, unit=record.unit)
    assert status == "passed" and latest.pk == answer.json()["id"]
    [entry] = reversals(record)
    assert (entry["moved"], entry["moved_back"]) == ("1", "1")
    assert entry["correction_id"] == answer.json()["id"]
    assert (entry["task_id"], entry["order_id"]) == (scrap_audit(record)["task_id"], None)
    assert entry["note"] == (
        f"EB-0001: record {record.pk} was corrected by record {answer.json()['id']}; "
        "1 moved back from scrap to good at operation 30."
    )
    assert OutboxEvent.objects.get(topic="quality.scrap.reversed").payload["quantity_returned"] == (
        "1"
    )
    disposition = kept(record)
    assert disposition.quantity_moved_back == 1
    assert timezone.now() - timedelta(minutes=1) < disposition.moved_back_at <= timezone.now()
    # What the scrap moved stays as it was: the move back is beside it.
    assert disposition.quantity_moved == 1
    assert disposition.moved_task == task_of(EB_ORDER, 30)


def test_a_retried_correction_does_not_move_counts_back_twice(line):
    inspector = line
    record = failed(inspector, "EB-0001")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    url = f"{INSPECTIONS}{record.pk}/correct/"
    body = {"external_id": "fix-1", "values": bore("50.02"), **SIGNED}
    inspector = client_as("fengjie")
    assert inspector.post(url, body, format="json").status_code == 201
    once = counters(EB_ORDER, 30)
    assert once["task"] == q(2, 0)
    moved_back = kept(record)

    retried = inspector.post(url, body, format="json")
    assert retried.status_code == 200
    again, created = corrected(record, external_id="fix-1")
    assert not created and again.pk == retried.json()["id"]
    assert counters(EB_ORDER, 30) == once
    assert len(reversals(record)) == 1
    assert OutboxEvent.objects.filter(topic="quality.scrap.reversed").count() == 1
    again = kept(record)
    assert (again.moved_back_at, again.quantity_moved_back) == (
        moved_back.moved_back_at,
        moved_back.quantity_moved_back,
    )


def test_a_scrap_of_a_lot_corrected_moves_the_order_back_too(housings):
    order = housings
    before = counters(order.number, 20)
    record = failed_lot(order, "H-001")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    assert counters(order.number, 20)["order"] == q(50, 50)

    fixed, created = inspection_correct(
        record=record,
        external_id="fix-h1",
        values={"No short shots": True},
        by=user("fengjie"),
        **SIGNED,
    )
    assert created and fixed.result == "pass"
    assert counters(order.number, 20) == before
    [entry] = reversals(record)
    assert (entry["moved_back"], entry["order_id"]) == ("50", order.pk)
    assert kept(record).quantity_moved_back == 50 and kept(record).moved_back_at is not None


def test_a_correction_of_a_scrap_that_moved_nothing_moves_nothing_back(line):
    inspector = line
    before = counters(EB_ORDER, 30)
    not_here = failed(inspector, "EB-0003")  # made through operation 20 only
    disposition_record(record=not_here, decision="scrap", by=user("zhaoliu"), **SIGNED)
    assert scrap_audit(not_here)["moved"] == "0"

    corrected(not_here)
    assert counters(EB_ORDER, 30) == before
    [entry] = reversals(not_here)
    assert (entry["moved"], entry["moved_back"]) == ("0", "0")
    # Moved back, if nothing: a later scrap of the unit posts anew.
    assert kept(not_here).moved_back_at is not None
    assert kept(not_here).quantity_moved_back == 0
    assert "its scrap moved nothing at operation 30, so nothing moved back" in entry["note"]


def test_a_scrap_still_standing_on_another_record_keeps_the_counts(line):
    """EB-0001 scrapped twice (the second moved nothing): correcting the second leaves it
    scrapped — by the gate and on the counters; correcting the first as well moves it back."""
    inspector = line
    before = counters(EB_ORDER, 30)
    first = failed(inspector, "EB-0001")
    disposition_record(record=first, decision="scrap", by=user("zhaoliu"), **SIGNED)
    second = failed(inspector, "EB-0001")
    disposition_record(record=second, decision="scrap", by=user("zhaoliu"), **SIGNED)
    scrapped = counters(EB_ORDER, 30)
    assert scrapped["task"] == q(1, 1)

    corrected(second)
    assert counters(EB_ORDER, 30) == scrapped
    assert inspection_status(operation=first.operation, unit=first.unit)[0] == "scrapped"
    assert reversals(second) == []
    kept_entry = AuditEntry.objects.get(
        action="inspection.scrap_kept", object_id=str(second.disposition.pk)
    )
    assert kept_entry.data["standing_record_id"] == first.pk
    assert kept(second).moved_back_at is None and kept(first).moved_back_at is None

    corrected(first)
    assert counters(EB_ORDER, 30) == before
    assert inspection_status(operation=first.operation, unit=first.unit)[0] == "passed"
    assert [e["moved_back"] for e in reversals(first)] == ["1"]
    assert [e["moved_back"] for e in reversals(second)] == ["0"]
    assert (kept(first).quantity_moved, kept(first).quantity_moved_back) == (1, 1)
    assert (kept(second).quantity_moved, kept(second).quantity_moved_back) == (0, 0)
    assert kept(first).moved_back_at == kept(second).moved_back_at


def test_a_correction_that_fails_again_can_be_scrapped_again(line):
    inspector = line
    record = failed(inspector, "EB-0001")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    still_bad, _ = corrected(record, value="50.30", by="zhaoliu")
    assert still_bad.result == "fail"
    # No longer scrapped (the failed correction awaits its own disposition): good again.
    assert counters(EB_ORDER, 30)["task"] == q(2, 0)
    assert inspection_status(operation=record.operation, unit=record.unit)[0] == "failed"

    disposition_record(record=still_bad, decision="scrap", by=user("zhaoliu"), **SIGNED)
    assert counters(EB_ORDER, 30)["task"] == q(1, 1)
    assert counters(EB_ORDER, 30)["operation"] == q(1, 1)
    assert scrap_audit(still_bad)["moved"] == "1"
    assert kept(still_bad).quantity_moved == 1 and kept(still_bad).moved_back_at is None

    corrected(still_bad)  # and that scrap goes back in its turn
    assert counters(EB_ORDER, 30)["task"] == q(2, 0)
    assert kept(still_bad).quantity_moved_back == 1
    assert kept(record).quantity_moved_back == 1


def test_corrections_of_rework_and_use_as_is_change_no_counters(line):
    inspector = line
    before = {seq: counters(EB_ORDER, seq) for seq in (10, 20, 30, 40)}
    reworked = failed(inspector, "EB-0001")
    accepted = failed(inspector, "EB-0002")
    disposition_record(record=reworked, decision="rework", by=user("zhaoliu"))
    disposition_record(record=accepted, decision="use_as_is", by=user("fengjie"), **SIGNED)
    corrected(reworked)
    corrected(accepted, value="50.30")
    assert {seq: counters(EB_ORDER, seq) for seq in (10, 20, 30, 40)} == before
    assert not AuditEntry.objects.filter(
        action__in=("inspection.scrap_reverse", "inspection.scrap_kept")
    ).exists()
    assert not OutboxEvent.objects.filter(topic="quality.scrap.reversed").exists()
    assert not Disposition.objects.filter(
        Q(quantity_moved__isnull=False) | Q(moved_back_at__isnull=False)
    ).exists()


def test_moving_back_never_takes_a_counter_below_zero(line):
    inspector = line
    record = failed(inspector, "EB-0001")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    # Say the task's scrap was set right by hand meanwhile: it holds no scrap any more.
    Task.objects.filter(order__number=EB_ORDER, operation__sequence=30).update(
        quantity_good=2, quantity_scrap=0
    )
    corrected(record)
    after = counters(EB_ORDER, 30)
    assert after["task"] == q(2, 0) and after["operation"] == q(1, 1)
    [entry] = reversals(record)
    assert entry["moved_back"] == "0"
    assert "held only 0 scrap" in entry["note"]
    assert (kept(record).quantity_moved, kept(record).quantity_moved_back) == (1, 0)


def test_what_moves_back_is_read_from_the_disposition_not_the_audit_trail(line):
    """The audit trail records the scrap; the disposition is what a correction reads."""
    inspector = line
    before = counters(EB_ORDER, 30)
    record = failed(inspector, "EB-0001")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    AuditEntry.objects.filter(
        action="inspection.disposition", object_id=str(record.disposition.pk)
    ).delete()
    corrected(record)
    assert counters(EB_ORDER, 30) == before
    [entry] = reversals(record)
    assert (entry["moved"], entry["moved_back"]) == ("1", "1")


def test_a_scrap_whose_move_is_not_known_moves_nothing_back(line):
    """A scrap posted before dispositions kept what it moved, whose audit entry could not be
    read, keeps quantity_moved blank: nothing is guessed, and nothing moves back."""
    inspector = line
    record = failed(inspector, "EB-0001")
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    scrapped = counters(EB_ORDER, 30)
    Disposition.objects.filter(record=record).update(
        quantity_moved=None, moved_task=None, moved_order=None
    )
    AuditEntry.objects.filter(
        action="inspection.disposition", object_id=str(record.disposition.pk)
    ).delete()
    corrected(record)
    assert counters(EB_ORDER, 30) == scrapped
    [entry] = reversals(record)
    assert entry["moved"] is None and entry["moved_back"] == "0"
    assert "not in the audit trail" in entry["note"]
    assert kept(record).moved_back_at is not None and kept(record).quantity_moved_back == 0
