"""Writes of the device map: load a whole map (file, API), save one endpoint (API), export.

A load is atomic and idempotent. The file is checked first by the pure parser
(`devices.engines.devicemap`), then against the database (every equipment code must exist in
resources); any bad entry raises `DeviceMapError` naming its path and nothing is written.
Then only the rows that differ are written, so loading the same map twice writes nothing, not
even history rows. A changed map updates endpoints, links and signals in place and removes
what the file no longer names. A machine that stays linked keeps its `since` and its counter
totals (counted totals run "since the map linked the machine"); a machine the map drops loses
its link, its signals and its counters, so that linking it again starts a fresh count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from resources.models import Equipment

from ..engines.devicemap import (
    BIT_TABLES,
    TYPE_WORDS,
    DeviceMap,
    DeviceMapError,
    EndpointSpec,
    SignalSpec,
    device_map_parse,
)
from ..models import Counter, Endpoint, EquipmentLink, Signal

ENDPOINT_FIELDS = (
    "protocol",
    "url",
    "host",
    "port",
    "security",
    "publishing_ms",
    "poll_ms",
    "timeout_ms",
    "enabled",
)
SIGNAL_FIELDS = (
    "node",
    "table",
    "address",
    "data_type",
    "word_order",
    "scale",
    "offset",
    "state_map",
)


@dataclass
class LoadSummary:
    """What a load changed: names of what was added, changed and removed, by kind."""

    added: dict[str, list[str]] = field(
        default_factory=lambda: {"endpoints": [], "links": [], "signals": []}
    )
    changed: dict[str, list[str]] = field(
        default_factory=lambda: {"endpoints": [], "links": [], "signals": []}
    )
    removed: dict[str, list[str]] = field(
        default_factory=lambda: {"endpoints": [], "links": [], "signals": [], "counters": []}
    )
    endpoints: int = 0
    links: int = 0
    signals: int = 0

    @property
    def unchanged(self) -> bool:
        return not any(
            names for part in (self.added, self.changed, self.removed) for names in part.values()
        )

    def as_dict(self) -> dict:
        return {
            "endpoints": self.endpoints,
            "links": self.links,
            "signals": self.signals,
            "unchanged": self.unchanged,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
        }

    def lines(self) -> list[str]:
        """The summary as a person reads it (the command prints these)."""
        out = [
            f"device map: {self.endpoints} endpoints, {self.links} machines, "
            f"{self.signals} signals" + (" (nothing changed)" if self.unchanged else "")
        ]
        for verb, part in (("added", self.added), ("changed", self.changed)):
            for kind, names in part.items():
                if names:
                    out.append(f"{verb} {len(names)} {kind}: {', '.join(names)}")
        for kind, names in self.removed.items():
            if names:
                what = (
                    "counters (their totals start again if relinked)"
                    if kind == "counters"
                    else kind
                )
                out.append(f"removed {len(names)} {what}: {', '.join(names)}")
        return out


def _equipment_check(
    device_map: DeviceMap,
    prefix: str = "endpoints",
    *,
    single: bool = False,
    endpoint: Endpoint | None = None,
) -> dict[str, Equipment]:
    """Every equipment code of the map must exist. For one endpoint saved on its own
    (`single`), a machine must not be served by another endpoint already (a whole map moves
    machines between its endpoints freely). Returns {code: Equipment}."""
    codes = device_map.equipment_codes()
    known = {eq.code: eq for eq in Equipment.objects.filter(code__in=codes)}
    taken = {}
    if single:
        others = EquipmentLink.objects.filter(equipment__code__in=codes)
        if endpoint is not None:
            others = others.exclude(endpoint=endpoint)
        taken = dict(others.values_list("equipment__code", "endpoint__name"))
    errors = []
    for i, ep in enumerate(device_map.endpoints):
        at = f"{prefix}[{i}]" if prefix else ""
        for code in ep.equipment:
            path = f"{at}.equipment.{code}" if at else f"equipment.{code}"
            if code not in known:
                errors.append((path, f"no equipment {code} in the plant's equipment list"))
            elif code in taken:
                errors.append((path, f"{code} is already served by endpoint {taken[code]}"))
    if errors:
        raise DeviceMapError(errors)
    return known


def _differs(obj, values: dict) -> bool:
    return any(getattr(obj, name) != value for name, value in values.items())


def _signal_values(spec: SignalSpec) -> dict:
    return {name: getattr(spec, name) for name in SIGNAL_FIELDS}


def _endpoint_values(spec: EndpointSpec) -> dict:
    return {name: getattr(spec, name) for name in ENDPOINT_FIELDS}


def _endpoint_apply(
    spec: EndpointSpec,
    endpoint: Endpoint | None,
    equipment: dict[str, Equipment],
    links_by_code: dict[str, EquipmentLink],
    summary: LoadSummary,
    *,
    now,
    by,
) -> Endpoint:
    """Write one endpoint, its links and signals: only what differs. `links_by_code` holds
    every existing link of the machines named (whichever endpoint served them)."""
    values = _endpoint_values(spec)
    touched = False
    if endpoint is None:
        endpoint = Endpoint(name=spec.name, **values)
        summary.added["endpoints"].append(spec.name)
        touched = True
    elif endpoint.name != spec.name or _differs(endpoint, values):
        for name, value in values.items():
            setattr(endpoint, name, value)
        endpoint.name = spec.name
        summary.changed["endpoints"].append(spec.name)
        touched = True
    if endpoint.pk is None:
        endpoint.loaded_at = now
        endpoint._history_user = by
        endpoint.save()
    # Links and signals.
    current = {link.equipment.code: link for link in endpoint.links.select_related("equipment")}
    for code, eq_spec in spec.equipment.items():
        link = links_by_code.get(code)
        unit = eq_spec.unit
        if link is None:
            link = EquipmentLink(endpoint=endpoint, equipment=equipment[code], unit=unit, since=now)
            link._history_user = by
            link.save()
            summary.added["links"].append(code)
            touched = True
            existing_signals = {}
        else:
            if link.endpoint_id != endpoint.pk or link.unit != unit:
                link.endpoint = endpoint
                link.unit = unit
                link._history_user = by
                link.save()
                summary.changed["links"].append(code)
                touched = True
            existing_signals = {s.name: s for s in link.signals.all()}
        for name, sig_spec in eq_spec.signals.items():
            sig_values = _signal_values(sig_spec)
            signal = existing_signals.pop(name, None)
            label = f"{code}.{name}"
            if signal is None:
                signal = Signal(link=link, name=name, **sig_values)
                summary.added["signals"].append(label)
            elif _differs(signal, sig_values):
                for attr, value in sig_values.items():
                    setattr(signal, attr, value)
                summary.changed["signals"].append(label)
            else:
                continue
            signal._history_user = by
            signal.save()
            touched = True
        for name, signal in existing_signals.items():
            signal._history_user = by
            signal.delete()
            summary.removed["signals"].append(f"{code}.{name}")
            touched = True
        # A counter whose signal the map no longer names stops; its total goes with it.
        dropped = Counter.objects.filter(equipment=equipment[code]).exclude(
            signal__in=list(eq_spec.signals)
        )
        for counter in dropped:
            summary.removed["counters"].append(f"{code}.{counter.signal}")
        dropped.delete()
        current.pop(code, None)
    for code, link in current.items():
        # No longer named here; a machine the map names under another endpoint moves there
        # when that endpoint is applied (keeping its `since` and counters).
        if code not in links_by_code:
            _link_remove(link, summary, by=by)
            touched = True
    if touched and endpoint.loaded_at != now:
        endpoint.loaded_at = now
        endpoint._history_user = by
        endpoint.save()
    summary.endpoints += 1
    summary.links += len(spec.equipment)
    summary.signals += sum(len(eq.signals) for eq in spec.equipment.values())
    return endpoint


def _link_remove(link: EquipmentLink, summary: LoadSummary, *, by) -> None:
    code = link.equipment.code
    for signal in link.signals.all():
        signal._history_user = by
        signal.delete()
    counters = Counter.objects.filter(equipment_id=link.equipment_id)
    summary.removed["counters"] += [f"{code}.{c.signal}" for c in counters]
    counters.delete()
    link._history_user = by
    link.delete()
    summary.removed["links"].append(code)


def device_map_load(*, data, by=None) -> LoadSummary:
    """Load a whole device map (decoded JSON/YAML): check it, then write only what differs
    and remove what it no longer names, in one transaction. Raises DeviceMapError (nothing
    written) naming every bad entry by its path."""
    device_map = device_map_parse(data)
    summary = LoadSummary()
    now = timezone.now()
    with transaction.atomic():
        equipment = _equipment_check(device_map)
        # Lock the map's endpoints so two loads at once apply one after the other.
        existing = {ep.name: ep for ep in Endpoint.objects.select_for_update().order_by("pk")}
        links_by_code = {
            link.equipment.code: link
            for link in EquipmentLink.objects.select_related("equipment").filter(
                equipment__code__in=list(equipment)
            )
        }
        named = {spec.name for spec in device_map.endpoints}
        dropped = [ep for name, ep in existing.items() if name not in named]
        # The machines of dropped endpoints that the map no longer names at all go now; the
        # ones it names elsewhere move to their new endpoint below.
        for endpoint in dropped:
            for link in endpoint.links.select_related("equipment"):
                if link.equipment.code not in links_by_code:
                    _link_remove(link, summary, by=by)
        for spec in device_map.endpoints:
            _endpoint_apply(
                spec, existing.get(spec.name), equipment, links_by_code, summary, now=now, by=by
            )
        for endpoint in dropped:  # emptied by now: the delete cascades to nothing
            summary.removed["endpoints"].append(endpoint.name)
            endpoint._history_user = by
            endpoint.delete()
    return summary


def endpoint_save(*, data, endpoint: Endpoint | None = None, by=None) -> Endpoint:
    """Create or replace one endpoint from its entry in the map's format (the API's writes).
    Errors name paths inside the entry (`equipment.CNC-02.part_count.address`)."""
    try:
        device_map = device_map_parse({"endpoints": [data]})
    except DeviceMapError as exc:
        raise DeviceMapError(
            [(p.removeprefix("endpoints[0]").lstrip(".") or "endpoint", m) for p, m in exc.errors]
        ) from None
    spec = device_map.endpoints[0]
    now = timezone.now()
    with transaction.atomic():
        if endpoint is not None:
            endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        clash = Endpoint.objects.filter(name=spec.name)
        if endpoint is not None:
            clash = clash.exclude(pk=endpoint.pk)
        if clash.exists():
            raise DeviceMapError([("name", f"an endpoint named {spec.name!r} exists already")])
        equipment = _equipment_check(device_map, prefix="", single=True, endpoint=endpoint)
        links_by_code = {
            link.equipment.code: link
            for link in EquipmentLink.objects.select_related("equipment").filter(
                equipment__code__in=list(equipment)
            )
        }
        return _endpoint_apply(
            spec, endpoint, equipment, links_by_code, LoadSummary(), now=now, by=by
        )


def endpoint_delete(*, endpoint: Endpoint, by=None) -> None:
    """Remove an endpoint, its machines' links, signals and counters."""
    summary = LoadSummary()
    with transaction.atomic():
        for link in endpoint.links.select_related("equipment"):
            _link_remove(link, summary, by=by)
        endpoint._history_user = by
        endpoint.delete()


