"""Reads of what the machines said, per equipment: state intervals, telemetry, counted totals.
Each costs a constant number of queries however many rows it answers."""

from django.db.models import QuerySet

from resources.models import Equipment

from ..models import Counter, EquipmentLink, StateInterval, Telemetry


def equipment_intervals(*, equipment: Equipment) -> QuerySet[StateInterval]:
    return (
        StateInterval.objects.filter(equipment=equipment)
        .select_related("reason", "reason_by")
        .order_by("start", "pk")
    )


def equipment_telemetry(*, equipment: Equipment) -> QuerySet[Telemetry]:
    # Newest first: a client reading a page wants the latest values; `from`/`to` narrow it.
    return Telemetry.objects.filter(equipment_id=equipment.pk).order_by("-at", "-pk")


def equipment_counts(*, equipment: Equipment) -> dict:
    """The counted totals since the map linked the machine (`since`): total and good parts,
    from its counters (`good_count` is None where no good counter is mapped)."""
    link = (
        EquipmentLink.objects.filter(equipment=equipment)
        .prefetch_related("signals")
        .select_related("endpoint")
        .first()
    )
    counters = {c.signal: c for c in Counter.objects.filter(equipment=equipment)}
    mapped = {s.name for s in link.signals.all()} if link else set()

    def total(signal: str) -> int | None:
        if signal in counters:
            return counters[signal].total
        return 0 if signal in mapped else None

    last = [c.last_at for c in counters.values() if c.last_at is not None]
    return {
        "equipment": equipment.code,
        "endpoint": link.endpoint.name if link else None,
        "since": link.since if link else None,
        "total_count": total("part_count"),
        "good_count": total("good_count"),
        "last_read_at": max(last) if last else None,
    }
