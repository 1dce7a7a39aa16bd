"""The whole periodic schedule, in one place, reviewed like code."""

import os

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Deliver domain events to their handlers; also retries the ones that failed.
    "outbox-dispatch": {
        "task": "core.tasks.outbox_dispatch",
        "schedule": 10.0,
    },
    # Events to outside subscribers (webhooks): fan out what the outbox holds, send what is
    # due, retry with backoff (docs/integration.md). A commit also queues a send at once; this
    # beat bounds the wait when that was lost, well inside the 10 s the plant is promised.
    "outbound-deliver": {
        "task": "integration.tasks.outbound_deliver",
        "schedule": 3.0,
    },
    # Legacy sync: run each active legacy source whose own interval (30 minutes by default)
    # has passed since its last run (docs/integration.md, "Legacy sync").
    "legacy-sync": {
        "task": "integration.tasks.legacy_sync_due",
        "schedule": 60.0,
    },
    # Escalate exceptions nobody acknowledged in time.
    "alerts-escalate": {
        "task": "execution.alert_tasks.alerts_escalate_due",
        "schedule": 60.0,
    },
    # Keep the low-level codes right even after BOM edits made outside the services.
    "bom-low-level-codes": {
        "task": "planning.tasks.bom_low_level_codes_refresh",
        "schedule": crontab(minute=15),
    },
    # Hourly plan vs actual per order and operation (snapshots keyed by the hour, so a rerun
    # in the same hour changes nothing new); announces predicted delays to planning.
    "progress-rollup": {
        "task": "execution.tasks.progress_rollup",
        "schedule": crontab(minute=0),
    },
    # Telemetry storage: day partitions ahead (PostgreSQL), hourly aggregates just after the
    # hour (late samples of the previous hour are counted on the next run), retention nightly.
    "telemetry-partitions": {
        "task": "devices.tasks.telemetry_partitions_ensure_task",
        "schedule": crontab(minute=20, hour="*/6"),
    },
    "telemetry-rollup": {
        "task": "devices.tasks.telemetry_rollup_task",
        "schedule": crontab(minute=5),
    },
    "telemetry-prune": {
        "task": "devices.tasks.telemetry_prune_task",
        "schedule": crontab(minute=40, hour=2),
    },
}

# Read every machine of the device map once (the same adapters as run_device_gateway); a poll
# still running makes the next one a no-op (devices.tasks.poll_guard). DEVICES_POLL_SECONDS=0
# leaves it out, where run_device_gateway reads the machines instead. (The environment, not
# django.conf: this module is imported before the settings load.)
_DEVICES_POLL_SECONDS = float(os.environ.get("DEVICES_POLL_SECONDS", "5"))
if _DEVICES_POLL_SECONDS > 0:
    BEAT_SCHEDULE["devices-poll"] = {
        "task": "devices.tasks.devices_poll",
        "schedule": _DEVICES_POLL_SECONDS,
    }
