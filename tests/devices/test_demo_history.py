"""The demo's machine week (devices/demo/history.py): `load_demo --history`, as `make run`
loads it, gives the OEE pages and the plant manager's tile a measured week."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from devices.demo.history import SPEED
from devices.models import ProductionCount, StateInterval, Telemetry
from devices.selectors.oee import plant_oee, plant_oee_kpi
from execution.models import ProductionEvent

# A Wednesday morning; the history covers the seven whole days before it, whatever the hour.
pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-09T10:00:00+08:00")]


def _load() -> str:
    out = StringIO()
    call_command("load_demo", "--quiet-logins", "--history", stdout=out)
    return out.getvalue()


def test_the_demo_week_of_machine_data_gives_a_measured_oee():
    out = _load()
    assert "7 days of machine data for" in out and "CNC-01" in out
    assert StateInterval.objects.filter(state="running").exists()
    assert ProductionCount.objects.exists() and Telemetry.objects.exists()
    # Played through the gateway's own entry point: the figures come out of the OEE engine.
    figures = plant_oee(last_day=timezone.localdate() - timedelta(days=1))
    assert figures.performance == pytest.approx(SPEED, abs=0.03)
    assert 0.7 < figures.availability < 0.98
    assert 0.95 < figures.quality < 1
    tile = plant_oee_kpi(timezone.localdate())
    assert tile.value is not None and 40 < tile.value < 95
    # No fault exception and no production posted from the machines' past.
    assert not StateInterval.objects.filter(alert_id__isnull=False).exists()
    assert not ProductionEvent.objects.filter(source=ProductionEvent.Source.DEVICE).exists()


def test_a_second_load_writes_no_machine_data():
    _load()
    before = (StateInterval.objects.count(), ProductionCount.objects.count())
    out = _load()
    assert "(0 samples)" in out
    assert (StateInterval.objects.count(), ProductionCount.objects.count()) == before
