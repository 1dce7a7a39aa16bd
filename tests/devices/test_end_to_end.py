"""From the machine to the floor: a real Modbus server (the simulator, on a free loopback port)
read by the beat poll's one pass (the same adapters as the gateway) into the ingest service.

The demo plant's MO-2026-00001 runs machining (a step counted by machine) on CNC-01; the
device map, loaded through the map service, puts CNC-01 (unit 1) and CNC-02 (unit 2) on one
Modbus endpoint with the issue's register layout (part_count uint32, low word first).
"""

import pytest

from devices.adapters.simulator import PlantSimulator, SimulatorThread
from devices.models import Counter, StateInterval
from devices.services.devicemap import device_map_load
from devices.tasks import devices_poll
from execution.models import ProductionEvent, Task, WorkAlert
from resources.models import Equipment

from .servers import device_map, modbus_map

UNITS = {"CNC-01": 1, "CNC-02": 2}


@pytest.fixture
def line(machining_on_cnc01, settings, tmp_path):
    """The simulator serving CNC-01 and CNC-02, and the map that points the poll at it."""
    settings.DEVICES_SPOOL_DIR = tmp_path / "spool"
    sim = PlantSimulator(
        device_map(modbus_map("line-mb", UNITS)), model=False, ports={"line-mb": 0}
    )
    thread = SimulatorThread(sim).start()
    served = modbus_map("line-mb", UNITS) | {"port": sim.ports["line-mb"]}
    device_map_load(data={"endpoints": [served]})
    yield thread
    thread.stop()


def _set(line, code: str, **values) -> None:
    for signal, raw in values.items():
        line.call(line.sim.set(code, signal, raw))


def _poll() -> str:
    outcome = devices_poll()
    assert outcome.endswith("sent"), outcome
    return outcome


def test_a_count_crossing_the_low_word_becomes_production_on_the_running_task(line):
    from tests.execution.test_board import partial, row_of, web

    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=20)
    board = web("sunqi")
    assert "20: 0<" in row_of(partial(board), task.order)
    _set(line, "CNC-01", state=1, part_count=65_530, good_count=100)
    _poll()  # the first read sets where the counters stand
    _set(
        line, "CNC-01", part_count=65_540, good_count=108
    )  # the low word wraps, the high one moves
    _poll()
    task.refresh_from_db()
    assert (task.quantity_good, task.quantity_scrap) == (8, 2)
    events = ProductionEvent.objects.filter(task=task, source=ProductionEvent.Source.DEVICE)
    assert sum(e.quantity_good for e in events) == 8 and sum(e.quantity_scrap for e in events) == 2
    assert Counter.objects.get(equipment__code="CNC-01", signal="part_count").total == 10
    assert "20: 8<" in row_of(partial(board), task.order)
    # The same reading again moves nothing.
    _poll()
    task.refresh_from_db()
    assert (task.quantity_good, task.quantity_scrap) == (8, 2)


def test_a_server_stopped_and_restarted_is_disconnected_then_recovered_without_double_count(line):
    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=20)
    _set(line, "CNC-01", state=1, part_count=10, good_count=10)
    _poll()
    _set(line, "CNC-01", part_count=15, good_count=15)
    _poll()
    line.call(line.sim.endpoint_stop("line-mb"))
    devices_poll()
    cnc01 = Equipment.objects.get(code="CNC-01")
    assert cnc01.status == Equipment.Status.DISCONNECTED
    assert StateInterval.objects.get(equipment=cnc01, end__isnull=True).state == "disconnected"
    line.call(line.sim.endpoint_start("line-mb"))
    _set(line, "CNC-01", state=1, part_count=15, good_count=15)
    _poll()
    cnc01.refresh_from_db()
    assert cnc01.status == Equipment.Status.RUNNING
    assert StateInterval.objects.get(equipment=cnc01, end__isnull=True).state == "running"
    task.refresh_from_db()
    assert task.quantity_good == 5
    assert Counter.objects.get(equipment=cnc01, signal="part_count").total == 5


