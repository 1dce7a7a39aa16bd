"""Reads of the device map: the database's endpoints, links and signals as plain specs."""

from __future__ import annotations

from django.db.models import Prefetch

from ..engines.devicemap import DeviceMap, EndpointSpec, EquipmentSpec, SignalSpec
from ..models import Endpoint, EquipmentLink, Signal


def device_map_from_db(*, names: list[str] | None = None, enabled_only: bool = True) -> DeviceMap:
    """The device map as stored (admin, `devices_load`), as the adapters take it.

    Three queries whatever the size of the map. `names` limits it to those endpoints.
    """
    endpoints = Endpoint.objects.prefetch_related(
        Prefetch(
            "links",
            queryset=EquipmentLink.objects.select_related("equipment").prefetch_related(
                Prefetch("signals", queryset=Signal.objects.order_by("name"))
            ),
        )
    ).order_by("name")
    if enabled_only:
        endpoints = endpoints.filter(enabled=True)
    if names:
        endpoints = endpoints.filter(name__in=names)
    specs = []
    for ep in endpoints:
        equipment = {}
        for link in ep.links.all():
            signals = {
                sig.name: SignalSpec(
                    name=sig.name,
                    node=sig.node,
                    table=sig.table,
                    address=sig.address,
                    data_type=sig.data_type,
                    word_order=sig.word_order or "big",
                    scale=sig.scale,
                    offset=sig.offset,
                    state_map={str(k): v for k, v in (sig.state_map or {}).items()},
                )
                for sig in link.signals.all()
            }
            equipment[link.equipment.code] = EquipmentSpec(
                code=link.equipment.code, unit=link.unit, signals=signals
            )
        specs.append(
            EndpointSpec(
                name=ep.name,
                protocol=ep.protocol,
                url=ep.url,
                host=ep.host,
                port=ep.port,
                security=dict(ep.security or {}),
                publishing_ms=ep.publishing_ms,
                poll_ms=ep.poll_ms,
                timeout_ms=ep.timeout_ms,
                enabled=ep.enabled,
                equipment=equipment,
            )
        )
    return DeviceMap(endpoints=specs)


def endpoint_link_states(*, names: list[str] | None = None) -> dict[str, bool]:
    """Per endpoint, whether its machines were last recorded connected (all of them)."""
    states: dict[str, bool] = {}
    rows = EquipmentLink.objects.values_list("endpoint__name", "connected")
    if names:
        rows = rows.filter(endpoint__name__in=names)
    for name, connected in rows:
        states[name] = states.get(name, True) and connected
    return states
