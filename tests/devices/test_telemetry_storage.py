"""Telemetry storage: append (COPY on PostgreSQL), hourly roll-up rewritten exactly,
retention; on PostgreSQL the day partitions (created ahead, on the append path, DEFAULT as
the safety net, dropped whole by retention)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from devices.models import Telemetry, TelemetryHourly
from devices.services import telemetry as storage
from devices.services.telemetry import (
    telemetry_append,
    telemetry_partitions,
    telemetry_partitions_ensure,
    telemetry_prune,
    telemetry_rollup,
)
from devices.tasks import (
    telemetry_partitions_ensure_task,
    telemetry_prune_task,
    telemetry_rollup_task,
)
from tests.factories import EquipmentFactory

pytestmark = pytest.mark.django_db

H0 = datetime(2026, 12, 9, 1, 0, tzinfo=UTC)  # 09:00 in the plant


@pytest.fixture(autouse=True)
def fresh_partition_cache():
    """Each test's partitions are rolled back with it: forget what the last one created."""
    storage._known_days.clear()
    yield
    storage._known_days.clear()


@pytest.fixture
def machine():
    return EquipmentFactory(code="CNC-01")


def samples(machine, start, values, *, signal="temperature", step=timedelta(minutes=10)):
    return [(machine.pk, signal, v, start + i * step) for i, v in enumerate(values)]


def hourly(machine, signal="temperature"):
    return {
        row.hour: (row.samples, row.minimum, row.maximum, row.total, row.last)
        for row in TelemetryHourly.objects.filter(equipment=machine, signal=signal)
    }


def test_append_writes_every_row(machine):
    rows = samples(machine, H0, [20.5, 21.0, 22.25])
    assert telemetry_append(rows=rows) == 3
    assert telemetry_append(rows=[]) == 0
    stored = list(Telemetry.objects.order_by("at").values_list("signal", "value", "at"))
    assert stored == [(s, v, a) for _e, s, v, a in rows]


def test_rollup_hours_exactly_and_rewrites_them_the_same(machine):
    # Two hours of 10-minute samples, and a spindle on its own signal.
    telemetry_append(rows=samples(machine, H0, [1, 5, 3, 2, 8, 4, 10, 0, 7, 6, 9, 11]))
    telemetry_append(rows=samples(machine, H0, [1000, 1200], signal="spindle_speed"))
    assert telemetry_rollup(until=H0 + timedelta(hours=2, minutes=5)) == 3
    assert hourly(machine) == {
        H0: (6, 1.0, 8.0, 23.0, 4.0),
        H0 + timedelta(hours=1): (6, 0.0, 11.0, 43.0, 11.0),
    }
    assert hourly(machine, "spindle_speed") == {H0: (2, 1000.0, 1200.0, 2200.0, 1200.0)}
    first = list(TelemetryHourly.objects.order_by("pk").values())
    telemetry_rollup(until=H0 + timedelta(hours=2, minutes=5), since=H0)
    assert list(TelemetryHourly.objects.order_by("pk").values()) == first


def test_rollup_leaves_the_open_hour_and_catches_late_samples(machine):
    telemetry_append(rows=samples(machine, H0, [1, 2, 3, 4, 5, 6, 7]))  # 7th in the next hour
    telemetry_rollup(until=H0 + timedelta(hours=1, minutes=30))
    assert hourly(machine) == {H0: (6, 1.0, 6.0, 21.0, 6.0)}
    # A late sample of the last rolled hour arrives; the next run rewrites that hour too.
    telemetry_append(rows=[(machine.pk, "temperature", 100.0, H0 + timedelta(minutes=59))])
    telemetry_rollup(until=H0 + timedelta(hours=2, minutes=5))
    assert hourly(machine) == {
        H0: (7, 1.0, 100.0, 121.0, 100.0),
        H0 + timedelta(hours=1): (1, 7.0, 7.0, 7.0, 7.0),
    }


def test_rollup_with_nothing_to_do(machine):
    assert telemetry_rollup(until=H0) == 0
    telemetry_append(rows=samples(machine, H0, [1]))
    assert telemetry_rollup(until=H0 + timedelta(minutes=30)) == 0  # the hour is still open