def link_delete(*, link: EquipmentLink, by=None) -> None:
    """Unlink a machine: its signals and counters go with the link (a machine linked again
    later starts counting from its new controller's first reading, not from the old one's)."""
    with transaction.atomic():
        _link_remove(link, LoadSummary(), by=by)


def _signal_export(signal: Signal, protocol: str) -> dict:
    out: dict = {}
    if protocol == "opcua":
        out["node"] = signal.node
    else:
        out["table"] = signal.table
        out["address"] = signal.address
        if signal.table not in BIT_TABLES:
            out["type"] = signal.data_type or "uint16"
            if TYPE_WORDS.get(signal.data_type, 1) > 1 or signal.word_order != "big":
                out["word_order"] = signal.word_order
    if signal.scale != 1.0:
        out["scale"] = signal.scale
    if signal.offset != 0.0:
        out["offset"] = signal.offset
    if signal.state_map:
        out["map"] = dict(signal.state_map)
    return out


def endpoint_export(endpoint: Endpoint) -> dict:
    """One endpoint in the file's format (links and signals prefetched or not)."""
    out: dict = {"name": endpoint.name, "protocol": endpoint.protocol}
    if endpoint.protocol == "opcua":
        out["url"] = endpoint.url
        out["security"] = dict(endpoint.security)
    else:
        out["host"] = endpoint.host
        out["port"] = endpoint.port
    out["publishing_ms"] = endpoint.publishing_ms
    out["poll_ms"] = endpoint.poll_ms
    out["timeout_ms"] = endpoint.timeout_ms
    out["enabled"] = endpoint.enabled
    machines: dict = {}
    for link in sorted(endpoint.links.all(), key=lambda lk: lk.equipment.code):
        entry: dict = {}
        if endpoint.protocol == "modbus":
            entry["unit"] = link.unit if link.unit is not None else 1
        for signal in sorted(link.signals.all(), key=lambda s: s.name):
            entry[signal.name] = _signal_export(signal, endpoint.protocol)
        machines[link.equipment.code] = entry
    out["equipment"] = machines
    return out


def device_map_export() -> dict:
    """The whole device map in the file's format: `device_map_load(data=device_map_export())`
    changes nothing."""
    endpoints = Endpoint.objects.prefetch_related("links__equipment", "links__signals").order_by(
        "name"
    )
    return {"endpoints": [endpoint_export(ep) for ep in endpoints]}
