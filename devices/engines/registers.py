"""Modbus registers: decode 16-bit words into numbers and plan as few reads as possible.

A Modbus device answers reads of contiguous registers (holding, input) or bits (coil,
discrete); every request costs a round trip, so the signals of one unit in one table are
grouped into blocks: neighbours share a request, a small gap is read through rather than paid
for with another round trip, and no block passes the protocol's limits (125 registers or 2000
bits per request, Modbus Application Protocol v1.1b3 §6.1-6.4).

Pure: plain data in, plain data out, no Django.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .devicemap import BIT_TABLES, TYPE_WORDS, SignalSpec

MAX_REGISTERS = 125  # per read of holding or input registers
MAX_BITS = 2000  # per read of coils or discrete inputs
# Registers (or bits) of gap read through instead of starting another request: a few unused
# words cost bytes on the wire; a second request costs a round trip.
REGISTER_GAP = 8
BIT_GAP = 64

_FORMATS = {"uint16": ">H", "int16": ">h", "uint32": ">I", "int32": ">i", "float32": ">f"}


class DecodeError(ValueError):
    """A value that cannot be a reading: NaN or infinite float, a word out of range."""


def decode(words: Sequence[int], data_type: str, word_order: str = "big") -> int | float:
    """The number `words` (16-bit registers as the device sent them) hold as `data_type`.

    Within a register the bytes are always big-endian (Modbus); `word_order` says which word
    of a 32-bit value comes first: big = high word first (Modicon convention), little = low
    word first (many PLCs, e.g. a counter whose low word is at the lower address).
    """
    count = TYPE_WORDS.get(data_type)
    if count is None:
        raise DecodeError(f"unknown type {data_type!r}")
    if len(words) != count:
        raise DecodeError(f"{data_type} needs {count} registers, got {len(words)}")
    for word in words:
        if not isinstance(word, int) or not 0 <= word <= 0xFFFF:
            raise DecodeError(f"register value {word!r} is not a 16-bit word")
    ordered = list(words) if word_order == "big" else list(reversed(words))
    raw = b"".join(w.to_bytes(2, "big") for w in ordered)
    (value,) = struct.unpack(_FORMATS[data_type], raw)
    if data_type == "float32" and not math.isfinite(value):
        raise DecodeError(f"float32 {value} is not a reading")
    return value


def encode(value: int | float, data_type: str, word_order: str = "big") -> list[int]:
    """The registers a device stores `value` in (the inverse of `decode`; the simulator's)."""
    if data_type in ("uint16", "uint32"):
        value = int(value) % (1 << (16 * TYPE_WORDS[data_type]))
    elif data_type in ("int16", "int32"):
        bits = 16 * TYPE_WORDS[data_type]
        value = (int(value) + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))
    raw = struct.pack(_FORMATS[data_type], value)
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return words if word_order == "big" else list(reversed(words))


@dataclass(frozen=True)
class ReadBlock:
    """One read request: `count` registers (or bits) of `table` from `start`, and the signals
    they carry (equipment code, signal)."""

    table: str
    start: int
    count: int
    signals: tuple[tuple[str, SignalSpec], ...]

    def values(
        self, data: Sequence[int | bool]
    ) -> tuple[dict[tuple[str, str], int | float], list[str]]:
        """Decode the answer to this request: ({(equipment, signal): raw}, [problems]).

        A signal whose value cannot be decoded is left out and named in problems, so one bad
        register never hides its neighbours.
        """
        out: dict[tuple[str, str], int | float] = {}
        problems: list[str] = []
        if len(data) < self.count:
            return out, [f"{self.table} {self.start}+{self.count}: answer has {len(data)} values"]
        for code, spec in self.signals:
            offset = spec.address - self.start
            if self.table in BIT_TABLES:
                out[(code, spec.name)] = 1 if data[offset] else 0
                continue
            try:
                out[(code, spec.name)] = decode(
                    data[offset : offset + spec.words], spec.data_type, spec.word_order
                )
            except DecodeError as exc:
                problems.append(f"{code}.{spec.name} at {self.table} {spec.address}: {exc}")
        return out, problems


def plan_reads(
    signals: Iterable[tuple[str, SignalSpec]],
    *,
    register_gap: int = REGISTER_GAP,
    bit_gap: int = BIT_GAP,
    max_registers: int = MAX_REGISTERS,
    max_bits: int = MAX_BITS,
) -> list[ReadBlock]:
    """Group the (equipment code, signal) pairs of ONE Modbus unit into read requests.

    Per table, signals are sorted by address; a signal joins the current block when the gap
    to it is at most `*_gap` and the block stays within the protocol's limit; otherwise it
    starts a new one. Blocks come out ordered by table, then address.
    """
    by_table: dict[str, list[tuple[str, SignalSpec]]] = {}
    for code, spec in signals:
        if spec.table and spec.address is not None:
            by_table.setdefault(spec.table, []).append((code, spec))
    blocks: list[ReadBlock] = []
    for table in sorted(by_table):
        bits = table in BIT_TABLES
        gap = bit_gap if bits else register_gap
        limit = max_bits if bits else max_registers
        items = sorted(by_table[table], key=lambda item: (item[1].address, item[1].name))
        start = end = None  # end: one past the last register of the block
        members: list[tuple[str, SignalSpec]] = []
        for code, spec in items:
            width = 1 if bits else spec.words
            if (
                start is not None
                and spec.address - end <= gap
                and max(end, spec.address + width) - start <= limit
            ):
                members.append((code, spec))
                end = max(end, spec.address + width)
                continue
            if start is not None:
                blocks.append(ReadBlock(table, start, end - start, tuple(members)))
            start, end, members = spec.address, spec.address + width, [(code, spec)]
        if start is not None:
            blocks.append(ReadBlock(table, start, end - start, tuple(members)))
    return blocks
