"""Modbus polling cost of the device gateway: CPU of the gateway process per second of polling.

A pymodbus server (the machine simulator's, in ANOTHER process) serves U units with R holding
registers each; the gateway (this process) runs the ModbusAdapter through `Gateway` exactly
as `run_device_gateway` does (one asyncio task for the endpoint, batches every 200 ms,
one sink thread, the store-and-forward spool in a temporary directory), polling every
register every second for N seconds. The sink only counts what it gets, so the figure is the
polling, decoding and batching, not the database.

    .venv/bin/python bench/modbus_poll_bench.py [--units 20] [--registers 10] [--seconds 30]

Prints the gateway process's CPU time (user + system, from getrusage) over the run as a
percentage of one core, with the samples and requests per second it achieved.
Target (issue #14): 200 registers on 20 units every second with < 10 % of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devices.adapters.simulator import PlantSimulator  # noqa: E402
from devices.engines.devicemap import device_map_parse  # noqa: E402
from devices.gateway.runner import Gateway  # noqa: E402
from devices.gateway.spool import Forwarder, Spool  # noqa: E402


def bench_map(units: int, registers: int, port: int, poll_ms: int = 1000) -> dict:
    return {
        "endpoints": [
            {
                "name": "bench-mb",
                "protocol": "modbus",
                "host": "127.0.0.1",
                "port": port,
                "poll_ms": poll_ms,
                "timeout_ms": 2000,
                "equipment": {
                    f"M-{u:02d}": {
                        "unit": u,
                        **{
                            f"r{i}": {"table": "holding", "address": i, "type": "uint16"}
                            for i in range(registers)
                        },
                    }
                    for u in range(1, units + 1)
                },
            }
        ]
    }


async def serve(units: int, registers: int) -> None:
    """The server side (child process): moving values, until stdin closes."""
    dm = device_map_parse(bench_map(units, registers, 5020))  # the port: any free one below
    sim = PlantSimulator(dm, model=False, ports={"bench-mb": 0})
    await sim.start()
    print(sim.ports["bench-mb"], flush=True)
    loop = asyncio.get_running_loop()
    done = loop.run_in_executor(None, sys.stdin.read)
    tick = 0
    while not done.done():
        tick += 1
        for u in range(1, units + 1):
            await sim.servers["bench-mb"].registers_write(
                u, "holding", 0, [(tick + u + i) % 65536 for i in range(registers)]
            )
        await asyncio.sleep(0.5)
    await sim.stop()


class CountingSink:
    def __init__(self):
        self.samples = 0
        self.batches = 0

    def __call__(self, samples, changes, batch_id):
        self.samples += len(samples)
        self.batches += 1


async def poll(port: int, units: int, registers: int, seconds: float):
    dm = device_map_parse(bench_map(units, registers, port))
    sink = CountingSink()
    with tempfile.TemporaryDirectory() as tmp:
        spool = Spool(Path(tmp) / "spool")
        gateway = Gateway(dm.endpoints, forwarder=Forwarder(sink, spool, transient=(OSError,)))
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        await asyncio.sleep(2)  # connect and settle; not measured
        r0, w0, s0, q0 = (
            resource.getrusage(resource.RUSAGE_SELF),
            time.monotonic(),
            sink.samples,
            gateway.adapters[0].requests,
        )
        await asyncio.sleep(seconds)
        r1, w1, s1, q1 = (
            resource.getrusage(resource.RUSAGE_SELF),
            time.monotonic(),
            sink.samples,
            gateway.adapters[0].requests,
        )
        stop.set()
        await task
        spool.close()
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    wall = w1 - w0
    return cpu, wall, (s1 - s0) / wall, (q1 - q0) / wall, gateway.adapters[0].skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--registers", type=int, default=10, help="registers per unit")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("pymodbus").setLevel(logging.WARNING)
    if args.serve:
        asyncio.run(serve(args.units, args.registers))
        return
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--units",
            str(args.units),
            "--registers",
            str(args.registers),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        port = int(server.stdout.readline())
        cpu, wall, samples, requests, skipped = asyncio.run(
            poll(port, args.units, args.registers, args.seconds)
        )
    finally:
        server.stdin.close()
        server.wait(10)
    load = os.getloadavg()[0]
    print(
        f"{args.units} units × {args.registers} registers = {args.units * args.registers} registers "
        f"every 1 s for {wall:.1f} s: {samples:.0f} samples/s, {requests:.1f} requests/s, "
        f"{skipped} skipped; gateway CPU {cpu:.2f} s = {100 * cpu / wall:.1f} % of one core "
        f"(load average {load:.1f})"
    )


if __name__ == "__main__":
    main()
