"""Scrap dispositions decided before dispositions kept what their scrap moved get it from
their audit entries, as the correction used to read it there: the posting's "scrap" data
(what moved, on which task and order), a posting without it moved nothing, no readable
posting leaves it unknown, and a scrap_reverse entry marks it moved back."""

from datetime import timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from core.models import AuditEntry
from execution.models import Task
from planning.models import ProductionOrder
from quality.models import Disposition, InspectionRecord
from quality.services.records import disposition_record, inspection_correct

from . import (
    EB_ORDER,
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
migration = import_module("quality.migrations.0002_scrap_moved_on_disposition")
FIELDS = ("quantity_moved", "moved_task_id", "moved_order_id", "moved_back_at")


def fill() -> None:
    migration.scrap_moves_from_audit(apps, None)


def blank(*records: InspectionRecord) -> None:
    """As the scrap's disposition was before it kept what moved."""
    Disposition.objects.filter(record__in=records).update(
        quantity_moved=None,
        moved_task=None,
        moved_order=None,
        moved_back_at=None,
        quantity_moved_back=None,
    )


def stored(record: InspectionRecord) -> Disposition:
    return Disposition.objects.get(record=record)


def posting(record: InspectionRecord) -> AuditEntry:
    return AuditEntry.objects.get(
        action="inspection.disposition", object_id=str(record.disposition.pk)
    )


def failed(code: str) -> InspectionRecord:
    answer = post_inspection(client_as("zhaoliu"), code, bore("50.20"))
    assert answer.status_code == 201 and answer.json()["result"] == "fail", answer.json()
    return InspectionRecord.objects.get(pk=answer.json()["id"])


def scrapped(record: InspectionRecord) -> InspectionRecord:
    disposition_record(record=record, decision="scrap", by=user("zhaoliu"), **SIGNED)
    return record


def correct(record: InspectionRecord) -> InspectionRecord:
    fixed, created = inspection_correct(
        record=record,
        external_id=f"fix-{record.pk}",
        values=bore("50.02"),
        by=user("fengjie"),
        **SIGNED,
    )
    assert created
    return fixed


@pytest.fixture
def line(demo_plant):
    """EB-0001 … EB-0003 made good through operation 30 (the CMM)."""
    eb_released()
    supervisor = client_as("sunqi")
    for serial in ("EB-0001", "EB-0002", "EB-0003"):
        unit_through(supervisor, serial)


def test_a_scrap_gets_what_its_posting_moved(line):
    record = scrapped(failed("EB-0001"))
    before = stored(record)
    assert before.quantity_moved == 1
    blank(record)
    assert stored(record).quantity_moved is None

    fill()
    after = stored(record)
    assert after.quantity_moved == 1
    assert after.moved_task == Task.objects.get(order__number=EB_ORDER, operation__sequence=30)
    assert after.moved_order is None
    assert after.moved_back_at is None and after.quantity_moved_back is None


def test_a_corrected_scrap_gets_its_move_back(line):
    record = scrapped(failed("EB-0001"))
    correct(record)
    reversal = AuditEntry.objects.get(
        action="inspection.scrap_reverse", object_id=str(record.disposition.pk)
    )
    expected = [getattr(stored(record), f) for f in FIELDS]
    blank(record)

    fill()
    after = stored(record)
    assert after.quantity_moved == 1 and after.quantity_moved_back == 1
    assert after.moved_back_at == reversal.at
    assert [getattr(after, f) for f in FIELDS[:3]] == expected[:3]


def test_what_cannot_be_read_stays_unknown_and_what_predates_moves_is_nothing(line):
    missing = scrapped(failed("EB-0001"))
    unreadable = scrapped(failed("EB-0002"))
    before_moves = scrapped(failed("EB-0003"))
    reworked = failed("EB-0003")  # inspected again, failed, sent to rework
    disposition_record(record=reworked, decision="rework", by=user("zhaoliu"))
    blank(missing, unreadable, before_moves)
    posting(missing).delete()
    entry = posting(unreadable)
    entry.data = {"decision": "scrap", "scrap": {"moved": "lots", "task_id": "x"}}
    entry.save()
    entry = posting(before_moves)
    entry.data = {"decision": "scrap"}  # decided before scrap dispositions moved counters
    entry.save()

    fill()
    assert stored(missing).quantity_moved is None
    assert stored(unreadable).quantity_moved is None
    assert stored(unreadable).moved_task is None
    assert stored(before_moves).quantity_moved == 0
    assert stored(before_moves).moved_task is None
    untouched = stored(reworked)
    assert untouched.quantity_moved is None and untouched.moved_task is None


def test_a_task_or_order_that_no_longer_exists_is_left_blank(line):
    record = scrapped(failed("EB-0001"))
    blank(record)
    entry = posting(record)
    entry.data["scrap"]["task_id"] = 10**9
    entry.data["scrap"]["order_id"] = 10**9
    entry.save()

    fill()
    after = stored(record)
    assert after.quantity_moved == 1
    assert after.moved_task is None and after.moved_order is None


def test_what_is_kept_already_is_not_overwritten(line):
    record = scrapped(failed("EB-0001"))
    posting(record).delete()
    fill()
    assert stored(record).quantity_moved == 1


def test_after_filling_a_correction_moves_the_lot_back_on_the_order(demo_plant):
    """The order's counters follow its last operation: the filled moved_order says so."""
    order = hsg_released(lots=1)
    supervisor = client_as("sunqi")
    assert post_event(supervisor, "start", 20, order.number).status_code == 201
    reported = post_event(
        supervisor, "report", 20, order.number, quantity_good=50, trace_code="H-001"
    )
    assert reported.status_code == 201, reported.json()
    answer = post_inspection(
        client_as("zhaoliu"),
        "H-001",
        {"No short shots": False},
        order=order.number,
        sequence=20,
        defect_code="SHORT-SHOT",
    )
    record = scrapped(InspectionRecord.objects.get(pk=answer.json()["id"]))
    assert ProductionOrder.objects.get(pk=order.pk).quantity_scrap == 50
    blank(record)

    fill()
    assert stored(record).moved_order == order
    assert stored(record).quantity_moved == 50
    before = timezone.now()
    inspection_correct(
        record=record,
        external_id="fix-h1",
        values={"No short shots": True},
        by=user("fengjie"),
        **SIGNED,
    )
    order.refresh_from_db()
    assert (order.quantity_done, order.quantity_scrap) == (Decimal(50), Decimal(0))
    after = stored(record)
    assert after.quantity_moved_back == 50
    assert before - timedelta(seconds=1) <= after.moved_back_at <= timezone.now()
