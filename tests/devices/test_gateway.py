"""The gateway: batching, store-and-forward (spool and replay), the one-shot poll, the beat
task's guard and `run_device_gateway` (stops on SIGTERM)."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, connections

from devices.adapters.simulator import PlantSimulator, SimulatorThread
from devices.engines.devicemap import device_map_parse
from devices.engines.samples import LinkChange, Sample
from devices.gateway.batch import Batch
from devices.gateway.runner import Gateway, read_pass
from devices.gateway.sinks import django_sink, ingest_sink
from devices.gateway.spool import Forwarder, Spool, SpoolBusy
from devices.models import Telemetry

from .servers import FAST, device_map, modbus_map, run, until

AT = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)


def sample(i, signal="part_count", equipment="CNC-02"):
    return Sample(endpoint="mb", equipment=equipment, signal=signal, raw=i, at=AT)


class Sink:
    """Records what it accepts, idempotent per batch id as samples_ingest is; `down` makes it
    fail the way a database that went away does."""

    def __init__(self):
        self.accepted: dict[str, tuple[list, list]] = {}
        self.order: list[str] = []
        self.calls = 0
        self.down = False
        self.lock = threading.Lock()

    def __call__(self, samples, changes, batch_id):
        with self.lock:
            self.calls += 1
            if self.down:
                raise OperationalError("could not connect to server: Connection refused")
            if batch_id in self.accepted:
                return 0
            self.accepted[batch_id] = (list(samples), list(changes))
            self.order.append(batch_id)
            return len(samples)

    def samples(self):
        return [s for bid in self.order for s in self.accepted[bid][0]]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def spool(tmp_path):
    s = Spool(tmp_path / "spool")
    yield s
    s.close()


def test_the_spool_keeps_order_and_totals_while_the_database_is_away(spool):
    sink, clock = Sink(), Clock()
    fwd = Forwarder(sink, spool, clock=clock, transient=(OperationalError,))
    assert fwd.deliver(Batch([sample(1)])) == "sent"
    sink.down = True
    assert fwd.deliver(Batch([sample(2)])) == "spooled"
    assert fwd.deliver(Batch([sample(3), sample(4)])) == "spooled"
    sink.down = False
    # While the spool is not empty a new batch goes behind it, even with the sink back: the
    # retry waits for its backoff, so this one is spooled, not sent ahead of 2, 3, 4.
    assert fwd.deliver(Batch([sample(5)])) == "spooled"
    assert [s.raw for s in sink.samples()] == [1]
    assert spool.count() == 3
    clock.now += 61
    assert fwd.replay() == 3
    assert spool.empty() and spool.size() == 0
    assert [s.raw for s in sink.samples()] == [1, 2, 3, 4, 5]
    assert fwd.replay(force=True) == 0  # a second replay finds nothing: nothing doubled
    assert [s.raw for s in sink.samples()] == [1, 2, 3, 4, 5]


def test_a_replay_interrupted_by_the_database_resumes_where_it_stopped(spool):
    sink, clock = Sink(), Clock()
    fwd = Forwarder(sink, spool, clock=clock, transient=(OperationalError,))
    sink.down = True
    for i in range(4):
        fwd.deliver(Batch([sample(i)]))
    sink.down = False
    real = sink.__call__

    def flaky(samples, changes, batch_id, _n=[0]):  # noqa: B006 - a counter across calls
        _n[0] += 1
        if _n[0] == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(samples, changes, batch_id)

    fwd.sink = flaky
    assert fwd.replay(force=True) == 2
    assert spool.count() == 2 and fwd.retry_at > clock.now
    assert fwd.replay() == 0  # backing off
    clock.now = fwd.retry_at
    assert fwd.replay() == 2
    assert [s.raw for s in sink.samples()] == [0, 1, 2, 3]


def test_a_crash_after_the_sink_accepted_but_before_the_spool_knew_changes_nothing(tmp_path):
    """The sink committed batch 1, then the process died before recording it: the next
    process replays batch 1 again, and the sink's batch id makes that a no-op."""
    sink = Sink()
    first = Spool(tmp_path / "s")
    fwd = Forwarder(sink, first, transient=(OperationalError,))
    sink.down = True
    fwd.deliver(Batch([sample(1)]))
    fwd.deliver(Batch([sample(2)]))
    sink.down = False
    (offset, batch), *_ = list(first.pending())
    sink(batch.samples, batch.changes, batch.id)  # accepted … and the crash: no ack
    first.close()
    again = Spool(tmp_path / "s")
    try:
        fwd = Forwarder(sink, again, transient=(OperationalError,))
        assert fwd.replay(force=True) == 2
        assert [s.raw for s in sink.samples()] == [1, 2]
        assert fwd.replay(force=True) == 0
    finally:
        again.close()


