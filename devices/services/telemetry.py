"""Writes of telemetry: append samples in bulk (the gateway's hot path)."""

from datetime import datetime

from ..models import Telemetry


def telemetry_append(*, rows: list[tuple[int, str, float, datetime]]) -> int:
    """Append (equipment_id, signal, value, at) rows; returns how many were written."""
    Telemetry.objects.bulk_create(
        [Telemetry(equipment_id=e, signal=s, value=v, at=a) for e, s, v, a in rows],
        batch_size=5000,
    )
    return len(rows)
