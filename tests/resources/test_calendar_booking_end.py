"""Where clocked labour stops counting (resources.engines.calendar.shift_booking_end_compute):
the end of the shift running at the start, never joined with the next shift."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from resources.engines.calendar import ShiftSpec, shift_booking_end_compute

TZ = ZoneInfo("Asia/Shanghai")
WEEK = frozenset(range(1, 8))
EARLY = ShiftSpec(WEEK, time(6), time(14))
LATE = ShiftSpec(WEEK, time(14), time(22))
NIGHT = ShiftSpec(WEEK, time(22), time(6))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def end(start, stop, shifts, holidays=frozenset()):
    return shift_booking_end_compute(start=start, end=stop, shifts=shifts, holidays=set(holidays), tz=TZ)  # fmt: skip


def test_a_span_inside_its_shift_counts_whole():
    assert end(at(9, 7), at(9, 10), [EARLY, LATE]) == at(9, 10)


def test_a_span_past_the_shift_end_stops_there_and_is_not_joined_with_the_next_shift():
    assert end(at(9, 13), at(9, 16, 30), [EARLY, LATE]) == at(9, 14)


def test_a_night_shift_runs_into_the_next_day():
    assert end(at(9, 23), at(10, 8), [NIGHT]) == at(10, 6)
    assert end(at(10, 2), at(10, 5), [NIGHT]) == at(10, 5)


def test_a_span_begun_between_shifts_counts_up_to_the_end_of_the_first_shift_in_it():
    assert end(at(9, 5), at(9, 15), [EARLY]) == at(9, 14)


def test_no_shift_in_the_span_counts_nothing():
    assert end(at(9, 15), at(9, 17), [EARLY]) == at(9, 15)
    assert end(at(9, 7), at(9, 9), [EARLY], {date(2026, 12, 9)}) == at(9, 7)
