"""The device map file: parse and check it, naming every bad entry by its path.

The file format is part of the public interface (docs/devices.md)::

    {"endpoints": [
      {"name": "line1-opc", "protocol": "opcua", "url": "opc.tcp://127.0.0.1:4840",
       "security": {"policy": "None", "mode": "None"}, "publishing_ms": 500,
       "equipment": {"CNC-01": {"state": {"node": "ns=2;s=CNC-01.State", "map": {...}}, ...}}},
      {"name": "line1-modbus", "protocol": "modbus", "host": "127.0.0.1", "port": 5020,
       "poll_ms": 1000,
       "equipment": {"CNC-02": {"unit": 2,
          "part_count": {"table": "holding", "address": 1, "type": "uint32",
                         "word_order": "little"}, ...}}}]}

Pure: plain data in, frozen dataclasses out, no Django. Errors are collected (not the first
only) as (path, message) pairs, e.g. ``endpoints[1].equipment.CNC-02.part_count.address``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlparse

PROTOCOLS = ("opcua", "modbus")
TABLES = ("holding", "input", "coil", "discrete")
REGISTER_TABLES = ("holding", "input")
BIT_TABLES = ("coil", "discrete")
TYPES = ("uint16", "int16", "uint32", "int32", "float32")
WORD_ORDERS = ("big", "little")
# Words (16-bit registers) each type occupies.
TYPE_WORDS = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2}
# The range a counter of each type wraps at (float32 counters do not wrap).
TYPE_MODULUS = {"uint16": 1 << 16, "int16": 1 << 16, "uint32": 1 << 32, "int32": 1 << 32}
# Machine states a state map may name (ISA-95 equipment states, as the OEE board shows them).
STATES = ("running", "idle", "stopped", "fault", "maintenance")
# Signals with a meaning to ClosedLoop; any other name is kept as plain telemetry.
COUNTERS = ("part_count", "good_count")
KNOWN_SIGNALS = ("state", "part_count", "good_count", "spindle_speed", "temperature", "fault")
SECURITY_POLICIES = ("None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss")
SECURITY_MODES = ("None", "Sign", "SignAndEncrypt")
# Keys of an equipment entry that are not signals.
EQUIPMENT_KEYS = ("unit",)
MODBUS_UNIT_MAX = 247


@dataclass(frozen=True)
class SignalSpec:
    """One value read from a machine: an OPC UA node or a Modbus register/bit."""

    name: str
    node: str = ""  # OPC UA node id, e.g. "ns=2;s=CNC-01.State"
    table: str = ""  # Modbus: holding, input, coil, discrete
    address: int | None = None  # Modbus: 0-based register or bit address
    data_type: str = ""  # Modbus registers: uint16 … float32 (bits: "")
    word_order: str = "big"  # Modbus 32-bit values: which word comes first
    scale: float = 1.0  # engineering value = raw × scale + offset
    offset: float = 0.0
    state_map: dict[str, str] = field(default_factory=dict)  # raw value (as text) → state

    @property
    def words(self) -> int:
        """Registers this signal occupies (bits: 1)."""
        return TYPE_WORDS.get(self.data_type, 1)

    @property
    def modulus(self) -> int | None:
        """The range a counter on this signal wraps at; None where it does not wrap."""
        if self.table in BIT_TABLES:
            return None
        if self.node:  # OPC UA counters: UInt32 unless the server says otherwise
            return 1 << 32
        return TYPE_MODULUS.get(self.data_type or "uint16")


@dataclass(frozen=True)
class EquipmentSpec:
    """The signals of one machine on one endpoint (and its Modbus unit id)."""

    code: str
    unit: int | None = None
    signals: dict[str, SignalSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointSpec:
    """One connection to a machine or PLC: an OPC UA server or a Modbus TCP device."""

    name: str
    protocol: str
    url: str = ""
    host: str = ""
    port: int | None = None
    security: dict = field(default_factory=dict)
    publishing_ms: int = 500
    poll_ms: int = 1000
    timeout_ms: int = 3000
    enabled: bool = True
    equipment: dict[str, EquipmentSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceMap:
    endpoints: list[EndpointSpec]

    def equipment_codes(self) -> list[str]:
        return [code for ep in self.endpoints for code in ep.equipment]


class DeviceMapError(ValueError):
    """A device map with bad entries; `errors` lists (path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))


def _int(raw, path: str, errors: list, *, low: int | None = None, high: int | None = None):
    if isinstance(raw, bool) or not isinstance(raw, int):
        errors.append((path, f"must be a whole number, not {raw!r}"))
        return None
    if (low is not None and raw < low) or (high is not None and raw > high):
        errors.append((path, f"must be between {low} and {high}, not {raw}"))
        return None
    return raw


