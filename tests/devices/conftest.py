"""Device servers shared by the device tests of one pytest worker.

An asyncua server spends seconds building the standard address space, so one simulated
OPC UA server (on a free port, on its own thread's event loop) serves every OPC UA test of
the worker; each test uses machines of its own and sets the values it relies on.
"""

import socket

import pytest
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID

from devices.adapters.simulator import APPLICATION_URI, PlantSimulator, SimulatorThread

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