def test_two_owners_of_one_spool_are_refused(tmp_path):
    one = Spool(tmp_path / "s")
    try:
        with pytest.raises(SpoolBusy):
            Spool(tmp_path / "s")
    finally:
        one.close()


def test_a_half_written_batch_is_cut_and_a_refused_batch_is_kept_aside(tmp_path, caplog):
    directory = tmp_path / "s"
    directory.mkdir()
    good = Batch([sample(1)], [LinkChange("mb", ("CNC-02",), False, AT, "timeout")])
    (directory / "batches.jsonl").write_text(good.to_line() + "\n" + good.to_line()[:20])
    spool = Spool(directory)
    try:
        assert [b.id for _, b in spool.pending()] == [good.id]
        ((_, back),) = spool.pending()
        assert back.samples == good.samples and back.changes == good.changes

        def refuses(samples, changes, batch_id):
            raise ValueError("unknown equipment")

        fwd = Forwarder(refuses, spool, transient=(OperationalError,))
        assert fwd.replay(force=True) == 1  # off the spool (it would fail for ever) …
        assert spool.empty() and fwd.rejected == 1
        kept = (directory / "rejected.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in kept] == [good.id]  # … but kept
    finally:
        spool.close()
    assert "half-written" in caplog.text


def test_the_gateway_spools_while_the_sink_fails_and_replays_exact_totals(tmp_path):
    """Modbus machine counting, the database away for a while, then back: every sample the
    adapter read reaches the sink once, in order."""
    sink = Sink()

    async def scenario():
        dm = device_map(modbus_map(poll_ms=20))
        sim = PlantSimulator(dm, model=False, ports={"mb": 0})
        await sim.start()
        spool = Spool(tmp_path / "spool")
        fwd = Forwarder(sink, spool, transient=(OperationalError,), backoff=FAST)
        gateway = Gateway([sim.endpoint("mb")], forwarder=fwd, flush_ms=30, replay_seconds=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            for count in range(1, 6):
                await sim.set("CNC-02", "part_count", count)
                await asyncio.sleep(0.06)
            sink.down = True
            for count in range(6, 11):
                await sim.set("CNC-02", "part_count", count)
                await asyncio.sleep(0.06)
            await until(lambda: fwd.spooled >= 3, what="batches spooled")
            sink.down = False
            for count in range(11, 13):
                await sim.set("CNC-02", "part_count", count)
                await asyncio.sleep(0.06)
            await until(lambda: spool.empty(), what="spool replayed")
        finally:
            stop.set()
            await task
            await sim.stop()
            spool.close()
        return gateway, fwd

    gateway, fwd = run(scenario())
    got = sink.samples()
    assert len(got) == gateway.samples  # every sample read, once
    counts = [s.raw for s in got if s.signal == "part_count"]
    assert set(range(1, 13)) <= set(counts) and counts == sorted(counts)
    stamps = [(s.signal, s.at) for s in got]
    assert len(stamps) == len(set(stamps))
    assert fwd.spooled >= 3 and fwd.rejected == 0
    assert [c.connected for bid in sink.order for c in sink.accepted[bid][1]] == [True]


def test_the_gateway_flushes_what_it_has_when_stopped(tmp_path):
    sink = Sink()

    async def scenario():
        dm = device_map(modbus_map(poll_ms=20))
        sim = PlantSimulator(dm, model=False, ports={"mb": 0})
        await sim.start()
        spool = Spool(tmp_path / "spool")
        # A batch every 10 s: only the stop can flush the samples read so far.
        gateway = Gateway(
            [sim.endpoint("mb")],
            forwarder=Forwarder(sink, spool, transient=(OperationalError,)),
            flush_ms=10_000,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        await asyncio.sleep(0.3)
        stop.set()
        await task
        await sim.stop()
        spool.close()
        return gateway

    gateway = run(scenario())
    assert gateway.samples > 0 and len(sink.samples()) == gateway.samples


def test_a_read_pass_reports_a_dead_endpoint_and_reads_the_others():
    async def scenario():
        dm = device_map(modbus_map("a", {"CNC-02": 2}), modbus_map("b", {"INJ-01": 4}))
        sim = PlantSimulator(dm, model=False, ports={"a": 0, "b": 0})
        await sim.start()
        try:
            await sim.set("INJ-01", "part_count", 3)
            a, b = sim.endpoint("a"), sim.endpoint("b")
            await sim.endpoint_stop("a")
            batch = await read_pass([a, b], known={"a": True, "b": True})
            assert {s.equipment for s in batch.samples} == {"INJ-01"}
            assert [(c.endpoint, c.connected) for c in batch.changes] == [("a", False)]
            batch = await read_pass([a, b], known={"a": True, "b": True})
            assert batch.changes == []  # still down: reported once
            await sim.endpoint_start("a")
            batch = await read_pass([a, b])
            assert [(c.endpoint, c.connected) for c in batch.changes] == [("a", True)]
        finally:
            await sim.stop()

    run(scenario())


# --- With the database --------------------------------------------------------------------


def _map_rows(data: dict):
    """The device map's rows, as devices_load writes them (the machines made first)."""
    from devices.services.devicemap import device_map_load
    from tests.factories import EquipmentFactory

    for code in device_map_parse(data).equipment_codes():
        EquipmentFactory(code=code)
    device_map_load(data=data)


@pytest.fixture
def modbus_plant():
    sim = PlantSimulator(
        device_map(modbus_map("line-mb", {"CNC-02": 2, "INJ-01": 4})),
        model=False,
        ports={"line-mb": 0},
    )
    thread = SimulatorThread(sim).start()
    yield thread
    thread.stop()


def _served_map_data(plant) -> dict:
    """The map with the simulator's real port, as a file would give it."""
    return {
        "endpoints": [
            modbus_map("line-mb", {"CNC-02": 2, "INJ-01": 4}) | {"port": plant.sim.ports["line-mb"]}
        ]
    }


def _served_map(plant):
    """The same map, parsed."""
    return device_map_parse(_served_map_data(plant))


@pytest.mark.django_db
def test_the_map_from_the_database_is_the_map_loaded(modbus_plant):
    from devices.selectors.devicemap import device_map_from_db

    dm = _served_map(modbus_plant)
    _map_rows(_served_map_data(modbus_plant))
    assert device_map_from_db() == dm
    assert device_map_from_db(names=["nope"]).endpoints == []


@pytest.mark.django_db
def test_run_device_gateway_once_writes_telemetry(modbus_plant, settings, tmp_path, capsys):
    settings.DEVICES_SPOOL_DIR = tmp_path / "spool"
    _map_rows(_served_map_data(modbus_plant))
    modbus_plant.call(modbus_plant.sim.set("CNC-02", "part_count", 70000))
    modbus_plant.call(modbus_plant.sim.set("INJ-01", "temperature", 2105))
    call_command("run_device_gateway", "--once")
    assert "14 samples from 1 endpoints: sent" in capsys.readouterr().out
    rows = {
        (t.equipment.code, t.signal): t.value for t in Telemetry.objects.select_related("equipment")
    }
    assert rows[("CNC-02", "part_count")] == 70000
    assert rows[("INJ-01", "temperature")] == pytest.approx(210.5)  # raw × scale 0.1


@pytest.mark.django_db
def test_the_beat_poll_reads_every_endpoint_and_never_overlaps(modbus_plant, settings, tmp_path):
    from devices.tasks import devices_poll, poll_guard

    settings.DEVICES_SPOOL_DIR = tmp_path / "spool"
    _map_rows(_served_map_data(modbus_plant))
    assert devices_poll() == "14 samples: sent"
    assert Telemetry.objects.count() == 14
    with poll_guard() as allowed:
        assert allowed
        assert devices_poll() == "skipped"  # a poll still running: this one does nothing
    assert Telemetry.objects.count() == 14


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_run_device_gateway_stops_cleanly_on_sigterm(modbus_plant, tmp_path):
    """The gateway as a process: serves the map, forwards, and on SIGTERM flushes and exits 0."""
    _map_rows(_served_map_data(modbus_plant))
    modbus_plant.call(modbus_plant.sim.set("CNC-02", "part_count", 12))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEVICES_SPOOL_DIR": str(tmp_path / "spool"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_device_gateway"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 40  # Django starts in seconds; more on a loaded machine
        while not Telemetry.objects.filter(signal="part_count", value=12).exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"the gateway wrote nothing: {proc.communicate()[0]}")
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "device gateway: serving line-mb" in out
    assert "device gateway stopped:" in out and "0 batches waiting in the spool" in out


class _Proxy:
    """A TCP relay to PostgreSQL that the test can cut (the database "unreachable") and
    restore on the same port."""

    def __init__(self, target):
        self.target = target
        self.port = _free_port()
        self.socks: list[socket.socket] = []
        self.listener = None
        self.up()

    def up(self):
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def down(self):
        # shutdown() first: a bare close() does not wake the thread blocked in accept(), and
        # the port would go on accepting.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.socks.clear()


@pytest.mark.postgres
@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgresql_unreachable_spools_and_replays_exact_totals(modbus_plant, tmp_path):
    """The gateway's sink thread reaches PostgreSQL through a relay; the relay is cut (every
    connection dropped, new ones refused) and restored: the samples read meanwhile are
    spooled, then replayed in order, and the telemetry holds each sample exactly once."""
    _map_rows(_served_map_data(modbus_plant))
    settings_dict = connections.settings["default"]
    proxy = _Proxy((settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432)))
    original_port = settings_dict["PORT"]
    sent_to_sink = []
    ports = set()

    def counting_sink(samples, changes, batch_id):
        from django.db import connection as thread_connection

        result = ingest_sink(samples, changes, batch_id)
        ports.add(thread_connection.connection.info.port)
        sent_to_sink.append(batch_id)
        return result

    async def scenario():
        spool = Spool(tmp_path / "spool")
        fwd = Forwarder(django_sink(counting_sink), spool, backoff=FAST)
        endpoint = _served_map(modbus_plant).endpoints[0]
        from dataclasses import replace

        gateway = Gateway(
            [replace(endpoint, poll_ms=50)], forwarder=fwd, flush_ms=50, replay_seconds=0.1
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            for count in range(1, 4):
                await modbus_plant.acall(modbus_plant.sim.set("CNC-02", "part_count", count))
                await asyncio.sleep(0.1)
            await until(lambda: len(sent_to_sink) >= 2, what="first batches written")
            proxy.down()
            for count in range(4, 8):
                await modbus_plant.acall(modbus_plant.sim.set("CNC-02", "part_count", count))
                await asyncio.sleep(0.1)
            await until(lambda: fwd.spooled >= 3, what="batches spooled")
            proxy.up()
            await until(lambda: spool.empty(), what="spool replayed")
        finally:
            stop.set()
            await task
            spool.close()
        return gateway, fwd

    # The sink thread makes its own connection, through the relay.
    settings_dict["PORT"] = str(proxy.port)
    try:
        gateway, fwd = run(scenario())
    finally:
        settings_dict["PORT"] = original_port
        proxy.down()
    rows = list(
        Telemetry.objects.filter(equipment__code="CNC-02", signal="part_count").order_by("at", "id")
    )
    counts = [r.value for r in rows]
    assert set(range(1, 8)) <= set(counts) and counts == sorted(counts)
    assert (
        Telemetry.objects.count() == gateway.samples
    )  # every sample once: none lost, none doubled
    assert fwd.spooled >= 3 and fwd.rejected == 0
    assert ports == {proxy.port}  # the sink went through the relay, not around it
