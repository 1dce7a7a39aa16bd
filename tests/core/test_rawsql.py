"""Hand-written statements of the hot paths write what the ORM would."""

from datetime import UTC, datetime

import pytest

from core.rawsql import rows_update
from devices.models import Counter
from tests.factories import EquipmentFactory

pytestmark = pytest.mark.django_db


def test_rows_update_writes_each_rows_own_values_including_nulls():
    machines = [EquipmentFactory(), EquipmentFactory(), EquipmentFactory()]
    counters = [Counter.objects.create(equipment=m, signal="part_count") for m in machines]
    at = datetime(2026, 12, 9, 2, 0, 5, 123456, tzinfo=UTC)
    for n, counter in enumerate(counters[:2]):
        counter.last_raw, counter.last_at, counter.total = 10 + n, at, 100 * (n + 1)
    counters[1].last_at = None  # a whole column of one row set to NULL
    assert rows_update(counters[:2], ["last_raw", "last_at", "total"]) == 2
    got = {
        c.pk: (c.last_raw, c.last_at, c.total)
        for c in Counter.objects.filter(pk__in=[c.pk for c in counters])
    }
    assert got == {
        counters[0].pk: (10, at, 100),
        counters[1].pk: (11, None, 200),
        counters[2].pk: (None, None, 0),
    }


def test_rows_update_of_nothing_sends_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_update([], ["total"]) == 0
