"""Serve the demo plant's machines over OPC UA and Modbus TCP on loopback."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from devices.adapters.simulator import PlantSimulator
from devices.demo import DEVICE_MAP_FILE
from devices.engines.devicemap import DeviceMapError, device_map_parse


class Command(BaseCommand):
    help = (
        "Simulate the machines of a device map (default: the demo plant's) on 127.0.0.1: "
        "an OPC UA server per opcua endpoint, a Modbus TCP server per modbus endpoint, "
        "counts at each machine's rated rate, small stops and faults that clear."
    )

    def add_arguments(self, parser):
        parser.add_argument("--map", type=Path, default=DEVICE_MAP_FILE, help="Device map file.")
        parser.add_argument("--opcua-port", type=int, help="Port of the (first) OPC UA server.")
        parser.add_argument("--modbus-port", type=int, help="Port of the (first) Modbus server.")
        parser.add_argument(
            "--speed",
            type=float,
            default=1.0,
            help="Simulated seconds per second (10: ten times faster).",
        )
        parser.add_argument("--seed", type=int, help="Seed: the same seed, the same history.")

    def handle(self, *args, map, opcua_port, modbus_port, speed, seed, **options):
        try:
            device_map = device_map_parse(json.loads(map.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            if isinstance(exc, DeviceMapError):
                raise CommandError("\n".join(f"{p}: {m}" for p, m in exc.errors)) from None
            raise CommandError(f"{map}: {exc}") from None
        if speed <= 0:
            raise CommandError("--speed must be positive")
        ports = {}
        for ep in device_map.endpoints:
            if ep.protocol == "opcua" and opcua_port is not None:
                ports[ep.name], opcua_port = opcua_port, None
            if ep.protocol == "modbus" and modbus_port is not None:
                ports[ep.name], modbus_port = modbus_port, None
        sim = PlantSimulator(device_map, speed=speed, seed=seed, ports=ports)
        asyncio.run(self._serve(sim))

    async def _serve(self, sim: PlantSimulator) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await sim.start()
        for name, port in sim.ports.items():
            self.stdout.write(f"simulating {name} on 127.0.0.1:{port}")
        self.stdout.flush()
        try:
            await stop.wait()
        finally:
            await sim.stop()
        self.stdout.write("simulator stopped")
