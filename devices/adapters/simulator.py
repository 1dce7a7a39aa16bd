"""The machine simulator: the demo plant's machines on loopback, over OPC UA and Modbus TCP.

It serves exactly what a device map describes: every OPC UA endpoint becomes an asyncua
server on the endpoint's port with a variable per mapped node id, every Modbus endpoint a
pymodbus server with a device per unit id and the registers and bits where the map puts
them, encoded with the map's types and word orders. So a map and its simulator cannot
drift apart (`manage.py simulate_devices` serves devices/demo/device_map.json).

A model per machine makes the numbers move: while running, parts come at the machine's
rated rate (a share of them scrap), the spindle turns and the temperature climbs; small stops
and occasional faults interrupt it and clear by themselves. The model advances in fixed
steps of simulated time (tick × speed), drawn from one seeded random generator, so a seed
gives the same history every time.

Tests use it as an object: `await sim.start()`, `sim.ports`, `await sim.set(code, signal,
raw)` (with `model=False` nothing moves on its own), `await sim.endpoint_stop(name)` /
`endpoint_start(name)` (same port), `await sim.stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urlparse

from asyncua import Server, ua
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from ..engines.devicemap import BIT_TABLES, DeviceMap, EndpointSpec, SignalSpec
from ..engines.registers import encode

log = logging.getLogger("devices.simulator")

NAMESPACE = "urn:closedloop:simulator"  # ns=2: the namespace of the machines' nodes
APPLICATION_URI = "urn:closedloop:simulator:server"  # ns=1, and the URI in its certificate
# Registers and bits each simulated unit has (0 … size-1), enough for any demo layout.
UNIT_REGISTERS = 256
UNIT_BITS = 64
# Write function codes used to set the simulator's own memory (pymodbus SimCore).
_WRITE_CODE = {"holding": 16, "input": 4, "coil": 15, "discrete": 2}
_OPC_TYPES = {
    "state": ua.VariantType.Int32,
    "part_count": ua.VariantType.UInt32,
    "good_count": ua.VariantType.UInt32,
    "fault": ua.VariantType.Boolean,
}

# Rated rate (parts per hour), scrap share, nominal spindle speed (rpm) per demo machine.
MACHINES = {
    "CAST-01": (12.0, 0.02, 0.0),
    "CNC-01": (5.9375, 0.01, 12000.0),
    "CNC-02": (5.9375, 0.01, 12000.0),
    "CMM-01": (15.0, 0.0, 0.0),
    "ASM-01": (7.5, 0.005, 0.0),
    "INJ-01": (120.0, 0.03, 0.0),
}


@dataclass
class MachineModel:
    """One machine's simulated life: state, counts, spindle speed, temperature."""

    code: str
    rate_per_hour: float = 60.0
    scrap: float = 0.01
    spindle_rpm: float = 0.0
    state: str = "running"
    state_left: float = 0.0  # seconds of simulated time until the stop or fault clears
    part_count: int = 0
    good_count: int = 0
    spindle_speed: float = 0.0
    temperature: float = 25.0
    fraction: float = 0.0  # the part in progress
    # Mean simulated seconds between small stops and between faults, while running.
    small_stop_every: float = 900.0
    fault_every: float = 4 * 3600.0

    def step(self, dt: float, rng: random.Random) -> None:
        if self.state == "running":
            self.fraction += self.rate_per_hour * dt / 3600
            while self.fraction >= 1:
                self.fraction -= 1
                self.part_count += 1
                if rng.random() >= self.scrap:
                    self.good_count += 1
            self.spindle_speed = self.spindle_rpm * (0.97 + 0.06 * rng.random())
            self.temperature += (62.0 - self.temperature) * min(1.0, dt / 600) + rng.gauss(0, 0.05)
            if rng.random() < dt / self.fault_every:
                self.state, self.state_left = "fault", rng.uniform(180, 600)
            elif rng.random() < dt / self.small_stop_every:
                self.state, self.state_left = "stopped", rng.uniform(20, 100)
            return
        self.spindle_speed = 0.0
        self.temperature += (25.0 - self.temperature) * min(1.0, dt / 1800) + rng.gauss(0, 0.05)
        self.state_left -= dt
        if self.state_left <= 0:
            self.state = "running"

    @property
    def fault(self) -> bool:
        return self.state == "fault"

    def value(self, signal: str) -> float | int | None:
        return {
            "part_count": self.part_count,
            "good_count": self.good_count,
            "spindle_speed": round(self.spindle_speed, 1),
            "temperature": round(self.temperature, 1),
            "fault": 1 if self.fault else 0,
        }.get(signal)


