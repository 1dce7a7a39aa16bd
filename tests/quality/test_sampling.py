"""First article per shift: the shift is the work center's, read from the one working-time
module, so the site's holidays count."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from quality.selectors.sampling import shift_start
from resources.models import Holiday
from tests.factories import ShiftFactory, WorkCenterFactory

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 23)  # a Monday


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


@pytest.fixture
def work_center():
    wc = WorkCenterFactory()
    ShiftFactory(work_center=wc, start_time=time(6), end_time=time(14))
    ShiftFactory(work_center=wc, start_time=time(22), end_time=time(6))
    return wc


def test_the_shift_running_began_at_its_start(work_center):
    assert shift_start(work_center, at(MON, 10)) == at(MON, 6)
    assert shift_start(work_center, at(date(2026, 11, 24), 3)) == at(MON, 22)


def test_between_shifts_it_is_the_plant_local_midnight(work_center):
    assert shift_start(work_center, at(MON, 16)) == at(MON, 0)


def test_a_holiday_has_no_shift_so_the_day_counts_from_midnight(work_center):
    """Work on a holiday (overtime) is outside every shift: the first article counts from
    the plant-local midnight, not from a 06:00 shift that does not run that day."""
    Holiday.objects.create(site=work_center.area.site, date=MON, name="Plant holiday")
    assert shift_start(work_center, at(MON, 10)) == at(MON, 0)
    # The night shift that would start on the holiday does not run either.
    assert shift_start(work_center, at(date(2026, 11, 24), 3)) == at(date(2026, 11, 24), 0)