def _number(raw, path: str, errors: list, default: float) -> float:
    if raw is None:
        return default
    try:
        value = (
            None if isinstance(raw, bool) else float(raw) if isinstance(raw, int | float) else None
        )
    except OverflowError:  # a whole number past any float
        value = None
    if value is None or not math.isfinite(value):
        errors.append((path, f"must be a finite number, not {raw!r}"))
        return default
    return value


def _state_map(raw, path: str, errors: list) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        errors.append((path, "must be an object of raw value → state"))
        return {}
    out = {}
    for key, state in raw.items():
        if state not in STATES:
            errors.append(
                (f"{path}.{key}", f"unknown state {state!r} (one of {', '.join(STATES)})")
            )
        else:
            out[str(key)] = state
    return out


def _signal(name: str, raw, path: str, protocol: str, errors: list) -> SignalSpec | None:
    if not isinstance(raw, dict):
        errors.append((path, "must be an object"))
        return None
    state_map = _state_map(raw.get("map"), f"{path}.map", errors)
    scale = _number(raw.get("scale"), f"{path}.scale", errors, 1.0)
    offset = _number(raw.get("offset"), f"{path}.offset", errors, 0.0)
    if protocol == "opcua":
        node = raw.get("node")
        if not isinstance(node, str) or not node.strip():
            errors.append(
                (f"{path}.node", "an OPC UA signal names its node id, e.g. ns=2;s=CNC-01.State")
            )
            return None
        if "=" not in node:
            errors.append((f"{path}.node", f"{node!r} is not an OPC UA node id (ns=…;s=… or i=…)"))
            return None
        return SignalSpec(
            name=name, node=node.strip(), scale=scale, offset=offset, state_map=state_map
        )
    table = raw.get("table")
    if table not in TABLES:
        errors.append((f"{path}.table", f"must be one of {', '.join(TABLES)}, not {table!r}"))
        table = None
    if "address" not in raw:
        errors.append((f"{path}.address", "a Modbus signal names its address"))
        address = None
    else:
        address = _int(raw.get("address"), f"{path}.address", errors, low=0, high=65535)
    data_type = raw.get("type")
    word_order = raw.get("word_order", "big")
    if table in BIT_TABLES:
        if data_type not in (None, "bool"):
            errors.append(
                (f"{path}.type", f"a {table} is one bit: leave type out, not {data_type!r}")
            )
        data_type = ""
    else:
        data_type = data_type or "uint16"
        if data_type not in TYPES:
            errors.append((f"{path}.type", f"must be one of {', '.join(TYPES)}, not {data_type!r}"))
            data_type = "uint16"
    if word_order not in WORD_ORDERS:
        errors.append((f"{path}.word_order", f"must be big or little, not {word_order!r}"))
        word_order = "big"
    if address is not None and data_type and address + TYPE_WORDS[data_type] - 1 > 65535:
        errors.append((f"{path}.address", f"{data_type} at {address} runs past register 65535"))
    if table is None or address is None:
        return None
    return SignalSpec(
        name=name,
        table=table,
        address=address,
        data_type=data_type,
        word_order=word_order,
        scale=scale,
        offset=offset,
        state_map=state_map,
    )


def _equipment(code: str, raw, path: str, protocol: str, errors: list) -> EquipmentSpec | None:
    if not isinstance(raw, dict):
        errors.append((path, "must be an object of signals"))
        return None
    unit = None
    if protocol == "modbus":
        unit = _int(raw.get("unit", 1), f"{path}.unit", errors, low=0, high=MODBUS_UNIT_MAX)
    elif "unit" in raw:
        errors.append((f"{path}.unit", "a unit id belongs to Modbus equipment only"))
    signals = {}
    for name, sig in raw.items():
        if name in EQUIPMENT_KEYS:
            continue
        spec = _signal(name, sig, f"{path}.{name}", protocol, errors)
        if spec is not None:
            signals[name] = spec
    if "state" in signals and not signals["state"].state_map:
        errors.append((f"{path}.state.map", "a state signal maps raw values to states"))
    # Two register signals of one unit must not overlap (a typo in an address usually does).
    taken: dict[tuple[str, int], str] = {}
    for spec in signals.values():
        if protocol != "modbus":
            continue
        for word in range(spec.address, spec.address + spec.words):
            other = taken.get((spec.table, word))
            if other is not None:
                errors.append(
                    (f"{path}.{spec.name}.address", f"overlaps {other} at {spec.table} {word}")
                )
                break
            taken[(spec.table, word)] = spec.name
    return EquipmentSpec(code=code, unit=unit, signals=signals)


