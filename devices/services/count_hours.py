"""The hourly sums of the machines' part counts (CountHour), kept with every count written.

Every ProductionCount row goes in through `count_rows_write`, which appends the rows and adds
the reads without rejects to their machine's hour in the same transaction. The hour rows of
the batch are created empty if missing and then locked (select_for_update in primary-key
order, as the counters are), so two writers of one machine add up instead of overwriting.
`count_hours_rebuild` recomputes the sums from the rows (after a restore of part of the data,
or rows written around the service) and is what the migration that added the table ran.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, FloatField, Max, Q, Sum
from django.db.models.functions import TruncHour

from core.rawsql import rows_update

from ..models import CountHour, ProductionCount

TICK = timedelta(microseconds=1)


def count_hour(at: datetime) -> datetime:
    """The hour a read at `at` belongs to, as the UTC instant it begins: (H, H + 1 h]."""
    return (at - TICK).astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def count_summed(total: int, good: int | None) -> bool:
    """Whether a read goes into the hourly sums: parts and no rejects."""
    return total > 0 and (good is None or good >= total)


@transaction.atomic
def count_rows_write(rows: list[ProductionCount]) -> list[ProductionCount]:
    """Append part-count rows and add them to the hourly sums (one transaction)."""
    if not rows:
        return rows
    written = ProductionCount.objects.bulk_create(rows)
    sums: dict[tuple[int, datetime, bool], list] = defaultdict(lambda: [0, 0.0, None])
    for row in rows:
        if not count_summed(row.total, row.good):
            continue
        rated = row.ideal_cycle_seconds is not None
        slot = sums[(row.equipment_id, count_hour(row.at), rated)]
        slot[0] += row.total
        slot[1] += row.total * row.ideal_cycle_seconds if rated else 0.0
        slot[2] = row.at if slot[2] is None or row.at > slot[2] else slot[2]
    if not sums:
        return written
    CountHour.objects.bulk_create(
        [
            CountHour(equipment_id=eq, hour=hour, rated=rated, parts=0, last_at=hour)
            for eq, hour, rated in sorted(sums)
        ],
        ignore_conflicts=True,
    )
    keys = Q()
    for eq in {k[0] for k in sums}:
        keys |= Q(equipment_id=eq, hour__in={k[1] for k in sums if k[0] == eq})
    held = CountHour.objects.select_for_update().filter(keys).order_by("pk")
    changed = []
    for hour_row in held:
        slot = sums.get((hour_row.equipment_id, hour_row.hour, hour_row.rated))
        if slot is None:
            continue
        hour_row.parts += slot[0]
        hour_row.ideal_seconds += slot[1]
        hour_row.last_at = max(hour_row.last_at, slot[2])
        changed.append(hour_row)
    rows_update(changed, ["parts", "ideal_seconds", "last_at"])
    return written


def _bucket():
    return TruncHour(
        ExpressionWrapper(F("at") - TICK, output_field=DateTimeField()),
        tzinfo=UTC,
    )


@transaction.atomic
def count_hours_rebuild(equipment_ids: list[int] | None = None) -> int:
    """Recompute the hourly sums of these machines (all when None) from their count rows;
    returns the number of hour rows written."""
    rows = ProductionCount.objects.filter(total__gt=0).filter(
        Q(good__isnull=True) | Q(good__gte=F("total"))
    )
    hours = CountHour.objects.all()
    if equipment_ids is not None:
        rows = rows.filter(equipment_id__in=equipment_ids)
        hours = hours.filter(equipment_id__in=equipment_ids)
    hours.delete()
    sums = (
        rows.order_by()
        .annotate(bucket=_bucket(), known=Q(ideal_cycle_seconds__isnull=False))
        .values("equipment_id", "bucket", "known")
        .annotate(
            parts=Sum("total"),
            ideal=Sum(F("total") * F("ideal_cycle_seconds"), output_field=FloatField()),
            last=Max("at"),
        )
        .values_list("equipment_id", "bucket", "known", "parts", "ideal", "last")
    )
    made = [
        CountHour(
            equipment_id=eq,
            hour=bucket if bucket.tzinfo else bucket.replace(tzinfo=UTC),
            rated=bool(known),
            parts=parts,
            ideal_seconds=ideal or 0.0,
            last_at=last,
        )
        for eq, bucket, known, parts, ideal, last in sums
    ]
    CountHour.objects.bulk_create(made, batch_size=5000)
    return len(made)
