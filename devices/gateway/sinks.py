"""The sink the gateway hands batches to: the ingest service, run with Django's connection
hygiene in the gateway's sink thread.

`samples_ingest(*, samples, changes, batch_id)` (devices/services/ingest.py) turns samples
into telemetry, counters, production events, state intervals and faults, idempotently per
batch id. Until that service exists in a deployment, `telemetry_sink` appends the samples
as plain telemetry (raw × scale + offset) so the gateway is useful on its own; it is NOT
idempotent per batch id, and the gateway logs a warning when it falls back to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import import_module

from django.db import close_old_connections, connection, transaction

log = logging.getLogger("devices.gateway")


def telemetry_sink(samples, changes, batch_id) -> int:
    """Append the samples as telemetry rows (engineering values); link changes are logged."""
    from resources.models import Equipment

    from ..models import Signal
    from ..services.telemetry import telemetry_append

    codes = {s.equipment for s in samples}
    ids = dict(Equipment.objects.filter(code__in=codes).values_list("code", "id"))
    scales = {
        (code, name): (scale, offset)
        for code, name, scale, offset in Signal.objects.filter(
            link__equipment__code__in=codes
        ).values_list("link__equipment__code", "name", "scale", "offset")
    }
    rows = []
    for s in samples:
        if s.equipment not in ids:
            continue
        scale, offset = scales.get((s.equipment, s.signal), (1.0, 0.0))
        rows.append((ids[s.equipment], s.signal, float(s.raw) * scale + offset, s.at))
    for change in changes:
        log.info("link %s %s", change.endpoint, "up" if change.connected else "down")
    with transaction.atomic():
        return telemetry_append(rows=rows)


def ingest_function() -> Callable:
    """The ingest service if this installation has it, else the telemetry-only sink."""
    try:
        module = import_module("devices.services.ingest")
    except ImportError:
        module = None
    func = getattr(module, "samples_ingest", None)
    if func is None:
        log.warning("devices.services.ingest is missing: writing plain telemetry only")
        return telemetry_sink
    return lambda samples, changes, batch_id: func(
        samples=samples, changes=changes, batch_id=batch_id
    )


def django_sink(func: Callable | None = None) -> Callable:
    """Wrap a sink for a thread of its own: drop broken or expired connections before and
    after each call, so a database that went away and came back is reconnected."""
    func = func or ingest_function()

    def sink(samples, changes, batch_id):
        # Inside an outer transaction (a test, a caller's atomic block) the connection is
        # not ours to recycle.
        own = not connection.in_atomic_block
        if own:
            close_old_connections()
        try:
            return func(samples, changes, batch_id)
        finally:
            if own:
                close_old_connections()

    return sink
