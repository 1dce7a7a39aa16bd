"""The Modbus adapter against a real pymodbus server on loopback (the simulator's)."""

import asyncio
import contextlib
import logging
from datetime import UTC

from devices.adapters.modbus import ModbusAdapter
from devices.adapters.simulator import PlantSimulator
from devices.engines.registers import encode

from .servers import FAST, device_map, modbus_map, run, until, values


class Feed:
    def __init__(self):
        self.samples = []
        self.links = []


async def started(*endpoints, units=None):
    dm = device_map(*endpoints)
    sim = PlantSimulator(dm, model=False, ports={ep.name: 0 for ep in dm.endpoints})
    await sim.start()
    return sim


def adapter_on(sim, name, feed, **kwargs):
    return ModbusAdapter(
        sim.endpoint(name),
        on_samples=feed.samples.extend,
        on_link=feed.links.append,
        backoff=FAST,
        **kwargs,
    )


@contextlib.asynccontextmanager
async def running(adapter):
    task = asyncio.create_task(adapter.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_values_arrive_in_one_request_per_block_with_utc_timestamps():
    async def scenario():
        sim = await started(modbus_map())
        feed = Feed()
        try:
            await sim.set("CNC-02", "state", 1)
            await sim.set("CNC-02", "part_count", 1234)
            await sim.set("CNC-02", "spindle_speed", 11800)
            await sim.set("CNC-02", "temperature", -123)  # raw; ×0.1 is the ingest's job
            await sim.set("CNC-02", "good_count", 1200)
            await sim.set("CNC-02", "cycle_time", 30.5)
            await sim.set("CNC-02", "fault", 1)
            adapter = adapter_on(sim, "mb", feed)
            async with running(adapter):
                await until(lambda: len(values(feed.samples, "CNC-02", "fault")) >= 2)
            last = {(s.equipment, s.signal): s.raw for s in feed.samples}
            assert last == {
                ("CNC-02", "state"): 1,
                ("CNC-02", "part_count"): 1234,
                ("CNC-02", "spindle_speed"): 11800,
                ("CNC-02", "temperature"): -123,
                ("CNC-02", "good_count"): 1200,
                ("CNC-02", "cycle_time"): 30.5,
                ("CNC-02", "fault"): 1,
            }
            assert all(
                s.at.tzinfo is not None and s.at.utcoffset() == UTC.utcoffset(None)
                for s in feed.samples
            )
            assert all(s.endpoint == "mb" for s in feed.samples)
            # Three tables (holding 0-5, input 0-1, coil 0): three requests per poll.
            polls = len(values(feed.samples, "CNC-02", "fault"))
            assert adapter.requests in (3 * polls, 3 * polls + 1, 3 * polls + 2)
            assert [c.connected for c in feed.links] == [True]
        finally:
            await sim.stop()

    run(scenario())


def test_a_32_bit_counter_crossing_its_low_word_is_read_right():
    async def scenario():
        sim = await started(modbus_map())
        feed = Feed()
        try:
            async with running(adapter_on(sim, "mb", feed)):
                for count in (65534, 65535, 65536, 65537, 131072):
                    await sim.set("CNC-02", "part_count", count)
                    await until(lambda c=count: c in values(feed.samples, "CNC-02", "part_count"))
            seen = values(feed.samples, "CNC-02", "part_count")
            # Only the values written, in order: never a torn 0, 65535+65536 or 131071.
            assert {65534, 65535, 65536, 65537, 131072} <= set(seen)
            assert set(seen) <= {0, 65534, 65535, 65536, 65537, 131072}
            assert seen == sorted(seen)
        finally:
            await sim.stop()

    run(scenario())


def test_a_server_stopped_and_restarted_goes_down_once_and_up_once_without_duplicates():
    async def scenario():
        sim = await started(modbus_map())
        feed = Feed()
        try:
            await sim.set("CNC-02", "part_count", 10)
            async with running(adapter_on(sim, "mb", feed)):
                await until(lambda: 10 in values(feed.samples, "CNC-02", "part_count"))
                await sim.endpoint_stop("mb")
                await until(lambda: len(feed.links) == 2, what="link down")
                during = len(feed.samples)
                await asyncio.sleep(0.5)  # several failed reconnects: still one LinkChange
                assert len(feed.links) == 2 and len(feed.samples) == during
                await sim.endpoint_start("mb")  # same port, the machine kept its count
                await sim.set("CNC-02", "part_count", 11)
                await until(
                    lambda: 11 in values(feed.samples, "CNC-02", "part_count"), what="up again"
                )
            assert [(c.connected, c.equipment) for c in feed.links] == [
                (True, ("CNC-02",)),
                (False, ("CNC-02",)),
                (True, ("CNC-02",)),
            ]
            assert "ConnectionLost" in feed.links[1].reason or feed.links[1].reason
            stamps = [(s.signal, s.at) for s in feed.samples]
            assert len(stamps) == len(set(stamps)), "a sample was handed on twice"
            counts = values(feed.samples, "CNC-02", "part_count")
            assert set(counts) == {10, 11} and counts == sorted(counts)
        finally:
            await sim.stop()

    run(scenario())


def test_a_malformed_value_and_a_refused_block_are_logged_and_skipped(caplog):
    endpoint = modbus_map()
    # A block the device refuses (its memory ends at register 255): the others still arrive.
    endpoint["equipment"]["CNC-02"]["beyond"] = {"table": "holding", "address": 400}

    async def scenario():
        sim = await started(endpoint)
        feed = Feed()
        try:
            await sim.set("CNC-02", "part_count", 7)
            srv = sim.servers["mb"]
            await srv.registers_write(2, "input", 0, [0x7FC0, 0x0000])  # float32 NaN
            adapter = adapter_on(sim, "mb", feed)
            async with running(adapter):
                await until(lambda: len(values(feed.samples, "CNC-02", "part_count")) >= 3)
                await srv.registers_write(2, "input", 0, encode(12.5, "float32"))
                await until(lambda: 12.5 in values(feed.samples, "CNC-02", "cycle_time"))
            assert values(feed.samples, "CNC-02", "cycle_time") and all(
                v == 12.5 for v in values(feed.samples, "CNC-02", "cycle_time")
            )
            assert values(feed.samples, "CNC-02", "beyond") == []
            assert adapter.skipped >= 6
            assert [c.connected for c in feed.links] == [True]
        finally:
            await sim.stop()

    with caplog.at_level(logging.WARNING, logger="devices.adapters"):
        run(scenario())
    text = caplog.text
    assert "CNC-02.cycle_time at input 0" in text and "not a reading" in text
    assert "holding 400+1: device answered" in text


def test_one_endpoint_down_does_not_stop_another():
    async def scenario():
        sim = await started(modbus_map("a", {"CNC-02": 2}), modbus_map("b", {"INJ-01": 4}))
        fa, fb = Feed(), Feed()
        try:
            await sim.set("INJ-01", "part_count", 5)
            await sim.endpoint_stop("a")
            async with running(adapter_on(sim, "a", fa)), running(adapter_on(sim, "b", fb)):
                await until(lambda: len(values(fb.samples, "INJ-01", "part_count")) >= 3)
                await until(lambda: fa.links)
            assert [c.connected for c in fa.links] == [False] and fa.samples == []
            assert [c.connected for c in fb.links] == [True]
        finally:
            await sim.stop()

    run(scenario())


def test_read_once_reads_every_signal_once():
    async def scenario():
        sim = await started(modbus_map())
        try:
            await sim.set("CNC-02", "part_count", 99)
            adapter = ModbusAdapter(sim.endpoint("mb"), on_samples=lambda s: None)
            samples = await adapter.read_once()
            assert sorted(s.signal for s in samples) == sorted(
                [
                    "state",
                    "part_count",
                    "spindle_speed",
                    "temperature",
                    "good_count",
                    "cycle_time",
                    "fault",
                ]
            )
            assert values(samples, "CNC-02", "part_count") == [99]
            await sim.endpoint_stop("mb")
            try:
                await adapter.read_once()
            except Exception as exc:
                assert "no answer" in str(exc) or exc
            else:
                raise AssertionError("a stopped server must not answer")
        finally:
            await sim.stop()

    run(scenario())
