"""The demo plant's device map: the simulated machines (`manage.py simulate_devices`) wired
to the demo equipment, so `make run` has live machine data out of the box.

Loads devices/demo/device_map.json through the device map service, as `devices_load` would.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from ..engines.devicemap import DeviceMap, device_map_parse
from ..models import Endpoint, Signal
from ..services.devicemap import device_map_load

DEVICE_MAP_FILE = Path(__file__).with_name("device_map.json")


def device_map_demo() -> DeviceMap:
    return device_map_parse(json.loads(DEVICE_MAP_FILE.read_text(encoding="utf-8")))


@transaction.atomic
def load(*, logins: list) -> str:
    """Load the demo map through the map service (as `devices_load` does): idempotent, and a
    second load writes nothing."""
    device_map_load(data=json.loads(DEVICE_MAP_FILE.read_text(encoding="utf-8")))
    return f"{Endpoint.objects.count()} device endpoints, {Signal.objects.count()} signals"


def history_load() -> str:
    """The last week of the linked machines' shifts (devices/demo/history.py)."""
    from .history import history_load as play

    return play()
