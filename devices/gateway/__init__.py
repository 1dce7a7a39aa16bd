"""The device gateway: runs the adapters, batches what they read, hands batches to the
ingest service, and spools to disk while the database is unreachable.

Why `devices/gateway/` and not `devices/services/gateway.py`: a service is one write with
business meaning inside a transaction; the gateway is a long-running runtime (an asyncio
loop, threads, a file spool, signal handling) that *calls* the ingest service. Keeping it in
its own package keeps services/ about writes and lets the Celery poll (devices/tasks.py)
and `manage.py run_device_gateway` share it:

- `batch.py`   the batch (samples + link changes + a stable id) and its JSON line form;
- `spool.py`   store-and-forward: the append-only, fsync'd spool and the forwarder that
               sends or spools, and replays in order;
- `runner.py`  the asyncio gateway (one task per endpoint, batching, clean stop) and the
               one-shot poll used by Celery and `--once`;
- `sinks.py`   the sink the gateway hands batches to (the ingest service), in a thread with
               Django's connection hygiene.
"""