def test_prune_keeps_retention_days_of_raw_and_hourly(machine, settings):
    settings.DEVICES_TELEMETRY_RETENTION_DAYS = 14
    settings.DEVICES_HOURLY_RETENTION_DAYS = 30
    now = H0
    old = now - timedelta(days=15)
    kept = now - timedelta(days=13)
    telemetry_append(rows=samples(machine, old, [1, 2]) + samples(machine, kept, [3, 4]))
    TelemetryHourly.objects.create(
        equipment=machine, signal="temperature", hour=now - timedelta(days=31), samples=1
    )
    TelemetryHourly.objects.create(
        equipment=machine, signal="temperature", hour=now - timedelta(days=29), samples=1
    )
    result = telemetry_prune(now=now)
    assert result["raw_before"] == datetime(2026, 11, 25, tzinfo=UTC)
    assert sorted(Telemetry.objects.values_list("value", flat=True)) == [3.0, 4.0]
    assert list(TelemetryHourly.objects.values_list("hour", flat=True)) == [
        now - timedelta(days=29)
    ]
    again = telemetry_prune(now=now)
    assert (again["rows_deleted"], again["partitions_dropped"], again["hourly_deleted"]) == (
        0,
        [],
        0,
    )


def test_tasks_run_the_services(machine, pinned_now):
    now = datetime.now(UTC)
    telemetry_append(rows=samples(machine, _hour(now) - timedelta(hours=1), [5, 6]))
    telemetry_partitions_ensure_task.delay()
    assert telemetry_rollup_task.delay().get() == 1
    assert telemetry_prune_task.delay().get()["hourly_deleted"] == 0


def _hour(instant):
    return instant.replace(minute=0, second=0, microsecond=0)


# --- PostgreSQL: the day partitions ----------------------------------------------------------


def partition_of(value: float) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM devices_telemetry WHERE value = %s", [value]
        )
        return cursor.fetchone()[0]


def table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_the_table_is_partitioned_by_day_with_a_default():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'devices_telemetry'::regclass"
        )
        assert cursor.fetchone() == ("r",)
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'devices_telemetry'::regclass "
            "AND i.indisprimary ORDER BY a.attname"
        )
        assert [name for (name,) in cursor.fetchall()] == ["at", "id"]
    assert table_exists("devices_telemetry_default")


@pytest.mark.postgres
def test_partitions_are_created_ahead_and_only_once():
    now = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)
    created = telemetry_partitions_ensure(days_ahead=3, now=now)
    expected = [now.date() + timedelta(days=n) for n in range(-1, 4)]
    assert created == expected
    assert set(expected) <= set(telemetry_partitions())
    assert telemetry_partitions_ensure(days_ahead=3, now=now) == []


@pytest.mark.postgres
def test_append_creates_the_partition_a_sample_needs(machine):
    far = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    telemetry_append(rows=[(machine.pk, "temperature", 42.5, far)])
    assert partition_of(42.5) == "devices_telemetry_p20270301"
    assert Telemetry.objects.get().at == far  # through COPY, read back by Django


@pytest.mark.postgres
def test_rows_stranded_in_default_move_into_their_new_partition(machine):
    day = datetime(2027, 5, 4, 8, 0, tzinfo=UTC)
    # As if the partition were missing when the row came (another process dropped the cache).
    storage._known_days.setdefault(connection.alias, set()).add(day.date())
    telemetry_append(rows=[(machine.pk, "temperature", 7.25, day)])
    assert partition_of(7.25) == "devices_telemetry_default"
    telemetry_partitions_ensure(days=[day.date()], now=day)
    assert partition_of(7.25) == "devices_telemetry_p20270504"
    assert Telemetry.objects.count() == 1


@pytest.mark.postgres
def test_prune_drops_whole_partitions(machine, settings):
    settings.DEVICES_TELEMETRY_RETENTION_DAYS = 14
    now = H0
    old = now - timedelta(days=20)
    telemetry_append(rows=samples(machine, old, [1, 2]) + samples(machine, now, [3]))
    old_table = f"devices_telemetry_p{old:%Y%m%d}"
    assert table_exists(old_table)
    result = telemetry_prune(now=now)
    assert old.date() in result["partitions_dropped"]
    assert not table_exists(old_table)
    assert result["rows_deleted"] == 0  # nothing was in DEFAULT: no DELETE of raw rows
    assert list(Telemetry.objects.values_list("value", flat=True)) == [3.0]
    assert table_exists(f"devices_telemetry_p{now:%Y%m%d}")
