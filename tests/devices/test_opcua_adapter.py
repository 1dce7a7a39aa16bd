"""The OPC UA adapter against a real asyncua server on loopback (the simulator's, shared by
the tests of a worker: see conftest.py; each test has machines of its own)."""

import asyncio
import contextlib
import logging
import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from asyncua import Client, ua

from devices.adapters.opcua import MalformedValue, OpcUaAdapter, number_of
from devices.engines.devicemap import EndpointSpec

from .servers import FAST, device_map, opcua_map, run, until, values


class Feed:
    def __init__(self):
        self.samples = []
        self.links = []


def endpoint_for(plant, *codes, **changes) -> EndpointSpec:
    """The shared server's endpoint, limited to `codes` (so tests do not see each other)."""
    ep = plant.sim.endpoint("opc")
    return replace(ep, equipment={c: ep.equipment[c] for c in codes}, **changes)


def adapter_for(plant, *codes, feed, **kwargs) -> OpcUaAdapter:
    return OpcUaAdapter(
        endpoint_for(plant, *codes),
        on_samples=feed.samples.extend,
        on_link=feed.links.append,
        backoff=FAST,
        watchdog_seconds=0.2,
        **kwargs,
    )


async def reset(plant, code, **raw):
    for signal in ("state", "part_count", "good_count", "temperature", "fault"):
        await plant.acall(plant.sim.set(code, signal, raw.get(signal, 0)))


