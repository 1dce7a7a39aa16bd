"""The hourly sums of the part counts: kept with every write, equal to a rebuild from rows."""

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from devices.models import CountHour, ProductionCount
from devices.services.count_hours import count_hour, count_hours_rebuild, count_rows_write
from tests.factories import EquipmentFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)


def hours():
    return sorted(
        CountHour.objects.values_list("equipment_id", "hour", "rated", "parts", "last_at")
    )


def ideal(eq_id):
    return {
        (h.hour, h.rated): round(h.ideal_seconds, 6)
        for h in CountHour.objects.filter(equipment_id=eq_id)
    }


def test_a_read_on_the_hour_belongs_to_the_hour_before():
    assert count_hour(T0) == T0 - timedelta(hours=1)
    assert count_hour(T0 + timedelta(microseconds=1)) == T0
    assert count_hour(T0 + timedelta(minutes=59, seconds=59)) == T0


def test_writes_add_up_per_hour_and_leave_out_rejects_and_empty_reads():
    eq = EquipmentFactory()
    count_rows_write(
        [
            ProductionCount(
                equipment=eq,
                at=T0 + timedelta(minutes=10),
                total=3,
                good=3,
                ideal_cycle_seconds=50.0,
            ),
            ProductionCount(equipment=eq, at=T0 + timedelta(minutes=20), total=2, good=1),
            ProductionCount(equipment=eq, at=T0 + timedelta(minutes=30), total=0, good=0),
            ProductionCount(equipment=eq, at=T0 + timedelta(minutes=40), total=4),
        ]
    )
    count_rows_write(
        [
            ProductionCount(
                equipment=eq,
                at=T0 + timedelta(minutes=50),
                total=2,
                good=2,
                ideal_cycle_seconds=60.0,
            )
        ]
    )
    assert hours() == [
        (eq.pk, T0, False, 4, T0 + timedelta(minutes=40)),
        (eq.pk, T0, True, 5, T0 + timedelta(minutes=50)),
    ]
    assert ideal(eq.pk) == {(T0, True): 270.0, (T0, False): 0.0}


def test_incremental_sums_equal_a_rebuild_from_the_rows():
    rng = random.Random(7)
    machines = [EquipmentFactory(), EquipmentFactory()]
    at = T0
    for _ in range(40):
        batch = []
        for _ in range(rng.randint(1, 30)):
            at += timedelta(seconds=rng.uniform(5, 400))
            total = rng.randint(0, 4)
            good = None if rng.random() < 0.2 else max(0, total - (rng.random() < 0.1))
            cycle = None if rng.random() < 0.3 else rng.choice([40.0, 55.5])
            batch.append(
                ProductionCount(
                    equipment=rng.choice(machines),
                    at=at,
                    total=total,
                    good=good,
                    ideal_cycle_seconds=cycle,
                )
            )
        count_rows_write(batch)
    kept = hours()
    kept_ideal = [ideal(m.pk) for m in machines]
    assert len(kept) > 20
    assert count_hours_rebuild() == len(kept)
    assert hours() == kept
    assert [ideal(m.pk) for m in machines] == kept_ideal


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_writers_of_one_machine_add_up():
    eq = EquipmentFactory()
    barrier = threading.Barrier(2)
    errors = []

    def write(offset):
        try:
            barrier.wait()
            for i in range(20):
                count_rows_write(
                    [
                        ProductionCount(
                            equipment_id=eq.pk,
                            at=T0 + timedelta(seconds=offset + 2 * i + 1),
                            total=1,
                        )
                    ]
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert hours() == [(eq.pk, T0, False, 40, T0 + timedelta(seconds=40))]
