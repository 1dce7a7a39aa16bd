"""The demo plant's device map: the simulated machines (`manage.py simulate_devices`) wired
to the demo equipment, so `make run` has live machine data out of the box.

Writes the endpoint, link and signal rows of devices/demo/device_map.json from the parsed
map (idempotent: keyed on endpoint name, equipment code and signal name). When the device map
service (`devices_load`) lands, this should call it instead of writing rows itself.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from resources.models import Equipment

from ..engines.devicemap import DeviceMap, device_map_parse
from ..models import Endpoint, EquipmentLink, Signal

DEVICE_MAP_FILE = Path(__file__).with_name("device_map.json")


def device_map_demo() -> DeviceMap:
    return device_map_parse(json.loads(DEVICE_MAP_FILE.read_text(encoding="utf-8")))


def _rows_write(device_map: DeviceMap) -> None:
    now = timezone.now()
    equipment = {e.code: e for e in Equipment.objects.filter(code__in=device_map.equipment_codes())}
    for ep in device_map.endpoints:
        endpoint, _ = Endpoint.objects.update_or_create(
            name=ep.name,
            defaults={
                "protocol": ep.protocol,
                "url": ep.url,
                "host": ep.host,
                "port": ep.port,
                "security": ep.security,
                "publishing_ms": ep.publishing_ms,
                "poll_ms": ep.poll_ms,
                "timeout_ms": ep.timeout_ms,
                "enabled": ep.enabled,
                "loaded_at": now,
            },
        )
        for code, eq in ep.equipment.items():
            if code not in equipment:
                continue
            link, created = EquipmentLink.objects.update_or_create(
                equipment=equipment[code], defaults={"endpoint": endpoint, "unit": eq.unit}
            )
            if created or link.since is None:
                link.since = now
                link.save(update_fields=["since"])
            for spec in eq.signals.values():
                Signal.objects.update_or_create(
                    link=link,
                    name=spec.name,
                    defaults={
                        "node": spec.node,
                        "table": spec.table,
                        "address": spec.address,
                        "data_type": spec.data_type,
                        "word_order": spec.word_order,
                        "scale": spec.scale,
                        "offset": spec.offset,
                        "state_map": spec.state_map,
                    },
                )


@transaction.atomic
def load(*, logins: list) -> str:
    _rows_write(device_map_demo())
    return f"{Endpoint.objects.count()} device endpoints, {Signal.objects.count()} signals"
