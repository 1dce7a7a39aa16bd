"""Counters: wrap-around at the register's range, resets, and the totals kept in the database."""

import pytest

from devices.engines.counters import CounterValueError, counter_raw, counter_step
from devices.models import Counter, ProductionCount
from resources.models import Equipment

U16, U32 = 1 << 16, 1 << 32


def steps(readings, modulus):
    last, out = None, []
    for raw in readings:
        step = counter_step(last, counter_raw(raw, modulus), modulus)
        out.append(step.delta)
        last = step.raw
    return out


def test_first_reading_is_the_baseline():
    step = counter_step(None, 1234, U16)
    assert step.delta == 0 and step.baseline


def test_uint16_wraps_at_65536():
    assert steps([65530, 65535, 3, 10], U16) == [0, 5, 4, 7]
    assert counter_step(65530, 3, U16).wrapped


def test_uint32_wraps_at_2_to_the_32():
    assert steps([U32 - 2, 1, 5], U32) == [0, 3, 4]


def test_int16_counter_past_32767_keeps_counting():
    # The register read as signed: 32767 + 1 is -32768, and so on up to -1 and 0.
    assert steps([32766, 32767, -32768, -1, 0], U16) == [0, 1, 1, 32767, 1]


def test_a_drop_that_is_no_plausible_wrap_is_a_reset_counting_from_zero():
    assert steps([1000, 1010, 3, 8], U16) == [0, 10, 3, 5]
    step = counter_step(1010, 3, U16)
    assert step.reset and not step.wrapped
    # The window: a wrap may imply at most 1/16 of the range (4,096 parts on 16 bits).
    assert counter_step(U16 - 4000, 96, U16).wrapped
    assert counter_step(U16 - 4000, 97, U16).reset
    # A counter without a range (float32) is reset by every drop.
    assert counter_step(10, 2, None).reset


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), 2.5, "7", None, U16, -U16 - 1])
def test_readings_that_are_not_counts_are_refused(raw):
    with pytest.raises(CounterValueError):
        counter_raw(raw, U16)


def test_low_word_crossing_of_a_32_bit_counter_is_counted_right():
    # 65535 → 65536 crosses the low word: +1, not a wrap or reset of a 16-bit register.
    assert steps([65534, 65535, 65536, 65540], U32) == [0, 1, 1, 4]


def test_counter_totals_through_wrap_and_reset_in_the_database(demo_plant, feed):
    cnc = Equipment.objects.get(code="CNC-02")
    Counter.objects.all().delete()
    for raw in (U32 - 3, U32 - 1, 2, 7, 1, 4):  # wrap after the 2nd, reset before the 5th
        feed.read("CNC-02", part_count=raw)
    counter = Counter.objects.get(equipment=cnc, signal="part_count")
    assert (counter.total, counter.wraps, counter.resets, counter.last_raw) == (14, 1, 1, 4)
    assert sum(c.total for c in ProductionCount.objects.filter(equipment=cnc)) == 14
    # No task runs on CNC-02: the counts are kept, with no operation.
    assert set(
        ProductionCount.objects.filter(equipment=cnc).values_list("operation_id", flat=True)
    ) == {None}
