"""Modbus TCP adapter (pymodbus): poll each unit's registers, one request per block.

Every `poll_ms` the adapter reads each equipment's unit with the blocks planned by
`devices.engines.registers.plan_reads` (neighbouring registers in one request) and stamps
the samples with the gateway's clock when the answer arrived (Modbus carries no time).
A block that answers with a Modbus exception (illegal address, device busy) or a value that
cannot be decoded is logged and skipped; a broken connection ends `serve()` so the base
class reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import time

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException

from ..engines.devicemap import EndpointSpec
from ..engines.registers import ReadBlock, plan_reads
from ..engines.samples import Sample
from .base import Adapter, ConnectionLost, cancel_check, utcnow

_READERS = {
    "holding": "read_holding_registers",
    "input": "read_input_registers",
    "coil": "read_coils",
    "discrete": "read_discrete_inputs",
}


def modbus_plan(endpoint: EndpointSpec) -> list[tuple[int, list[ReadBlock]]]:
    """Per unit id, the read requests covering every signal of the machines on that unit."""
    by_unit: dict[int, list] = {}
    for code, eq in endpoint.equipment.items():
        unit = eq.unit if eq.unit is not None else 1
        by_unit.setdefault(unit, []).extend((code, spec) for spec in eq.signals.values())
    return [(unit, plan_reads(signals)) for unit, signals in sorted(by_unit.items())]


class ModbusAdapter(Adapter):
    protocol = "modbus"

    def __init__(self, endpoint: EndpointSpec, **kwargs):
        super().__init__(endpoint, **kwargs)
        self.plan = modbus_plan(endpoint)
        self.requests = 0  # read requests sent (the bench and tests count them)

    def _client(self) -> AsyncModbusTcpClient:
        # pymodbus's own reconnect is off: the adapter's loop reconnects with its backoff and
        # reports the link, which pymodbus's silent retries would hide.
        return AsyncModbusTcpClient(
            self.endpoint.host,
            port=self.endpoint.port or 502,
            timeout=self.endpoint.timeout_ms / 1000,
            retries=0,
            reconnect_delay=0,
        )

    async def _connect(self) -> AsyncModbusTcpClient:
        client = self._client()
        await client.connect()
        if not client.connected:
            client.close()
            raise ConnectionLost(f"no answer from {self.endpoint.host}:{self.endpoint.port}")
        return client

    async def _read_all(self, client: AsyncModbusTcpClient) -> list[Sample]:
        samples: list[Sample] = []
        name = self.endpoint.name
        for unit, blocks in self.plan:
            for block in blocks:
                cancel_check()
                reader = getattr(client, _READERS[block.table])
                self.requests += 1
                try:
                    answer = await reader(block.start, count=block.count, device_id=unit)
                except ConnectionException as exc:
                    raise ConnectionLost(str(exc)) from exc
                except (TimeoutError, ModbusException) as exc:
                    if not client.connected:
                        raise ConnectionLost(str(exc)) from exc
                    self._skip(
                        "unit %s %s %s+%s: %s", unit, block.table, block.start, block.count, exc
                    )
                    continue
                if answer.isError():
                    self._skip(
                        "unit %s %s %s+%s: device answered %s",
                        unit,
                        block.table,
                        block.start,
                        block.count,
                        answer,
                    )
                    continue
                at = utcnow()
                data = answer.bits if block.table in ("coil", "discrete") else answer.registers
                values, problems = block.values(data)
                for problem in problems:
                    self._skip("unit %s: %s", unit, problem)
                samples.extend(
                    Sample(endpoint=name, equipment=code, signal=signal, raw=raw, at=at)
                    for (code, signal), raw in values.items()
                )
        return samples

    async def serve(self, *, on_connected) -> None:
        client = await self._connect()
        try:
            on_connected()
            period = self.endpoint.poll_ms / 1000
            next_at = time.monotonic()
            while True:
                samples = await self._read_all(client)
                if samples:
                    self.on_samples(samples)
                # Fixed-rate polling: a slow read does not push every later poll back.
                next_at += period
                delay = next_at - time.monotonic()
                if delay < 0:
                    next_at = time.monotonic()
                    delay = 0
                cancel_check()
                await asyncio.sleep(delay)
        finally:
            client.close()

    async def read_once(self) -> list[Sample]:
        client = await self._connect()
        try:
            return await self._read_all(client)
        finally:
            client.close()
