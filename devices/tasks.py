"""Every Celery task of devices: thin, idempotent, retry-safe."""

from __future__ import annotations

import contextlib
import fcntl
import logging

from celery import shared_task
from django.conf import settings
from django.db import connection

log = logging.getLogger("devices.gateway")

# pg_try_advisory_lock key of the device poll ("DEVPOLL" in ASCII, fits a bigint).
POLL_LOCK_KEY = 0x4445_5650_4F4C_4C


@contextlib.contextmanager
def poll_guard():
    """Yield True if this process may poll now, False if another poll is still running.

    Two polls must never overlap (they would share the spool and read every machine twice).
    On PostgreSQL an advisory lock guards every worker on every host; on the embedded
    SQLite default (one host) a file lock does, and also guards the spool directory.
    """
    lock_dir = settings.DEVICES_SPOOL_DIR
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / "poll.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            if connection.vendor != "postgresql":
                yield True
                return
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [POLL_LOCK_KEY])
                (locked,) = cursor.fetchone()
            if not locked:
                yield False
                return
            try:
                yield True
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [POLL_LOCK_KEY])
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@shared_task(ignore_result=True)
def devices_poll() -> str:
    """One read pass of every enabled endpoint, handed to the ingest service (beat job).

    The same adapters as `run_device_gateway`, read once; store-and-forward through the
    `poll` spool when the database is unreachable. Skipped when a poll is still running.
    """
    from .gateway.runner import poll_once
    from .gateway.sinks import django_sink
    from .gateway.spool import Forwarder, Spool
    from .selectors.devicemap import device_map_from_db, endpoint_link_states

    with poll_guard() as allowed:
        if not allowed:
            log.info("devices_poll: the previous poll is still running; skipped")
            return "skipped"
        device_map = device_map_from_db()
        if not device_map.endpoints:
            return "no endpoints"
        spool = Spool(settings.DEVICES_SPOOL_DIR / "poll")
        try:
            batch, outcome = poll_once(
                device_map.endpoints,
                forwarder=Forwarder(django_sink(), spool),
                known=endpoint_link_states(),
            )
        finally:
            spool.close()
        return f"{len(batch.samples)} samples: {outcome}"


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
