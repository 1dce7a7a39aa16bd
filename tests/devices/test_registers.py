"""Modbus register decoding and read planning (devices/engines/registers.py)."""

import math
import struct

import pytest

from devices.engines.devicemap import SignalSpec
from devices.engines.registers import (
    MAX_BITS,
    MAX_REGISTERS,
    DecodeError,
    ReadBlock,
    decode,
    encode,
    plan_reads,
)


def reg(name, address, data_type="uint16", table="holding", word_order="big"):
    return SignalSpec(
        name=name, table=table, address=address, data_type=data_type, word_order=word_order
    )


def bit(name, address, table="coil"):
    return SignalSpec(name=name, table=table, address=address, data_type="")


@pytest.mark.parametrize(
    ("words", "data_type", "order", "value"),
    [
        ([0x0000], "uint16", "big", 0),
        ([0xFFFF], "uint16", "big", 65535),
        ([0xFFFF], "int16", "big", -1),
        ([0x8000], "int16", "big", -32768),
        ([0x0001, 0x0000], "uint32", "big", 65536),
        ([0x0000, 0x0001], "uint32", "little", 65536),
        ([0xFFFF, 0xFFFF], "uint32", "big", 4294967295),
        ([0xFFFF, 0xFFFE], "int32", "big", -2),
        ([0xFFFE, 0xFFFF], "int32", "little", -2),
        ([0x4148, 0x0000], "float32", "big", 12.5),
        ([0x0000, 0x4148], "float32", "little", 12.5),
    ],
)
def test_decode_known_words(words, data_type, order, value):
    assert decode(words, data_type, order) == value


@pytest.mark.parametrize("data_type", ["uint16", "int16", "uint32", "int32", "float32"])
@pytest.mark.parametrize("order", ["big", "little"])
def test_encode_is_the_inverse_of_decode(data_type, order):
    for value in (0, 1, 7, 300, 65535, 70000, -5, 123456789, -123456):
        words = encode(value, data_type, order)
        back = decode(words, data_type, order)
        if data_type == "float32":
            assert back == pytest.approx(struct.unpack(">f", struct.pack(">f", value))[0])
        else:
            bits = 16 * len(words)
            expected = value % (1 << bits)
            if data_type.startswith("int") and expected >= 1 << (bits - 1):
                expected -= 1 << bits
            assert back == expected


def test_a_32_bit_counter_crossing_its_low_word_reads_right():
    """65535 → 65536 flips the low word to 0 and the high word to 1: both orders read right,
    and a block read of the two registers gives the full count, not 0 or 65535."""
    counter = reg("part_count", 1, "uint32", word_order="little")
    (block,) = plan_reads([("CNC-02", counter)])
    for before, after in ((65535, 65536), (131071, 131072), (0xFFFFFFFF, 0)):
        for value in (before, after):
            words = encode(value, "uint32", "little")
            values, problems = block.values(words)
            assert problems == []
            assert values[("CNC-02", "part_count")] == value
    assert encode(65535, "uint32", "little") == [0xFFFF, 0x0000]
    assert encode(65536, "uint32", "little") == [0x0000, 0x0001]
    assert encode(65536, "uint32", "big") == [0x0001, 0x0000]


def test_bad_words_are_refused():
    with pytest.raises(DecodeError):
        decode([0x7FC0, 0x0000], "float32")  # NaN
    with pytest.raises(DecodeError):
        decode([0x7F80, 0x0000], "float32")  # +inf
    with pytest.raises(DecodeError):
        decode([1], "uint32")
    with pytest.raises(DecodeError):
        decode([70000], "uint16")
    with pytest.raises(DecodeError):
        decode([1], "bcd")


def test_neighbours_share_one_request():
    """The issue's CNC-02 layout (holding 0-5 and coil 0) is two requests, not six."""
    signals = [
        ("CNC-02", reg("state", 0)),
        ("CNC-02", reg("part_count", 1, "uint32", word_order="little")),
        ("CNC-02", reg("spindle_speed", 3)),
        ("CNC-02", reg("temperature", 4, "int16")),
        ("CNC-02", reg("good_count", 5)),
        ("CNC-02", bit("fault", 0)),
    ]
    blocks = plan_reads(signals)
    assert [(b.table, b.start, b.count, len(b.signals)) for b in blocks] == [
        ("coil", 0, 1, 1),
        ("holding", 0, 6, 5),
    ]
    words = [1, *encode(70000, "uint32", "little"), 1200, encode(-35, "int16")[0], 42]
    values, problems = blocks[1].values(words)
    assert problems == []
    assert values == {
        ("CNC-02", "state"): 1,
        ("CNC-02", "part_count"): 70000,
        ("CNC-02", "spindle_speed"): 1200,
        ("CNC-02", "temperature"): -35,
        ("CNC-02", "good_count"): 42,
    }


def test_a_small_gap_is_read_through_a_large_one_splits():
    blocks = plan_reads(
        [("M", reg("a", 0)), ("M", reg("b", 5)), ("M", reg("c", 100))], register_gap=8
    )
    assert [(b.start, b.count) for b in blocks] == [(0, 6), (100, 1)]
    blocks = plan_reads([("M", reg("a", 0)), ("M", reg("b", 5))], register_gap=2)
    assert [(b.start, b.count) for b in blocks] == [(0, 1), (5, 1)]


def test_tables_never_share_a_request():
    blocks = plan_reads(
        [("M", reg("a", 0)), ("M", reg("b", 1, table="input")), ("M", bit("c", 0, "discrete"))]
    )
    assert sorted((b.table, b.start) for b in blocks) == [
        ("discrete", 0),
        ("holding", 0),
        ("input", 1),
    ]


def test_the_protocol_limits_hold():
    """125 registers or 2000 bits per request at most, and a 32-bit value never split."""
    signals = [("M", reg(f"r{i}", i * 2, "uint32")) for i in range(200)]  # 400 registers
    blocks = plan_reads(signals, register_gap=0)
    assert all(b.count <= MAX_REGISTERS for b in blocks)
    assert sum(len(b.signals) for b in blocks) == 200
    for b in blocks:
        for _, spec in b.signals:
            assert b.start <= spec.address and spec.address + 2 <= b.start + b.count
    assert len(blocks) == math.ceil(400 / 124)  # 62 uint32 per request
    bits = [("M", bit(f"b{i}", i)) for i in range(4500)]
    blocks = plan_reads(bits)
    assert [b.count for b in blocks] == [MAX_BITS, MAX_BITS, 500]


def test_one_bad_value_does_not_hide_its_neighbours():
    block = ReadBlock(
        "holding",
        0,
        3,
        (("M", reg("speed", 0, "float32")), ("M", reg("count", 2))),
    )
    values, problems = block.values([0x7FC0, 0x0000, 17])
    assert values == {("M", "count"): 17}
    assert len(problems) == 1 and "M.speed" in problems[0] and "holding 0" in problems[0]
    values, problems = block.values([1])
    assert values == {} and "answer has 1 values" in problems[0]


def test_bits_read_as_one_and_zero():
    (block,) = plan_reads([("M", bit("fault", 3)), ("M", bit("door", 0))])
    assert (block.start, block.count) == (0, 4)
    values, _ = block.values([False, False, False, True, False, False, False, False])
    assert values == {("M", "fault"): 1, ("M", "door"): 0}
