"""Helpers for tests against real device servers on loopback (free ports, deadlines)."""

from __future__ import annotations

import asyncio
import time

from devices.adapters.base import BackoffPolicy
from devices.engines.devicemap import device_map_parse

STATE_MAP = {"0": "stopped", "1": "running", "2": "fault", "3": "maintenance"}
# Quick retries, so a test sees a reconnect within a second.
FAST = BackoffPolicy(initial=0.05, factor=2.0, cap=0.2, jitter=0.0)


def opcua_map(*codes: str, publishing_ms: int = 50, poll_ms: int = 50):
    """An OPC UA endpoint (port 0: the simulator picks a free one) serving `codes`."""
    return {
        "name": "opc",
        "protocol": "opcua",
        "url": "opc.tcp://127.0.0.1:4840",
        "publishing_ms": publishing_ms,
        "poll_ms": poll_ms,
        "timeout_ms": 1000,
        "equipment": {
            code: {
                "state": {"node": f"ns=2;s={code}.State", "map": STATE_MAP},
                "part_count": {"node": f"ns=2;s={code}.PartCount"},
                "good_count": {"node": f"ns=2;s={code}.GoodCount"},
                "temperature": {"node": f"ns=2;s={code}.Temperature"},
                "fault": {"node": f"ns=2;s={code}.Fault"},
            }
            for code in codes
        },
    }


def modbus_map(name: str = "mb", units: dict[str, int] | None = None, poll_ms: int = 50):
    """A Modbus endpoint with the issue's register layout on each unit."""
    units = units or {"CNC-02": 2}
    return {
        "name": name,
        "protocol": "modbus",
        "host": "127.0.0.1",
        "port": 5020,
        "poll_ms": poll_ms,
        "timeout_ms": 500,
        "equipment": {
            code: {
                "unit": unit,
                "state": {"table": "holding", "address": 0, "type": "uint16", "map": STATE_MAP},
                "part_count": {
                    "table": "holding",
                    "address": 1,
                    "type": "uint32",
                    "word_order": "little",
                },
                "spindle_speed": {"table": "holding", "address": 3, "type": "uint16"},
                "temperature": {"table": "holding", "address": 4, "type": "int16", "scale": 0.1},
                "good_count": {"table": "holding", "address": 5, "type": "uint16"},
                "cycle_time": {"table": "input", "address": 0, "type": "float32"},
                "fault": {"table": "coil", "address": 0},
            }
            for code, unit in units.items()
        },
    }


def device_map(*endpoints):
    return device_map_parse({"endpoints": list(endpoints)})


def free_ports(names):
    return {name: 0 for name in names}


async def until(predicate, *, timeout: float = 10.0, step: float = 0.02, what: str = "") -> None:
    """Wait until predicate() is true, failing after `timeout` seconds (monotonic clock)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or predicate}")
        await asyncio.sleep(step)


def run(coro, timeout: float = 30.0):
    """Run a coroutine on a fresh loop with an overall deadline."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def values(samples, equipment: str, signal: str) -> list:
    return [s.raw for s in samples if s.equipment == equipment and s.signal == signal]