def _raw_for(spec: SignalSpec, model: MachineModel) -> float | int | None:
    """The raw value a PLC would hold for the model's engineering value."""
    if spec.name == "state":
        codes = {state: raw for raw, state in spec.state_map.items()}
        code = codes.get(model.state) or codes.get("stopped") or next(iter(spec.state_map), "0")
        return int(code)
    value = model.value(spec.name)
    if value is None:
        return None
    if spec.name in ("part_count", "good_count", "fault"):
        return int(value)
    raw = (value - spec.offset) / (spec.scale or 1.0)
    return raw if spec.data_type == "float32" or spec.node else round(raw)


class _OpcUaServer:
    def __init__(self, endpoint: EndpointSpec, port: int, certificate=None):
        self.endpoint = endpoint
        self.port = port
        self.certificate = certificate  # (certificate file, private key file) or None
        self.server: Server | None = None
        self.running = False
        self.variables: dict[tuple[str, str], tuple] = {}
        # Last value written per signal, with its source timestamp: a restarted server shows
        # the machine's values as they were (as a PLC's retained memory would).
        self._written: dict[tuple[str, str], ua.DataValue] = {}

    async def start(self) -> None:
        if self.server is not None:  # restart after endpoint_stop: same address space, same port
            self.server.set_endpoint(f"opc.tcp://127.0.0.1:{self.port}/")
            await self.server.start()
            self.running = True
            return
        server = Server()
        await server.init()  # loads the standard address space: seconds, so done once
        server.set_server_name("ClosedLoop machine simulator")
        await server.set_application_uri(APPLICATION_URI)
        server.set_endpoint(f"opc.tcp://127.0.0.1:{self.port}/")
        if self.certificate:
            cert, key = self.certificate
            await server.load_certificate(str(cert))
            await server.load_private_key(str(key))
            server.set_security_policy(
                [
                    ua.SecurityPolicyType.NoSecurity,
                    ua.SecurityPolicyType.Basic256Sha256_Sign,
                    ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ]
            )
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        await server.register_namespace(NAMESPACE)
        objects = server.nodes.objects
        for code, eq in self.endpoint.equipment.items():
            folder = None
            for spec in eq.signals.values():
                nodeid = ua.NodeId.from_string(spec.node)
                while len(await server.get_namespace_array()) <= nodeid.NamespaceIndex:
                    await server.register_namespace(
                        f"{NAMESPACE}:{len(await server.get_namespace_array())}"
                    )
                if folder is None:
                    folder = await objects.add_object(nodeid.NamespaceIndex, code)
                vtype = _OPC_TYPES.get(spec.name, ua.VariantType.Double)
                initial = (
                    False
                    if vtype == ua.VariantType.Boolean
                    else (0.0 if vtype == ua.VariantType.Double else 0)
                )
                var = await folder.add_variable(nodeid, spec.name, ua.Variant(initial, vtype))
                self.variables[(code, spec.name)] = (var, vtype)
        await server.start()
        self.port = server.bserver.port
        self.server = server
        self.running = True
        for (code, signal), value in list(self._written.items()):
            await server.write_attribute_value(self.variables[(code, signal)][0].nodeid, value)

    async def write(self, code: str, signal: str, raw) -> None:
        _var, vtype = self.variables[(code, signal)]
        if isinstance(raw, ua.Variant):
            variant = raw
        elif vtype == ua.VariantType.Boolean:
            variant = ua.Variant(bool(raw), vtype)
        elif vtype == ua.VariantType.Double:
            variant = ua.Variant(float(raw), vtype)
        else:
            variant = ua.Variant(
                int(raw) % (1 << 32) if vtype == ua.VariantType.UInt32 else int(raw), vtype
            )
        await self.value_write(
            code, signal, ua.DataValue(variant, SourceTimestamp=datetime.now(UTC))
        )

    async def value_write(self, code: str, signal: str, value: ua.DataValue) -> None:
        """Write a data value as is (tests: a given source timestamp, a wrong type)."""
        old = self._written.get((code, signal))
        if old is not None and old.Value == value.Value:
            return  # unchanged: a PLC does not re-stamp a value that did not change
        self._written[(code, signal)] = value
        if self.server is not None:  # a stopped server keeps its address space: write it
            # Straight into the address space: also a value of the wrong type, as a badly
            # configured PLC would show it (tests of malformed values need that).
            await self.server.write_attribute_value(self.variables[(code, signal)][0].nodeid, value)

    async def stop(self) -> None:
        if self.server is not None and self.running:
            self.running = False
            await self.server.stop()


