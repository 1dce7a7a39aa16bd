"""Writes of telemetry: append samples in bulk (the gateway's hot path), keep the day
partitions ahead, roll raw samples up into hours, and drop what retention no longer keeps.

On PostgreSQL `devices_telemetry` is partitioned by day (RANGE on `at`, UTC days, one table
`devices_telemetry_pYYYYMMDD` each, plus `devices_telemetry_default` for a sample no day
partition takes); rows arrive by binary COPY and old days go by DROP TABLE, never DELETE.
On SQLite (the embedded default) it is a plain table written by bulk_create.
See docs/devices.md, "Telemetry storage".
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Window
from django.db.models.functions import RowNumber, TruncHour
from django.utils import timezone

from ..models import Telemetry, TelemetryHourly

TABLE = Telemetry._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
PARTITION_NAME = re.compile(rf"^{TABLE}_p(\d{{8}})$")
COPY_COLUMNS = ("equipment_id", "signal", "value", "at")
COPY_TYPES = ("int8", "varchar", "float8", "timestamptz")

# Days (UTC dates) known to have their partition, per database alias: the append path checks
# its rows against this set and asks the catalog only for a day it does not know. A stale
# entry (a partition dropped by another process) costs nothing worse than rows in DEFAULT.
_known_days: dict[str, set] = {}
_known_lock = threading.Lock()


def _is_partitioned() -> bool:
    return connection.vendor == "postgresql"


def _day(instant: datetime):
    return instant.astimezone(UTC).date()


def _partition_name(day) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def telemetry_partitions() -> list:
    """The days (UTC dates) that have their own partition, oldest first (PostgreSQL)."""
    if not _is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [name for (name,) in cursor.fetchall()]
    days = []
    for name in names:
        match = PARTITION_NAME.match(name)
        if match:
            days.append(datetime.strptime(match.group(1), "%Y%m%d").date())
    days.sort()
    with _known_lock:
        _known_days[connection.alias] = set(days)
    return days


def _partition_create(cursor, day) -> None:
    """Create the partition of one UTC day. Rows of that day already in DEFAULT (written
    while it was missing) move into it, since PostgreSQL refuses to attach a range that
    DEFAULT holds rows of."""
    name = _partition_name(day)
    low = datetime(day.year, day.month, day.day, tzinfo=UTC)
    high = low + timedelta(days=1)
    qn = connection.ops.quote_name
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {qn(DEFAULT_PARTITION)} WHERE at >= %s AND at < %s)",
        [low, high],
    )
    (stranded,) = cursor.fetchone()
    bounds = "FOR VALUES FROM (%s) TO (%s)"
    if not stranded:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {qn(name)} PARTITION OF {qn(TABLE)} {bounds}",
            [low, high],
        )
        return
    cursor.execute(f"CREATE TABLE {qn(name)} (LIKE {qn(TABLE)} INCLUDING DEFAULTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {qn(DEFAULT_PARTITION)} WHERE at >= %s AND at < %s "
        f"RETURNING id, signal, value, at, equipment_id) "
        f"INSERT INTO {qn(name)} (id, signal, value, at, equipment_id) SELECT * FROM moved",
        [low, high],
    )
    cursor.execute(f"ALTER TABLE {qn(TABLE)} ATTACH PARTITION {qn(name)} {bounds}", [low, high])


def telemetry_partitions_ensure(
    *, days_ahead: int | None = None, now: datetime | None = None, days=()
) -> list:
    """Make sure the day partitions exist from yesterday to `days_ahead` days from now (and
    for any extra `days` given: the append path's samples from further away). Returns the
    days created. Safe to run at once from several processes (an advisory lock orders them);
    a no-op on SQLite."""
    if not _is_partitioned():
        return []
    if days_ahead is None:
        days_ahead = settings.DEVICES_TELEMETRY_DAYS_AHEAD
    today = _day(now or timezone.now())
    wanted = {today + timedelta(days=n) for n in range(-1, days_ahead + 1)} | set(days)
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
        existing = set(telemetry_partitions())
        for day in sorted(wanted - existing):
            _partition_create(cursor, day)
            created.append(day)
    with _known_lock:
        _known_days.setdefault(connection.alias, set()).update(wanted)
    return created


def _copy_rows(rows) -> None:
    """Binary COPY into the partitioned table (PostgreSQL routes each row to its day)."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in COPY_COLUMNS)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        types = [raw.connection.adapters.types.get(name) for name in COPY_TYPES]
        binary = None not in types
        sql = f"COPY {qn(TABLE)} ({columns}) FROM STDIN" + (" (FORMAT BINARY)" if binary else "")
        # Django wraps execute(), not copy(): map psycopg's errors to django.db's here.
        with connection.wrap_database_errors, raw.copy(sql) as copy:
            if binary:
                copy.set_types([t.oid for t in types])
            for row in rows:
                copy.write_row(row)


def telemetry_append(*, rows: list[tuple[int, str, float, datetime]]) -> int:
    """Append (equipment_id, signal, value, at) rows; returns how many were written.

    PostgreSQL: one binary COPY, after making sure each row's day has its partition (a
    sample from a day without one would otherwise land in DEFAULT). SQLite: bulk_create."""
    if not rows:
        return 0
    if not _is_partitioned():
        Telemetry.objects.bulk_create(
            [Telemetry(equipment_id=e, signal=s, value=v, at=a) for e, s, v, a in rows],
            batch_size=5000,
        )
        return len(rows)
    days = {_day(row[3]) for row in rows}
    with _known_lock:
        missing = days - _known_days.get(connection.alias, set())
    if missing:
        telemetry_partitions_ensure(days=missing)
    _copy_rows(rows)
    return len(rows)


# --- hourly aggregates ---------------------------------------------------------------------

ROLLUP_SQL = """
SELECT equipment_id, signal, hour, COUNT(*), MIN(value), MAX(value), SUM(value),
       MAX(CASE WHEN newest = 1 THEN value END)
FROM ({inner}) AS samples
GROUP BY equipment_id, signal, hour
"""


def _hour(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def telemetry_rollup(*, until: datetime, since: datetime | None = None) -> int:
    """Fill TelemetryHourly (samples, min, max, total, last) for the whole hours before
    `until`, from `since` (default: the last hour already rolled up, rewritten so late samples
    count, else the oldest raw sample). Re-running an hour rewrites it exactly: the same raw
    rows give the same figures (upsert on equipment, signal and hour). An hour whose raw
    samples retention has dropped is left as it was. Returns the hourly rows written."""
    end = _hour(until)
    if since is None:
        last = TelemetryHourly.objects.aggregate(last=Max("hour"))["last"]
        if last is None:
            oldest = Telemetry.objects.order_by("at").values_list("at", flat=True).first()
            if oldest is None:
                return 0
            last = oldest
        since = last
    start = _hour(since)
    if start >= end:
        return 0
    hour = TruncHour("at", tzinfo=UTC)
    inner = (
        Telemetry.objects.filter(at__gte=start, at__lt=end)
        .annotate(
            hour=hour,
            newest=Window(
                RowNumber(),
                partition_by=[F("equipment_id"), F("signal"), hour],
                order_by=[F("at").desc(), F("id").desc()],
            ),
        )
        .values("equipment_id", "signal", "value", "hour", "newest")
    )
    inner_sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(ROLLUP_SQL.format(inner=inner_sql), params)
        found = cursor.fetchall()
    field = TelemetryHourly._meta.get_field("hour")
    hourly = []
    for equipment_id, signal, hour_value, samples, low, high, total, last in found:
        if isinstance(hour_value, str):  # SQLite answers text
            hour_value = datetime.fromisoformat(hour_value)
        hour_value = field.to_python(hour_value)
        if timezone.is_naive(hour_value):
            hour_value = hour_value.replace(tzinfo=UTC)
        hourly.append(
            TelemetryHourly(
                equipment_id=equipment_id,
                signal=signal,
                hour=hour_value,
                samples=samples,
                minimum=low,
                maximum=high,
                total=total,
                last=last,
            )
        )
    with transaction.atomic():
        TelemetryHourly.objects.bulk_create(
            hourly,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["equipment", "signal", "hour"],
            update_fields=["samples", "minimum", "maximum", "total", "last"],
        )
    return len(hourly)


# --- retention -----------------------------------------------------------------------------


def telemetry_prune(*, now: datetime) -> dict:
    """Drop raw telemetry older than DEVICES_TELEMETRY_RETENTION_DAYS (whole UTC days) and
    hourly aggregates older than DEVICES_HOURLY_RETENTION_DAYS. On PostgreSQL the raw days
    go by DROP TABLE of their partitions (instant, no dead rows, no vacuum); what DEFAULT
    holds of them is deleted. On SQLite the rows are deleted."""
    raw_cutoff = datetime.combine(
        _day(now) - timedelta(days=settings.DEVICES_TELEMETRY_RETENTION_DAYS),
        datetime.min.time(),
        tzinfo=UTC,
    )
    hourly_cutoff = _hour(now) - timedelta(days=settings.DEVICES_HOURLY_RETENTION_DAYS)
    dropped = []
    with transaction.atomic():
        if _is_partitioned():
            qn = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
                for day in telemetry_partitions():
                    if day < raw_cutoff.date():
                        cursor.execute(f"DROP TABLE {qn(_partition_name(day))}")
                        dropped.append(day)
                cursor.execute(f"DELETE FROM {qn(DEFAULT_PARTITION)} WHERE at < %s", [raw_cutoff])
                deleted = cursor.rowcount
            with _known_lock:
                _known_days.get(connection.alias, set()).difference_update(dropped)
        else:
            deleted, _ = Telemetry.objects.filter(at__lt=raw_cutoff).delete()
        hourly_deleted, _ = TelemetryHourly.objects.filter(hour__lt=hourly_cutoff).delete()
    return {
        "raw_before": raw_cutoff,
        "partitions_dropped": dropped,
        "rows_deleted": deleted,
        "hourly_before": hourly_cutoff,
        "hourly_deleted": hourly_deleted,
    }
