"""The sink the gateway hands batches to: the ingest service, run with Django's connection
hygiene in the gateway's sink thread.

`samples_ingest(*, samples, changes, batch_id)` (devices/services/ingest.py) turns samples
into telemetry, counters, production events, state intervals and faults, idempotently per
batch id, so a spooled batch replayed twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import close_old_connections, connection


def ingest_sink(samples, changes, batch_id):
    """The ingest service, called as the gateway calls a sink."""
    from ..services.ingest import samples_ingest

    return samples_ingest(samples=samples, changes=changes, batch_id=batch_id)


def django_sink(func: Callable | None = None) -> Callable:
    """Wrap a sink for a thread of its own: drop broken or expired connections before and
    after each call, so a database that went away and came back is reconnected."""
    func = func or ingest_sink

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