def test_a_fault_raises_one_exception_with_the_backup_proposal(line):
    _set(line, "CNC-01", state=1, part_count=1, good_count=1)
    _poll()
    _set(line, "CNC-01", state=2, fault=1)
    _poll()
    _poll()  # the fault still standing raises nothing new
    alerts = WorkAlert.objects.filter(alert_type="equipment_fault", equipment__code="CNC-01")
    assert alerts.count() == 1
    alert = alerts.get()
    assert alert.raised_via == WorkAlert.RaisedVia.DEVICE
    assert [b["equipment"] for b in alert.impact["backups"]][:1] == ["CNC-02"]
    interval = StateInterval.objects.get(equipment__code="CNC-01", end__isnull=True)
    assert interval.state == "fault" and interval.alert_id == alert.pk


def test_opc_ua_subscriptions_through_the_gateway_reach_the_floor(machining_on_cnc01, tmp_path):
    """The same loop over OPC UA: a real asyncua server (the simulator) serving CNC-01 and
    CNC-02, the map loaded through the map service and read back as the gateway reads it,
    the gateway subscribed to every node (source timestamps), its batches handed to the
    ingest in the order it cut them."""
    import asyncio

    from django.db import OperationalError

    from devices.gateway.runner import Gateway
    from devices.gateway.spool import Forwarder, Spool
    from devices.models import Telemetry
    from devices.selectors.devicemap import device_map_from_db
    from devices.services.ingest import samples_ingest

    from .servers import opcua_map, run, until
    from .test_gateway import Sink

    codes = ("CNC-01", "CNC-02")
    sim = PlantSimulator(device_map(opcua_map(*codes)), model=False, ports={"opc": 0})
    thread = SimulatorThread(sim).start()
    sink = Sink()

    def seen(signal: str, raw) -> bool:
        return any(
            s.equipment == "CNC-01" and s.signal == signal and s.raw == raw for s in sink.samples()
        )

    async def put(**values):
        for signal, raw in values.items():
            await thread.acall(sim.set("CNC-01", signal, raw))

    try:
        url = f"opc.tcp://127.0.0.1:{sim.ports['opc']}/"
        device_map_load(data={"endpoints": [opcua_map(*codes) | {"url": url}]})
        (endpoint,) = device_map_from_db().endpoints
        assert endpoint.url == url

        async def scenario():
            await put(state=1, part_count=70_000, good_count=70_000, temperature=41, fault=0)
            spool = Spool(tmp_path / "spool")
            gateway = Gateway(
                [endpoint],
                forwarder=Forwarder(sink, spool, transient=(OperationalError,)),
                flush_ms=30,
            )
            stop = asyncio.Event()
            task = asyncio.create_task(gateway.run(stop))
            try:
                await until(lambda: seen("part_count", 70_000), what="initial values")
                await put(part_count=70_010, good_count=70_008, temperature=45)
                await until(lambda: seen("good_count", 70_008), what="the new counts")
                await put(fault=1, state=2)
                await until(lambda: seen("fault", 1), what="the fault bit")
            finally:
                stop.set()
                await task
                spool.close()

        run(scenario())
    finally:
        thread.stop()

    for batch_id in sink.order:
        samples, changes = sink.accepted[batch_id]
        samples_ingest(samples=samples, changes=changes, batch_id=batch_id)
    # Values arrive, with the server's timestamps, as telemetry.
    temps = Telemetry.objects.filter(equipment__code="CNC-01", signal="temperature")
    assert {t.value for t in temps} >= {41.0, 45.0}
    # The counted step got the parts: 8 good, 2 scrap, posted by the device.
    task = Task.objects.get(order__number="MO-2026-00001", operation__sequence=20)
    assert (task.quantity_good, task.quantity_scrap) == (8, 2)
    events = ProductionEvent.objects.filter(task=task, source=ProductionEvent.Source.DEVICE)
    assert sum(e.quantity_good for e in events) == 8
    # The fault: one exception, with CNC-02 proposed as the backup, and the interval.
    alert = WorkAlert.objects.get(alert_type="equipment_fault", equipment__code="CNC-01")
    assert [b["equipment"] for b in alert.impact["backups"]][:1] == ["CNC-02"]
    assert StateInterval.objects.get(equipment__code="CNC-01", end__isnull=True).state == "fault"
    # Replaying the gateway's batches changes nothing.
    for batch_id in sink.order:
        samples, changes = sink.accepted[batch_id]
        assert samples_ingest(samples=samples, changes=changes, batch_id=batch_id).duplicate
    task.refresh_from_db()
    assert (task.quantity_good, task.quantity_scrap) == (8, 2)
