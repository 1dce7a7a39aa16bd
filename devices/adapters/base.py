"""What both adapters share: reconnect with capped exponential backoff and the link state.

An adapter serves one endpoint. `run()` connects, reads (subscription or polling) until the
connection is lost, then waits and connects again, for ever (until cancelled). The first
failure after a working connection (or a first connection that fails) emits one
`LinkChange(connected=False)` for the endpoint's machines; the next working connection emits
`LinkChange(connected=True)`. Nothing else: a failed retry while already down is silent.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..engines.devicemap import EndpointSpec
from ..engines.samples import LinkChange, Sample

log = logging.getLogger("devices.adapters")

SamplesHandler = Callable[[list[Sample]], None]
LinkHandler = Callable[[LinkChange], None]


def utcnow() -> datetime:
    """The gateway's clock, timezone-aware UTC (Modbus answers carry no timestamp)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class BackoffPolicy:
    """Waits between reconnect attempts: initial × factor^n, capped, with ±jitter."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.1  # fraction of the wait, so many gateways do not retry in step

    def delays(self):
        delay = self.initial
        while True:
            spread = delay * self.jitter
            yield max(0.0, delay + random.uniform(-spread, spread))
            delay = min(self.cap, delay * self.factor)


def cancel_check() -> None:
    """Raise CancelledError if this task was asked to stop.

    Python 3.11's asyncio.wait_for (used inside pymodbus and asyncua) can swallow a
    cancellation that arrives as its inner future completes; a polling loop that never
    looks again would then run for ever. Loops call this once per round.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class ConnectionLost(Exception):
    """The endpoint stopped answering: reconnect (not a malformed value)."""


class Adapter:
    """Base of the OPC UA and Modbus adapters: the reconnect loop and the link state."""

    protocol = ""

    def __init__(
        self,
        endpoint: EndpointSpec,
        *,
        on_samples: SamplesHandler,
        on_link: LinkHandler | None = None,
        backoff: BackoffPolicy | None = None,
    ):
        self.endpoint = endpoint
        self.on_samples = on_samples
        self.on_link = on_link or (lambda change: None)
        self.backoff = backoff or BackoffPolicy()
        self.connected: bool | None = None  # None: not yet known
        self.skipped = 0  # malformed values logged and skipped (for tests and logs)
        self.log = logging.LoggerAdapter(log, {"endpoint": endpoint.name})

    @property
    def equipment_codes(self) -> tuple[str, ...]:
        return tuple(self.endpoint.equipment)

    def _link(self, connected: bool, reason: str = "") -> None:
        if self.connected is connected:
            return
        self.connected = connected
        if connected:
            self.log.info("%s: connected", self.endpoint.name)
        else:
            self.log.warning("%s: disconnected (%s)", self.endpoint.name, reason)
        self.on_link(
            LinkChange(
                endpoint=self.endpoint.name,
                equipment=self.equipment_codes,
                connected=connected,
                at=utcnow(),
                reason=reason[:200],
            )
        )

    def _skip(self, message: str, *args) -> None:
        self.skipped += 1
        self.log.warning("%s: skipped " + message, self.endpoint.name, *args)

    async def run(self) -> None:
        """Serve the endpoint until cancelled: connect, read, and reconnect with backoff."""
        delays = self.backoff.delays()
        while True:
            cancel_check()
            try:
                await self.serve(on_connected=lambda: self._link(True))
                reason = "the connection closed"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of the link: log, mark down, retry
                reason = f"{type(exc).__name__}: {exc}"
            if self.connected is not False:
                delays = self.backoff.delays()  # a link that worked starts the backoff afresh
            self._link(False, reason)
            await asyncio.sleep(next(delays))

    async def serve(self, *, on_connected: Callable[[], None]) -> None:
        """Connect, call on_connected, and read until the connection is lost (raise)."""
        raise NotImplementedError

    async def read_once(self) -> list[Sample]:
        """Connect, read every signal once, disconnect (the Celery poll); raises if down."""
        raise NotImplementedError
