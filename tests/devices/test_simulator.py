"""The machine simulator: its model (rates, stops, faults, seeds), the demo map it serves,
`simulate_devices` as a process, and the demo loader that wires it to the demo equipment."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from devices.adapters.modbus import ModbusAdapter
from devices.adapters.opcua import OpcUaAdapter
from devices.adapters.simulator import MachineModel, PlantSimulator
from devices.demo import device_map_demo

from .servers import run


def _history(seed, hours=24, step=1.0):
    sim = PlantSimulator(device_map_demo(), seed=seed)
    states = {code: set() for code in sim.machines}
    for _ in range(int(hours * 3600 / step)):
        sim.advance(step)
        for code, m in sim.machines.items():
            states[code].add(m.state)
    return sim, states


def test_the_same_seed_gives_the_same_history():
    a, _ = _history(7, hours=2)
    b, _ = _history(7, hours=2)
    c, _ = _history(8, hours=2)
    snapshot = lambda sim: {  # noqa: E731
        code: (m.state, m.part_count, m.good_count, round(m.temperature, 6))
        for code, m in sim.machines.items()
    }
    assert snapshot(a) == snapshot(b)
    assert snapshot(a) != snapshot(c)


def test_counts_rise_at_the_rated_rate_with_small_stops_and_faults_that_clear():
    sim, states = _history(3, hours=24)
    inj = sim.machines["INJ-01"]  # rated 120 an hour
    assert 0.75 * 120 * 24 <= inj.part_count <= 120 * 24
    assert inj.good_count < inj.part_count  # 3 % scrap
    assert inj.part_count - inj.good_count == pytest.approx(0.03 * inj.part_count, abs=40)
    cnc = sim.machines["CNC-01"]  # rated 5.9375 an hour: 95 a day in two shifts
    assert 0.75 * 5.9375 * 24 <= cnc.part_count <= 5.9375 * 24 + 1
    for code, seen in states.items():
        assert {"running", "stopped"} <= seen, code  # small stops everywhere
    assert any("fault" in seen for seen in states.values())
    # Every stop and fault clears by itself: after a long run each machine runs again.
    for m in sim.machines.values():
        m.state_left = min(m.state_left, 1)
    sim.advance(2)
    assert {m.state for m in sim.machines.values()} == {"running"}


def test_a_stopped_machine_neither_counts_nor_turns():
    m = MachineModel(code="X", rate_per_hour=3600, spindle_rpm=1000, state="fault", state_left=60)
    import random

    m.step(30, random.Random(1))
    assert m.part_count == 0 and m.spindle_speed == 0 and m.fault
    m.step(31, random.Random(1))
    assert m.state == "running"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.integration
def test_simulate_devices_serves_the_demo_map_and_stops_on_sigterm():
    """`manage.py simulate_devices` on free ports: every signal of the demo device map reads
    over the network with the layout the map says, the state as a code of the map."""
    opc_port, mb_port = _free_port(), _free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "simulate_devices",
            "--opcua-port",
            str(opc_port),
            "--modbus-port",
            str(mb_port),
            "--speed",
            "60",
            "--seed",
            "1",
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60  # Django, then the OPC UA address space: seconds
        while sum("simulating" in line for line in lines) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            lines.append(proc.stdout.readline())
        dm = device_map_demo()
        opc = replace(dm.endpoints[0], url=f"opc.tcp://127.0.0.1:{opc_port}")
        mb = replace(dm.endpoints[1], port=mb_port)

        async def read():
            return (
                await OpcUaAdapter(opc, on_samples=print).read_once(),
                await ModbusAdapter(mb, on_samples=print).read_once(),
            )

        opc_samples, mb_samples = run(read())
        expected = {
            (code, name)
            for ep in (opc, mb)
            for code, eq in ep.equipment.items()
            for name in eq.signals
        }
        assert {(s.equipment, s.signal) for s in opc_samples + mb_samples} == expected
        for s in opc_samples + mb_samples:
            if s.signal == "state":
                assert str(s.raw) in ("0", "1", "2", "3", "4")
            if s.signal == "temperature" and s.endpoint == mb.name:
                assert 150 <= s.raw <= 700  # tenths of a degree, as the map's scale 0.1 says
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "simulator stopped" in out


@pytest.mark.django_db
def test_the_demo_loads_the_device_map_that_the_simulator_serves(demo_plant):
    from devices import demo
    from devices.models import Signal
    from devices.selectors.devicemap import device_map_from_db

    def by_name(dm):
        return {ep.name: ep for ep in dm.endpoints}

    assert by_name(device_map_from_db()) == by_name(device_map_demo())
    signals = Signal.objects.count()
    demo.load(logins=[])  # again: nothing new
    assert Signal.objects.count() == signals
    assert by_name(device_map_from_db()) == by_name(device_map_demo())