@contextlib.asynccontextmanager
async def running(adapter):
    task = asyncio.create_task(adapter.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_values_arrive_by_subscription_with_the_servers_source_timestamp(opc_plant):
    async def scenario():
        await reset(opc_plant, "OPC-A", part_count=1)
        feed = Feed()
        adapter = adapter_for(opc_plant, "OPC-A", feed=feed)
        async with running(adapter):
            await until(lambda: values(feed.samples, "OPC-A", "part_count") == [1])
            stamp = datetime(2026, 12, 9, 1, 2, 3, 456000, tzinfo=UTC)
            server = opc_plant.sim.servers["opc"]
            value = ua.DataValue(ua.Variant(41, ua.VariantType.UInt32), SourceTimestamp=stamp)
            await opc_plant.acall(server.value_write("OPC-A", "part_count", value))
            await opc_plant.acall(opc_plant.sim.set("OPC-A", "state", 1))
            await opc_plant.acall(opc_plant.sim.set("OPC-A", "fault", True))
            await opc_plant.acall(opc_plant.sim.set("OPC-A", "temperature", 61.5))
            await until(lambda: 41 in values(feed.samples, "OPC-A", "part_count"))
            await until(lambda: 61.5 in values(feed.samples, "OPC-A", "temperature"))
            await until(lambda: 1 in values(feed.samples, "OPC-A", "fault"))
        assert adapter.polling == []  # everything by subscription
        (sample,) = [s for s in feed.samples if s.signal == "part_count" and s.raw == 41]
        assert sample.at == stamp  # the server's source timestamp, not the gateway's clock
        assert values(feed.samples, "OPC-A", "state")[-1] == 1
        assert values(feed.samples, "OPC-A", "fault") == [0, 1]  # booleans as 1/0
        assert [c.connected for c in feed.links] == [True]

    run(scenario())


def test_polling_when_the_server_refuses_subscriptions(opc_plant, monkeypatch, caplog):
    async def refuse(self, *args, **kwargs):
        raise ua.uaerrors.BadTooManySubscriptions()

    monkeypatch.setattr(Client, "create_subscription", refuse)

    async def scenario():
        await reset(opc_plant, "OPC-B")
        feed = Feed()
        adapter = adapter_for(opc_plant, "OPC-B", feed=feed)
        async with running(adapter):
            await until(lambda: values(feed.samples, "OPC-B", "part_count") == [0])
            await opc_plant.acall(opc_plant.sim.set("OPC-B", "part_count", 5))
            await until(lambda: 5 in values(feed.samples, "OPC-B", "part_count"))
            await asyncio.sleep(0.3)  # several polls of values that did not change
        assert len(adapter.polling) == 5
        # An unchanged value (same value, same source timestamp) is not a new sample.
        assert values(feed.samples, "OPC-B", "part_count") == [0, 5]
        assert values(feed.samples, "OPC-B", "state") == [0]

    with caplog.at_level(logging.WARNING, logger="devices.adapters"):
        run(scenario())
    assert "subscription refused" in caplog.text


def test_a_server_stopped_and_restarted_goes_down_and_up_without_duplicated_samples(opc_plant):
    async def scenario():
        await reset(opc_plant, "OPC-C", part_count=10)
        feed = Feed()
        async with running(adapter_for(opc_plant, "OPC-C", feed=feed)):
            await until(lambda: 10 in values(feed.samples, "OPC-C", "part_count"))
            await opc_plant.acall(opc_plant.sim.endpoint_stop("opc"))
            await until(lambda: len(feed.links) == 2, what="link down")
            await asyncio.sleep(0.4)  # failed reconnects: no further LinkChange
            assert len(feed.links) == 2
            await opc_plant.acall(opc_plant.sim.endpoint_start("opc"))  # same port, same values
            await until(lambda: len(feed.links) == 3, what="link up")
            await opc_plant.acall(opc_plant.sim.set("OPC-C", "part_count", 11))
            await until(lambda: 11 in values(feed.samples, "OPC-C", "part_count"))
        assert [c.connected for c in feed.links] == [True, False, True]
        assert feed.links[1].equipment == ("OPC-C",) and feed.links[1].reason
        # The new subscription resends every value; those already handed on are not again.
        assert values(feed.samples, "OPC-C", "part_count") == [10, 11]
        keys = [(s.signal, s.raw, s.at) for s in feed.samples]
        assert len(keys) == len(set(keys))

    run(scenario())


def test_a_malformed_value_is_logged_and_skipped(opc_plant, caplog):
    async def scenario():
        await reset(opc_plant, "OPC-D")
        feed = Feed()
        adapter = adapter_for(opc_plant, "OPC-D", feed=feed)
        server = opc_plant.sim.servers["opc"]
        async with running(adapter):
            await until(lambda: values(feed.samples, "OPC-D", "temperature") == [0.0])
            now = datetime.now(UTC)
            bad_values = (
                # an array where a number belongs (a PLC tag mapped to the wrong variable)
                ua.DataValue(ua.Variant([1.0, 2.0], ua.VariantType.Double), SourceTimestamp=now),
                ua.DataValue(ua.Variant(math.nan), SourceTimestamp=now),
                # a value the server flags bad (a broken sensor)
                ua.DataValue(
                    ua.Variant(20.0),
                    StatusCode=ua.StatusCode(ua.StatusCodes.BadSensorFailure),
                    SourceTimestamp=now,
                ),
            )
            for value in bad_values:
                await opc_plant.acall(server.value_write("OPC-D", "temperature", value))
                await asyncio.sleep(0.15)
            await opc_plant.acall(opc_plant.sim.set("OPC-D", "part_count", 3))
            await until(lambda: 3 in values(feed.samples, "OPC-D", "part_count"))
            await opc_plant.acall(opc_plant.sim.set("OPC-D", "temperature", 55.0))
            await until(lambda: 55.0 in values(feed.samples, "OPC-D", "temperature"))
        assert values(feed.samples, "OPC-D", "temperature") == [0.0, 55.0]
        assert adapter.skipped == 3
        assert [c.connected for c in feed.links] == [True]

    with caplog.at_level(logging.WARNING, logger="devices.adapters"):
        run(scenario())
    assert "OPC-D.temperature" in caplog.text
    assert "list [1.0, 2.0] is not a number" in caplog.text
    assert "nan is not a reading" in caplog.text and "BadSensorFailure" in caplog.text


def test_an_unknown_node_is_logged_and_the_rest_keep_coming(opc_plant, caplog):
    async def scenario():
        await reset(opc_plant, "OPC-E")
        ep = endpoint_for(opc_plant, "OPC-E")
        spec = device_map(
            {**opcua_map("OPC-E"), "url": ep.url}
            | {
                "equipment": {
                    "OPC-E": {
                        "part_count": {"node": "ns=2;s=OPC-E.PartCount"},
                        "pressure": {"node": "ns=2;s=OPC-E.NoSuchNode"},
                    }
                }
            }
        ).endpoints[0]
        feed = Feed()
        adapter = OpcUaAdapter(
            spec, on_samples=feed.samples.extend, on_link=feed.links.append, backoff=FAST
        )
        async with running(adapter):
            await opc_plant.acall(opc_plant.sim.set("OPC-E", "part_count", 8))
            await until(lambda: 8 in values(feed.samples, "OPC-E", "part_count"))
        assert values(feed.samples, "OPC-E", "pressure") == []
        assert adapter.skipped == 1

    with caplog.at_level(logging.WARNING, logger="devices.adapters"):
        run(scenario())
    assert "OPC-E.pressure: node ns=2;s=OPC-E.NoSuchNode is unknown" in caplog.text


def test_number_of():
    assert number_of(True) == 1 and number_of(False) == 0
    assert number_of(7) == 7 and number_of(2.5) == 2.5
    for bad in (None, "1", [1, 2], math.inf, math.nan, b"\x01"):
        with pytest.raises(MalformedValue):
            number_of(bad)


def test_read_once_reads_every_node(opc_plant):
    async def scenario():
        await reset(opc_plant, "OPC-F", good_count=4)
        await reset(opc_plant, "OPC-G")
        adapter = OpcUaAdapter(endpoint_for(opc_plant, "OPC-F", "OPC-G"), on_samples=print)
        samples = await adapter.read_once()
        assert len(samples) == 10
        assert values(samples, "OPC-F", "good_count") == [4]

    run(scenario())


@pytest.mark.parametrize("mode", ["Sign", "SignAndEncrypt"])
def test_basic256sha256_with_certificate_files(opc_plant, certificates, mode):
    """The client presents the certificate and key files the endpoint's security dict names
    and checks the server against its certificate file; the channel is Basic256Sha256."""
    cert, key = certificates["client"]
    security = {
        "policy": "Basic256Sha256",
        "mode": mode,
        "certificate": str(cert),
        "private_key": str(key),
        "server_certificate": str(certificates["server"][0]),
        "application_uri": certificates["client_uri"],
    }

    async def scenario():
        await reset(opc_plant, "OPC-H", part_count=77)
        url = opc_plant.sim.endpoint("opc").url
        raw = opcua_map("OPC-H") | {"url": url, "security": security}
        ep = device_map(raw).endpoints[0]
        adapter = OpcUaAdapter(ep, on_samples=print)
        client, _lost = await adapter._connect()
        try:
            assert client.security_policy.URI.endswith("#Basic256Sha256")
            assert client.security_policy.Mode == getattr(ua.MessageSecurityMode, mode)
        finally:
            await client.disconnect()
        samples = await adapter.read_once()
        assert values(samples, "OPC-H", "part_count") == [77]

    run(scenario())
