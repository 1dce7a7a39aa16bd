"""Device servers shared by the device tests of one pytest worker, and a device map on the demo
plant's machines with the helpers the ingest tests share.

An asyncua server spends seconds building the standard address space, so one simulated
OPC UA server (on a free port, on its own thread's event loop) serves every OPC UA test of
the worker; each test uses machines of its own and sets the values it relies on.
"""

import socket
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.utils import timezone
from rest_framework.test import APIClient

from devices.adapters.simulator import APPLICATION_URI, PlantSimulator, SimulatorThread
from devices.engines.samples import LinkChange, Sample
from devices.models import Endpoint, EquipmentLink, Signal
from devices.services.ingest import samples_ingest
from execution.models import WorkAlert
from planning.models import ProductionOrder
from planning.services.orders import production_order_release
from resources.models import Equipment, Item, StockLocation
from resources.services.stock import stock_move_record

from .servers import device_map, opcua_map, run

OPC_MACHINES = ("OPC-A", "OPC-B", "OPC-C", "OPC-D", "OPC-E", "OPC-F", "OPC-G", "OPC-H")
SERVER_URI = APPLICATION_URI
CLIENT_URI = "urn:closedloop:test:gateway"


async def _certificate(directory, name, uri, use):
    key, cert = directory / f"{name}-key.pem", directory / f"{name}-cert.der"
    await setup_self_signed_certificate(
        key, cert, uri, socket.gethostname(), [use], {"commonName": name}
    )
    return cert, key


@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    """Self-signed certificates for the simulator (server) and the gateway (client)."""
    directory = tmp_path_factory.mktemp("certificates")
    server = run(_certificate(directory, "server", SERVER_URI, ExtendedKeyUsageOID.SERVER_AUTH))
    client = run(_certificate(directory, "gateway", CLIENT_URI, ExtendedKeyUsageOID.CLIENT_AUTH))
    return {"server": server, "client": client, "client_uri": CLIENT_URI}


@pytest.fixture(scope="session")
def opc_plant(certificates):
    """A simulated OPC UA server with machines OPC-A … OPC-H (values move only when set)."""
    sim = PlantSimulator(
        device_map(opcua_map(*OPC_MACHINES)),
        model=False,
        ports={"opc": 0},
        certificate=certificates["server"],
    )
    thread = SimulatorThread(sim).start()
    yield thread
    thread.stop()


STATE_MAP = {"0": "stopped", "1": "running", "2": "fault", "3": "maintenance"}


def link_machine(equipment: Equipment, endpoint: Endpoint, *, counter_type="uint32"):
    """Link a machine with the issue's signals: state, part and good counters, speed,
    temperature (× 0.1) and the fault bit."""
    link = EquipmentLink.objects.create(
        endpoint=endpoint, equipment=equipment, unit=1, since=timezone.now()
    )
    specs = [
        ("state", "holding", 0, "uint16", 1.0, STATE_MAP),
        ("part_count", "holding", 1, counter_type, 1.0, {}),
        ("spindle_speed", "holding", 3, "uint16", 1.0, {}),
        ("temperature", "holding", 4, "int16", 0.1, {}),
        ("good_count", "holding", 5, counter_type, 1.0, {}),
        ("fault", "coil", 0, "", 1.0, {}),
    ]
    for name, table, address, data_type, scale, state_map in specs:
        Signal.objects.create(
            link=link,
            name=name,
            table=table,
            address=address,
            data_type=data_type,
            scale=scale,
            state_map=state_map,
        )
    return link


@pytest.fixture
def modbus_device_map(db):
    """CNC-01 and CNC-02 on a Modbus endpoint (the demo plant must be loaded first), in place
    of the demo's own device map."""
    Endpoint.objects.all().delete()
    endpoint = Endpoint.objects.create(
        name="line1-modbus", protocol="modbus", host="127.0.0.1", port=5020
    )
    for code in ("CNC-01", "CNC-02"):
        link_machine(Equipment.objects.get(code=code), endpoint)
    return endpoint


class Feed:
    """Samples at a clock that moves a second per reading, from a minute ago."""

    def __init__(self):
        self.at = timezone.now() - timedelta(minutes=30)
        self.batches = count(1)

    def tick(self, seconds: float = 1) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at

    def sample(self, code: str, signal: str, raw, at: datetime | None = None) -> Sample:
        return Sample("line1-modbus", code, signal, raw, at or self.at)

    def send(self, *samples, changes=(), batch_id=None):
        return samples_ingest(samples=list(samples), changes=list(changes), batch_id=batch_id)

    def read(self, code: str, seconds: float = 1, batch_id=None, **values):
        """One poll of a machine: every named signal at the same instant."""
        at = self.tick(seconds)
        return self.send(
            *(self.sample(code, k, v, at) for k, v in values.items()), batch_id=batch_id
        )

    def link(self, code: str, connected: bool, seconds: float = 1):
        at = self.tick(seconds)
        return self.send(changes=[LinkChange("line1-modbus", (code,), connected, at)])


@pytest.fixture
def feed(modbus_device_map):
    return Feed()


def post(client: APIClient, body: dict):
    return client.post("/api/v1/execution/events/", body, format="json")


@pytest.fixture
def machining_on_cnc01(demo_plant, api_as):
    """MO-2026-00001 released with its bearings in stock, one block cast, machining (a step
    counted by machine in the demo) running on CNC-01 by zhangsan."""
    bearing = Item.objects.get(code="BRG-6205")
    stock_move_record(
        item=bearing,
        location=StockLocation.objects.get(code="WH-RAW"),
        lot=bearing.lots.get(),
        quantity=Decimal(20),
        kind="receipt",
    )
    order = production_order_release(order=ProductionOrder.objects.get(number="MO-2026-00001"))
    base = {"order": "MO-2026-00001"}
    wangwu, zhangsan = api_as("wangwu"), api_as("zhangsan")
    assert (
        post(wangwu, {**base, "event_id": "c1", "kind": "start", "sequence": 10}).status_code == 201
    )
    made = post(
        wangwu,
        {
            **base,
            "event_id": "c2",
            "kind": "report",
            "sequence": 10,
            "quantity_good": 1,
            "trace_code": "EB-0001",
        },
    )
    assert made.status_code == 201, made.content
    started = post(
        zhangsan, {**base, "event_id": "m1", "kind": "start", "sequence": 20, "equipment": "CNC-01"}
    )
    assert started.status_code == 201, started.content
    assert not WorkAlert.objects.exists()
    return order


@pytest.fixture
def api_as():
    from django.contrib.auth import get_user_model

    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username=username))
        return client

    return make
