"""Protocol clients of the device gateway: OPC UA (asyncua) and Modbus TCP (pymodbus).

Why a folder of its own: these are neither engines (they do I/O on the network) nor services
(they write nothing). They are asyncio code that talks to machines and hands plain
`Sample`/`LinkChange` objects (devices/engines/samples.py) to a callback, with no Django
import, so the same adapter runs inside the long-lived gateway process
(`manage.py run_device_gateway`), inside a Celery task's one-shot poll and inside tests
against real servers on loopback. The machine simulator (`simulator.py`) lives here too: it
is the servers' side of the same protocols.
"""
