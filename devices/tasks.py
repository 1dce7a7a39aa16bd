"""Every Celery task of devices: thin, idempotent, retry-safe."""

from celery import shared_task

# --- telemetry storage ---
# Beat runs these (config/beat.py): partitions ahead daily, the hourly roll-up just after each
# hour, retention nightly. Each is safe to run twice (docs/devices.md, "Telemetry storage").


@shared_task
def telemetry_partitions_ensure_task() -> int:
    """Create the telemetry day partitions ahead (PostgreSQL; a no-op on SQLite)."""
    from django.utils import timezone

    from .services.telemetry import telemetry_partitions_ensure

    return len(telemetry_partitions_ensure(now=timezone.now()))


@shared_task
def telemetry_rollup_task() -> int:
    """Roll raw telemetry up into hourly aggregates, to the last whole hour."""
    from django.utils import timezone

    from .services.telemetry import telemetry_rollup

    return telemetry_rollup(until=timezone.now())


@shared_task
def telemetry_prune_task() -> dict:
    """Drop raw telemetry and hourly aggregates past their retention."""
    from django.utils import timezone

    from .services.telemetry import telemetry_prune

    result = telemetry_prune(now=timezone.now())
    return {
        "partitions_dropped": [day.isoformat() for day in result["partitions_dropped"]],
        "rows_deleted": result["rows_deleted"],
        "hourly_deleted": result["hourly_deleted"],
    }