class _ModbusServer:
    def __init__(self, endpoint: EndpointSpec, port: int):
        self.endpoint = endpoint
        self.port = port
        self.server: ModbusTcpServer | None = None
        self.signals: dict[tuple[str, str], tuple[int, SignalSpec]] = {}
        for code, eq in endpoint.equipment.items():
            for spec in eq.signals.values():
                self.signals[(code, spec.name)] = (eq.unit if eq.unit is not None else 1, spec)
        # What was written, so a restarted server shows the machine's last values again.
        self._written: dict[tuple[int, str, int], list] = {}

    def _devices(self) -> list[SimDevice]:
        units = sorted({unit for unit, _ in self.signals.values()})
        return [
            SimDevice(
                id=unit,
                simdata=(
                    [SimData(0, count=UNIT_BITS, values=False, datatype=DataType.BITS)],
                    [SimData(0, count=UNIT_BITS, values=False, datatype=DataType.BITS)],
                    [SimData(0, count=UNIT_REGISTERS, values=0, datatype=DataType.REGISTERS)],
                    [SimData(0, count=UNIT_REGISTERS, values=0, datatype=DataType.REGISTERS)],
                ),
            )
            for unit in units
        ]

    async def start(self) -> None:
        server = ModbusTcpServer(self._devices(), address=("127.0.0.1", self.port))
        await server.serve_forever(background=True)
        self.port = server.transport.sockets[0].getsockname()[1]
        self.server = server
        # A restarted server keeps what the machine last showed (its memory survives).
        for (unit, table, address), words in list(self._written.items()):
            await self._poke(unit, table, address, words)

    async def _poke(self, unit: int, table: str, address: int, words: list) -> None:
        if self.server is not None:
            await self.server.context.async_setValues(unit, _WRITE_CODE[table], address, words)

    async def write(self, code: str, signal: str, raw) -> None:
        unit, spec = self.signals[(code, signal)]
        if spec.table in BIT_TABLES:
            words = [bool(raw)]
        else:
            words = encode(raw, spec.data_type, spec.word_order)
        await self.registers_write(unit, spec.table, spec.address, words)

    async def registers_write(self, unit: int, table: str, address: int, words: list) -> None:
        """Set raw registers or bits (tests: a NaN float, a word that crosses)."""
        self._written[(unit, table, address)] = list(words)
        await self._poke(unit, table, address, list(words))

    async def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await server.shutdown()


