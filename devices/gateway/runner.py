"""The asyncio gateway (one task per endpoint, batching, store-and-forward, clean stop) and the
one-shot poll that Celery's beat job and `run_device_gateway --once` use.

The event loop never waits on the database: batches go to the Forwarder in ONE worker thread
(`run_in_executor` on a single-thread pool), so Django's connection lives in that thread, the
spool has a single writer, and batches reach the sink in the order they were made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from ..adapters.base import Adapter, BackoffPolicy
from ..adapters.modbus import ModbusAdapter
from ..adapters.opcua import OpcUaAdapter
from ..engines.devicemap import EndpointSpec
from ..engines.samples import LinkChange, Sample
from .batch import Batch
from .spool import Forwarder

log = logging.getLogger("devices.gateway")

ADAPTERS: dict[str, type[Adapter]] = {"opcua": OpcUaAdapter, "modbus": ModbusAdapter}


def adapter_for(endpoint: EndpointSpec, **kwargs) -> Adapter:
    return ADAPTERS[endpoint.protocol](endpoint, **kwargs)


class Gateway:
    """Runs an adapter per endpoint and forwards their samples in batches.

    A batch is cut every `flush_ms` or at `max_batch` samples, whichever comes first; link
    changes are cut at once (a machine going dark should show without delay).
    """

    def __init__(
        self,
        endpoints: list[EndpointSpec],
        *,
        forwarder: Forwarder,
        flush_ms: int = 200,
        max_batch: int = 20000,
        backoff: BackoffPolicy | None = None,
        replay_seconds: float = 1.0,
    ):
        self.forwarder = forwarder
        self.flush_seconds = flush_ms / 1000
        self.max_batch = max_batch
        self.replay_seconds = replay_seconds
        self.adapters = [
            adapter_for(ep, on_samples=self._on_samples, on_link=self._on_link, backoff=backoff)
            for ep in endpoints
        ]
        self._samples: list[Sample] = []
        self._changes: list[LinkChange] = []
        self._queue: asyncio.Queue[Batch | None] | None = None
        self._cut: asyncio.Event | None = None
        self.batches = 0
        self.samples = 0

    def _on_samples(self, samples: list[Sample]) -> None:
        self._samples.extend(samples)
        if len(self._samples) >= self.max_batch and self._cut is not None:
            self._cut.set()

    def _on_link(self, change: LinkChange) -> None:
        self._changes.append(change)
        if self._cut is not None:
            self._cut.set()

    def _flush(self) -> None:
        while self._samples or self._changes:
            samples, self._samples = (
                self._samples[: self.max_batch],
                self._samples[self.max_batch :],
            )
            changes, self._changes = self._changes, []
            self._queue.put_nowait(Batch(samples=samples, changes=changes))
            self.batches += 1
            self.samples += len(samples)

    async def _writer(self, executor: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                batch = await asyncio.wait_for(self._queue.get(), timeout=self.replay_seconds)
            except TimeoutError:
                try:
                    await loop.run_in_executor(executor, self.forwarder.replay)
                except Exception:  # the spool itself failed: say so loudly, keep going
                    log.exception("replaying the spool failed")
                continue
            if batch is None:
                return
            try:
                await loop.run_in_executor(executor, self.forwarder.deliver, batch)
            except Exception:  # the spool itself failed (disk full): say so loudly, keep going
                log.exception("batch %s could be neither sent nor spooled", batch.id)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve every endpoint until `stop` is set, then flush and hand on what is left."""
        self._queue = asyncio.Queue()
        self._cut = asyncio.Event()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="device-sink")
        writer = asyncio.create_task(self._writer(executor), name="gateway-writer")
        tasks = [
            asyncio.create_task(a.run(), name=f"endpoint-{a.endpoint.name}") for a in self.adapters
        ]
        log.info("gateway: serving %s endpoints", len(tasks))
        try:
            while not stop.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(
                        _first(stop.wait(), self._cut.wait()), timeout=self.flush_seconds
                    )
                self._cut.clear()
                self._flush()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._flush()
            self._queue.put_nowait(None)
            await writer
            executor.shutdown(wait=True)
            log.info(
                "gateway stopped: %s batches, %s samples; spool %s",
                self.batches,
                self.samples,
                "empty" if self.forwarder.spool.empty() else "NOT empty",
            )


async def _first(*aws) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


# One-shot polls (Celery, --once) keep their adapters per process, so an OPC UA value that
# did not change since the last poll is not sent again, and link changes are sent only when
# the link changes.
_ADAPTERS: dict[tuple, Adapter] = {}


def _cached_adapter(endpoint: EndpointSpec, known: bool | None) -> Adapter:
    key = (endpoint.name, repr(endpoint))
    adapter = _ADAPTERS.get(key)
    if adapter is None:
        for old in [k for k in _ADAPTERS if k[0] == endpoint.name]:
            del _ADAPTERS[old]
        adapter = adapter_for(endpoint, on_samples=lambda s: None)
        adapter.connected = known
        _ADAPTERS[key] = adapter
    return adapter


async def read_pass(
    endpoints: list[EndpointSpec], *, known: dict[str, bool | None] | None = None
) -> Batch:
    """Read every endpoint once, concurrently: its samples and any change of link state.

    `known` is the link state the caller last recorded per endpoint (from the database);
    a link change is emitted only where it differs. An endpoint that fails is logged and
    reported down; the others are read all the same.
    """
    known = known or {}
    adapters = [_cached_adapter(ep, known.get(ep.name)) for ep in endpoints]
    changes: list[LinkChange] = []
    for adapter in adapters:
        adapter.on_link = changes.append

    async def one(adapter: Adapter) -> list[Sample]:
        deadline = max(1.0, adapter.endpoint.timeout_ms / 1000 * 2)
        try:
            samples = await asyncio.wait_for(adapter.read_once(), timeout=deadline)
        except Exception as exc:
            adapter._link(False, f"{type(exc).__name__}: {exc}")
            return []
        adapter._link(True)
        return samples

    started = time.monotonic()
    results = await asyncio.gather(*(one(a) for a in adapters))
    batch = Batch(samples=[s for result in results for s in result], changes=changes)
    log.debug("read pass: %s samples in %.3f s", len(batch.samples), time.monotonic() - started)
    return batch


def poll_once(
    endpoints: list[EndpointSpec],
    *,
    forwarder: Forwarder,
    known: dict[str, bool | None] | None = None,
) -> tuple[Batch, str]:
    """One read pass handed to the forwarder (replaying any spool first). Synchronous."""
    forwarder.replay()
    batch = asyncio.run(read_pass(endpoints, known=known))
    outcome = forwarder.deliver(batch) if len(batch) else "empty"
    return batch, outcome
