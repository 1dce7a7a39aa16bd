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


def _changes(obj, values: dict) -> list[str]:
    """Set on `obj` the values that differ; return their names (none: nothing to save, so a
    second load writes nothing, not even a history entry)."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _rows_write(device_map: DeviceMap) -> None:
    now = timezone.now()
    equipment = {e.code: e for e in Equipment.objects.filter(code__in=device_map.equipment_codes())}
    for ep in device_map.endpoints:
        values = {
            "protocol": ep.protocol,
            "url": ep.url,
            "host": ep.host,
            "port": ep.port,
            "security": ep.security,
            "publishing_ms": ep.publishing_ms,
            "poll_ms": ep.poll_ms,
            "timeout_ms": ep.timeout_ms,
            "enabled": ep.enabled,
        }
        endpoint = Endpoint.objects.filter(name=ep.name).first()
        if endpoint is None:
            endpoint = Endpoint.objects.create(name=ep.name, loaded_at=now, **values)
        elif changed := _changes(endpoint, values):
            endpoint.loaded_at = now
            endpoint.save(update_fields=[*changed, "loaded_at"])
        for code, eq in ep.equipment.items():
            if code not in equipment:
                continue
            link = EquipmentLink.objects.filter(equipment=equipment[code]).first()
            if link is None:
                link = EquipmentLink.objects.create(
                    equipment=equipment[code], endpoint=endpoint, unit=eq.unit, since=now
                )
            elif changed := _changes(link, {"endpoint": endpoint, "unit": eq.unit}):
                link.save(update_fields=changed)
            for spec in eq.signals.values():
                values = {
                    "node": spec.node,
                    "table": spec.table,
                    "address": spec.address,
                    "data_type": spec.data_type,
                    "word_order": spec.word_order,
                    "scale": spec.scale,
                    "offset": spec.offset,
                    "state_map": spec.state_map,
                }
                signal = Signal.objects.filter(link=link, name=spec.name).first()
                if signal is None:
                    Signal.objects.create(link=link, name=spec.name, **values)
                elif changed := _changes(signal, values):
                    signal.save(update_fields=changed)


@transaction.atomic
def load(*, logins: list) -> str:
    _rows_write(device_map_demo())
    return f"{Endpoint.objects.count()} device endpoints, {Signal.objects.count()} signals"