@dataclass
class PlantSimulator:
    """Servers for every endpoint of a device map, and a model per machine to move them."""

    device_map: DeviceMap
    speed: float = 1.0
    seed: int | None = None
    tick: float = 0.2  # seconds of wall time between model steps
    model: bool = True  # False: values change only through set()
    ports: dict[str, int] = field(default_factory=dict)  # endpoint name → port (0: any free)
    machines: dict[str, MachineModel] = field(default_factory=dict)
    # OPC UA servers also offer Basic256Sha256 Sign / SignAndEncrypt with this certificate
    # and private key (files); None offers only the policy None.
    certificate: tuple | None = None

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.servers: dict[str, _OpcUaServer | _ModbusServer] = {}
        self._task: asyncio.Task | None = None
        for ep in self.device_map.endpoints:
            port = self.ports.get(
                ep.name, ep.port if ep.protocol == "modbus" else _url_port(ep.url)
            )
            if ep.protocol == "opcua":
                server = _OpcUaServer(ep, port, self.certificate)
            else:
                server = _ModbusServer(ep, port)
            self.servers[ep.name] = server
            for code in ep.equipment:
                rate, scrap, rpm = MACHINES.get(code, (60.0, 0.01, 3000.0))
                self.machines.setdefault(
                    code, MachineModel(code=code, rate_per_hour=rate, scrap=scrap, spindle_rpm=rpm)
                )

    def endpoint(self, name: str) -> EndpointSpec:
        """The map's endpoint with the port this simulator actually serves it on."""
        server = self.servers[name]
        ep = server.endpoint
        if ep.protocol == "modbus":
            return replace(ep, host="127.0.0.1", port=server.port)
        return replace(ep, url=f"opc.tcp://127.0.0.1:{server.port}/")

    def served_map(self) -> DeviceMap:
        return DeviceMap(endpoints=[self.endpoint(ep.name) for ep in self.device_map.endpoints])

    async def start(self) -> None:
        for name in self.servers:
            await self.endpoint_start(name)
        await self.publish()
        if self.model:
            self._task = asyncio.create_task(self._run(), name="plant-simulator")

    async def endpoint_start(self, name: str) -> None:
        server = self.servers[name]
        await server.start()
        self.ports[name] = server.port
        log.info("simulating %s (%s) on 127.0.0.1:%s", name, server.endpoint.protocol, server.port)

    async def endpoint_stop(self, name: str) -> None:
        await self.servers[name].stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for server in self.servers.values():
            with contextlib.suppress(Exception):
                await server.stop()

    async def set(self, code: str, signal: str, raw) -> None:
        """Put a raw value on a machine's signal (on whichever endpoint serves it)."""
        for server in self.servers.values():
            if code in server.endpoint.equipment:
                await server.write(code, signal, raw)
                return
        raise KeyError(code)

    async def publish(self) -> None:
        """Write every machine's current values to its server."""
        for server in self.servers.values():
            if server.server is None:
                continue
            for code, eq in server.endpoint.equipment.items():
                model = self.machines[code]
                for spec in eq.signals.values():
                    raw = _raw_for(spec, model)
                    if raw is not None:
                        await server.write(code, spec.name, raw)

    def advance(self, seconds: float) -> None:
        """Step every machine's model through `seconds` of simulated time."""
        for code in sorted(self.machines):
            self.machines[code].step(seconds, self.rng)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            self.advance(self.tick * self.speed)
            try:
                await self.publish()
            except Exception:  # a write to a server being restarted: the next tick writes again
                log.exception("simulator: publishing values failed")


def _url_port(url: str) -> int:
    return urlparse(url).port or 4840


class SimulatorThread:
    """A simulator on an event loop of its own thread (tests, benches): OPC UA servers take
    seconds to build their address space, so one is built per test session and shared."""

    def __init__(self, sim: PlantSimulator):
        self.sim = sim
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="simulator", daemon=True)

    def start(self, timeout: float = 120) -> SimulatorThread:
        self.thread.start()
        self.call(self.sim.start(), timeout=timeout)
        return self

    def call(self, coro, timeout: float = 10):
        """Run a coroutine on the simulator's loop and wait for its result (sync callers)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def acall(self, coro):
        """The same from another event loop (a test's), without blocking it."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call(self.sim.stop())

        async def _cancel_rest():
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.call(_cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()