def _endpoint(raw, path: str, errors: list, seen_codes: dict) -> EndpointSpec | None:
    if not isinstance(raw, dict):
        errors.append((path, "must be an object"))
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append((f"{path}.name", "an endpoint has a name"))
        name = ""
    protocol = raw.get("protocol")
    if protocol not in PROTOCOLS:
        errors.append((f"{path}.protocol", f"must be opcua or modbus, not {protocol!r}"))
        return None
    url, host, port = "", "", None
    security: dict = {}
    if protocol == "opcua":
        url = raw.get("url")
        if (
            not isinstance(url, str)
            or urlparse(url).scheme != "opc.tcp"
            or not urlparse(url).hostname
        ):
            errors.append((f"{path}.url", f"must be an opc.tcp:// address, not {url!r}"))
            url = ""
        security = raw.get("security") or {"policy": "None", "mode": "None"}
        if not isinstance(security, dict):
            errors.append((f"{path}.security", "must be an object with policy and mode"))
            security = {}
        else:
            policy = security.get("policy", "None")
            mode = security.get("mode", "None")
            if policy not in SECURITY_POLICIES:
                errors.append(
                    (f"{path}.security.policy", f"must be one of {', '.join(SECURITY_POLICIES)}")
                )
            if mode not in SECURITY_MODES:
                errors.append(
                    (f"{path}.security.mode", f"must be one of {', '.join(SECURITY_MODES)}")
                )
            if (policy == "None") != (mode == "None"):
                errors.append((f"{path}.security.mode", "policy and mode are both None or neither"))
            if policy != "None":
                for key in ("certificate", "private_key"):
                    if not isinstance(security.get(key), str) or not security.get(key):
                        errors.append(
                            (f"{path}.security.{key}", f"a {policy} connection needs a {key} file")
                        )
    else:
        host = raw.get("host")
        if not isinstance(host, str) or not host.strip():
            errors.append((f"{path}.host", "a Modbus endpoint names its host"))
            host = ""
        port = _int(raw.get("port", 502), f"{path}.port", errors, low=1, high=65535)
    publishing_ms = _int(
        raw.get("publishing_ms", 500), f"{path}.publishing_ms", errors, low=10, high=3_600_000
    )
    poll_ms = _int(raw.get("poll_ms", 1000), f"{path}.poll_ms", errors, low=10, high=3_600_000)
    timeout_ms = _int(
        raw.get("timeout_ms", 3000), f"{path}.timeout_ms", errors, low=10, high=600_000
    )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        errors.append((f"{path}.enabled", "must be true or false"))
        enabled = True
    machines = raw.get("equipment")
    equipment: dict[str, EquipmentSpec] = {}
    if not isinstance(machines, dict) or not machines:
        errors.append((f"{path}.equipment", "an endpoint serves at least one equipment"))
    else:
        for code, spec in machines.items():
            epath = f"{path}.equipment.{code}"
            if code in seen_codes:
                errors.append((epath, f"{code} is already served by {seen_codes[code]}"))
                continue
            seen_codes[code] = path
            eq = _equipment(code, spec, epath, protocol, errors)
            if eq is not None:
                equipment[code] = eq
    return EndpointSpec(
        name=name,
        protocol=protocol,
        url=url,
        host=host,
        port=port,
        security=dict(security),
        publishing_ms=publishing_ms or 500,
        poll_ms=poll_ms or 1000,
        timeout_ms=timeout_ms or 3000,
        enabled=enabled,
        equipment=equipment,
    )


def device_map_parse(data) -> DeviceMap:
    """Check a device map (already decoded from JSON/YAML); raise DeviceMapError with every bad path."""
    errors: list[tuple[str, str]] = []
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise DeviceMapError([("endpoints", 'the file is an object with a list "endpoints"')])
    endpoints = []
    names: dict[str, str] = {}
    seen_codes: dict[str, str] = {}
    for i, raw in enumerate(data["endpoints"]):
        path = f"endpoints[{i}]"
        ep = _endpoint(raw, path, errors, seen_codes)
        if ep is None:
            continue
        if ep.name and ep.name in names:
            errors.append((f"{path}.name", f"{ep.name!r} is also the name of {names[ep.name]}"))
        names[ep.name] = path
        endpoints.append(ep)
    if errors:
        raise DeviceMapError(errors)
    return DeviceMap(endpoints=endpoints)
