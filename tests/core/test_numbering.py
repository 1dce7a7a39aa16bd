"""Document numbers (PREFIX-YYYY-NNNNN) come from one locked counter row per series.

Unit tests on any database; the concurrency test needs PostgreSQL's row locks: twenty people
raising an exception at the same instant each get their own number, none gets an error.
"""

import io
import re
import threading
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from core.numbering import number_next
from execution.models import WorkAlert
from execution.services.alerts import alert_raise
from planning.models import ProductionOrder, PurchaseRequisition
from planning.services.orders import production_order_create
from planning.services.purchasing import requisition_number_next
from resources.models import Item
from tests.factories import ItemFactory


def year() -> int:
    return timezone.localdate().year


def requisition(number: str) -> PurchaseRequisition:
    """A requisition written with a given number (an import, an older release, a hand)."""
    return PurchaseRequisition.objects.create(
        number=number,
        item=ItemFactory(code="BOLT-M8"),
        quantity=Decimal(1),
        need_date=timezone.localdate(),
    )


@pytest.mark.django_db
class TestNumberNext:
    def test_numbers_follow_one_another_before_any_row_is_written(self):
        # The old MAX+1 handed out the same number until a row with it was saved; the counter
        # moves on at once, so two callers in flight never compute the same one.
        y = year()
        assert [number_next(WorkAlert, "EX") for _ in range(3)] == [
            f"EX-{y}-00001",
            f"EX-{y}-00002",
            f"EX-{y}-00003",
        ]

    def test_format_is_prefix_year_and_five_digits(self):
        number = number_next(PurchaseRequisition, "PR")
        assert re.fullmatch(rf"PR-{year()}-\d{{5}}", number), number
        assert number_next(PurchaseRequisition, "PR", width=7) == f"PR-{year()}-0000002"

    def test_each_series_counts_on_its_own(self):
        y = year()
        got = [
            number_next(WorkAlert, "EX"),
            number_next(PurchaseRequisition, "PR"),
            number_next(WorkAlert, "EX"),
            number_next(ProductionOrder, "MO"),
            number_next(PurchaseRequisition, "PR"),
        ]
        assert got == [
            f"EX-{y}-00001",
            f"PR-{y}-00001",
            f"EX-{y}-00002",
            f"MO-{y}-00001",
            f"PR-{y}-00002",
        ]

    def test_a_new_year_starts_a_new_series(self, pinned_now):
        from core.models import DocumentCounter

        pinned_now.move_to(datetime.fromisoformat("2026-12-31T23:58:00+08:00"))
        assert number_next(WorkAlert, "EX") == "EX-2026-00001"
        assert number_next(WorkAlert, "EX") == "EX-2026-00002"
        # Midnight in the plant's time zone (16:00 UTC), not in UTC.
        pinned_now.move_to(datetime.fromisoformat("2027-01-01T00:01:00+08:00"))
        assert number_next(WorkAlert, "EX") == "EX-2027-00001"
        assert dict(DocumentCounter.objects.values_list("key", "last_value")) == {
            "EX-2026-": 2,
            "EX-2027-": 1,
        }

    def test_an_existing_database_continues_after_its_highest_number(self):
        for number in ("PR-2025-00042", f"PR-{year()}-00007", f"PR-{year()}-00003"):
            requisition(number)
        assert requisition_number_next() == f"PR-{year()}-00008"
        assert requisition_number_next() == f"PR-{year()}-00009"

    def test_the_seed_reads_numbers_grown_past_five_digits_and_skips_others(self):
        # Text order puts ...-99999 after ...-100000; the next number is still 100001.
        for number in (f"PR-{year()}-99999", f"PR-{year()}-100000", f"PR-{year()}-1000-B"):
            requisition(number)
        assert requisition_number_next() == f"PR-{year()}-100001"

    def test_a_number_written_by_hand_in_the_series_is_not_given_again(self):
        y = year()
        assert requisition_number_next() == f"PR-{y}-00001"
        requisition(f"PR-{y}-00002")  # e.g. an order created through the API with its number
        requisition(f"PR-{y}-00003")
        assert requisition_number_next() == f"PR-{y}-00004"

    def test_a_rolled_back_transaction_gives_its_number_back(self):
        y = year()
        with pytest.raises(RuntimeError), transaction.atomic():
            assert requisition_number_next() == f"PR-{y}-00001"
            raise RuntimeError("the caller's write failed")
        assert requisition_number_next() == f"PR-{y}-00001"

    def test_the_counter_is_shown_read_only_in_the_admin(self, client, django_user_model):
        from core.models import DocumentCounter

        number_next(WorkAlert, "EX")
        counter = DocumentCounter.objects.get()
        client.force_login(django_user_model.objects.create_superuser("root", "r@p.local", "pw"))
        page = client.get("/admin/core/documentcounter/")
        assert page.status_code == 200 and f"EX-{year()}-" in page.content.decode()
        assert client.get(f"/admin/core/documentcounter/{counter.pk}/change/").status_code == 200
        assert client.get("/admin/core/documentcounter/add/").status_code == 403
        assert client.get(f"/admin/core/documentcounter/{counter.pk}/delete/").status_code == 403


def test_callers_keep_their_formats_and_continue_the_demo_numbers(demo_plant):
    y = year()
    highest_mo = max(
        (
            int(n.rsplit("-", 1)[1])
            for n in ProductionOrder.objects.values_list("number", flat=True)
            if n.startswith(f"MO-{y}-")
        ),
        default=0,
    )
    order = production_order_create(
        item=Item.objects.get(code="EB-500"),
        quantity=Decimal(10),
        due_date=timezone.localdate(),
    )
    assert order.number == f"MO-{y}-{highest_mo + 1:05d}"
    raised = [
        alert_raise(alert_type="other", severity="general", description=f"Report {n}")
        for n in (1, 2)
    ]
    assert [a.number for a in raised] == [f"EX-{y}-00001", f"EX-{y}-00002"]


THREADS = 20


def at_once(work) -> tuple[list, list]:
    """Run work(i) in THREADS threads released together; each closes its connection."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    errors: list = []

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = work(i)
        except BaseException as exc:  # reported by the test, in its own thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    return results, errors


@pytest.mark.postgres
# serialized_rollback: the rows migrations seed (the alert rules) come back after the flush.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_exceptions_raised_at_once_get_twenty_numbers():
    call_command("load_demo", "--quiet-logins", stdout=io.StringIO())
    y = year()

    def raise_one(i: int) -> str:
        return alert_raise(
            alert_type="other", severity="general", description=f"Coolant leak seen by {i}"
        ).number

    # The first round also races to create the series' counter row; the second finds it.
    for first in (1, 1 + THREADS):
        numbers, errors = at_once(raise_one)
        assert errors == [], [repr(e) for e in errors]
        assert sorted(numbers) == [f"EX-{y}-{n:05d}" for n in range(first, first + THREADS)]
    assert WorkAlert.objects.count() == 2 * THREADS
