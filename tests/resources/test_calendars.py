"""Available minutes per work center per day: shifts, breaks, holidays, maintenance."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from resources.engines.calendar import (
    ShiftSpec,
    UnitSpec,
    available_minutes_compute,
    first_full_day_compute,
    intervals_merge,
    shift_day_compute,
    shift_start_compute,
)
from resources.models import Holiday, MaintenanceWindow
from resources.selectors.calendar import (
    plant_time_zone,
    work_center_available_minutes,
    work_center_shift_start,
)
from tests.factories import EquipmentFactory, ShiftFactory, SiteFactory, WorkCenterFactory

TZ = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 23)  # a Monday


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def test_two_shifts_weekdays_only():
    shifts = [
        ShiftSpec(frozenset({1, 2, 3, 4, 5}), time(6), time(14)),
        ShiftSpec(frozenset({1, 2, 3, 4, 5}), time(14), time(22), break_minutes=30),
    ]
    got = available_minutes_compute(
        first_day=MON,
        last_day=date(2026, 11, 29),
        shifts=shifts,
        holidays=set(),
        units=[UnitSpec("M1")],
        tz=TZ,
    )
    assert list(got.values()) == [930, 930, 930, 930, 930, 0, 0]


def test_holiday_maintenance_and_night_shift():
    shifts = [
        ShiftSpec(frozenset({1, 2, 3}), time(22), time(6))
    ]  # night shift, counts on start day
    units = [
        UnitSpec(
            "M1", downtime=[(at(MON, 23), at(date(2026, 11, 24), 1))]
        ),  # 2 h inside Monday's night
        UnitSpec("M2"),
    ]
    got = available_minutes_compute(
        first_day=MON,
        last_day=date(2026, 11, 26),
        shifts=shifts,
        holidays={date(2026, 11, 25)},
        units=units,
        tz=TZ,
    )
    assert got == {
        MON: 480 - 120 + 480,
        date(2026, 11, 24): 960,
        date(2026, 11, 25): 0,  # holiday
        date(2026, 11, 26): 0,  # Thursday: no shift
    }


def test_maintenance_window_longer_than_shift_never_goes_negative():
    shifts = [ShiftSpec(frozenset({1}), time(6), time(14), break_minutes=30)]
    units = [UnitSpec("M1", downtime=[(at(MON, 0), at(MON, 23)), (at(MON, 5), at(MON, 9))])]
    got = available_minutes_compute(
        first_day=MON, last_day=MON, shifts=shifts, holidays=set(), units=units, tz=TZ
    )
    assert got == {MON: 0}


@pytest.mark.django_db
def test_work_center_from_database():
    wc = WorkCenterFactory()
    ShiftFactory(
        work_center=wc, name="Early", weekdays="1,2,3,4,5", start_time=time(6), end_time=time(14)
    )
    ShiftFactory(
        work_center=wc,
        name="Late",
        weekdays="1,2,3,4,5",
        start_time=time(14),
        end_time=time(22),
        break_minutes=30,
    )
    m1 = EquipmentFactory(work_center=wc)
    EquipmentFactory(work_center=wc)
    Holiday.objects.create(site=wc.area.site, date=date(2026, 11, 25), name="Plant holiday")
    # 08:00–12:00 on Tuesday on one machine: 240 minutes lost.
    MaintenanceWindow.objects.create(
        equipment=m1, start=at(date(2026, 11, 24), 8), end=at(date(2026, 11, 24), 12)
    )
    got = work_center_available_minutes(wc, MON, date(2026, 11, 28))
    assert got == {
        MON: 2 * 930,
        date(2026, 11, 24): 2 * 930 - 240,
        date(2026, 11, 25): 0,
        date(2026, 11, 26): 2 * 930,
        date(2026, 11, 27): 2 * 930,
        date(2026, 11, 28): 0,
    }


@pytest.mark.django_db
def test_work_center_without_equipment_uses_parallel_units():
    wc = WorkCenterFactory(parallel_units=3)
    ShiftFactory(work_center=wc, weekdays="1", start_time=time(8), end_time=time(12))
    assert work_center_available_minutes(wc, MON, MON) == {MON: 3 * 240}


MON_TO_SAT = frozenset({1, 2, 3, 4, 5, 6})
TWO_SHIFTS = [ShiftSpec(MON_TO_SAT, time(6), time(14)), ShiftSpec(MON_TO_SAT, time(14), time(22))]
NIGHT = [ShiftSpec(frozenset({1, 2, 3, 4, 5}), time(22), time(6))]
SAT, SUN = date(2026, 11, 28), date(2026, 11, 29)
NEXT_MON, FRI = date(2026, 11, 30), date(2026, 11, 27)


@pytest.mark.parametrize(
    ("instant", "shifts", "holidays", "expected"),
    [
        (at(MON, 10), TWO_SHIFTS, set(), MON),  # inside the early shift
        (at(MON, 13, 59), TWO_SHIFTS, set(), MON),  # its last minute
        (at(MON, 21, 59), TWO_SHIFTS, set(), MON),  # the late shift's last minute
        (at(MON, 22), TWO_SHIFTS, set(), date(2026, 11, 24)),  # after it: tomorrow's crew
        (at(MON, 5, 30), TWO_SHIFTS, set(), MON),  # before the first shift
        (at(SAT, 23), TWO_SHIFTS, set(), NEXT_MON),  # Saturday night: Monday
        (at(SUN, 23, 30), TWO_SHIFTS, set(), NEXT_MON),  # Sunday night
        (at(FRI, 23), TWO_SHIFTS, {SAT}, NEXT_MON),  # Saturday a holiday
        # 02:00 on Tuesday inside Monday's 22:00-06:00 night shift: Monday's crew.
        (at(date(2026, 11, 24), 2), NIGHT, set(), MON),
        # Saturday 02:00 inside Friday's night shift; Friday's crew.
        (at(SAT, 2), NIGHT, set(), FRI),
        # Saturday 07:00: the next night shift is Monday's.
        (at(SAT, 7), NIGHT, set(), NEXT_MON),
    ],
)
def test_the_crew_day_at_an_instant(instant, shifts, holidays, expected):
    assert shift_day_compute(at=instant, shifts=shifts, holidays=holidays, tz=TZ) == expected


def test_no_shift_in_sight_is_none():
    assert shift_day_compute(at=at(MON, 10), shifts=[], holidays=set(), tz=TZ) is None


@pytest.mark.parametrize(
    ("instant", "holidays", "expected"),
    [
        (at(MON, 5, 59), set(), MON),  # before 06:00: today
        (at(MON, 6), set(), MON),  # the shift starts now: nothing has begun yet
        (at(MON, 6, 1), set(), date(2026, 11, 24)),  # begun: tomorrow
        (at(SAT, 23), set(), NEXT_MON),
        (at(SUN, 5), set(), NEXT_MON),
        (at(SUN, 5), {NEXT_MON}, date(2026, 12, 1)),  # Monday a holiday
    ],
)
def test_the_first_full_working_day(instant, holidays, expected):
    got = first_full_day_compute(at=instant, shifts=TWO_SHIFTS, holidays=holidays, tz=TZ)
    assert got == expected


def test_intervals_merge_joins_overlapping_and_touching_and_drops_empty_ones():
    """The one merge: instants (calendars), minutes (the scheduler), epoch seconds (progress)."""
    day = MON
    early, late, night = (
        (at(day, 6), at(day, 14)),
        (at(day, 14), at(day, 22)),
        (at(day, 21), at(day, 23)),
    )
    empty = (at(day, 3), at(day, 3))
    assert intervals_merge([night, early, empty, late]) == [(at(day, 6), at(day, 23))]
    assert intervals_merge([(30, 40), (0, 10), (10, 20), (15, 18), (25, 25), (50, 45)]) == [
        (0, 20),
        (30, 40),
    ]
    assert intervals_merge([(1.5, 2.5), (0.0, 1.0)]) == [(0.0, 1.0), (1.5, 2.5)]
    assert intervals_merge([]) == []


def test_shift_start_is_that_of_the_shift_running_and_none_between_or_on_holidays():
    early = ShiftSpec(frozenset({1, 2, 3, 4, 5}), time(6), time(14))
    late = ShiftSpec(frozenset({1, 2, 3, 4, 5}), time(14), time(22))
    night = ShiftSpec(frozenset({1, 2, 3, 4, 5}), time(22), time(6))
    tue = date(2026, 11, 24)

    def began(when, holidays=frozenset()):
        return shift_start_compute(
            at=when, shifts=[early, late, night], holidays=set(holidays), tz=TZ
        )

    assert began(at(MON, 10)) == at(MON, 6)
    assert began(at(MON, 14)) == at(MON, 14)  # the late shift has begun, the early one ended
    assert began(at(tue, 2)) == at(MON, 22)  # the night shift belongs to the day it starts
    assert began(at(MON, 2)) is None  # Sunday has no night shift
    assert began(at(MON, 10), {MON}) is None  # a holiday has no shifts
    assert began(at(tue, 2), {MON}) is None  # … nor does the night that starts on it
    assert began(at(tue, 10), {MON}) == at(tue, 6)


@pytest.mark.django_db
def test_work_center_shift_start_reads_the_sites_holidays():
    wc = WorkCenterFactory()
    ShiftFactory(work_center=wc, start_time=time(6), end_time=time(14))
    assert work_center_shift_start(wc, at(MON, 10)) == at(MON, 6)
    Holiday.objects.create(site=wc.area.site, date=MON, name="Plant holiday")
    assert work_center_shift_start(wc, at(MON, 10)) is None


@pytest.mark.django_db
def test_the_plant_time_zone_is_the_sites_else_the_setting(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert plant_time_zone() == ZoneInfo("Asia/Shanghai")  # no site yet: the setting
    SiteFactory(time_zone="Europe/Berlin")
    assert plant_time_zone() == ZoneInfo("Europe/Berlin")  # the one site's
    SiteFactory(time_zone="Europe/Berlin")
    assert plant_time_zone() == ZoneInfo("Europe/Berlin")  # the zone all sites share
    SiteFactory(time_zone="America/Chicago")
    assert plant_time_zone() == ZoneInfo("Asia/Shanghai")  # no one zone: the setting
